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

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import regex

from goalforms.parsers.grid import Cell, Location, Row
from goalforms.parsers.labels import compact, is_separator
from goalforms.parsers.layouts.continuation import display_width, joiner
from goalforms.parsers.layouts.spec import LayoutSpec
from goalforms.parsers.layouts.table import TARGET_SHAPE, find_table_header, is_table_header

_YEAR = regex.compile(r"[(（]\s*\d{4}\s*年\s*度?\s*[)）]|\d{4}\s*年\s*度")
_ALL_WIDE = regex.compile(r"^[^\x00-\x7f]+$")
_HANGING = regex.compile(r"[”’」』》）)，。、；：！？]$")
_TOP = 0.0  # lines: charged for a label at the top of its rows next to a page break (LibreOffice does that)
_EXACT = 0.5  # lines: the misfit of a label that stands at its rows' centre (rounding)
_FAR = 1.0  # lines: a label this far from its rows' centre (or top, at a page break) is a guess
_SLACK = 3  # columns: a centred label starts a little left or right of its column
_MARGIN = 0.5  # lines: a group cut that fits less than this worse than the best one is ambiguous


@dataclass(frozen=True)
class Placement:
    """An inferred placement the parser must flag: ``field`` is relative to the indicator at
    ``where`` (``level1``, ``level2``, ``level3``, ``raw``) or absolute (``header.project_name``)."""

    where: Location
    field: str
    message: str


@dataclass
class Piece:
    line: int  # index in the form's rows
    col: int
    text: str
    page: int

    @property
    def end(self) -> int:
        # Columns of a dump count characters, wide or not.
        return self.col + len(self.text)


@dataclass
class Stack:
    """Pieces of one cell, top to bottom."""

    pieces: list[Piece] = field(default_factory=list)

    @property
    def top(self) -> int:
        return self.pieces[0].line

    @property
    def bottom(self) -> int:
        return self.pieces[-1].line

    @property
    def centre(self) -> float:
        return (self.top + self.bottom) / 2

    @property
    def col(self) -> int:
        return min(p.col for p in self.pieces)

    @property
    def text(self) -> str:
        out = ""
        for piece in self.pieces:
            out += joiner(out, piece.text) + piece.text
        return out


def _pieces(row: Row, index: int) -> list[Piece]:
    return [Piece(index, c.col, c.text, row.where.page or 1) for c in row.filled]


def _overlaps(a: Piece, b: Piece) -> bool:
    return a.col < b.end + _SLACK and b.col < a.end + _SLACK


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
        elif len(texts) == 1 and TARGET_SHAPE.match(texts[0].text) and all(
                n.col + _SLACK < texts[0].col for n in names if n):
            found += 1
    return found


def _header_sandwich(rows: list[Row], end: int, spec: LayoutSpec) -> int:
    """Header labels whose value stands on the lines above and below them and not on their line."""
    found = 0
    for i in range(2, end - 1):
        above, row, below = rows[i - 1], rows[i], rows[i + 1]
        labels = [c for c in row.filled if (hit := spec.match_label(c.text)) is not None and not hit.rest
                  and hit.kind in ("field", "budget")]
        if not labels or above.blank or below.blank:
            continue
        if any(spec.match_label(c.text) for c in above.filled + below.filled):
            continue
        for label in labels:
            right = [c.col for c in row.filled if c.col > label.col]
            stop = min(right, default=10**6)
            if any(c.col > label.col for c in row.filled if c.col < stop):
                continue  # the value is on the label's own line
            if (any(label.col < c.col < stop - _SLACK for c in above.filled)
                    and any(label.col < c.col < stop - _SLACK for c in below.filled)):
                found += 1
    return found


# ---------------------------------------------------------------- header zone


def _label_tail(spec: LayoutSpec, head: str, tail: str) -> bool:
    """``tail`` is the wrapped end of the label ``head`` (``其中：财政资`` + ``金``, ``…执行数`` + ``(元)：``)."""
    hit = spec.match_label(head + tail)
    return hit is not None and not hit.rest and spec.match_label(tail) is None


