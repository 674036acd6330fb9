"""Vertically centred tables in ``pdftotext -layout`` dumps: rebuild each table row from all its lines.

The real 申报表 (and many 2020 forms) centre every cell vertically. In a layout dump a tall row
then spans several lines: the tallest cell fills them, a shorter cell sits on the middle line —
or on a line of its own between two lines of the tall cell when the two heights differ by an odd
number of lines — and a merged label (一级/二级, 项目资金(元)) sits in the middle of its whole group.
Nothing in the dump marks where a row ends, so rows are rebuilt from the evidence there is:

- **cells first**: the pieces of one column are joined into a cell while the line above filled
  its column (it was still going); a target-shaped piece (``=100%``) starts a target of its own;
  rows are bands of lines, so a cell of one column alone on a line between two lines of the
  other column is a whole cell and binds those two lines into one cell, and a cell already
  centred on a whole cell of the other column is complete;
- **centres**: the cells of one row overlap in lines (the shorter one lies inside the taller);
  the name and target cells are paired by overlap, closest centres first;
- **header rows**: a value belongs to the label on its left: the pieces on the label's lines,
  then — top to bottom — the free lines just above it and as many just below it;
- **merged labels**: the rows are cut into consecutive groups, one per label, so that each label
  stands at the centre of its group (at the top of its part next to a page break, as LibreOffice
  prints it); a boundary that another cut would fit nearly as well is reported, and so is a
  label far from its rows.

Whether a form is centred at all is decided first (:func:`looks_centred`): from a sign that a
top-aligned dump cannot show.

The output rows look like a top-aligned table (a merged label on the first row of its group), so
the layout parser reads them as it reads any dump. Placements that were inferred without a clear
margin come back as :class:`Placement` records for the parser to flag (``ambiguous_placement``).
"""

from __future__ import annotations

import regex

from goalforms.parsers.grid import Cell, Row
from goalforms.parsers.labels import compact, is_separator
from goalforms.parsers.layouts.centred_cells import SLACK, Placement
from goalforms.parsers.layouts.centred_header import rebuild_header
from goalforms.parsers.layouts.centred_table import rebuild_table
from goalforms.parsers.layouts.lookups import lookups
from goalforms.parsers.layouts.spec import LayoutSpec
from goalforms.parsers.layouts.table import find_table_header, is_table_header
from goalforms.parsers.values import looks_like_target

_YEAR = regex.compile(r"[(（]\s*\d{4}\s*年\s*度?\s*[)）]|\d{4}\s*年\s*度")
_EXACT = 0.5  # lines: the misfit of a label that stands at its rows' centre (rounding)

__all__ = ["Placement", "looks_centred", "maybe_centred", "rebuild_centred", "rebuild_if_exact"]


# ---------------------------------------------------------------- is this dump centred?


def looks_centred(rows: list[Row], spec: LayoutSpec) -> bool:
    """Evidence that the form's cells are vertically centred, which a top-aligned dump (every
    short cell and merged label on its row's or group's first line) cannot show:

    - a header value standing on the lines above and below its label, not on the label's line;
    - a level label alone on its line between two lines of names (centred between two rows);
    - a target-shaped text alone on its line between two lines of names (a two-line name's target).

    A weaker sign (the first indicator row without a level-1 label, see :func:`maybe_centred`)
    is not enough by itself: misreading a top-aligned dump as centred would misplace its rows.
    """
    table_at = find_table_header(rows, spec)
    end = table_at if table_at is not None else len(rows)
    signs = _header_sandwich(rows, end, spec)
    if table_at is not None:
        body = [r for r in rows[table_at + 1 :] if not r.blank and not is_table_header(r, spec)]
        signs += _table_sandwiches(body, spec)
    return signs >= 1


def maybe_centred(rows: list[Row], spec: LayoutSpec) -> bool:
    """The weak sign: the first indicator row carries no level-1 label, which a top-aligned dump
    prints on its group's first line. With one-line rows only, nothing else tells the two apart."""
    table_at = find_table_header(rows, spec)
    if table_at is None:
        return False
    first = next((r for r in rows[table_at + 1 :] if not r.blank and not is_table_header(r, spec)), None)
    if first is None:
        return False
    cells = [c for c in first.filled if compact(c.text) not in spec.side_labels]
    hits = [spec.vocabulary.lookup(c.text) for c in cells]
    texts = [c for c in cells if _is_text(c, spec)]
    # A third text is a label the vocabulary does not know, printed on the first line.
    return 0 < len(texts) <= 2 and not any(h is not None and h.level == 1 for h in hits)


