"""Flowing text, the indicator table: level names stripped, each line split into the 三级 name
and the target, wrapped lines given to their row (see ``flowing.py``)."""

from __future__ import annotations

from dataclasses import dataclass, field

import regex

from goalforms.parsers.grid import Cell, Location, Row
from goalforms.parsers.labels import compact
from goalforms.parsers.layouts.flowing_cells import _ASCII, _CJK, _GAP, Doubt, _is_table_header, _join_all
from goalforms.parsers.layouts.spec import LayoutSpec
from goalforms.parsers.layouts.wrapping import display_width
from goalforms.parsers.values import looks_like_target

# -- indicator table -----------------------------------------------------------------------------

_MIN_ROOM = 16  # display columns: eight Chinese characters
_STRONG_GAP = regex.compile(rf"(?<={_CJK})\s+(?={_CJK})")


@dataclass
class Indicator:
    """One indicator row being built from its lines."""

    where: Location
    labels: list[str]
    name: list[str] = field(default_factory=list)
    target: list[str] = field(default_factory=list)
    name_lines: list[str] = field(default_factory=list)  # the last line of each, to measure
    target_lines: list[str] = field(default_factory=list)
    span: list[int] = field(default_factory=list)  # the table lines it was read from
    placed: list[str] | None = None  # centred cells: the level names its place gives it


def _is_target(text: str) -> bool:
    """Only a target can look like this (the value grammar's numeric target with an operator or a unit)."""
    return looks_like_target(text)


def split_name_target(text: str) -> tuple[list[str], bool]:
    """The 三级 name and the target of one line (one or two pieces), and whether that is certain.

    Chinese text has no spaces: the one space between two Chinese characters is the cell
    boundary. Without one, a target in the grammar's shape at the end (``=100%``, ``≥95.00(%)``)
    is certain. A line whose only spaces touch Latin letters or digits (typed, or printed by the
    extraction between Chinese and digits) cannot be split with certainty: it is split at its
    first space, flagged.
    """
    text = text.strip()
    strong = list(_STRONG_GAP.finditer(text))
    if len(strong) == 1:
        return [text[: strong[0].start()], text[strong[0].end():]], True
    gaps = list(_GAP.finditer(text))
    if not strong:
        for gap in gaps:
            if _is_target(text[gap.end():]):
                return [text[: gap.start()], text[gap.end():]], True
    if gaps:
        first = (strong or gaps)[0]
        return [text[: first.start()], text[first.end():]], False
    return [text], True


