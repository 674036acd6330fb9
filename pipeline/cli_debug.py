"""``goalforms debug``: draw what the parser saw (pipeline/debug.py does the work)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from goalforms.errors import GoalformsError


def debug(
    file: Annotated[Path, typer.Argument(help="A form file of any supported format.", show_default=False)],
    png: Annotated[Path | None, typer.Option("--png", help="Write the picture here (PNG).")] = None,
    html: Annotated[Path | None, typer.Option("--html", help="Write a browsable page here (HTML).")] = None,
    page: Annotated[int | None, typer.Option("--page", min=1, help="Only this page (PDF, scan).")] = None,
    form: Annotated[int | None, typer.Option("--form", min=1, help="Only this form (1 = the first).")] = None,
) -> None:
    """Draw the grid as the parser read it: each cell coloured by the role the layout parser gave it
    (title, header label/value, money, text block, table header, level 1/2/3, target, fragment,
    ignored), every issue outlined in red with its number and listed in a legend."""
    from goalforms.pipeline import debug as drawing  # Pillow and pdfium only when asked

    if png is None and html is None:
        sys.stderr.write("error: say where to write the picture: --png OUT and/or --html OUT\n")
        raise typer.Exit(2)
    try:
        picture = drawing.inspect(file, form)
        image = drawing.draw(picture, page) if png is not None or picture.format in ("pdf", "scan") else None
        if png is not None and image is not None:
            image.save(png)
        if html is not None:
            # A PDF or a scan: the drawn pages go on the page too, above the table of cells.
            html.write_text(drawing.to_html(picture, page, image if picture.format in ("pdf", "scan") else None),
                            encoding="utf-8")
    except (GoalformsError, ValueError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        raise typer.Exit(1) from None
    forms = sorted({row.form for row in picture.rows if row.form is not None})
    sys.stdout.write(f"{file}: {picture.format}, {len(forms)} form(s), {len(picture.issues)} issue(s)"
                     + (f"; not parsed: {picture.error}" if picture.error else "") + "\n")
    for target in (png, html):
        if target is not None:
            sys.stdout.write(f"wrote {target}\n")


def register(app: typer.Typer) -> None:
    app.command()(debug)
