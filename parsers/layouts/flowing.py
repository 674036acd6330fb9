"""Flowing text: split each line of a copy-paste / ``extract_text()`` / pdftotext dump into cells.

In flowing text (``Row.flowing``) the cells of a printed line run together, separated by single
spaces, and a cell that wrapped goes on in other lines: after the whole printed line (visual
order: pdfplumber, a viewer's copy-paste), straight after its first line (stream order:
``pdftotext`` without ``-layout``), or — with vertically centred cells — above and below its
label. Only the layout knows where one cell ends, so the layout stage splits the lines
(``LayoutParser.parse`` hands flowing rows here) and then parses the result as any other grid:

- header (``flowing_header.py``): lines are split at the layout's labels, found anywhere in a
  line; a label cut over two lines is put back together and a label's unit tail (``(元)：``)
  dropped. A line without a label goes on the one value that can take it (text: not an amount,
  a date or 是/否); with centred cells the lines between two label lines may also start a value
  of the line below. Where several values could take a line, none does: each is kept as printed
  and flagged; amounts side by side are never joined (left empty, flagged with the empty amount
  labels around them).
- indicator table (``flowing_table.py``): level names are stripped from the start of a line
  (also a name cut over two lines); the rest is split into the 三级 name and the target at the one
  space between two Chinese characters, or before a target in the grammar's shape; a line that
  only continues a row goes on the column whose line filled its column (estimated from the
  widest line of the column in the form). Stream order and centred cells (a target alone on its
  line, level names on lines of their own or missing from the first row) make every such
  attribution a guess, and in centred tables the rows a level name covers are not printed.
- every guess is an ``uncertain_split`` issue naming its field (``header.x``, ``budget.x``,
  ``indicators[k].level1``/``level2``/``level3``/``raw``): warning where a value was read and
  may be incomplete or misplaced, error where a value was left empty.

Text printed in column blocks (pdftotext's default mode) is refused by ``recognise``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from goalforms.parsers.grid import Location, Row
from goalforms.parsers.layouts.flowing_cells import UNCERTAIN, Doubt, _is_table_header
from goalforms.parsers.layouts.flowing_header import HeaderReader
from goalforms.parsers.layouts.flowing_table import TableReader
from goalforms.parsers.layouts.raw import RawForm, RawIssue
from goalforms.parsers.layouts.spec import LayoutSpec

if TYPE_CHECKING:
    from goalforms.parsers.layouts.base import LayoutParser

# -- entry point ---------------------------------------------------------------------------------


def parse_flowing(parser: LayoutParser, rows: list[Row]) -> RawForm:
    """Split the flowing rows of one form into cells, parse them, and flag what the split guessed."""

    split, doubts = segment(rows, parser.spec)
    form = parser.parse(split)
    header: list[RawIssue] = []
    indicators: list[tuple[int, int, RawIssue]] = []
    seen: set[str] = set()
    for doubt in doubts:
        name, index = doubt.field, -1
        if name in ("level1", "level2", "level3", "raw"):
            index = next((i for i, ind in enumerate(form.indicators) if ind.where == doubt.where), -1)
            if index < 0 and name in ("level3", "raw"):
                # The row was joined to the one above (a target alone on its row): its doubt too.
                index = max((i for i, ind in enumerate(form.indicators) if _order(ind.where) < _order(doubt.where)),
                            default=-1)
            if index < 0:
                continue  # a row of level names only: no indicator to doubt
            name = f"indicators[{index}].{name}"
        if name in seen:  # one issue per field: the first reason
            continue
        seen.add(name)
        issue = RawIssue(UNCERTAIN, doubt.severity, doubt.message, doubt.where, name)
        if name.startswith("indicators["):
            indicators.append((index, ["level1", "level2", "level3", "raw"].index(name.rsplit(".", 1)[1]), issue))
        else:
            header.append(issue)
    form.issues += header + [issue for _, _, issue in sorted(indicators, key=lambda item: item[:2])]
    return form


def _order(where: Location) -> tuple[int, int]:
    return (where.page or 0, where.line or 0)


def segment(rows: list[Row], spec: LayoutSpec) -> tuple[list[Row], list[Doubt]]:
    """The rows of one form (title first) as rows of cells, and the doubts met on the way."""
    lines = [row for row in rows if not row.blank]
    if not lines:
        return rows, []
    table_at = next((i for i, row in enumerate(lines) if i and _is_table_header(row.text(" "), spec)), None)
    header_lines = lines[1:table_at] if table_at is not None else lines[1:]
    doubts: list[Doubt] = []
    table = TableReader(spec, doubts)
    table_rows = table.read(lines[table_at:]) if table_at is not None else []
    header = HeaderReader(spec, doubts)
    header_doubts_at = len(doubts)
    out = [Row(lines[0].cells, lines[0].where, in_table=False), *header.read(header_lines, table.centred)]
    # Header doubts first, in reading order.
    doubts[:] = doubts[header_doubts_at:] + doubts[:header_doubts_at]
    return out + table_rows, doubts


