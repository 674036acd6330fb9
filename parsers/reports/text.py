"""Text of evaluation reports as docs/reports.md wants it: cleaned, numbers canonical, paragraphs joined.

Reports are prose with tables, extracted with markdown bold (``**91.34**``), inline LaTeX
(``$\\geq 95\\%$``), HTML paragraphs in table cells and whitespace around every number. The helpers
here undo that; they know nothing of the report's structure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

import regex

from goalforms.parsers.labels import strip_html
from goalforms.parsers.values import NULL_CELLS, canonical_decimal, decimal_of

# Characters next to which whitespace is an extraction artefact: ideographs, CJK and full-width
# punctuation, curly quotes, circled numbers (①②) and comparison signs (docs/reports.md, Text).
_TIGHT = r"[\p{Han}\u3000-\u303f\uff00-\uffef\u2018-\u201f\u2026\u2014\u2460-\u24ff<>≤≥=]"
_TIGHT_GAP = regex.compile(rf"(?<={_TIGHT})[^\S\n]+|[^\S\n]+(?={_TIGHT})")
_SPACE_RUN = regex.compile(r"[^\S\n]+")
_BOLD = regex.compile(r"\*\*")
_LATEX = regex.compile(r"\$([^$\n]{1,120})\$")
_LATEX_COMMANDS = {
    "geqslant": "≥", "leqslant": "≤", "geq": "≥", "leq": "≤", "ge": "≥", "le": "≤", "gt": ">", "lt": "<",
    "neq": "≠", "ne": "≠", "times": "×", "cdot": "·", "div": "÷", "pm": "±", "approx": "≈", "%": "%",
}
_LATEX_COMMAND = regex.compile(r"\\(%|[a-zA-Z]+)")
_HTML_PARAGRAPH = regex.compile(r"</p>\s*<p[^<>]*>", regex.IGNORECASE)

# A paragraph that ends on one of these is complete; any other end is a page break (or a wrapped
# line of a PDF) in mid-sentence. A semicolon separates clauses of one sentence: not an end.
_TERMINAL = "。！？：!?:…"
_CLOSING = "”’」』）)】〕》\"'"

_DATE = regex.compile(r"(\d{4})\s*[年./-]\s*(\d{1,2})\s*[月./-]\s*(\d{1,2})\s*日?")
_NULL_CELLS = NULL_CELLS


def _latex(match: regex.Match[str]) -> str:
    inner = match.group(1)
    # Only math: a dollar amount ($5) is not LaTeX. Math here has a command or a comparison sign.
    if "\\" not in inner and not regex.search(r"[<>=]", inner):
        return match.group(0)
    inner = _LATEX_COMMAND.sub(lambda m: _LATEX_COMMANDS.get(m.group(1), m.group(1)), inner)
    return inner.replace("{", "").replace("}", "")


def squeeze(text: str) -> str:
    """The whitespace rule: gone next to CJK text, punctuation and comparison signs, else one space."""
    text = _TIGHT_GAP.sub("", text)
    return _SPACE_RUN.sub(" ", text).strip()


def clean(text: str | None) -> str:
    """One cell or paragraph: bold marks, LaTeX and tags removed, whitespace squeezed; the ``<p>``
    paragraphs of a cell become lines."""
    if not text:
        return ""
    text = _BOLD.sub("", text)
    text = _LATEX.sub(_latex, text)
    text = _HTML_PARAGRAPH.sub("\n", text)
    text = strip_html(text)
    lines = [squeeze(line) for line in text.split("\n")]
    return "\n".join(line for line in lines if line)


def compact(text: str | None) -> str:
    """A label with every whitespace and bold mark removed (``2016 年执 行率`` → ``2016年执行率``)."""
    return regex.sub(r"\s+", "", _BOLD.sub("", strip_html(text or "")))


def ends_complete(text: str) -> bool:
    """Whether a paragraph ends a sentence (else the next paragraph continues it after a page break)."""
    stripped = text.rstrip().rstrip(_CLOSING)
    return bool(stripped) and stripped[-1] in _TERMINAL


# Numbers are read by the one value grammar (parsers/values.py), as in the forms.
canonical = canonical_decimal


def number(text: str | None) -> str | None:
    """A printed number as the canonical decimal string of the contract, or None."""
    value = decimal_of(text)
    return None if value is None else canonical(value)


def is_number(text: str | None) -> bool:
    return decimal_of(text) is not None


def is_null_cell(text: str | None) -> bool:
    return compact(text) in _NULL_CELLS


def percent(numerator: Decimal, denominator: Decimal, places: int = 2) -> Decimal | None:
    """numerator / denominator as a percent rounded half up to ``places`` decimals."""
    if not denominator:
        return None
    return (numerator * 100 / denominator).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def iso_date(text: str | None) -> str | None:
    """``2019 年 6 月 19 日`` → ``2019-06-19``; None when there is no full date."""
    m = _DATE.search(text or "")
    if not m:
        return None
    year, month, day = (int(g) for g in m.groups())
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    return f"{year:04d}-{month:02d}-{day:02d}"


@dataclass
class Passage:
    """Cleaned text made of source paragraphs, remembering which row each part came from, so that a
    value found inside it (a stated rate) can point at its own line."""

    parts: list[tuple[int, str]] = field(default_factory=list)  # (row index, cleaned text)
    seps: list[str] = field(default_factory=list)  # separator before each part ("" for the first)

    def add(self, row: int, text: str, joined: bool | None = None) -> None:
        """Append a paragraph; ``joined`` None decides by the page-break rule: a paragraph that
        does not end a sentence is continued by the next without separator."""
        if not text:
            return
        if joined is None:
            joined = bool(self.parts) and not ends_complete(self.parts[-1][1])
        self.seps.append("" if not self.parts or joined else "\n")
        self.parts.append((row, text))

    @property
    def value(self) -> str | None:
        if not self.parts:
            return None
        return "".join(sep + text for sep, (_, text) in zip(self.seps, self.parts, strict=True))

    @property
    def first_row(self) -> int | None:
        return self.parts[0][0] if self.parts else None

    def row_at(self, offset: int) -> int | None:
        """The row of the character at ``offset`` of ``value``."""
        position = 0
        for sep, (row, text) in zip(self.seps, self.parts, strict=True):
            position += len(sep) + len(text)
            if offset < position:
                return row
        return self.parts[-1][0] if self.parts else None