_LABEL_NAMES: dict[str, list[str]] = {}  # layout id -> every label spelling, compacted


def _label_head(spec: LayoutSpec, text: str) -> bool:
    """A label cut by its line end: a proper prefix of a label spelling (three characters at least)."""
    key = compact(text).rstrip("*")
    if len(key) < 3:
        return False
    names = _LABEL_NAMES.get(spec.id)
    if names is None:
        spellings = [*spec.fields.values(), *spec.budget.values(), *spec.text_blocks.values(), spec.captions]
        names = _LABEL_NAMES[spec.id] = [compact(s) for group in spellings for s in group]
    return any(name.startswith(key) and name != key for name in names)


def _split_label(spec: LayoutSpec, piece: Piece) -> list[Piece]:
    """A label and the middle line of its value that pdftotext printed one space apart (one run):
    two pieces, so that the value's other lines can join it."""
    gap = piece.text.find(" ")
    if gap < 0:
        return [piece]
    left, right = piece.text[:gap], piece.text[gap + 1 :]
    hit = spec.match_label(left)
    if (hit is not None and not hit.rest) or (hit is None and _label_head(spec, left)):
        return [Piece(piece.line, piece.col, left, piece.page), Piece(piece.line, piece.col + gap + 1, right, piece.page)]
    return [piece]


def _rebuild_header(rows: list[Row], start: int, end: int, spec: LayoutSpec,
                    placements: list[Placement]) -> list[Row]:
    """Header rows ``rows[start:end]`` with every value cell joined from its lines onto its label's row."""
    lines = {i: [part for piece in _pieces(rows[i], i) for part in _split_label(spec, piece)] for i in range(start, end)}
    # Labels, with their wrapped lines (a label's tail is centred under its head).
    labels: list[Stack] = []
    used: set[int] = set()  # id() of pieces taken into a label
    for i in range(start, end):
        for piece in lines[i]:
            if id(piece) in used:
                continue
            hit = spec.match_label(piece.text)
            if hit is None and not _label_head(spec, piece.text):
                continue
            stack = Stack([piece])
            used.add(id(piece))
            for j in range(i + 1, min(i + 3, end)):
                tail = next((p for p in lines[j] if id(p) not in used and _overlaps(p, piece)
                             and _label_tail(spec, stack.text, p.text)), None)
                if tail is not None:
                    stack.pieces.append(tail)
                    used.add(id(tail))
                    break
            if spec.match_label(stack.text) is not None:
                labels.append(stack)
            else:
                for p in stack.pieces:
                    used.discard(id(p))
    values: dict[int, Stack] = {}  # id(label stack) -> its value
    claimed: dict[int, int] = {}  # id(piece) -> id(label stack)

    def region(label: Stack) -> tuple[int, int]:
        """Columns of the label's value: from the label's end to the next label on its lines."""
        ends = [p.end for p in label.pieces]
        nxt = [other.col for other in labels if other is not label and other.col > label.col
               and other.top <= label.bottom and other.bottom >= label.top]
        return min(ends) - _SLACK, min(nxt, default=10**6) - _SLACK

    active = []
    for label in labels:
        hit = spec.match_label(label.text)
        if hit is None or hit.rest or hit.kind in ("caption", "text_block"):
            continue
        active.append(label)
        values[id(label)] = Stack()
    regions = {id(label): region(label) for label in active}

    def free(line: int, label: Stack) -> list[Piece]:
        lo, hi = regions[id(label)]
        return [p for p in lines.get(line, []) if id(p) not in used and id(p) not in claimed and lo <= p.col < hi]

    for label in active:  # the pieces on the label's own lines
        for i in range(label.top, label.bottom + 1):
            for piece in free(i, label):
                claimed[id(piece)] = id(label)
                values[id(label)].pieces.append(piece)
    # Then, top to bottom, the lines above each label that are still free (the row above took
    # as many lines below its label as it had above it), and as many lines below it: a centred
    # value has as many lines above its label's line as below it.
    for label in sorted(active, key=lambda lab: (lab.top, lab.col)):
        above: list[Piece] = []
        lines_above = 0
        while found := free(label.top - lines_above - 1, label):
            above += found
            lines_above += 1
        below: list[Piece] = []
        for step in range(1, lines_above + 1):
            found = free(label.bottom + step, label)
            if not found:
                placements.append(Placement(rows[label.top].where, _field_of(spec, label),
                                            f"{compact(label.text)}: its value has {lines_above} lines above the label "
                                            f"and only {step - 1} below; which lines are its own is a guess"))
                break
            below += found
        for piece in above + below:
            claimed[id(piece)] = id(label)
            values[id(label)].pieces.append(piece)

    # Output: one row per line; a label (with its value) on its first line; claimed pieces leave
    # their lines; captions are dropped (a merged side caption in the middle of a goal text would
    # end the text block).
    out: list[Row] = []
    for i in range(start, end):
        cells: list[Cell] = []
        for label in labels:
            if label.top != i:
                continue
            hit = spec.match_label(label.text)
            if hit is not None and hit.kind == "caption":
                continue
            cells.append(Cell(label.text, label.col))
            value = values.get(id(label))
            if value is not None and value.pieces:
                value.pieces.sort(key=lambda p: (p.line, p.col))
                cells.append(Cell(value.text, max(value.col, label.col + 1)))
        for piece in lines[i]:
            if id(piece) not in used and id(piece) not in claimed:
                cells.append(Cell(piece.text, piece.col))
        if cells:
            cells.sort(key=lambda c: c.col)
            out.append(Row(tuple(cells), rows[i].where, in_table=rows[i].in_table, soft=True))
    return out


