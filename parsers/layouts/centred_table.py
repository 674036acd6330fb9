"""The indicator table of a centred form: rows rebuilt from all their lines, merged labels put on
the first row of the group they are centred on."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import regex

from goalforms.parsers.grid import Cell, Row
from goalforms.parsers.labels import compact, is_separator
from goalforms.parsers.layouts.centred_cells import SLACK, Piece, Placement, Stack, overlaps, pieces_of
from goalforms.parsers.layouts.spec import LayoutSpec
from goalforms.parsers.layouts.table import is_table_header
from goalforms.parsers.layouts.wrapping import display_width
from goalforms.parsers.values import looks_like_target

_ALL_WIDE = regex.compile(r"^[^\x00-\x7f]+$")
_HANGING = regex.compile(r"[”’」』》）)，。、；：！？]$")
_TOP = 0.0  # lines: charged for a label at the top of its rows next to a page break (LibreOffice does that)
_FAR = 1.0  # lines: a label this far from its rows' centre (or top, at a page break) is a guess
_MARGIN = 0.5  # lines: a group cut that fits less than this worse than the best one is ambiguous


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


def rebuild_table(rows: list[Row], start: int, spec: LayoutSpec, placements: list[Placement],
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
        for piece in pieces_of(row, i):
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
        if piece.col < name_col - SLACK:
            labels.append(Label(level, name, [piece]))
        else:
            texts[piece.line] = sorted([*texts[piece.line], piece], key=lambda p: p.col)
    # A label's wrapped tail (``标`` under ``生态环境成本指``) moves its centre down; only a label
    # cut by its line end takes one.
    for fragment in fragments:
        owner = min((lab for lab in labels if 0 < fragment.line - lab.pieces[-1].line <= 2
                     and compact("".join(p.text for p in lab.pieces)) != lab.name
                     and overlaps(fragment, lab.pieces[-1])),
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
        while ps and ps[0].col < name_col - SLACK:
            piece = ps.pop(0)
            head = next((lab for lab in labels if 0 < i - lab.pieces[-1].line <= 2 and overlaps(piece, lab.pieces[-1])
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
        if looks_like_target(piece.text) or abs(piece.col - target_col) < abs(piece.col - name_col):
            targets.append(piece)
        else:
            names.append(piece)
    # A target cell is at least as wide as its column's header label.
    header = rows[start - 1]
    target_floor = max((display_width(c.text) for c in header.filled if spec.table_column(c.text) == ("target", False)),
                       default=0)
    name_room, target_room = _room(names), _room(targets, target_floor)
    def target_shaped(piece: Piece) -> bool:
        return looks_like_target(piece.text)

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


