"""What the readers of flowing text share: the doubt they record, the shapes of values, how
the lines of one cell are joined (see ``flowing.py``)."""

from __future__ import annotations

from dataclasses import dataclass

import regex

from goalforms.parsers.grid import Location
from goalforms.parsers.labels import compact
from goalforms.parsers.layouts.spec import LayoutSpec

UNCERTAIN = "uncertain_split"
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