def _field_of(spec: LayoutSpec, label: Stack) -> str:
    hit = spec.match_label(label.text)
    if hit is None:
        return "header"
    return f"{'budget' if hit.kind == 'budget' else 'header'}.{hit.name}"


# ---------------------------------------------------------------- indicator table


@dataclass
class Label:
    level: int | None  # None: a text in the level columns the vocabulary does not know
    name: str
    pieces: list[Piece]

    @property
    def centre(self) -> float:
        return (self.pieces[0].line + self.pieces[-1].line) / 2

    @property
    def page(self) -> int:
        return self.pieces[0].page

    @property
    def col(self) -> int:
        return self.pieces[0].col


@dataclass
class TableRow:
    """A rebuilt indicator row: its name and target cells (read only once paired)."""

    name: Stack | None
    target: Stack | None

    @cached_property
    def top(self) -> int:
        return min(s.top for s in (self.name, self.target) if s is not None)

    @cached_property
    def bottom(self) -> int:
        return max(s.bottom for s in (self.name, self.target) if s is not None)

    @property
    def centre(self) -> float:
        return (self.top + self.bottom) / 2

    @cached_property
    def pages(self) -> tuple[int, int]:
        """First and last page of the row's lines (a tall row may be cut by a page break)."""
        found = [p.page for s in (self.name, self.target) if s is not None for p in s.pieces]
        return min(found), max(found)


def _columns(texts: dict[int, list[Piece]]) -> dict[int, tuple[int, int]]:
    """For every line, the (name, target) columns of its page: the commonest pair among the lines
    of that page holding exactly two texts (pdftotext lays each page out afresh, so columns move
    from page to page); the nearest such line where there is no clear commonest."""
    both = {i: (ps[0].col, ps[-1].col) for i, ps in texts.items() if len(ps) == 2}
    out: dict[int, tuple[int, int]] = {}
    for i, ps in texts.items():
        if not ps:
            continue
        same_page = [j for j in both if texts[j][0].page == ps[0].page] or list(both)
        if not same_page:
            continue
        ranked = Counter(both[j] for j in same_page).most_common(2)
        if len(ranked) == 1 or ranked[0][1] > ranked[1][1]:
            out[i] = ranked[0][0]
        else:
            out[i] = both[min(same_page, key=lambda j: (abs(j - i), j))]
    return out


