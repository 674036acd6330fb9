"""Wrapped cells of space-aligned dumps: join continuation lines to the row above.

In a ``pdftotext -layout`` dump a cell whose text wrapped goes on in the following lines, under
its own column; nothing marks where one table row ends. A soft line continues the row above when
it holds no label (a new row of the header starts with a label, a new indicator row with a level
label or a 三级 name and its target), all its texts stand under cells of that row, and — in the
indicator table — it adds to the target column only when the target above filled its column (a
new row brings a target of its own).

That is how a table whose cells are top-aligned (Word's default) prints. When the form shows it
was laid out with vertically centred cells (the real 申报表: a value or a merged label on a line
between two lines of its row), the rows are rebuilt by ``parsers/layouts/centred.py`` instead:
see :func:`rebuild_rows`.
"""

from __future__ import annotations

from dataclasses import replace

import regex

from goalforms.parsers.grid import Cell, Row
from goalforms.parsers.labels import compact
from goalforms.parsers.layouts.centred import (
    Placement,
    looks_centred,
    maybe_centred,
    rebuild_centred,
    rebuild_if_exact,
)
from goalforms.parsers.layouts.lookups import lookups
from goalforms.parsers.layouts.raw import RawForm, RawIssue
from goalforms.parsers.layouts.spec import LayoutSpec
from goalforms.parsers.layouts.table import find_table_header
from goalforms.parsers.layouts.wrapping import display_width, joiner
from goalforms.parsers.values import looks_like_target

_LEFT_SLACK = 3  # centred labels start a little left or right of the column's first line
_ALL_WIDE = regex.compile(r"^[^\x00-\x7f]+$")


def _owner(row: Row, cell: Cell) -> int | None:
    """Index of the cell of ``row`` whose column ``cell`` stands under."""
    cells = row.filled
    for i in range(len(cells) - 1, -1, -1):
        if cells[i].col - _LEFT_SLACK <= cell.col:
            return i
    return None


def _is_complete_label(cell: Cell, spec: LayoutSpec) -> bool:
    """A whole label (``项目设立的必要性：``, ``经济成本指标``): nothing of it wrapped onto the next line."""
    hit = lookups(spec).match_label(cell.text)
    if hit is not None and not hit.rest:
        return True
    name = spec.vocabulary.lookup(cell.text)
    return (name is not None and name.name == compact(cell.text)) or spec.table_column(cell.text) is not None


def _is_label(cell: Cell, spec: LayoutSpec) -> bool:
    if spec.vocabulary.is_wrap_fragment(cell.text):
        return False
    return (lookups(spec).match_label(cell.text) is not None or spec.vocabulary.lookup(cell.text) is not None
            or spec.table_column(cell.text) is not None)


def _join(row: Row, more: Row, owners: list[int | None], last_lines: dict[int, str]) -> Row:
    """``row`` with the texts of ``more`` appended to the cells they stand under (``owners``);
    ``last_lines`` (cell index -> its last visual line) is updated."""
    cells = list(row.filled)
    for cell, i in zip(more.filled, owners, strict=True):
        if i is None:
            continue
        old = cells[i]
        # replace(): the cell keeps its origin (box, confidence, doubt), the wrapped line's doubt added.
        doubt = "; ".join(d for d in (old.doubt, cell.doubt) if d) or None
        cells[i] = replace(old, text=old.text + joiner(old.text, cell.text) + cell.text, doubt=doubt)
        last_lines[i] = cell.text
    return Row(tuple(cells), row.where, in_table=row.in_table, soft=row.soft)


def rebuild_rows(rows: list[Row], spec: LayoutSpec) -> tuple[list[Row], list[Placement]]:
    """The rows of one form with the wrapped lines of a space-aligned dump put back into their
    table rows, and the placements inferred without certainty (to be flagged). A dump of
    vertically centred cells is rebuilt from all the lines of each row
    (``parsers/layouts/centred.py``); a top-aligned one joins continuation lines to the row above.
    A form that may be either (one-line rows only, first row without its level-1 label) is read
    as centred only where that explains every merged label exactly."""
    if any(row.soft for row in rows):
        if looks_centred(rows, spec):
            return rebuild_centred(rows, spec)
        # Only one-line rows: centred if every merged label sits exactly at its group's centre.
        if maybe_centred(rows, spec) and (rebuilt := rebuild_if_exact(rows, spec)) is not None:
            return rebuilt
    return join_continuations(rows, spec), []