def _is_text(cell: Cell, spec: LayoutSpec) -> bool:
    return (spec.vocabulary.lookup(cell.text) is None and not spec.vocabulary.is_wrap_fragment(cell.text)
            and compact(cell.text) not in spec.side_labels and not is_separator(cell.text))


def _table_sandwiches(body: list[Row], spec: LayoutSpec) -> int:
    """Lines holding no name — only level labels, or only a target-shaped text (with or without
    labels) — between two lines whose first text (a name) stands left of it."""
    found = 0
    for above, row, below in zip(body, body[1:], body[2:], strict=False):
        if row.where.page != above.where.page or row.where.page != below.where.page:
            continue
        cells = [c for c in row.filled if compact(c.text) not in spec.side_labels]
        texts = [c for c in cells if _is_text(c, spec)]
        labels = [c for c in cells if (hit := spec.vocabulary.lookup(c.text)) is not None and compact(c.text) == hit.name]
        names = [next((c for c in r.filled if _is_text(c, spec)), None) for r in (above, below)]
        if not cells or any(n is None for n in names) or len(labels) + len(texts) != len(cells):
            continue
        if not texts and all(n.col > max(c.col for c in labels) for n in names if n):
            found += 1
        elif len(texts) == 1 and looks_like_target(texts[0].text) and all(
                n.col + SLACK < texts[0].col for n in names if n):
            found += 1
    return found


def _header_sandwich(rows: list[Row], end: int, spec: LayoutSpec) -> int:
    """Header labels whose value stands on the lines above and below them and not on their line."""
    found = 0
    for i in range(2, end - 1):
        above, row, below = rows[i - 1], rows[i], rows[i + 1]
        labels = [c for c in row.filled if (hit := lookups(spec).match_label(c.text)) is not None and not hit.rest
                  and hit.kind in ("field", "budget")]
        if not labels or above.blank or below.blank:
            continue
        if any(lookups(spec).match_label(c.text) for c in above.filled + below.filled):
            continue
        for label in labels:
            right = [c.col for c in row.filled if c.col > label.col]
            stop = min(right, default=10**6)
            if any(c.col > label.col for c in row.filled if c.col < stop):
                continue  # the value is on the label's own line
            if (any(label.col < c.col < stop - SLACK for c in above.filled)
                    and any(label.col < c.col < stop - SLACK for c in below.filled)):
                found += 1
    return found


# ---------------------------------------------------------------- the form


def rebuild_centred(rows: list[Row], spec: LayoutSpec) -> tuple[list[Row], list[Placement]]:
    """The form's rows with every centred table row rebuilt from its lines, and the placements
    that were inferred without a clear margin."""
    out, placements, _misfits = _rebuild(rows, spec)
    return out, placements


def rebuild_if_exact(rows: list[Row], spec: LayoutSpec) -> tuple[list[Row], list[Placement]] | None:
    """For a form that only may be centred: its rebuilt rows if every merged label stands at the
    centre of a group of rows and nothing was in doubt (no top-aligned reading explains that),
    else None."""
    out, placements, misfits = _rebuild(rows, spec)
    if placements or not misfits or max(misfits) > _EXACT:
        return None
    return out, placements


def _rebuild(rows: list[Row], spec: LayoutSpec) -> tuple[list[Row], list[Placement], list[float]]:
    placements: list[Placement] = []
    misfits: list[float] = []  # of every merged label against its group of rows
    table_at = find_table_header(rows, spec)
    end = table_at if table_at is not None else len(rows)
    start = 1
    for i in range(1, min(end, 6)):
        if _YEAR.search(rows[i].text()):
            start = i + 1
            break
    out = list(rows[:start])
    out += rebuild_header(rows, start, end, spec, placements)
    if table_at is not None:
        out.append(rows[table_at])
        out += rebuild_table(rows, table_at + 1, spec, placements, misfits)
    return out, placements, misfits

