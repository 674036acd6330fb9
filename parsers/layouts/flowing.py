"""Flowing text: split each line of a copy-paste / ``extract_text()`` dump into cells.

In flowing text (``Row.flowing``) the cells of a printed line run together, separated by single
spaces, and a cell that wrapped goes on in the next line(s) — after the whole printed line
(visual order: pdfplumber, a viewer's copy-paste) or straight after its first line (stream order:
``pdftotext`` without ``-layout``). Only the layout knows where one cell ends:

- header lines are split at the layout's labels, found anywhere in the line (a label starts the
  line or follows a space); a label cut over two lines (``保证项目实施的制度、措`` + ``施：``,
  ``其中：财政资`` + ``金``) is put back together, and a label's unit tail (``(元)：``) on the next
  line is dropped;
- a line without a label continues the one value of the line above that can go on (text, not an
  amount, a date or 是/否); when several could, the values are kept as printed on their line and
  each is flagged ``uncertain_split`` (the line is not glued to any); a line with no value above
  that can go on is printed above the next label (a vertically centred cell) and goes to that
  label's value when it is the only empty one;
- indicator lines lose their leading level names (including a name cut over two lines:
  ``生态环境成本指`` + ``标``); the rest is split into the 三级 name and the target with the
  target grammar (an operator and a number) and with the spaces between two Chinese characters
  (Chinese text has none: it is a cell boundary); a line that only continues the row above goes
  on the name or the target whose line filled its column (the widest line seen in that column in
  the form). Every split or join that rests on a guess is flagged ``uncertain_split`` with the
  field it concerns (``indicators[k].level3`` / ``.raw``).

The result is ordinary rows of cells that the layout parser reads as it reads any other format.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import regex

from goalforms.parsers.grid import Cell, Location, Row
from goalforms.parsers.labels import compact
from goalforms.parsers.layouts.continuation import display_width
from goalforms.parsers.layouts.spec import LayoutSpec
from goalforms.parsers.layouts.table import TARGET_SHAPE

if TYPE_CHECKING:
    from goalforms.parsers.layouts.base import LayoutParser, RawForm

UNCERTAIN = "uncertain_split"
# Header fields of the contract (the others are ``header_extra``).
_CONTRACT_HEADER = {"project_name", "unit", "department", "project_category", "project_nature",
                    "plan_start", "plan_end", "gov_procurement", "performance_type", "goal"}
_CJK = r"[\p{Han}\u3000-\u303f\uff00-\uffef\u2018-\u201f\u2026\u2014]"
_GAP = regex.compile(r"\s+")
_MONEY = regex.compile(r"^[¥￥]?[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?元?$")
_MONEY_TOKEN = regex.compile(r"(?<!\S)[¥￥]?[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?元?(?!\S)")
_DATE = regex.compile(r"^\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?$")
_YES_NO = {"是", "否", "有", "无"}
_UNIT_TAIL = regex.compile(r"^\s*(?:[(（]\s*元\s*[)）])?\s*[：:]\s*|^\s*[(（]\s*元\s*[)）]\s*")
_YEAR_LINE = regex.compile(r"^[(（]?\s*\d{4}\s*年\s*度?\s*[)）]?$")
_ASCII = regex.compile(r"[\x21-\x7e]")


@dataclass
class Doubt:
    """A value the split could not make certain: ``field`` is ``header.x``/``budget.x``, or
    ``level3``/``raw`` of the indicator read from the row at ``where``."""

    message: str
    where: Location
    field: str
    severity: str = "warning"


# -- entry point ---------------------------------------------------------------------------------


def parse_flowing(parser: LayoutParser, rows: list[Row]) -> RawForm:
    """Split the flowing rows of one form into cells, parse them, and flag what the split guessed."""
    from goalforms.parsers.layouts.base import RawIssue

    split, doubts = segment(rows, parser.spec)
    form = parser.parse(split)
    header: list[RawIssue] = []
    indicators: list[tuple[int, int, RawIssue]] = []
    seen: set[str] = set()
    for doubt in doubts:
        name, index = doubt.field, -1
        if name in ("level1", "level2", "level3", "raw"):
            index = next((i for i, ind in enumerate(form.indicators) if ind.where == doubt.where), -1)
            if index < 0:
                continue
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


def _is_table_header(text: str, spec: LayoutSpec) -> bool:
    key = compact(text)
    return all(any(name in key for name in spec.table[column]) for column in ("level1", "level2", "level3"))


_SPACED_MIX = regex.compile(r"[A-Za-z0-9%] \p{Han}|\p{Han} [A-Za-z0-9]")
_TIGHT_MIX = regex.compile(r"[A-Za-z0-9%]\p{Han}|\p{Han}[A-Za-z0-9]")
_HAN = regex.compile(r"\p{Han}")


def _join_all(pieces: list[str]) -> str:
    """The lines of one cell joined: a space between Latin words, and between Latin and Chinese
    where the cell itself writes them apart elsewhere (``1 个工作日``) and never together."""
    whole = " ".join(pieces)
    spaced = bool(_SPACED_MIX.search(whole)) and not any(_TIGHT_MIX.search(p) for p in pieces)
    text = ""
    for piece in pieces:
        if text and piece:
            a, b = text[-1], piece[0]
            latin = _ASCII.match(a) and _ASCII.match(b)
            mixed = (_ASCII.match(a) and _HAN.match(b)) or (_HAN.match(a) and _ASCII.match(b))
            text += " " if latin or (mixed and spaced) else ""
        text += piece
    return text


# -- header --------------------------------------------------------------------------------------


@dataclass
class Slot:
    """A label found in a line and the value that goes with it."""

    kind: str  # field, text_block, budget or caption
    name: str
    label: str
    where: Location
    pieces: list[str] = field(default_factory=list)
    doubted: bool = False

    @property
    def value(self) -> str:
        return _join_all(self.pieces)

    @property
    def field(self) -> str:
        if self.kind == "budget":
            return f"budget.{self.name}"
        return f"header.{self.name}" if self.name in _CONTRACT_HEADER else f"header_extra.{self.name}"

    def can_take(self, text: str) -> bool:
        """Whether ``text`` (a line without a label) could be more of this value."""
        if self.kind == "caption" or self.doubted:
            return False
        value = self.value
        if self.kind == "budget":
            return not value and bool(_MONEY.match(compact(text)))
        if self.kind == "text_block":
            return True
        return not (_DATE.match(value) or compact(value) in _YES_NO or _MONEY.match(compact(value)))


def _label_regex(label: str) -> str:
    parts = []
    for ch in label:
        if ch in "：:":
            parts.append(r"[：:]")
        elif ch in "(（":
            parts.append(r"[(（]")
        elif ch in ")）":
            parts.append(r"[)）]")
        elif not ch.isspace():
            parts.append(regex.escape(ch))
    return r"\s*".join(parts)


class HeaderReader:
    def __init__(self, spec: LayoutSpec, doubts: list[Doubt]) -> None:
        self.spec = spec
        self.doubts = doubts
        labels: list[tuple[str, str, str]] = []
        for kind, table in (("field", spec.fields), ("text_block", spec.text_blocks), ("budget", spec.budget)):
            for name, spellings in table.items():
                labels += [(spelling, kind, name) for spelling in spellings]
        labels += [(caption, "caption", "") for caption in spec.captions]
        labels.sort(key=lambda item: -len(compact(item[0])))
        self.labels = labels
        tail = r"\s*\*?\s*(?:[(（]\s*元\s*[)）])?\s*\*?\s*(?:[：:]|(?=\s|$))"
        self.patterns = [(regex.compile(rf"(?<!\S){_label_regex(text)}{tail}"), kind, name)
                         for text, kind, name in labels]
        self.names = [compact(text) for text, _, _ in labels]

    def find(self, text: str, where: Location) -> tuple[str, list[Slot]]:
        """The text before the first label, and the labels of the line with their values."""
        hits: list[tuple[int, int, str, str]] = []
        for pattern, kind, name in self.patterns:
            for m in pattern.finditer(text):
                if not any(s < m.end() and m.start() < e for s, e, _, _ in hits):
                    hits.append((m.start(), m.end(), kind, name))
        hits.sort()
        slots = []
        for n, (start, end, kind, name) in enumerate(hits):
            stop = hits[n + 1][0] if n + 1 < len(hits) else len(text)
            slot = Slot(kind, name, text[start:end].strip(), where)
            value = text[end:stop].strip()
            if value:
                slot.pieces.append(value)
            slots.append(slot)
        return (text[: hits[0][0]].strip() if hits else text.strip()), slots

    def mend_cut_labels(self, texts: list[str]) -> list[str]:
        """Labels cut over two lines put back on the first; unit tails of labels dropped."""
        texts = list(texts)
        for i in range(len(texts) - 1):
            tokens = texts[i].split(" ")
            following = texts[i + 1].lstrip()
            for k, token in enumerate(tokens):
                key = compact(token)
                if len(key) < 2:
                    continue
                full = next((n for n in self.names if n.startswith(key) and n != key
                             and compact(following).startswith(n[len(key):])), None)
                if full is None:
                    continue
                rest = full[len(key):]
                # Remove the rest of the label from the start of the next line (spaces allowed).
                m = regex.match(r"\s*" + r"\s*".join(regex.escape(ch) for ch in rest), following)
                if m is None:
                    continue
                tokens[k] = token + rest
                texts[i + 1] = following[m.end():]
                following = texts[i + 1]
                break
            texts[i] = " ".join(tokens)
            if _UNIT_TAIL.match(texts[i + 1]) and texts[i + 1].strip() and regex.search(r"[：:)）]", texts[i + 1][:6]):
                texts[i + 1] = _UNIT_TAIL.sub("", texts[i + 1], count=1)
        return texts

    def read(self, lines: list[Row], centred: bool = False) -> list[Row]:
        """Label lines as rows of label and value cells. ``centred``: the form's cells are
        vertically centred (a value's lines stand above and below its label), known from the
        indicator table; the header shows it too when text stands above its first label."""
        texts = self.mend_cut_labels([row.text(" ") for row in lines])
        free: list[Row] = []
        items: list[tuple[Location, str, list[Slot]]] = []  # (where, text, slots): slots empty for a text line
        for row, text in zip(lines, texts, strict=True):
            if not text.strip():
                continue
            lead, slots = self.find(text, row.where)
            if not slots and not any(item[2] for item in items):
                # Before the first label: the year, or the first line of a centred value.
                free.append(Row((Cell(text.strip(), 0),), row.where, in_table=False))
                if _YEAR_LINE.match(compact(text)):
                    continue
                centred = True
            if lead or not slots:
                items.append((row.where, lead if slots else text.strip(), []))
            if slots:
                items.append((row.where, text, slots))
        label_lines = [(where, slots) for where, _, slots in items if slots]
        if centred:
            self.read_centred(items)
        else:
            self.read_top_aligned(items)
        self.check_amounts(label_lines)
        return free + [row for where, slots in label_lines for row in self.emit(where, slots)]

    def read_top_aligned(self, items: list[tuple[Location, str, list[Slot]]]) -> None:
        """Top-aligned cells: a line without a label goes on the value above it."""
        last: list[Slot] = []
        above: list[tuple[str, Location]] = []
        for where, text, slots in items:
            if not slots:
                if last:
                    self.continue_value(last, text, where, above)
                elif not _YEAR_LINE.match(compact(text)):
                    above.append((text, where))
                continue
            if above:
                self.place_above(slots, above)
                above = []
            last = slots

    def read_centred(self, items: list[tuple[Location, str, list[Slot]]]) -> None:
        """Centred cells: the lines between two label lines may end a value of the line above or
        start one of the line below. Given where only one value can take them; otherwise kept
        out and every value that could take them flagged."""
        runs: list[tuple[list[Slot], list[tuple[str, Location]], list[Slot]]] = []
        above: list[Slot] = []
        run: list[tuple[str, Location]] = []
        for where, text, slots in items:
            if not slots:
                if not _YEAR_LINE.match(compact(text)):
                    run.append((text, where))
                continue
            if all(s.kind == "caption" for s in slots):
                continue  # a caption centred in its cell stands among the lines of a text
            if run:
                runs.append((above, run, slots))
            above, run = slots, []
        if run:
            runs.append((above, run, []))
        for up, texts, down in runs:
            blocks = [s for s in up if s.kind == "text_block"]
            if blocks:
                for text, where in texts:
                    self.continue_value(up, text, where, [])
                continue
            first = texts[0][0]
            # A value already in doubt may own these lines too.
            takers = [s for s in up if s.can_take(first) or (s.doubted and s.kind == "field")]
            takers += [s for s in down if s.kind in ("field", "budget")
                       and (s.can_take(texts[-1][0]) or (s.doubted and s.kind == "field"))]
            shown = "、".join(repr(t) for t, _ in texts)
            if len(takers) == 1 and not takers[0].doubted:
                taker = takers[0]
                if taker in up:
                    taker.pieces += [t for t, _ in texts]
                else:
                    taker.pieces[:0] = [t for t, _ in texts]
                continue
            for slot in takers:
                slot.doubted = True
                self.doubts.append(Doubt(
                    f"{slot.label} {slot.value!r}: the line(s) {shown} between label lines (centred cells) may "
                    "be part of this value or of another; kept out", slot.where, slot.field,
                    "warning" if slot.pieces else "error"))

    def check_amounts(self, label_lines: list[tuple[Location, list[Slot]]]) -> None:
        """Amounts side by side on one line: which label each belongs to is not printed (the
        empty amount labels of that line and of the lines around it may own some)."""
        for n, (where, slots) in enumerate(label_lines):
            for slot in slots:
                value = slot.value
                if slot.kind != "budget" or not value or _MONEY.match(compact(value)):
                    continue
                amounts = _MONEY_TOKEN.findall(value)
                if len(amounts) < 2:
                    continue
                near = [s for _, line in label_lines[max(0, n - 1): n + 2] for s in line
                        if s.kind == "budget" and not s.pieces]
                for owner in [slot, *near]:
                    self.doubts.append(Doubt(
                        f"{owner.label}: {len(amounts)} amounts side by side ({value!r}); which is whose "
                        "cannot be told: left empty", where, owner.field, "error"))
                slot.pieces = []

    def continue_value(self, last: list[Slot], text: str, where: Location,
                       above: list[tuple[str, Location]]) -> None:
        """A line (or the start of one) without a label: more of the value it continues."""
        if _YEAR_LINE.match(compact(text)):
            return
        blocks = [s for s in last if s.kind == "text_block"]
        if blocks:
            # Text blocks are printed below their labels; side by side, the text cannot say
            # whose it is: it goes to the last one, flagged.
            target = blocks[-1]
            target.pieces.append(text)
            if len(blocks) > 1:
                for slot in blocks:
                    self.doubts.append(Doubt(
                        f"the text below {'、'.join(s.label for s in blocks)} may belong to any of them; "
                        f"read as {target.label}'s", slot.where, slot.field))
            return
        candidates = [s for s in last if s.can_take(text)]
        if any(s.doubted for s in last):
            # A value of the line above is already in doubt: the line may be part of it.
            candidates += [s for s in last if s.doubted and s not in candidates]
            if len(candidates) == 1:
                candidates = []
        if len(candidates) == 1 and not above:
            candidates[0].pieces.append(text)
        elif len(candidates) > 1 or any(s.doubted for s in last):
            for slot in candidates or [s for s in last if s.doubted]:
                slot.doubted = True
                self.doubts.append(Doubt(
                    f"{slot.label} {slot.value!r}: the wrapped line {text!r} ({where}) may continue this value "
                    "or another one of its line; kept as printed on its line", slot.where, slot.field,
                    "warning" if slot.pieces else "error"))
        else:
            above.append((text, where))

    def place_above(self, slots: list[Slot], above: list[tuple[str, Location]]) -> None:
        """Lines printed above a label line (a vertically centred cell): the value that is empty
        on the label line takes them; with none empty, the one text value that can go on (flagged:
        its first part stands above it); otherwise nobody, and the values are flagged."""
        texts = [t for t, _ in above]
        shown = "、".join(repr(t) for t in texts)
        empty = [s for s in slots if s.kind in ("field", "budget") and not s.pieces]
        if len(empty) == 1 and (empty[0].kind != "budget" or all(_MONEY.match(compact(t)) for t in texts)):
            empty[0].pieces[:0] = texts
            return
        if not empty:
            open_ = [s for s in slots if s.kind == "field" and s.can_take(texts[0])]
            if len(open_) == 1:
                open_[0].pieces[:0] = texts
                self.doubts.append(Doubt(
                    f"{open_[0].label}: the line(s) {shown} above it were read as the start of its value",
                    open_[0].where, open_[0].field))
                return
            empty = open_
        for slot in empty:
            slot.doubted = True
            self.doubts.append(Doubt(
                f"{slot.label}: the line(s) {shown} printed above may be part of its value; "
                "which value they belong to cannot be told", slot.where, slot.field, "error"))

    def emit(self, where: Location, slots: list[Slot]) -> list[Row]:
        """The label line as a row of label and value cells; the texts of its text blocks on a
        row below, in their label's column."""
        cells: list[Cell] = []
        texts: list[Cell] = []
        for slot in slots:
            cells.append(Cell(slot.label, len(cells)))
            if slot.kind == "text_block":
                if slot.pieces:
                    texts.append(Cell(slot.value, len(cells) - 1))
                continue
            value = slot.value
            if value:
                cells.append(Cell(value, len(cells)))
        rows = [Row(tuple(cells), where, in_table=True)]
        if texts:
            rows.append(Row(tuple(texts), where, in_table=True))
        return rows


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


def _is_target(text: str) -> bool:
    """Only a target can look like this: an operator then a number, or a bare percentage."""
    from goalforms.pipeline.normalise import parse_target

    return bool(TARGET_SHAPE.match(text)) and parse_target(text).kind == "numeric"


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
        out: list[Row] = []
        current: Indicator | None = None

        def flush() -> None:
            if current is not None and (current.name or current.target or current.labels):
                out.append(self.emit(current))

        for row, text, labels, rest in zip(lines, texts, labels_of, rests, strict=True):
            if _is_table_header(text, self.spec):
                flush()
                current = None
                out.append(Row(tuple(Cell(t, i) for i, t in enumerate(text.split())), row.where, in_table=True))
                continue
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
                continue
            self.new_row_doubt = ""
            if self.continues(current, pieces, sure, rest, row.where):
                continue
            flush()
            current = Indicator(row.where, [])
            self.start(current, pieces, sure, row.where)
            if self.new_row_doubt:
                self.doubt(current, self.new_row_doubt, "level3", "raw")
            self.new_row_doubt = ""
        flush()
        return out

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
            if not current.target and not TARGET_SHAPE.match(pieces[1]).group().lstrip()[:1].isdigit():  # type: ignore[union-attr]
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
        for label in current.labels:
            hit = self.spec.vocabulary.lookup(label)
            column = 0 if hit is not None and hit.level == 1 else 1
            if label not in self.spec.side_labels:
                cells.append(Cell(label, column))
        if current.name:
            cells.append(Cell(_join_all(current.name), 2))
        if current.target:
            cells.append(Cell(_join_all(current.target), 3))
        return Row(tuple(cells), current.where, in_table=True)
