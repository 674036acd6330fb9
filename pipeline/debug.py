"""See what the parser saw: a file's grid with each cell coloured by the role the layout parser gave
it, and the parse's issues marked on their cells (``goalforms debug``).

:func:`inspect` reads and parses a file while :mod:`goalforms.parsers.roles` records the roles,
and returns a :class:`Picture`: plain data that the drawing functions turn into a PNG (the PDF or
scanned page itself, cells outlined — see :func:`draw_pages`; or the grid drawn as a table, see
:func:`draw_table`) or an HTML page (:func:`to_html`). Nothing here decides a role: a cell no layout
parser classified is ``ignored``.
"""

from __future__ import annotations

import base64
import html
import io
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from goalforms.errors import NoKnownLayout
from goalforms.parsers import readers, roles
from goalforms.parsers.grid import Location, Row
from goalforms.parsers.recognise import recognise
from goalforms.parsers.reports import without_reports
from goalforms.pipeline.parse import parse_grid

if TYPE_CHECKING:
    from PIL import Image as PILImage
    from PIL import ImageDraw

COLOURS: dict[str, tuple[int, int, int]] = {
    "title": (186, 104, 200),
    "header label": (176, 190, 197),
    "header value": (129, 212, 250),
    "money": (102, 187, 106),
    "text block": (128, 222, 234),
    "table header": (158, 158, 158),
    "level 1": (255, 167, 38),
    "level 2": (255, 238, 88),
    "level 3": (205, 230, 170),
    "target": (244, 143, 177),
    "fragment": (161, 136, 127),
    "ignored": (245, 245, 245),
}
ISSUE_RED = (211, 47, 47)
FONTS = (
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),  # index 2: Simplified Chinese
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
)
MAX_PAGES = 12  # a PNG of more pages is too tall to look at: use --page or --form


@dataclass
class DrawnCell:
    text: str
    col: int
    col_span: int
    role: str
    bbox: tuple[float, float, float, float] | None
    name: str | None = None  # the layout's field the cell holds (header and budget values)
    issues: list[int] = field(default_factory=list)


@dataclass
class DrawnRow:
    where: Location
    form: int | None  # 1-based number of the form the row belongs to; None: outside every form
    cells: list[DrawnCell]
    soft: bool  # a line of a space-aligned dump: ``col`` is a character position
    issues: list[int] = field(default_factory=list)  # issues of the row that no single cell holds


@dataclass
class NumberedIssue:
    number: int
    form: int
    code: str
    severity: str
    message: str
    where: str | None
    field: str | None
    placed: bool = False  # drawn on a row or cell of the picture


@dataclass
class Picture:
    path: str
    format: str
    rows: list[DrawnRow]
    issues: list[NumberedIssue]
    error: str | None = None  # why no form was parsed (then every cell is ignored)


# -- what the parser saw -------------------------------------------------------------------------


def inspect(path: str | Path, form: int | None = None) -> Picture:
    """Read and parse ``path`` recording each cell's role; only form ``form`` (1-based) if given."""
    grid = readers.read(path)
    error = None
    with roles.recording() as rec:
        try:
            document = parse_grid(grid)
            forms = document.forms
        except NoKnownLayout as exc:
            error, forms = str(exc), []
    try:
        segments = recognise(without_reports(grid))[1]
    except NoKnownLayout:
        segments = []
    # The rows each form was read as (wrapped lines joined, flowing text split); the segment's own
    # rows if a layout parser did not report them.
    seen = rec.forms if len(rec.forms) == len(segments) else [s.rows for s in segments]
    owner = {row.where: i for i, segment in enumerate(segments) for row in segment.rows}
    rows: list[DrawnRow] = []
    done: set[int] = set()
    for row in grid.rows:
        i = owner.get(row.where)
        if i is None:
            rows.append(_drawn(row, None, rec))
        elif i not in done:
            done.add(i)
            rows.extend(_drawn(r, i + 1, rec) for r in seen[i])
    if form is not None:
        if not 1 <= form <= len(segments):
            raise ValueError(f"form {form} not found: the file holds {len(segments)} form(s)")
        rows = [row for row in rows if row.form == form]
    issues = [
        NumberedIssue(0, k, issue.code, issue.severity, issue.message, issue.where, issue.field)
        for k, parsed in enumerate(forms, start=1) if form is None or k == form
        for issue in parsed.issues
    ]
    for number, issue in enumerate(issues, start=1):
        issue.number = number
        _place(issue, rows)
    return Picture(str(path), grid.format, rows, issues, error)


