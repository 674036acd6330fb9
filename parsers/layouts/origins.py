"""Which cell each field of an indicator row was read from (its :class:`~goalforms.parsers.grid.Origin`).

``table.classify`` decides what each cell of a row is; this turns that decision into origins,
the same way ``roles.classified`` turns it into debug roles: the level labels it recognised, the
三级 name (one or more texts), the target (the last text), the later columns read by position.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from goalforms.parsers.grid import Cell, Origin, Row
from goalforms.parsers.labels import LabelHit

if TYPE_CHECKING:
    from goalforms.parsers.layouts.table import Entry


_LEVEL_KEYS = {1: "level1", 2: "level2"}


def cell_origins(row: Row, entry: Entry, labels: list[tuple[Cell, LabelHit]], texts: list[Cell]) -> dict[str, Origin]:
    origins: dict[str, Origin] = {}
    of = Origin.of
    for cell, hit in labels:
        key = _LEVEL_KEYS.get(hit.level) or f"level{hit.level}"
        if key not in origins:
            origins[key] = of(row, _own(row, cell))
    if entry.target is not None and texts:
        origins["target"] = of(row, texts[-1])
        names = texts[:-1]
    else:
        names = texts
    if entry.level3 is not None and names:
        # One cell (the usual name): its own origin, as Origin.joined gives it back.
        joined = of(row, names[0]) if len(names) == 1 and names[0].doubt != "" else \
            Origin.joined([of(row, c) for c in names])
        if joined is not None:
            origins["level3"] = joined
    for role, text in entry.extra.items():
        cell = next((c for c in row.filled if c.text == text), None)
        if cell is not None:
            origins[role] = Origin.of(row, cell)
    return origins


def _own(row: Row, cell: Cell) -> Cell:
    """The row's own cell for ``cell`` (classify rebuilds a label cell without its points and box)."""
    if cell.bbox is not None or cell.confidence is not None:
        return cell
    for own in row.filled:
        if own.col == cell.col:
            return own
    return cell
