"""Layout recognition: find the forms in a grid and the layout of each.

A form starts at a row whose text is the title of a known layout (titles are data in
``layouts/*.toml``); it runs to the next title. Text above the first form is the collection
title (…年度项目绩效目标汇总表). When nothing matches, the error says which titles were looked
for and what the file looks like instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from goalforms.errors import NoKnownLayout
from goalforms.parsers.grid import Grid, Row
from goalforms.parsers.labels import clean_text
from goalforms.parsers.layouts import LAYOUTS

# Documents of the same archives that are not target forms: named in the error message.
_KNOWN_OTHER_DOCUMENTS = {
    "绩效评价报告": "a performance evaluation report (绩效评价报告), not a target form",
    "绩效自评": "a self-evaluation (绩效自评), not a target form",
}


@dataclass
class FormSegment:
    layout: str
    rows: list[Row]


def recognise(grid: Grid) -> tuple[str | None, list[FormSegment]]:
    """Split a grid into form segments; return the collection title and the segments."""
    starts: list[tuple[int, str]] = []
    for i, row in enumerate(grid.rows):
        text = row.text("")
        if not text or len(text) > 40:
            continue
        for layout_id, parser in LAYOUTS.items():
            if parser.spec.is_title(text):
                starts.append((i, layout_id))
                break
    if not starts:
        raise NoKnownLayout(grid.path, _why_not(grid))
    segments = []
    for n, (start, layout_id) in enumerate(starts):
        end = starts[n + 1][0] if n + 1 < len(starts) else len(grid.rows)
        segments.append(FormSegment(layout_id, grid.rows[start:end]))
    above = [clean_text(row.text(" ")) for row in grid.rows[: starts[0][0]] if not row.blank]
    collection_title = "".join(above) or None
    return collection_title, segments


def _why_not(grid: Grid) -> str:
    titles = "、".join(t for parser in LAYOUTS.values() for t in parser.spec.titles)
    head = "".join(row.text("") for row in grid.rows[:60])
    for marker, what in _KNOWN_OTHER_DOCUMENTS.items():
        if marker in head:
            return f"no form of a known layout: the file looks like {what}"
    return f"no form of a known layout: no title line reads {titles}"