def _nearest(columns: dict[int, tuple[int, int]], line: int, default: tuple[int, int]) -> tuple[int, int]:
    if not columns:
        return default
    return columns[min(columns, key=lambda j: (abs(j - line), j))]


@dataclass
class Column:
    """One column's pieces (names or targets) with what is known of the other column."""

    pieces: list[Piece]
    room: int  # the column's width: its widest line, at least its header label
    starts_new: Callable[[Piece], bool]
    floor: int = 0  # its header label's width
    # Certain from the lines around them: pieces that are whole cells, and pairs of lines
    # (upper, lower) that are one cell (see :func:`_between`).
    whole: set[int] = field(default_factory=set)
    bound: set[tuple[int, int]] = field(default_factory=set)


def _stacks(column: Column, other: Column, other_stacks: list[Stack] | None = None,
            doubts: set[int] | None = None) -> list[Stack]:
    """The pieces of ``column`` (in line order) joined into cells. A piece goes on the cell above:

    - never when it starts a cell of its own (a target-shaped text) or stands more than two lines
      below it on the same page (only a shorter cell of the row, on a line between, may part two
      lines of one cell);
    - when both lines also hold a piece of the other column, only if both pieces filled their
      columns and the lower other piece starts nothing (two short rows one under another); when
      they only nearly filled them (widths on the page are not exactly those of the dump), the
      join is a guess and its line goes into ``doubts``;
    - when a whole cell of the other column stands between the two lines (a target centred
      between the two lines of its name), always;
    - when the cell is already centred on a whole cell of the other column that lies within it
      (its row is complete), never — unless the other column prints nothing more before the page
      ends (rows next to a page break are printed top-aligned);
    - otherwise when its last line filled the column (it was still going).
    """
    others = {p.line: p for p in other.pieces}
    stacks: list[Stack] = []
    for piece in column.pieces:
        current = stacks[-1] if stacks else None
        last = current.pieces[-1] if current else None
        if current is None or last is None or column.starts_new(piece) or (
                piece.page == last.page and piece.line - last.line > 2) or {piece.line, last.line} & column.whole:
            stacks.append(Stack([piece]))
            continue
        if (last.line, piece.line) in column.bound:
            going = True
        elif last.line in others and piece.line in others:
            beside = others[last.line].text
            going = (_filled(last.text, column.room, 1) and _filled(beside, other.room, 1)
                     and not other.starts_new(others[piece.line]))
            if (not going and not other.starts_new(others[piece.line])
                    and column.room > column.floor and other.room > other.floor
                    and _filled(last.text, column.room, 2) and _filled(beside, other.room, 2)):
                going = True
                if doubts is not None:
                    doubts.add(piece.line)
        elif other_stacks is not None and any(last.line < o.top and o.bottom < piece.line for o in other_stacks):
            going = True
        elif other_stacks is not None and _centred_on(current, other_stacks, last, other.pieces):
            going = False
        else:
            going = _filled(last.text, column.room, 2)
        if going:
            current.pieces.append(piece)
        else:
            stacks.append(Stack([piece]))
    return stacks


def _between(column: Column, other: Column, page: dict[int, int]) -> None:
    """Lines where a piece of ``other`` stands alone between two lines of ``column`` (and not
    beside them): rows are bands of lines, so that piece is a whole cell centred between two lines
    of one cell of ``column`` — unless the two columns interleave (a cell of ``other`` one line
    taller or shorter than its neighbour: the line two up or down holds a piece of ``other``
    alone too). Not next to a page break: the part of a cut row on the next page is laid out on
    its own."""
    mine = {p.line for p in column.pieces}
    theirs = {p.line for p in other.pieces}
    for line in theirs - mine:
        if len({page.get(near) for near in range(line - 2, line + 3)}) > 1:
            continue
        if {line - 1, line + 1} <= mine and not {line - 1, line + 1} & theirs:
            if any(near in theirs and near not in mine for near in (line - 2, line + 2)):
                continue
            other.whole.add(line)
            column.bound.add((line - 1, line + 1))