def _drawn(row: Row, form: int | None, rec: roles.Recording) -> DrawnRow:
    # A blank cell has no role, whatever its row was taken for.
    cells = [DrawnCell(c.text, c.col, c.col_span, "ignored" if c.blank else rec.role(row, c), c.bbox,
                       rec.names.get((row.where, c.col))) for c in row.cells]
    return DrawnRow(row.where, form, cells, row.soft)


# Which role holds the value an indicator's field names: its target (``raw`` and what is read from
# it) or a level. Header and budget fields are found by the name the layout parser recorded.
_FIELD_ROLE = (
    (re.compile(r"^indicators\[\d+\]\.(raw|value|op|unit|kind)$"), "target"),
    (re.compile(r"^indicators\[\d+\]\.level3$"), "level 3"),
    (re.compile(r"^indicators\[\d+\]\.level1$"), "level 1"),
    (re.compile(r"^indicators\[\d+\]\.level2$"), "level 2"),
)


def _place(issue: NumberedIssue, rows: list[DrawnRow]) -> None:
    """Mark the issue on the cell its field names in the row it names, else on the whole row."""
    if issue.where is None:
        return
    for row in rows:
        if str(row.where) != issue.where or row.form != issue.form:
            continue
        role = next((r for pattern, r in _FIELD_ROLE if issue.field and pattern.match(issue.field)), None)
        name = issue.field.rsplit(".", 1)[-1] if issue.field and not issue.field.startswith("indicators") else None
        cells = [c for c in row.cells if (role is not None and c.role == role) or (name and c.name == name)]
        if len(cells) == 1:
            cells[0].issues.append(issue.number)
        else:  # no cell, or more than one, holds that field: the row carries the issue
            row.issues.append(issue.number)
        issue.placed = True
        return


# -- drawing --------------------------------------------------------------------------------------


def font(size: int) -> Any:
    """A CJK font of ``size`` pixels; Pillow's own font when none is installed (Chinese then shows as boxes)."""
    from PIL import ImageFont

    for name, index in FONTS:
        if Path(name).exists():
            try:
                return ImageFont.truetype(name, size, index=index)
            except OSError:
                continue
    return ImageFont.load_default(size=size)


def _wrap(draw: ImageDraw.ImageDraw, text: str, width: float, face: Any) -> list[str]:
    """``text`` cut into lines no wider than ``width`` (character by character: Chinese has no spaces)."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for ch in paragraph:
            if line and draw.textlength(line + ch, font=face) > width:
                lines.append(line)
                line = ""
            line += ch
        lines.append(line)
    return lines or [""]


def _shade(colour: tuple[int, int, int], factor: float) -> tuple[int, int, int]:
    r, g, b = colour
    return (int(r * factor), int(g * factor), int(b * factor))


def _badge(draw: ImageDraw.ImageDraw, x: float, y: float, numbers: list[int], face: Any, right: bool = False) -> None:
    """Issue numbers in a red tag at (x, y); ``right``: the tag ends at x (a cell's top-right corner,
    where left-aligned text leaves room)."""
    label = ",".join(str(n) for n in numbers)
    w = draw.textlength(label, font=face) + 8
    if right:
        x -= w
    draw.rectangle((x, y, x + w, y + face.size + 6), fill=ISSUE_RED)
    draw.text((x + 4, y + 2), label, fill="white", font=face)


def legend(picture: Picture, width: int) -> PILImage.Image:
    """The roles' colours, then every issue with its number, code and message."""
    from PIL import Image, ImageDraw

    face, small = font(18), font(15)
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    lines: list[tuple[str, Any, tuple[int, int, int] | None, str]] = [("roles", face, None, "head")]
    lines += [(role, small, colour, "swatch") for role, colour in COLOURS.items()]
    heading = f"issues ({len(picture.issues)})" if picture.issues else "no issues"
    lines.append((heading, face, None, "head"))
    if picture.error:
        lines += [(t, small, None, "text") for t in _wrap(probe, f"not parsed: {picture.error}", width - 20, small)]
    for issue in picture.issues:
        where = issue.where or "no location"
        text = f"{issue.number}. [{issue.severity}] {issue.code} — {where}" + (f" — {issue.field}" if issue.field else "")
        text += ("" if issue.placed else " (not on the picture)") + f": {issue.message}"
        wrapped = _wrap(probe, text, width - 20, small)
        lines += [(t, small, ISSUE_RED if k == 0 else None, "issue" if k == 0 else "text") for k, t in enumerate(wrapped)]
    height = 20 + sum(f.size + 8 for _, f, _, _ in lines) + 20
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    y = 10
    for text, face_, colour, kind in lines:
        x = 10
        if kind == "swatch" and colour is not None:
            draw.rectangle((x, y + 2, x + 28, y + face_.size + 2), fill=colour, outline=_shade(colour, 0.6))
            x += 38
        elif kind == "issue":
            draw.rectangle((x, y + 2, x + 4, y + face_.size + 2), fill=ISSUE_RED)
        draw.text((x if kind != "issue" else x + 10, y), text, fill="black", font=face_)
        y += face_.size + 8
    return image


