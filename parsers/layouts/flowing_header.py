"""Flowing text, the header: label lines split at the layout's labels, and the lines without a
label given to the one value that can take them (see ``flowing.py``)."""

from __future__ import annotations

from dataclasses import dataclass, field

import regex

from goalforms.parsers.grid import Cell, Location, Row
from goalforms.parsers.labels import compact, label_body
from goalforms.parsers.layouts.flowing_cells import (
    _DATE,
    _MONEY,
    _MONEY_TOKEN,
    _UNIT_TAIL,
    _YEAR_LINE,
    _YES_NO,
    Doubt,
    _join_all,
)
from goalforms.parsers.layouts.spec import LayoutSpec

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
    extra: bool = False  # a header_extra text (the layout's ``extra = true``)

    @property
    def value(self) -> str:
        return _join_all(self.pieces)

    @property
    def field(self) -> str:
        if self.kind == "budget":
            return f"budget.{self.name}"
        return f"header_extra.{self.name}" if self.extra else f"header.{self.name}"

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
        self.patterns = [(regex.compile(rf"(?<!\S){label_body(text, skip_spaces=True)}{tail}"), kind, name)
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
            spec = self.spec.field_specs.get(name)
            slot = Slot(kind, name, text[start:end].strip(), where, extra=spec is not None and spec.extra)
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