class TableReader:
    def __init__(self, spec: LayoutSpec, doubts: list[Doubt]) -> None:
        self.spec = spec
        self.doubts = doubts
        vocabulary = spec.vocabulary
        self.level_names = sorted([*vocabulary.level1, *vocabulary.parent, *spec.side_labels], key=len, reverse=True)
        # A column is never narrower than its header label, nor than a few characters.
        self.room = {"name": _MIN_ROOM, "target": _MIN_ROOM}
        self.stream = False
        self.centred = False
        self.new_row_doubt = ""  # why the row about to start may not be one

    def strip_labels(self, text: str, following: str) -> tuple[list[str], str, str]:
        """Level names at the start of a line (a name cut over two lines is completed from the
        start of the next line, which loses it): the names, the rest, and the next line."""
        labels: list[str] = []
        rest = text.strip()
        while rest:
            token, _, after = rest.partition(" ")
            key = compact(token)
            if key in self.level_names:
                labels.append(key)
                rest = after.strip()
                continue
            full = next((n for n in self.level_names if n.startswith(key) and n != key and len(key) >= 2
                         and compact(following).startswith(n[len(key):])), None)
            if full is None:
                break
            tail = full[len(key):]
            m = regex.match(r"\s*" + r"\s*".join(regex.escape(ch) for ch in tail) + r"(?:\s+|$)", following)
            if m is None:
                break
            labels.append(full)
            following = following[m.end():]
            rest = after.strip()
        return labels, rest, following

    def measure(self, texts: list[str]) -> None:
        """The room of the name and target columns: their widest line of Chinese text (Latin
        letters and digits are narrower on the page than the dump says)."""
        for text in texts:
            pieces, sure = split_name_target(text)
            if len(pieces) == 2 and sure:
                for role, piece in zip(("name", "target"), pieces, strict=True):
                    if not _ASCII.search(piece):
                        self.room[role] = max(self.room[role], display_width(piece))

    def full(self, role: str, line: str) -> bool | None:
        """Whether a line filled its column (so the cell may go on below); None: cannot tell
        (a character short of the widest: line breaking may have moved one on; Latin letters
        and digits, narrower on the page than in the dump)."""
        room = self.room[role]
        width = display_width(line)
        if width >= room:
            return True
        if width >= room - 4 or (_ASCII.search(line) and width >= room * 0.6):
            return None
        return False

    def read(self, lines: list[Row]) -> list[Row]:
        texts = [row.text(" ") for row in lines]
        rests: list[str] = []
        labels_of: list[list[str]] = []
        cut: set[int] = set()
        for i in range(len(texts)):
            if _is_table_header(texts[i], self.spec):
                labels_of.append([])
                rests.append("")
                continue
            following = texts[i + 1] if i + 1 < len(texts) else ""
            labels, rest, shortened = self.strip_labels(texts[i], following)
            if shortened != following:
                cut.add(i)  # a name cut over two lines: the line alone is no sign of centring
            if i + 1 < len(texts):
                texts[i + 1] = shortened
            labels_of.append(labels)
            rests.append(rest)
        for text in texts:
            if _is_table_header(text, self.spec):
                for token in text.split():
                    column = self.spec.table_column(token)
                    role = {"level3": "name", "target": "target"}.get(column[0]) if column else None
                    if role:
                        self.room[role] = max(self.room[role], display_width(token))
        self.measure([r for r, row in zip(rests, lines, strict=True) if r])
        # Stream order (pdftotext without -layout) prints a wrapped name's lines before the
        # target; a target alone on its line shows it. Visual order shares a line between them.
        self.stream = any(_is_target(r) for r in rests if r)
        # Top-aligned cells print the first row's level names on its line; vertically centred
        # ones print each name on a middle line of its group (and a target between the lines of
        # its name, like stream order): which rows a name covers is not printed.
        level1 = set(self.spec.vocabulary.level1)
        first = next((labels for labels, rest in zip(labels_of, rests, strict=True) if labels or rest), [])
        label_only = any(labels and not rest and i not in cut
                         for i, (labels, rest) in enumerate(zip(labels_of, rests, strict=True)))
        self.centred = not level1.intersection(first) or label_only
        self.stream = self.stream or self.centred
        built: list[Indicator | Row] = []
        current: Indicator | None = None
        marks: list[tuple[float, str]] = []  # centred cells: (line, level name)

        def flush() -> None:
            if current is not None and (current.name or current.target or current.labels):
                built.append(current)

        for i, (row, text, labels, rest) in enumerate(zip(lines, texts, labels_of, rests, strict=True)):
            if _is_table_header(text, self.spec):
                flush()
                current = None
                built.append(Row(tuple(Cell(t, i) for i, t in enumerate(text.split())), row.where, in_table=True))
                continue
            marks += [(i + 0.5 if i in cut else i, label) for label in labels]
            if labels:
                flush()
                current = Indicator(row.where, labels)
            if not rest:
                continue
            pieces, sure = split_name_target(rest)
            if self.stream and not sure:
                # Stream order prints most cells on lines of their own: an unsure split is
                # more likely one cell (flagged where it starts a row).
                pieces, sure = [rest], False
            if current is None:
                current = Indicator(row.where, [])
            if not current.name and not current.target:
                self.start(current, pieces, sure, row.where)
                current.span.append(i)
                continue
            self.new_row_doubt = ""
            if self.continues(current, pieces, sure, rest, row.where):
                current.span.append(i)
                continue
            flush()
            current = Indicator(row.where, [])
            self.start(current, pieces, sure, row.where)
            current.span.append(i)
            if self.new_row_doubt:
                self.doubt(current, self.new_row_doubt, "level3", "raw")
            self.new_row_doubt = ""
        flush()
        opening = next(((labels, rest) for labels, rest in zip(labels_of, rests, strict=True) if labels or rest), None)
        if self.centred and opening is not None and opening[1]:
            # (A table opening with a line of level names only prints them where their groups
            # start: stream order, where the rows below simply inherit them.)
            self.place_centred([item for item in built if isinstance(item, Indicator)], marks)
        return [item if isinstance(item, Row) else self.emit(item) for item in built]

    def place_centred(self, rows: list[Indicator], marks: list[tuple[float, str]]) -> None:
        """Centred cells: a level name stands in the middle of the lines of its group. From the
        top, each group therefore ends as far below its name as it starts above it; the rows
        whose middle falls within get the name (still flagged: the estimate rests on lines, not
        on the page)."""
        rows = [r for r in rows if r.span]
        placed: dict[int, dict[int, str]] = {id(r): {} for r in rows}
        for level in (1, 2):
            names = [(line, name) for line, name in sorted(marks)
                     if (hit := self.spec.vocabulary.lookup(name)) is not None and hit.level == level]
            if not names or not rows:
                continue
            todo = list(rows)
            start = min(todo[0].span)
            for n, (line, name) in enumerate(names):
                end = 2 * line - start
                group = [r for r in todo if (min(r.span) + max(r.span)) / 2 <= end + 0.5]
                if n == len(names) - 1:
                    group = todo
                for r in group:
                    placed[id(r)][level] = name
                todo = todo[len(group):]
                if not todo:
                    break
                start = min(todo[0].span)
        for r in rows:
            got = placed[id(r)]
            for label in r.labels:  # a name printed on the row's own line stands
                hit = self.spec.vocabulary.lookup(label)
                if hit is not None:
                    got[hit.level] = label
            if 1 in got and 2 in got and self.spec.vocabulary.parent.get(got[2]) not in (None, got[1]):
                continue  # the estimate contradicts the vocabulary: leave the names as printed
            r.placed = [got[level] for level in (1, 2) if level in got]

    def start(self, current: Indicator, pieces: list[str], sure: bool, where: Location) -> None:
        current.where = where
        if not sure:
            self.doubt(current, f"the line {' '.join(pieces)!r} has no sure boundary between the 三级 name and "
                       f"the target; read as {' + '.join(repr(p) for p in pieces)}", "level3", "raw")
        if len(pieces) == 2:
            current.name, current.target = [pieces[0]], [pieces[1]]
            current.name_lines, current.target_lines = [pieces[0]], [pieces[1]]
        elif _is_target(pieces[0]):
            current.target, current.target_lines = [pieces[0]], [pieces[0]]
        else:
            current.name, current.name_lines = [pieces[0]], [pieces[0]]

    def continues(self, current: Indicator, pieces: list[str], sure: bool, rest: str, where: Location) -> bool:
        """Add a line to the row being built if it only continues it; False: a new row starts."""
        name_full = self.full("name", current.name_lines[-1]) if current.name_lines else False
        target_full = self.full("target", current.target_lines[-1]) if current.target_lines else False
        if current.target and _is_target(_join_all(current.target)):
            target_full = False  # a whole target in the grammar's shape does not go on
        two = len(pieces) == 2 and sure
        if two and _is_target(pieces[1]):
            if not current.target and not pieces[1].lstrip()[:1].isdigit():
                return False  # a new row with a target of its own (an operator: not prose)
            if not current.target:
                self.new_row_doubt = (f"the line {rest!r} was read as a new row; it may be the target of the row "
                                      "above, which has none")
            return False
        if not current.target:
            return self.after_name(current, pieces, two, rest, name_full)
        if self.stream:
            # Stream order: the target's lines follow the name's, and nothing of the name after
            # them. Whether a line goes on the target or starts a row rests on the target
            # column's width, which the stream does not show well (long targets stand alone on
            # their lines): flagged either way.
            if _is_target(_join_all(current.target)):
                # A whole target in the grammar's shape does not go on; a name that filled its
                # column does (pdftotext prints its second line after the target).
                if name_full is False:
                    return False
                # Stream order also prints a new row's first line there: flagged.
                self.add(current, "name", rest, True, "more of the name; it may be a new row")
                return True
            if target_full is False:
                self.doubt(current, f"the line {rest!r} after this row was read as a new row; it may continue "
                           "the target", "raw")
                self.new_row_doubt = f"the line {rest!r} was read as a new row; it may continue the target above"
                return False
            self.add(current, "target", rest, True, "more of the target; it may be a new row")
            return True
        if two:
            # Visual order: a line of both columns is the rest of the row only if both filled their column.
            if name_full is False or target_full is False:
                return False
            # Both lines above filled their columns (by the widths the text suggests): the
            # rest of both, or a new row: the text does not print the columns' widths.
            self.doubt(current, f"the line {rest!r} was read as the wrapped rest of this row's name and target",
                       "level3", "raw")
            current.name.append(pieces[0])
            current.target.append(pieces[1])
            current.name_lines.append(pieces[0])
            current.target_lines.append(pieces[1])
            return True
        closed = _is_target(_join_all(current.target))
        if closed and name_full is not False:
            # The target is whole (grammar): only the name can go on.
            self.add(current, "name", rest, False, "more of the name")
            return True
        if name_full and target_full:
            self.add(current, "name", rest, True, "more of the name; it may continue the target")
            return True
        if name_full or target_full:
            # Which column goes on rests on the widths the text suggests: flagged.
            role = "name" if name_full else "target"
            self.add(current, role, rest, True, f"more of the {role}")
            return True
        if name_full is None or target_full is None:
            role = "name" if name_full is None else "target"
            self.add(current, role, rest, True, f"more of the {role}; it may be a new row")
            return True
        return False

    def after_name(self, current: Indicator, pieces: list[str], two: bool, rest: str, name_full: bool | None) -> bool:
        """A line after a row that has a name and no target yet."""
        if _is_target(rest):
            current.target, current.target_lines = [rest], [rest]
            return True
        if name_full is not False and not two:
            self.add(current, "name", rest, name_full is None, "more of the name; it may be the target")
            return True
        if self.stream:
            # Stream order: the target's first line follows the name's last; a row without a
            # target followed by a new row reads the same.
            self.add(current, "target", rest, True, "the target; it may be a new row (a row without target above)")
            return True
        # Visual order: a row's target shares the name's first line; a row without one followed
        # by another row reads the same as a name above its target.
        self.new_row_doubt = f"the line {rest!r} was read as a new row; it may be the target of the row above"
        return False

    def add(self, current: Indicator, role: str, text: str, doubtful: bool, what: str) -> None:
        getattr(current, role).append(text)
        getattr(current, f"{role}_lines").append(text)
        if doubtful:
            self.doubt(current, f"the line {text!r} was read as {what}", "level3", "raw")

    def doubt(self, current: Indicator, message: str, *fields: str) -> None:
        for name in fields:
            self.doubts.append(Doubt(message, current.where, name))

    def emit(self, current: Indicator) -> Row:
        if self.centred:
            names = {1: set(self.spec.vocabulary.level1), 2: set(self.spec.vocabulary.parent)}
            for level in (1, 2):
                if not names[level].intersection(current.labels):
                    self.doubt(current, f"the level-{level} names of this table are printed on a middle line of "
                               "their group (centred cells): which group this row belongs to is not printed",
                               f"level{level}")
        cells: list[Cell] = []
        for label in current.placed if current.placed is not None else current.labels:
            hit = self.spec.vocabulary.lookup(label)
            column = 0 if hit is not None and hit.level == 1 else 1
            if label not in self.spec.side_labels:
                cells.append(Cell(label, column))
        if current.name:
            cells.append(Cell(_join_all(current.name), 2))
        if current.target:
            cells.append(Cell(_join_all(current.target), 3))
        return Row(tuple(cells), current.where, in_table=True)

