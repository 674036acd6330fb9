"""Layout recognition: find the forms in a grid and the layout of each.

A form starts at a row whose text is the title of a known layout (titles are data in
``layouts/*.toml``); it runs to the next title. Text above the first form is the collection
title (…年度项目绩效目标汇总表). When nothing matches, the error says which titles were looked
for and what the file looks like instead.

In flowing text (``Row.flowing``) a title may share its line with other text — the last words of
the page before (pages joined without a line break), the year after it: such a line is split so
that the title starts a row of its own, and the text before it stays with the form above.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import regex

from goalforms.errors import NoKnownLayout, UnreadableFile
from goalforms.parsers.grid import Cell, Grid, Row
from goalforms.parsers.labels import clean_text, compact
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
    rows = document_rows(grid)
    starts: list[tuple[int, str]] = []
    for i, row in enumerate(rows):
        text = row.text("")
        if not text or (len(text) > 40 and not row.flowing):
            continue
        for layout_id, parser in LAYOUTS.items():
            if parser.spec.is_title(text):
                starts.append((i, layout_id))
                break
    if not starts:
        raise NoKnownLayout(grid.path, _why_not(grid))
    segments = []
    for n, (start, layout_id) in enumerate(starts):
        end = starts[n + 1][0] if n + 1 < len(starts) else len(rows)
        segments.append(FormSegment(layout_id, rows[start:end]))
    for segment in segments:
        if _column_block_order(segment):
            raise UnreadableFile(
                grid.path,
                "text in column-block order (pdftotext without -layout or -raw): the columns of the "
                "form were printed one after the other, so no value can be paired with its label; "
                "extract the PDF again with `pdftotext -layout` (or `-raw`)",
            )
    above = [clean_text(row.text(" ")) for row in rows[: starts[0][0]] if not row.blank]
    collection_title = "".join(above) or None
    return collection_title, segments


def _title_pattern() -> regex.Pattern[str]:
    titles = sorted({t for parser in LAYOUTS.values() for t in parser.spec.titles}, key=len, reverse=True)
    body = "|".join(r"\s*".join(regex.escape(ch) for ch in title) for title in titles)
    # A title ends where the line ends, at a space or at the year's bracket: never inside a longer word.
    return regex.compile(rf"(?P<title>{body})(?=\s|[(（]|$)")


_TITLE_IN_TEXT = _title_pattern()


def document_rows(grid: Grid) -> list[Row]:
    """The rows recognise splits into forms: the grid's, with titles inside flowing lines split off."""
    return _split_flowing_titles(grid.rows)


def _split_flowing_titles(rows: list[Row]) -> list[Row]:
    """Flowing rows with every title at the start of a row: the text before a title is a row of
    its own (it belongs to the form above); the text after it (the year) another."""
    out: list[Row] = []
    for row in rows:
        text = row.text(" ")
        found = _TITLE_IN_TEXT.search(text) if row.flowing else None
        if found is None:
            out.append(row)
            continue
        pieces = [text[: found.start()], found.group(), text[found.end() :]]
        for piece in pieces:
            if piece.strip():
                out.append(replace(row, cells=(Cell(piece.strip(), 0),)))
    return out


def _column_block_order(segment: FormSegment) -> bool:
    """A flowing form whose indicator-table header names (一级/二级/三级) each stand on a line of
    their own and never share one: its text came column block by column block."""
    if not any(row.flowing for row in segment.rows):
        return False
    table = LAYOUTS[segment.layout].spec.table
    names = [set(table[column]) for column in ("level1", "level2", "level3")]
    texts = [compact(row.text("")) for row in segment.rows]
    alone = all(any(text in group for text in texts) for group in names)
    together = any(all(any(name in text for name in group) for group in names) for text in texts)
    return alone and not together


def _why_not(grid: Grid) -> str:
    titles = "、".join(t for parser in LAYOUTS.values() for t in parser.spec.titles)
    head = "".join(row.text("") for row in grid.rows[:60])
    for marker, what in _KNOWN_OTHER_DOCUMENTS.items():
        if marker in head:
            return f"no form of a known layout: the file looks like {what}"
    return f"no form of a known layout: no title line reads {titles}"