def _beside(left: PILImage.Image, right: PILImage.Image) -> PILImage.Image:
    from PIL import Image

    out = Image.new("RGB", (left.width + right.width, max(left.height, right.height)), "white")
    out.paste(left, (0, 0))
    out.paste(right, (left.width, 0))
    return out


def _stack(images: list[PILImage.Image]) -> PILImage.Image:
    from PIL import Image

    out = Image.new("RGB", (max(i.width for i in images), sum(i.height + 12 for i in images)), (90, 90, 90))
    y = 0
    for image in images:
        out.paste(image, (0, y))
        y += image.height + 12
    return out


def page_images(path: str | Path, fmt: str, pages: list[int]) -> dict[int, tuple[PILImage.Image, float]]:
    """Each page (1-based) as the reader saw it, with the pixels per PDF point: a text PDF rendered
    by pdfium; a scan as the OCR read it (its own resolution, deskewed)."""
    import numpy as np
    from PIL import Image

    out: dict[int, tuple[PILImage.Image, float]] = {}
    if fmt == "scan":
        from goalforms.parsers.readers import scan

        if Path(path).read_bytes()[:1024].lstrip()[:5] == b"%PDF-":
            import pdfplumber

            with pdfplumber.open(path) as pdf:
                for n in pages:
                    page = pdf.pages[n - 1]
                    dpi = scan.page_dpi(page)
                    gray = scan.to_gray(np.asarray(page.to_image(resolution=dpi, antialias=True).original.convert("L")))
                    out[n] = (Image.fromarray(scan.page_layout(gray).gray).convert("RGB"), dpi / 72.0)
        else:
            for n, (gray, dpi) in enumerate(scan._image_pages(Path(path)), start=1):
                if n in pages:
                    out[n] = (Image.fromarray(scan.page_layout(gray).gray).convert("RGB"), dpi / 72.0)
        return out
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(str(path))
    try:
        for n in pages:
            scale = 150 / 72.0
            out[n] = (document[n - 1].render(scale=scale).to_pil().convert("RGB"), scale)
    finally:
        document.close()
    return out


def pages_of(picture: Picture, page: int | None) -> list[int]:
    if page is not None:
        return [page]
    found = sorted({row.where.page for row in picture.rows if row.where.page is not None})
    return found[:MAX_PAGES]


def draw_pages(picture: Picture, images: dict[int, tuple[PILImage.Image, float]]) -> PILImage.Image:
    """The pages with every cell read outlined and tinted by its role, issues in red with their number."""
    from PIL import Image, ImageDraw

    face = font(16)
    drawn = []
    for n, (base, scale) in sorted(images.items()):
        tint = Image.new("RGBA", base.size, (0, 0, 0, 0))
        draw = ImageDraw.Draw(tint)
        marks: list[tuple[tuple[float, float, float, float], list[int]]] = []
        for row in picture.rows:
            if row.where.page != n:
                continue
            for cell in row.cells:
                box = cell.bbox or (row.where.bbox if len(row.cells) == 1 else None)
                if box is None:
                    continue
                x0, y0, x1, y1 = (v * scale for v in box)
                colour = COLOURS.get(cell.role, COLOURS["ignored"])
                alpha = 40 if cell.role == "ignored" else 95
                draw.rectangle((x0, y0, x1, y1), fill=(*colour, alpha), outline=(*_shade(colour, 0.55), 255), width=2)
                if cell.issues:
                    marks.append(((x0, y0, x1, y1), cell.issues))
            if row.issues and row.where.bbox is not None:
                bx0, by0, bx1, by1 = (v * scale for v in row.where.bbox)
                marks.append(((bx0, by0, bx1, by1), row.issues))
        page = Image.alpha_composite(base.convert("RGBA"), tint).convert("RGB")
        draw = ImageDraw.Draw(page)
        for (x0, y0, x1, y1), numbers in marks:
            draw.rectangle((x0 - 2, y0 - 2, x1 + 2, y1 + 2), outline=ISSUE_RED, width=4)
            _badge(draw, x1 - 2, y0 + 2, numbers, face, right=True)
        draw.text((8, 4), f"{Path(picture.path).name} — page {n}", fill=ISSUE_RED, font=face)
        drawn.append(page)
    if not drawn:
        raise ValueError("no page to draw")
    body = _stack(drawn)
    return _beside(body, legend(picture, 640))