def join_continuations(rows: list[Row], spec: LayoutSpec) -> list[Row]:
    """Rows with the wrapped lines of their cells joined in; rows that are not soft pass as they are."""
    if not any(row.soft for row in rows):
        return rows
    table_at = find_table_header(rows, spec)
    # Room of the 三级 and target columns: the widest line seen in them in this form (a cell
    # cannot be narrower than its header label either). A line that wide was still going.
    room = {"target": 0, "level3": 0}
    if table_at is not None:
        for cell in rows[table_at].filled:
            if spec.table_column(cell.text) == ("target", False):
                room["target"] = display_width(cell.text)
        for row in rows[table_at + 1 :]:
            texts = [c for c in row.filled if not _is_label(c, spec) and not spec.vocabulary.is_wrap_fragment(c.text)]
            # Only lines of wide characters measure the room: Latin letters and digits are
            # narrower on the page than the half-width they take in the dump.
            if len(texts) >= 2:
                for role, cell in (("target", texts[-1]), ("level3", texts[-2])):
                    if _ALL_WIDE.match(cell.text):
                        room[role] = max(room[role], display_width(cell.text))

    def filled_its_column(row: Row, index: int, last_lines: dict[int, str]) -> bool:
        role = "target" if index == len(row.filled) - 1 else "level3"
        return display_width(last_lines.get(index, row.filled[index].text)) >= room[role] - 2

    out: list[Row] = []
    last_lines: dict[int, str] = {}  # of the row being built (out[-1])
    for i, row in enumerate(rows):
        previous = out[-1] if out else None
        if not row.soft or row.blank or previous is None or previous.blank:
            out.append(row)
            last_lines = {}
            continue
        in_table = table_at is not None and i > table_at
        owners = [_owner(previous, cell) for cell in row.filled]
        if in_table and row.where.page != previous.where.page and len(row.filled) == 1 and len(previous.filled) >= 2:
            # First line of a new page: the dump re-flows each page's columns, so alignment says
            # nothing; a lone text can only go on the 三级 name cut by the page break.
            owners = [len(previous.filled) - 2]
        continues = (
            len(previous.filled) >= 2  # a title or a free line is not a table row that wrapped
            and all(o is not None for o in owners)
            and not any(o is not None and _is_complete_label(previous.filled[o], spec) for o in owners)
            and not any(_is_label(cell, spec) for cell in row.filled)
            and not any((hit := lookups(spec).match_label(c.text)) is not None and hit.kind == "text_block"
                        for c in previous.filled)
            and not (in_table and i - 1 == table_at)
        )
        if continues and in_table:
            target = len(previous.filled) - 1
            if any(o == target and looks_like_target(c.text) for o, c in zip(owners, row.filled, strict=True)):
                continues = False  # a target of its own (=100%, ≥95.00(%)): a new row
        if continues and in_table:
            # In the indicator table a new row without labels looks like a wrapped line: only a
            # cell that filled its column (it was still going) can go on below.
            continues = all(
                filled_its_column(previous, o, last_lines)
                for o, cell in zip(owners, row.filled, strict=True)
                if o is not None and not spec.vocabulary.is_wrap_fragment(cell.text)
            )
        if continues:
            out[-1] = _join(previous, row, owners, last_lines)
        else:
            out.append(row)
            last_lines = {}
    return out


def flag_placements(placements: list[Placement], form: RawForm) -> None:
    """Each inferred placement as an ``ambiguous_placement`` warning naming its field: a field of
    an indicator row is named by the indicator read from that row (or the row it was joined to)."""

    for placement in placements:
        field = placement.field
        if "." not in field:
            lines = [i for i, ind in enumerate(form.indicators)
                     if ind.where.line is not None and placement.where.line is not None
                     and ind.where.line <= placement.where.line]
            if not lines:
                continue
            field = f"indicators[{lines[-1]}].{field}"
        if any(i.code == "ambiguous_placement" and i.field == field for i in form.issues):
            continue
        form.issues.append(RawIssue("ambiguous_placement", "warning", placement.message, placement.where, field))