def _centred_on(stack: Stack, other_stacks: list[Stack], last: Piece, other_pieces: list[Piece]) -> bool:
    """``stack`` (up to ``last``) has a whole cell of the other column at its centre, and the other
    column goes on below it on the same page."""
    top, bottom = stack.pieces[0].line, last.line
    centred = any(top <= o.top and o.bottom <= bottom and abs((o.top + o.bottom) - (top + bottom)) <= 0
                  for o in other_stacks)
    return centred and any(p.line > bottom and p.page == last.page for p in other_pieces)


def _filled(text: str, room: int, slack: int) -> bool:
    """The line may have filled its column (it was still going). Widths are in half-ideographs;
    Latin letters, digits and signs print a little wider than half an ideograph, a third of a
    unit more each."""
    ascii_chars = sum(1 for ch in text if ch.isascii() and not ch.isspace())
    return display_width(text) + ascii_chars // 3 >= room - slack


def _room(pieces: list[Piece], floor: int = 0) -> int:
    """The width of a column: its widest line of wide characters. A closing punctuation mark may
    hang past the column's edge (the line ``提供社保帮办所需的“云桌面”`` is one mark wider than
    the column), so it is not counted."""
    wide = [display_width(_HANGING.sub("", p.text)) for p in pieces if _ALL_WIDE.match(p.text)]
    return max([floor, *wide])


def _split(names: list[Stack], targets: list[Stack]) -> list[Stack]:
    """A cell joined over lines that hold two different cells of the other column is two cells
    (``names`` and ``targets`` stand for either column): in a centred row the shorter cell lies
    within the taller one's lines, so the cut goes between the two."""
    out: list[Stack] = []
    for stack in names:
        inside = [t for t in targets if t.top <= stack.bottom and stack.top <= t.bottom]
        while len(stack.pieces) > 1 and len(inside) >= 2:
            cut = inside[0].bottom
            head = [p for p in stack.pieces if p.line <= cut]
            if not head or len(head) == len(stack.pieces):
                break
            out.append(Stack(head))
            stack = Stack(stack.pieces[len(head):])
            inside = inside[1:]
        out.append(stack)
    return out


def _pair(names: list[Stack], targets: list[Stack]) -> list[TableRow]:
    """Each name with the target whose lines overlap its own, closest centres first."""
    chosen: dict[int, int] = {}  # name index -> target index
    candidates = sorted(
        ((abs(n.centre - t.centre), k, m) for k, n in enumerate(names) for m, t in enumerate(targets)
         if t.top <= n.bottom and n.top <= t.bottom),
        key=lambda item: item[0],
    )
    for _distance, k, m in candidates:
        if k not in chosen and m not in chosen.values():
            chosen[k] = m
    rows = [TableRow(n, targets[chosen[k]] if k in chosen else None) for k, n in enumerate(names)]
    rows += [TableRow(None, t) for m, t in enumerate(targets) if m not in chosen.values()]
    rows.sort(key=lambda r: (r.top, r.centre))
    return rows


def _heights(lines: list[int], between: set[int]) -> dict[int, float]:
    """A height for every line of the table, in lines of text: a line that pdftotext inserted
    between two lines of a taller cell (a shorter cell centred between them) stands half a line
    below the one above it, and the next line half a line below it."""
    y: dict[int, float] = {}
    previous = None
    for line in sorted(lines):
        if previous is None:
            y[line] = 0.0
        else:
            y[line] = y[previous] + (0.5 if line in between or previous in between else 1.0)
        previous = line
    return y