# The table view: a column's width in pixels at most, a character column of a space-aligned dump.
MAX_COL = 330
CHAR_W = 9


def draw_table(picture: Picture) -> PILImage.Image:
    """The grid as a table: one line per row (its location first), cells coloured by their role."""
    from PIL import Image, ImageDraw

    face, small = font(16), font(13)
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    key_w = int(max((probe.textlength(str(r.where), font=small) for r in picture.rows), default=80)) + 16
    ncols = max((c.col + c.col_span for r in picture.rows if not r.soft for c in r.cells), default=1)
    widths = [60.0] * ncols
    for row in picture.rows:
        for cell in row.cells:
            if not row.soft and cell.col_span == 1:
                widths[cell.col] = min(MAX_COL, max(widths[cell.col], probe.textlength(cell.text, font=face) + 12))
    lefts = [key_w + sum(widths[:k]) for k in range(ncols + 1)]
    layout: list[tuple[DrawnRow, list[tuple[DrawnCell, float, float, list[str]]], int]] = []
    for row in picture.rows:
        placed: list[tuple[DrawnCell, float, float, list[str]]] = []
        starts = sorted(key_w + c.col * CHAR_W for c in row.cells)
        for cell in row.cells:
            x0: float
            x1: float
            if row.soft:  # a character column: draw the dump as it was laid out, up to the next cell
                x0 = key_w + cell.col * CHAR_W
                x1 = x0 + max(probe.textlength(cell.text.strip(), font=face) + 10, 2 * CHAR_W)
                x1 = min([x1] + [s for s in starts if s > x0])
            else:
                x0, x1 = lefts[cell.col], lefts[min(cell.col + cell.col_span, ncols)]
            placed.append((cell, x0, x1, _wrap(probe, cell.text.strip(), x1 - x0 - 10, face)))
        tallest = max((len(p[3]) for p in placed), default=1)
        layout.append((row, placed, tallest * (face.size + 6) + 12))
    width = int(max([lefts[-1]] + [p[2] for _, ps, _ in layout for p in ps])) + 40
    height = sum(h for _, _, h in layout) + 60
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.text((8, 8), f"{Path(picture.path).name} ({picture.format})", fill="black", font=face)
    y = 40.0
    form = None
    for row, placed, h in layout:
        if row.form != form and row.form is not None:
            draw.line((0, y, width, y), fill=(40, 40, 40), width=3)
        form = row.form
        draw.text((6, y + 6), str(row.where), fill=(90, 90, 90), font=small)
        for cell, x0, x1, lines in placed:
            colour = COLOURS.get(cell.role, COLOURS["ignored"])
            draw.rectangle((x0, y + 2, x1 - 2, y + h - 2), fill=colour, outline=_shade(colour, 0.6))
            for k, line in enumerate(lines):
                draw.text((x0 + 5, y + 6 + k * (face.size + 6)), line, fill="black", font=face)
            if cell.issues:
                draw.rectangle((x0 - 1, y + 1, x1 - 1, y + h - 1), outline=ISSUE_RED, width=3)
                _badge(draw, x1 - 2 - probe.textlength(",".join(map(str, cell.issues)), font=small) - 8, y + 2,
                       cell.issues, small)
        if row.issues:
            right = max((x1 for _, _, x1, _ in placed), default=key_w + 40)
            draw.rectangle((key_w - 4, y, right + 2, y + h), outline=ISSUE_RED, width=3)
            _badge(draw, right + 6, y + 4, row.issues, small)
        y += h
    return _beside(image, legend(picture, 640))


