"""The header of a centred form: each label's value rebuilt from the lines around the label.

A value that wrapped stands as many lines above its label's line as below it (the label is
centred on it); a label that wrapped (``同名项目上年预算执行数`` / ``(元)：``) has its tail under it.
"""

from __future__ import annotations

from goalforms.parsers.grid import Cell, Row
from goalforms.parsers.labels import compact
from goalforms.parsers.layouts.centred_cells import SLACK, Piece, Placement, Stack, overlaps, pieces_of
from goalforms.parsers.layouts.lookups import lookups
from goalforms.parsers.layouts.spec import LayoutSpec


def _label_tail(spec: LayoutSpec, head: str, tail: str) -> bool:
    """``tail`` is the wrapped end of the label ``head`` (``其中：财政资`` + ``金``, ``…执行数`` + ``(元)：``)."""
    hit = lookups(spec).match_label(head + tail)
    return hit is not None and not hit.rest and lookups(spec).match_label(tail) is None


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
    hit = lookups(spec).match_label(left)
    if (hit is not None and not hit.rest) or (hit is None and _label_head(spec, left)):
        return [Piece(piece.line, piece.col, left, piece.page), Piece(piece.line, piece.col + gap + 1, right, piece.page)]
    return [piece]


def rebuild_header(rows: list[Row], start: int, end: int, spec: LayoutSpec,
                    placements: list[Placement]) -> list[Row]:
    """Header rows ``rows[start:end]`` with every value cell joined from its lines onto its label's row."""
    lines = {i: [part for piece in pieces_of(rows[i], i) for part in _split_label(spec, piece)] for i in range(start, end)}
    # Labels, with their wrapped lines (a label's tail is centred under its head).
    labels: list[Stack] = []
    used: set[int] = set()  # id() of pieces taken into a label
    for i in range(start, end):
        for piece in lines[i]:
            if id(piece) in used:
                continue
            hit = lookups(spec).match_label(piece.text)
            if hit is None and not _label_head(spec, piece.text):
                continue
            stack = Stack([piece])
            used.add(id(piece))
            for j in range(i + 1, min(i + 3, end)):
                tail = next((p for p in lines[j] if id(p) not in used and overlaps(p, piece)
                             and _label_tail(spec, stack.text, p.text)), None)
                if tail is not None:
                    stack.pieces.append(tail)
                    used.add(id(tail))
                    break
            if lookups(spec).match_label(stack.text) is not None:
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
        return min(ends) - SLACK, min(nxt, default=10**6) - SLACK

    active = []
    for label in labels:
        hit = lookups(spec).match_label(label.text)
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
            hit = lookups(spec).match_label(label.text)
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
    hit = lookups(spec).match_label(label.text)
    if hit is None:
        return "header"
    return f"{'budget' if hit.kind == 'budget' else 'header'}.{hit.name}"


