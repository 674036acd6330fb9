"""``goalforms layouts``: the layouts in force (built in and the user's), and the ``--layouts DIR``
option of ``parse`` and ``import``.

User layouts are TOML files in the folders of the ``GOALFORMS_LAYOUTS`` setting (separated by
``os.pathsep``) and of ``--layouts``. The option is also written into the environment, so the
worker processes that parse see the same layouts (docs/layouts.md).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from goalforms.errors import GoalformsError

# The layouts package loads every layout module and file when imported: the functions below import
# it when a command uses layouts, so ``goalforms --help`` does not. The setting's name is written
# out here for the same reason (tests/test_startup.py checks it is discovery.ENV).
ENV = "GOALFORMS_LAYOUTS"

LayoutsOption = Annotated[list[Path] | None, typer.Option(
    "--layouts", metavar="DIR", show_default=False,
    help=f"A folder of user layout files (*.toml; repeatable). Also the {ENV} setting. See docs/layouts.md.")]


def use_layouts(folders: list[Path] | None) -> None:
    """Load the user layouts (the setting's and ``folders``); a broken file ends the command with
    an error naming the file and the key."""
    from goalforms.parsers.layouts.discovery import ensure_loaded, use_layout_dirs

    try:
        if folders:
            resolved = [str(Path(f).resolve()) for f in folders]
            current = [p for p in os.environ.get(ENV, "").split(os.pathsep) if p]
            os.environ[ENV] = os.pathsep.join(dict.fromkeys(current + resolved))  # for the workers
            use_layout_dirs(resolved)
        else:
            ensure_loaded()
    except GoalformsError as exc:
        Console(stderr=True, soft_wrap=True).print(f"[red]error:[/red] {escape(str(exc))}", highlight=False)
        raise typer.Exit(1) from None


def layouts(folders: LayoutsOption = None) -> None:
    """List the layouts: id, kind, titles, and where each comes from (built in, or a user file)."""
    from goalforms.parsers.layouts.discovery import LAYOUTS, refresh

    if not folders:
        try:
            refresh()
        except GoalformsError as exc:
            Console(stderr=True, soft_wrap=True).print(f"[red]error:[/red] {escape(str(exc))}", highlight=False)
            raise typer.Exit(1) from None
    use_layouts(folders)
    out = Console(soft_wrap=True, width=None if Console().is_terminal else 200)
    table = Table("id", "kind", "titles", "from", "file")
    for layout_id, parser in LAYOUTS.items():
        spec = parser.spec
        table.add_row(escape(layout_id), spec.kind, escape("、".join(spec.titles)), escape(spec.source),
                      escape(spec.path))
    out.print(table)


def register(app: typer.Typer) -> None:
    app.command("layouts")(layouts)
