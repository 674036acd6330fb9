"""What the layout parser took each cell for, recorded only while someone listens (``goalforms debug``).

The layout parsers call :func:`note` where they decide what a cell is, and :func:`seen` with the
rows of a form as they read them (after joining wrapped lines, splitting flowing text). Outside
:func:`recording` both do nothing, so a normal parse pays one context-variable lookup per call.
A cell is keyed by its row's location and its column; ``col=None`` gives a role to a whole row.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from goalforms.parsers.grid import Cell, Location, Row
from goalforms.parsers.labels import LabelHit, compact

if TYPE_CHECKING:
    from goalforms.parsers.layouts.table import Entry

# The roles, in the order a legend lists them.
ROLES = (
    "title", "header label", "header value", "money", "text block", "table header",
    "level 1", "level 2", "level 3", "target", "fragment", "ignored",
)


@dataclass
class Recording:
    roles: dict[tuple[Location, int | None], str] = field(default_factory=dict)
    # The layout's field a header or budget cell holds (``plan_end``), to put an issue on its cell.
    names: dict[tuple[Location, int], str] = field(default_factory=dict)
    # One list per form parsed, in order: the rows its layout parser read.
    forms: list[list[Row]] = field(default_factory=list)

    def role(self, row: Row, cell: Cell) -> str:
        """The cell's role; a role given to the whole row; otherwise ``ignored``."""
        return self.roles.get((row.where, cell.col)) or self.roles.get((row.where, None)) or "ignored"


_CURRENT: ContextVar[Recording | None] = ContextVar("goalforms_roles", default=None)


@contextmanager
def recording() -> Iterator[Recording]:
    """Record the roles of every cell the layout parsers classify inside the ``with`` block."""
    rec = Recording()
    token = _CURRENT.set(rec)
    try:
        yield rec
    finally:
        _CURRENT.reset(token)


def note(where: Location, cell: Cell | None, role: str, name: str | None = None) -> None:
    """``cell`` (None: the whole row at ``where``) was read as ``role`` (holding field ``name``);
    the first decision stays."""
    rec = _CURRENT.get()
    if rec is not None:
        rec.roles.setdefault((where, cell.col if cell is not None else None), role)
        if cell is not None and name is not None:
            rec.names.setdefault((where, cell.col), name)


def seen(rows: list[Row]) -> None:
    """The rows of one form as its layout parser reads them."""
    rec = _CURRENT.get()
    if rec is not None:
        rec.forms.append(rows)


def classified(row: Row, entry: Entry, labels: list[tuple[Cell, LabelHit]], texts: list[Cell]) -> None:
    """Roles of an indicator-table row from what ``table.classify`` made of it: ``labels`` the level
    labels it recognised, ``entry.unknown`` the labels it did not know, ``texts`` the remaining
    texts (the 三级 name, then the target); cells it skipped (separators, side labels) stay ignored."""
    if _CURRENT.get() is None:
        return
    for cell, hit in labels:
        note(row.where, cell, f"level {hit.level}")
    unknown = {text: level for level, text in entry.unknown.items()}
    for cell in row.filled:
        if compact(cell.text) in unknown and cell not in texts:
            note(row.where, cell, f"level {unknown[compact(cell.text)]}")
    if entry.target is not None and texts:
        note(row.where, texts[-1], "target")
    for cell in texts[:-1] if entry.target is not None else texts:
        note(row.where, cell, "level 3")