def _group_cost(rows: list[TableRow], first: int, last: int, label: Label, y: dict[int, float],
                page_ends: set[int] | None = None) -> float:
    """How badly ``label`` fits as the label of rows[first..last]: it must lie inside them, at their
    centre — or, when they run over a page break, at the top of their part on its page."""
    top, bottom = y[rows[first].top], y[rows[last].bottom]
    centre = (y[label.pieces[0].line] + y[label.pieces[-1].line]) / 2
    if not top - 1 <= centre <= bottom + 1:
        return float("inf")
    first_page, last_page = rows[first].pages[0], rows[last].pages[1]
    if first_page != last_page:
        # A merged cell cut by a page break prints its label at the top of its first part.
        if label.page != first_page:
            return float("inf")
        return abs(y[rows[first].top] - centre) + _TOP
    fit = abs((top + bottom) / 2 - centre)
    if page_ends is not None and rows[last].bottom in page_ends:
        # Rows just above a page break may be laid out top-aligned (LibreOffice does so when a
        # merged cell of their row group runs on to the next page).
        fit = min(fit, abs(top - centre) + _TOP)
    return fit


def _cut(rows: list[TableRow], labels: list[Label], y: dict[int, float], page_ends: set[int]) -> tuple[list[int], list[int]]:
    """Cut ``rows`` into consecutive groups, one per label in order (a group's first row index),
    with the least total misfit; and the groups whose cut another one fits nearly as well."""
    table = rows
    n, m = len(table), len(labels)
    if m == 0 or n == 0 or m > n:
        return [], list(range(m))
    inf = float("inf")
    centres = [(y[lab.pieces[0].line] + y[lab.pieces[-1].line]) / 2 for lab in labels]
    # best[k][j]: least cost of labels[:k] covering rows[:j]
    best = [[inf] * (n + 1) for _ in range(m + 1)]
    back = [[0] * (n + 1) for _ in range(m + 1)]
    best[0][0] = 0.0
    for k in range(1, m + 1):
        for j in range(k, n + 1):
            for i in range(k - 1, j):
                if y[table[i].top] - 1 > centres[k - 1]:
                    break  # the label would stand above its rows
                if best[k - 1][i] == inf:
                    continue
                cost = best[k - 1][i] + _group_cost(table, i, j - 1, labels[k - 1], y, page_ends)
                if cost < best[k][j]:
                    best[k][j], back[k][j] = cost, i
    if best[m][n] == inf:
        return [], list(range(m))
    starts = [0] * m
    j = n
    for k in range(m, 0, -1):
        starts[k - 1] = back[k][j]
        j = back[k][j]
    # A cut between groups k-1 and k that moves one row either way and costs little more.
    doubtful = []
    for k in range(1, m):
        stop = starts[k + 1] if k + 1 < m else n
        for shift in (-1, 1):
            s = starts[k] + shift
            if not starts[k - 1] < s < stop:
                continue
            old = (_group_cost(table, starts[k - 1], starts[k] - 1, labels[k - 1], y, page_ends)
                   + _group_cost(table, starts[k], stop - 1, labels[k], y, page_ends))
            new = (_group_cost(table, starts[k - 1], s - 1, labels[k - 1], y, page_ends)
                   + _group_cost(table, s, stop - 1, labels[k], y, page_ends))
            if new - old < _MARGIN - 1e-9:
                doubtful.append(k)
    return starts, doubtful


