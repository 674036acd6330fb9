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
from goalforms.parsers.layouts.table import find_table_header

# Documents of the same archives that are not forms: named in the error message.
_KNOWN_OTHER_DOCUMENTS = {
    "绩效评价报告": "a performance evaluation report (绩效评价报告), not a target form",
}


@dataclass
class FormSegment:
    layout: str
    rows: list[Row]


def recognise(grid: Grid) -> tuple[str | None, list[FormSegment]]:
    """Split a grid into form segments; return the collection title and the segments."""
    rows = document_rows(grid)
    # Every layout's titles at once: most rows are no title, and are passed over with one test.
    titles = {title for parser in LAYOUTS.values() for title in parser.spec.titles}
    starts: list[tuple[int, list[str]]] = []
    for i, row in enumerate(rows):
        text = row.joined
        if not text or (len(text) > 40 and not row.flowing) or compact(text) not in titles:
            continue
        candidates = [layout_id for layout_id, parser in LAYOUTS.items() if parser.spec.is_title(text)]
        if candidates:
            starts.append((i, candidates))
    if not starts:
        raise NoKnownLayout(grid.path, _why_not(grid))
    segments = []
    for n, (start, candidates) in enumerate(starts):
        end = starts[n + 1][0] if n + 1 < len(starts) else len(rows)
        segments.append(FormSegment(_by_table(candidates, rows[start:end]), rows[start:end]))
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


def _by_table(candidates: list[str], rows: list[Row]) -> str:
    """Of the layouts printing one title (a local variant keeps the national title), the first
    whose indicator-table header is in the form; the first layout when none is."""
    if len(candidates) > 1:
        for layout_id in candidates:
            if find_table_header(rows, LAYOUTS[layout_id].spec) is not None:
                return layout_id
    return candidates[0]


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
        if not row.flowing:
            out.append(row)
            continue
        text = row.text(" ")
        found = _TITLE_IN_TEXT.search(text)
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
    texts = [compact(row.joined) for row in segment.rows]
    alone = all(any(text in group for text in texts) for group in names)
    together = any(all(any(name in text for name in group) for group in names) for text in texts)
    return alone and not together


def _why_not(grid: Grid) -> str:
    titles = "、".join(dict.fromkeys(t for parser in LAYOUTS.values() for t in parser.spec.titles))
    head = "".join(row.joined for row in grid.rows[:60])
    for marker, what in _KNOWN_OTHER_DOCUMENTS.items():
        if marker in head:
            return f"no form of a known layout: the file looks like {what}"
    closest = closest_layout(grid)
    return f"no form of a known layout: no title line reads {titles}" + (f"; {closest}" if closest else "")


def closest_layout(grid: Grid) -> str | None:
    """Which layout the file comes closest to, and what of it was found and what was missing:
    a layout whose title is printed (inside a longer line) first, else the one whose labels
    matched most. None when no label of any layout is in the file."""
    lines = [compact(row.joined) for row in grid.rows]
    cells = {compact(c.text) for row in grid.rows for c in row.filled}
    text = "".join(lines)
    best: tuple[int, int, str] | None = None
    for layout_id, parser in LAYOUTS.items():
        spec = parser.spec
        titled = next((t for t in spec.titles if t in text), None)
        labels = spec.labels()
        found = [label for label in labels if label in cells or any(line.startswith(label) for line in lines)]
        missing = [label for label in labels if label not in found]
        if not found and titled is None:
            continue
        shown = "、".join(missing[:8]) + (" …" if len(missing) > 8 else "")
        table = [n for role in sorted(spec.header_roles) for n in spec.table.get(role, [])[:1]]
        table_missing = [n for n in table if n not in found]
        if titled is not None:
            line = next(row.text(" ") for row, key in zip(grid.rows, lines, strict=True) if titled in key)
            what = f"closest layout {layout_id}: its title {titled} found inside the line {line.strip()[:60]!r}"
            what += (f"; its table header {'、'.join(table_missing)} not found" if table_missing
                     else "; its table header found")
        else:
            what = (f"closest layout {layout_id} ({spec.name}): {len(found)} of its {len(labels)} labels found "
                    f"({'、'.join(found[:8])}); missing: the title" + (f", {shown}" if shown else ""))
        score = (1 if titled is not None else 0, len(found) * 1000 // max(len(labels), 1))
        if best is None or score > best[:2]:
            best = (*score, what)
    return best[2] if best else None