def draw(picture: Picture, page: int | None = None) -> PILImage.Image:
    """The picture for the file's format: its pages for a PDF or a scan, its grid otherwise."""
    if picture.format in ("pdf", "scan"):
        return draw_pages(picture, page_images(picture.path, picture.format, pages_of(picture, page)))
    if page is not None:  # a space-aligned dump knows its pages too
        picture = replace(picture, rows=[row for row in picture.rows if row.where.page == page])
    return draw_table(picture)


# -- HTML ------------------------------------------------------------------------------------------


def to_html(picture: Picture, page: int | None = None, image: PILImage.Image | None = None) -> str:
    """A browsable page: the grid as a table with the same colours, each cell's location and role as
    its tooltip, issues outlined in red with their number, and the legend; ``image`` (the drawn
    pages of a PDF or a scan) shown above the table."""
    e = html.escape
    rows = [row for row in picture.rows if page is None or row.where.page == page]
    out = [
        "<!doctype html><html lang=zh><meta charset=utf-8>",
        f"<title>goalforms debug — {e(Path(picture.path).name)}</title>",
        "<style>body{font-family:'Noto Sans CJK SC',sans-serif;margin:1em}table{border-collapse:collapse}"
        "td{border:1px solid #999;padding:2px 6px;vertical-align:top;white-space:pre-wrap;max-width:24em}"
        "td.key{color:#666;font-size:80%;white-space:nowrap}td.issue{outline:3px solid #d32f2f;outline-offset:-3px}"
        "sup{background:#d32f2f;color:#fff;padding:0 3px;margin-left:4px}tr.form td{border-top:3px solid #333}"
        ".sw{display:inline-block;width:2em;height:1em;border:1px solid #666;vertical-align:middle}</style>",
        f"<h1>{e(picture.path)} <small>({e(picture.format)})</small></h1>",
        "<p>" + " ".join(f"<span class=sw style='background:{_css(c)}'></span> {e(r)}" for r, c in COLOURS.items()) + "</p>",
    ]
    if image is not None:
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        data = base64.b64encode(buffer.getvalue()).decode("ascii")
        out.append(f"<p><img style='max-width:100%' alt='the pages as read' src='data:image/png;base64,{data}'></p>")
    out.append("<table>")
    form = None
    for row in rows:
        cls = " class=form" if row.form != form and row.form is not None else ""
        form = row.form
        row_issue = "".join(f"<sup>{n}</sup>" for n in row.issues)
        cells = [f"<td class=key>{e(str(row.where))}{row_issue}</td>"]
        col = 0
        ordered = sorted(row.cells, key=lambda c: c.col)
        for k, cell in enumerate(ordered):
            # A space-aligned dump's cells stand at character positions: one table cell each, in order.
            start = k if row.soft else cell.col
            if start > col:
                cells.append(f"<td colspan={start - col}></td>")
            span = 1 if row.soft else cell.col_span
            tip = f"{row.where} · column {cell.col} · {cell.role}"
            mark = "".join(f"<sup>{n}</sup>" for n in cell.issues)
            cells.append(f"<td{' class=issue' if cell.issues else ''} colspan={span} title='{e(tip)}' "
                         f"style='background:{_css(COLOURS.get(cell.role, COLOURS['ignored']))}'>{e(cell.text)}{mark}</td>")
            col = start + span
        style = " style='outline:3px solid #d32f2f'" if row.issues else ""
        out.append(f"<tr{cls}{style}>{''.join(cells)}</tr>")
    out.append("</table>")
    if picture.error:
        out.append(f"<p><b>not parsed:</b> {e(picture.error)}</p>")
    out.append(f"<h2>issues ({len(picture.issues)})</h2><ol>")
    for issue in picture.issues:
        where = e(issue.where or "no location") + (f" — {e(issue.field)}" if issue.field else "")
        out.append(f"<li value={issue.number}><b>{e(issue.code)}</b> [{e(issue.severity)}] {where}"
                   f"{'' if issue.placed else ' <i>(not on the table)</i>'}: {e(issue.message)}</li>")
    out.append("</ol></html>\n")
    return "\n".join(out)


def _css(colour: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*colour)
