"""What OCR gets wrong on these forms: repaired where the page settles it, named where it does not.

Works on the recogniser's characters (:class:`Glyph`: text, probability, runner-up, and the blank
space measured around it on the page), never on the image itself. Three kinds of trouble:

- **Width of punctuation.** ``,`` and ``，`` (``;``/``；``, ``:``/``：``, ``(``/``（`` …) are the
  same mark; a full-width one sits in an ideograph-wide box, so the page shows a wide blank on
  its open side (measured on the sample scans: half-width ≤ 0.33 em, full-width ≥ 0.48 em). The
  recogniser guesses from context and is often wrong, so the measured blank decides. Where no
  blank can be measured (the mark ends a line) a closing bracket follows its opening one, other
  marks the same mark measured nearest to it in the cell (before and after, when they agree);
  failing both, the reading is doubted.
- **Spaces between Chinese and Latin/digits.** Word processors print a gap there whether or not
  a space was typed (LibreOffice: 0.20 em without, 0.22 em with), so the page cannot tell. This
  is settled by a written rule, not by a clerk: a target's ``raw`` is written as printed, with
  one space wherever Chinese meets Latin/digits (as ``pdftotext -layout`` prints it); a target
  is flagged only when reading it with those spaces and without them gives a different kind,
  operator, value or unit (:func:`spacing_matters`) — never on the space alone. Names and
  texts drop such spaces.
- **Look-alike characters** in numbers (``O``/``0``, ``l``/``1``, full-width digits, ``≥`` read as
  ``2``/``=``/``>``): repaired where only one reading is a number (:data:`CONFUSIONS`), doubted
  where the recogniser itself hesitated between them (runner-up ``≥``).

A character below :data:`LOW_PROB` is doubted too. A doubt is a message naming the text; the
pipeline turns it into a ``low_confidence`` issue on the value that came from the cell.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import regex

LOW_PROB = 0.6  # below this a character is doubted (on the samples, correct ones are ≥ 0.8)
# A reading this close to a doubt is worth a second reading by a more exact model (scan.Recogniser
# reads such lines of its int8 copy again with the float model): the copy's confidences are within
# 0.001 of the float model's typically, up to 0.29 apart on the samples' 2,783 lines.
RECHECK_BELOW = 0.8

HALF_TO_FULL = {",": "，", ";": "；", ":": "：", "!": "！", "?": "？", "(": "（", ")": "）"}
FULL_TO_HALF = {full: half for half, full in HALF_TO_FULL.items()}
# Full-width marks drawn at one side of their box: the blank is on the other side.
BLANK_RIGHT = "，。、；：！？）》”’】〉」』〕"
BLANK_LEFT = "（《“‘【〈「『〔"
_OPENING = {")": "(", "）": "("}
# Blank (em) on the open side above which a mark is full-width; more after/before a mark that
# brings a blank of its own.
_FULL_AFTER, _FULL_BEFORE, _NEIGHBOUR_BLANK = 0.4, 0.55, 0.5
# Blank (em) before a half-width "(" that follows Latin/digits, above which a space was typed:
# measured on the scanned samples and two fresh copies (tests/bench_ocr.py), at most 0.13 over
# 790 brackets typed without one, at least 0.26 where one was ("=0.00 (起)"). The recogniser reads
# that space from context, and a quantised copy of it dropped it surely (margin 0.9).
_SPACE_BEFORE_BRACKET = 0.2

_HAN = r"\p{Han}"
_ALNUM = r"[A-Za-z0-9]"
_HAN_ALNUM = regex.compile(rf"(?<={_HAN})\s*(?={_ALNUM})|(?<={_ALNUM})\s*(?={_HAN})")


@dataclass(frozen=True)
class Glyph:
    """One recognised character."""

    text: str
    prob: float
    x: float  # centre on the page (pixels); a fraction of the line's width before placement
    alt: str = ""  # the recogniser's runner-up at the same place
    alt_prob: float = 0.0
    gap_before: float | None = None  # blank space to the previous glyph, in em (None: line start)
    gap_after: float | None = None  # to the next glyph (None: line end)
    spaced: bool = False  # a space stands before it
    width_known: bool = True  # False: a width-variant mark whose width the page did not show


def line_text(glyphs: Sequence[Glyph]) -> str:
    return "".join((" " if g.spaced else "") + g.text for g in glyphs).strip()


# ---------------------------------------------------------------------------- one line


def _is_han(text: str) -> bool:
    return bool(regex.match(_HAN, text))


def _is_alnum(text: str) -> bool:
    return bool(regex.match(_ALNUM, text))


def _width_from_page(glyphs: Sequence[Glyph], i: int) -> bool | None:
    """Is glyph ``i`` (a width-variant mark) full-width, by the blank on its open side? None
    when that side is the end of the line."""
    g = glyphs[i]
    half = FULL_TO_HALF.get(g.text, g.text)
    if half == "(":
        if g.gap_before is None:
            return None
        before = glyphs[i - 1].text if i else ""
        return g.gap_before > _FULL_BEFORE + (_NEIGHBOUR_BLANK if before and before in BLANK_RIGHT else 0.0)
    if g.gap_after is None:
        return None
    after = glyphs[i + 1].text if i + 1 < len(glyphs) else ""
    return g.gap_after > _FULL_AFTER + (_NEIGHBOUR_BLANK if after and after in BLANK_LEFT else 0.0)


def repair_line(glyphs: Sequence[Glyph]) -> list[Glyph]:
    """Punctuation width from the page, and spaces: the printed gap between Chinese and
    Latin/digits is a space; before a half-width bracket after Latin/digits the blank on its open
    side (which settled its width) tells whether a space was typed; elsewhere the recogniser's
    reading of a space stands."""
    out: list[Glyph] = []
    for i, g in enumerate(glyphs):
        half = FULL_TO_HALF.get(g.text, g.text)
        if half in HALF_TO_FULL:
            full = _width_from_page(glyphs, i)
            if full is None:
                g = replace(g, width_known=False)
            else:
                g = replace(g, text=HALF_TO_FULL[half] if full else half)
        elif g.text == ">" and g.alt == "〉" and _width_from_page([replace(g, text=")")], 0):
            g = replace(g, text="〉")  # a title bracket inside 《》, not greater-than: it is full-width
        if out:
            previous = out[-1].text
            if (_is_han(previous) and _is_alnum(g.text)) or (_is_alnum(previous) and _is_han(g.text)):
                g = replace(g, spaced=True)
            elif g.text == "(" and previous.isascii() and g.gap_before is not None:
                g = replace(g, spaced=g.gap_before > _SPACE_BEFORE_BRACKET)
        else:
            g = replace(g, spaced=False)
        out.append(g)
    return out


# ---------------------------------------------------------------------------- one cell


# (pattern, replacement, what): look-alikes inside numbers, where only one reading is a number.
CONFUSIONS: tuple[tuple[regex.Pattern[str], str, str], ...] = (
    (regex.compile(r"[０-９]"), "", "full-width digit"),
    (regex.compile(r"(?<=[0-9][.,]?)[Oo](?=[.,]?[0-9%])|(?<=[=≥≤<>][ ]?)[Oo](?=[.][0-9])"), "0", "letter O in a number"),
    (regex.compile(r"(?<=[0-9][.,]?)[Il|](?=[.,]?[0-9])"), "1", "letter l/I in a number"),
    (regex.compile(r"(?<=[0-9])％"), "%", "full-width percent sign after a number"),
    (regex.compile(r"^[＝](?=[ ]?[0-9])"), "=", "full-width equals sign before a number"),
)
# A target's operator read as another character: the recogniser's runner-up says so.
_OPERATOR_LOOKALIKES = {"2": "≥", "=": "≥", ">": "≥", "三": "≥"}


def fix_confusions(text: str) -> str:
    """The look-alike repairs of :data:`CONFUSIONS` (each settles on the only numeric reading)."""
    for pattern, replacement, _ in CONFUSIONS:
        if replacement:
            text = pattern.sub(replacement, text)
        else:
            text = pattern.sub(lambda m: chr(ord(m.group(0)) - 0xFEE0), text)
    return text


def repair_cell(lines: Sequence[Sequence[Glyph]]) -> tuple[list[list[Glyph]], list[str]]:
    """Settle what one line could not (marks at a line's end) from the rest of the cell, and
    collect the doubts that remain."""
    flat = [g for line in lines for g in line]
    # Where each mark was measured (position in the cell, full-width?), to settle the others.
    settled: dict[str, list[tuple[int, bool]]] = {}
    for n, g in enumerate(flat):
        half = FULL_TO_HALF.get(g.text, g.text)
        if half in HALF_TO_FULL and g.width_known:
            settled.setdefault(half, []).append((n, g.text != half))
    doubts: list[str] = []
    n = -1
    out: list[list[Glyph]] = []
    opened: list[bool] = []  # widths of the brackets open so far
    for line in lines:
        fixed: list[Glyph] = []
        for i, g in enumerate(line):
            n += 1
            half = FULL_TO_HALF.get(g.text, g.text)
            if half == "(" and g.width_known:
                opened.append(g.text != half)
            if half in HALF_TO_FULL and not g.width_known:
                if half in _OPENING and opened:
                    g = replace(g, text=HALF_TO_FULL[half] if opened[-1] else half, width_known=True)
                elif (full := _like_neighbours(settled.get(half, []), n)) is not None:
                    g = replace(g, text=HALF_TO_FULL[half] if full else half, width_known=True)
                elif not (half == ":" and g is line[-1] and line is lines[-1]):
                    # (A colon ending a cell ends a label, which matches in either width.)
                    doubts.append(f"{_context(line, i)!r}: is {g.text!r} full-width or not? The page does not show")
            if half == ")" and opened:
                opened.pop()
            if sureness(g) < LOW_PROB:
                alt = f" (or {g.alt!r})" if g.alt.strip() else ""
                doubts.append(f"{_context(line, i)!r}: {g.text!r} read with confidence {g.prob:.2f}{alt}")
            elif i == 0 and _operator_runner_up(g) >= 0.05:
                doubts.append(f"{_context(line, i)!r}: {g.text!r} may be {g.alt!r}")
            fixed.append(g)
        out.append(fixed)
    return out, doubts


def sureness(g: Glyph) -> float:
    """How sure the recogniser is of what matters about ``g``: torn between the two widths of one
    mark, it is sure of the mark (the page settles the width)."""
    half = FULL_TO_HALF.get(g.text, g.text)
    if half in HALF_TO_FULL and FULL_TO_HALF.get(g.alt, g.alt) == half:
        return g.prob + g.alt_prob
    return g.prob


def near_a_doubt(glyphs: Sequence[Glyph]) -> bool:
    """Could another model's reading of this line raise or drop one of :func:`repair_cell`'s
    doubts? A character under :data:`RECHECK_BELOW` sure (the doubt is at :data:`LOW_PROB`), or an
    operator look-alike with the operator for runner-up at all."""
    return any(sureness(g) < RECHECK_BELOW
               or _operator_runner_up(g) >= 0.01 for g in glyphs)


def _operator_runner_up(g: Glyph) -> float:
    """How likely the recogniser found the operator ``g`` looks like (``2`` for ``≥``…) as its
    runner-up; 0 when ``g`` is no look-alike or the runner-up is something else."""
    return g.alt_prob if g.text in _OPERATOR_LOOKALIKES and g.alt == _OPERATOR_LOOKALIKES[g.text] else 0.0


def _like_neighbours(measured: Sequence[tuple[int, bool]], n: int) -> bool | None:
    """The width of the same mark measured nearest before and after position ``n`` in the cell,
    when those agree (a text keeps one style of punctuation over a stretch, even where it mixes
    styles as a whole); None when they disagree or there are none."""
    before = [full for at, full in measured if at < n][-1:]
    after = [full for at, full in measured if at > n][:1]
    widths = set(before + after)
    return widths.pop() if len(widths) == 1 else None


def _context(line: Sequence[Glyph], i: int) -> str:
    return line_text(line[max(0, i - 3) : i + 4])


# ---------------------------------------------------------------------------- doubts → fields


def invisible_space(text: str) -> bool:
    """Does ``text`` hold a place where Chinese meets Latin/digits (where a scan cannot tell
    whether a space was typed)?"""
    return bool(_HAN_ALNUM.search(text))


def as_printed(text: str) -> str:
    """``text`` as a scan reads it: where Chinese meets Latin/digits, the printed gap is a space."""
    return _HAN_ALNUM.sub(" ", text)


def spacing_matters(raw: str, parse_target: Callable[[str], Any]) -> bool:
    """Could the space a scan cannot show change what a target means? ``parse_target`` reads a
    target into an object with kind/op/value/unit (the normaliser's); True when the target read
    with a space wherever Chinese meets Latin/digits and read with none there differ in any of
    the four (``达90%以上`` and ``达 90%以上`` are both text: no doubt worth a clerk's time)."""
    if not invisible_space(raw):
        return False

    def key(text: str) -> tuple[Any, ...]:
        target = parse_target(text)
        return target.kind, target.op, target.value, target.unit

    return key(as_printed(raw)) != key(_HAN_ALNUM.sub("", raw))