def _rebuild_table(rows: list[Row], start: int, spec: LayoutSpec, placements: list[Placement],
                   misfits: list[float]) -> list[Row]:
    vocab = spec.vocabulary
    labels: list[Label] = []
    fragments: list[Piece] = []
    cut: list[tuple[Piece, int, str]] = []
    texts: dict[int, list[Piece]] = {}
    for i in range(start, len(rows)):
        row = rows[i]
        if row.blank or is_table_header(row, spec):
            continue
        texts[i] = []
        for piece in _pieces(row, i):
            if is_separator(piece.text) or compact(piece.text) in spec.side_labels:
                continue
            if vocab.is_wrap_fragment(piece.text):
                fragments.append(piece)
                continue
            hit = vocab.lookup(piece.text)
            if hit is not None and compact(piece.text) == hit.name:
                labels.append(Label(hit.level, hit.name, [piece]))
            elif hit is not None:
                cut.append((piece, hit.level, hit.name))
            else:
                texts[i].append(piece)
    # A cut name (``服务对象满意度`` for 服务对象满意度指标) is a label only where it stands left of the
    # names; in the name column it is a 三级 name.
    columns = _columns(texts)
    for piece, level, name in cut:
        name_col = columns.get(piece.line, _nearest(columns, piece.line, (10**6, 10**6)))[0]
        if piece.col < name_col - _SLACK:
            labels.append(Label(level, name, [piece]))
        else:
            texts[piece.line] = sorted([*texts[piece.line], piece], key=lambda p: p.col)
    # A label's wrapped tail (``标`` under ``生态环境成本指``) moves its centre down; only a label
    # cut by its line end takes one.
    for fragment in fragments:
        owner = min((lab for lab in labels if 0 < fragment.line - lab.pieces[-1].line <= 2
                     and compact("".join(p.text for p in lab.pieces)) != lab.name
                     and _overlaps(fragment, lab.pieces[-1])),
                    key=lambda lab: fragment.line - lab.pieces[-1].line, default=None)
        if owner is not None:
            owner.pieces.append(fragment)
    # Name or target: by column, against the nearest line that holds both.
    columns = _columns(texts)
    names: list[Piece] = []
    targets: list[Piece] = []
    for i, ps in texts.items():
        if not ps:
            continue
        name_col, target_col = columns.get(i, (ps[0].col, 10**6))
        # Texts standing left of the names are in the label columns: the wrapped end of a label
        # above (``意度指标`` under ``服务对象满``), or a label the vocabulary does not know.
        while ps and ps[0].col < name_col - _SLACK:
            piece = ps.pop(0)
            head = next((lab for lab in labels if 0 < i - lab.pieces[-1].line <= 2 and _overlaps(piece, lab.pieces[-1])
                         and vocab.lookup("".join(p.text for p in lab.pieces) + piece.text) is not None
                         and compact("".join(p.text for p in lab.pieces) + piece.text) == lab.name), None)
            if head is not None:
                head.pieces.append(piece)
            else:
                labels.append(Label(None, piece.text, [piece]))
        if not ps:
            continue
        if len(ps) >= 2:
            names.append(Piece(i, ps[0].col, "".join(p.text for p in ps[:-1]), ps[0].page) if len(ps) > 2 else ps[0])
            targets.append(ps[-1])
            continue
        piece = ps[0]
        if TARGET_SHAPE.match(piece.text) or abs(piece.col - target_col) < abs(piece.col - name_col):
            targets.append(piece)
        else:
            names.append(piece)
    # A target cell is at least as wide as its column's header label.
    header = rows[start - 1]
    target_floor = max((display_width(c.text) for c in header.filled if spec.table_column(c.text) == ("target", False)),
                       default=0)
    name_room, target_room = _room(names), _room(targets, target_floor)
    def target_shaped(piece: Piece) -> bool:
        return bool(TARGET_SHAPE.match(piece.text))

    name_column = Column(names, name_room, lambda p: False)
    # A target column no wider than its header label may never have wrapped: its widest target
    # says nothing about when a line is full.
    target_column = Column(targets, target_room, target_shaped, target_floor)
    page_of = {i: rows[i].where.page or 1 for i in range(start - 1, len(rows))}
    _between(name_column, target_column, page_of)
    _between(target_column, name_column, page_of)
    # Targets by width first; then each column again with the other's cells as evidence.
    doubts: set[int] = set()  # lines joined to the line above on nearly full widths
    target_stacks = _stacks(target_column, name_column)
    name_stacks = _stacks(name_column, target_column, target_stacks)
    target_stacks = _stacks(target_column, name_column, name_stacks)
    name_stacks = _stacks(name_column, target_column, target_stacks, doubts)
    target_stacks = _split(target_stacks, name_stacks)
    name_stacks = _split(name_stacks, target_stacks)
    table = _pair(name_stacks, target_stacks)
    for trow in table:
        if any(p.line in doubts for s in (trow.name, trow.target) if s for p in s.pieces[1:]):
            for part in ("level3", "raw"):
                placements.append(Placement(rows[trow.top].where, part,
                                            "two lines with a name and a target each were read as one row: both "
                                            "nearly fill their columns, so they may be two rows"))
    between = {i for i, ps in texts.items() if not ps}  # only labels: centred between two lines
    for stack in [*name_stacks, *target_stacks, *(Stack(lab.pieces) for lab in labels)]:
        for a, b in zip(stack.pieces, stack.pieces[1:], strict=False):
            if b.line - a.line == 2:
                between.add(a.line + 1)
    y = _heights(list(texts), between)
    # The last row of each page: its bottom line.
    page_ends = {table[k].bottom for k in range(len(table))
                 if k + 1 == len(table) or rows[table[k + 1].top].where.page != rows[table[k].bottom].where.page}

    # Merged labels: one group of rows per label, level by level.
    first_of: dict[int, list[Label]] = {}
    for level in (1, 2):
        of_level = sorted((lab for lab in labels if lab.level == level), key=lambda lab: lab.centre)
        starts, doubtful = _cut(table, of_level, y, page_ends)
        if len(starts) != len(of_level):
            misfits.append(float("inf"))
            # No cut puts every label inside its rows: place each on its nearest row, flagged.
            for lab in of_level:
                k = min(range(len(table)), key=lambda r: abs(table[r].centre - lab.centre)) if table else None
                if k is None:
                    continue
                first_of.setdefault(k, []).append(lab)
                placements.append(Placement(rows[table[k].top].where, f"level{level}",
                                            f"level-{level} label {lab.name} placed on its nearest row"))
            continue
        for k, (s, lab) in enumerate(zip(starts, of_level, strict=True)):
            first_of.setdefault(s, []).append(lab)
            stop = starts[k + 1] if k + 1 < len(starts) else len(table)
            misfits.append(_group_cost(table, s, stop - 1, lab, y, page_ends))
            if misfits[-1] >= _FAR:
                for r in range(s, stop):
                    placements.append(Placement(rows[table[r].top].where, f"level{level}",
                                                f"level-{level} label {lab.name} stands far from the centre of the "
                                                "rows given to it; its rows are a guess"))
            if k in doubtful:
                for r in (s - 1, s):
                    placements.append(Placement(rows[table[r].top].where, f"level{level}",
                                                f"the rows of level-{level} label {lab.name} end or start "
                                                "here by its centred position; the neighbouring cut fits nearly as well"))
    for lab in labels:
        if lab.level is None:  # unknown labels stay on the row they stand beside
            misfits.append(float("inf"))  # where its group is, nothing says
            k = min(range(len(table)), key=lambda r: abs(table[r].centre - lab.centre)) if table else None
            if k is not None:
                first_of.setdefault(k, []).append(lab)

    out: list[Row] = []
    for k, trow in enumerate(table):
        cells = [Cell(lab.name if lab.level is not None else lab.pieces[0].text, lab.col)
                 for lab in sorted(first_of.get(k, []), key=lambda lab: (lab.level or 3, lab.col))]
        cols = [c.col for c in cells]
        base = max(cols, default=0) + 1
        if trow.name is not None:
            cells.append(Cell(trow.name.text, max(trow.name.col, base)))
            base = cells[-1].col + 1
        if trow.target is not None:
            cells.append(Cell(trow.target.text, max(trow.target.col, base)))
        where = rows[trow.top].where
        out.append(Row(tuple(cells), where, in_table=True, soft=True))
    return out


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
    out += _rebuild_header(rows, start, end, spec, placements)
    if table_at is not None:
        out.append(rows[table_at])
        out += _rebuild_table(rows, table_at + 1, spec, placements, misfits)
    return out, placements, misfits
