"""The one value grammar: targets, actual values, money, dates, percentages, points, yes/no.

Pure functions on printed text (no layout, no pipeline). The table parser asks
:func:`looks_like_target` ("can this cell only be a target?"), normalise and corrections read
values with :func:`parse_target`, :func:`parse_money`, :func:`parse_date`, :func:`parse_bool`,
:func:`parse_decimal`; the reports use :func:`decimal_of`. One grammar, so a cell the table
takes for a target is a numeric target to normalise, and back.

The contract's ``kind``/``op``/``value``/``unit`` (``docs/contract.md``) are unchanged: ``numeric``
is exactly "an optional operator, one number, an optional short unit". Phrasings such as
``不低于95%``, ``达95%以上``, ``90%-95%``, ``≤3个工作日`` stay ``text`` there; :func:`read_bound`
gives their richer reading (a bound or a range) for code that compares a target with an actual
value, without changing the contract.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache

import regex

from goalforms.parsers.labels import compact

OPERATORS = {">=": "≥", "<=": "≤", "＝": "=", "=": "=", "≥": "≥", "≤": "≤", ">": ">", "<": "<",
             "＞": ">", "＜": "<", "≧": "≥", "≦": "≤", "＞＝": "≥", "＜＝": "≤", "≥=": "≥", "≤=": "≤"}
NUMBER = r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
_OP = r">=|<=|＞＝|＜＝|≥=|≤=|[=＝≥≤><＞＜≧≦]"
_TARGET = regex.compile(
    rf"""^(?P<op>{_OP})?\s*
         (?P<num>{NUMBER})\s*
         (?:[(（](?P<punit>[^()（）]*)[)）]|(?P<unit>[^\d\s()（），,。；;、][^\d\s()（），,。；;、]{{0,5}}))?$""",
    regex.VERBOSE,
)
_WHITESPACE_RUN = regex.compile(r"\s+")
_DATE = regex.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_MONEY = regex.compile(rf"^[¥￥]?\s*(?P<num>{NUMBER})\s*(?P<unit>万元|元)?$")
_PLAIN_NUMBER = regex.compile(rf"^{NUMBER}$")
_YES = {"是", "有", "Y", "YES", "TRUE", "√", "☑"}
_NO = {"否", "无", "N", "NO", "FALSE", "×"}
# Cells that print "nothing here" in a number column.
NULL_CELLS = {"", "-", "—", "－", "/", "－－", "--", "——", "／"}
# A unit after a bare number is short (本, 个, 人次); with an operator it may be longer
# (≤5个工作日); a longer word after a bare number is prose (2024年重阳节前).
_BARE_UNIT_MAX = 3
_BARE_UNITS = {"%", "％", "‰", "分"}
MONEY_UNITS = {"元": Decimal(1), "万元": Decimal(10000)}


def canonical_decimal(value: Decimal) -> str:
    """``100.00`` → ``100``, ``0.10`` → ``0.1``; never an exponent."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "+0") else text


def _decimal(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


@dataclass(frozen=True)
class Target:
    raw: str
    kind: str  # missing | numeric | qualitative | text
    op: str | None = None
    value: str | None = None
    unit: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return {"raw": self.raw, "kind": self.kind, "op": self.op, "value": self.value, "unit": self.unit}


@lru_cache(maxsize=1 << 14)  # targets repeat (=100%, ≥95%): a Target is immutable, so shared
def parse_target(text: str | None) -> Target:
    """A target (or an actual value) into kind/op/value/unit (``docs/contract.md``, Indicators)."""
    raw = _WHITESPACE_RUN.sub(" ", text or "").strip()
    if not raw:
        return Target(raw="", kind="missing")
    if not regex.search(r"\d", raw):
        return Target(raw=raw, kind="qualitative")
    m = _TARGET.match(raw)
    if m is None:
        return Target(raw=raw, kind="text")
    unit = m.group("punit") if m.group("punit") is not None else m.group("unit")
    if m.group("op") is None and m.group("unit") is not None and len(m.group("unit")) > _BARE_UNIT_MAX:
        return Target(raw=raw, kind="text")  # 2024年重阳节前: a date in words, not a count
    unit = compact(unit) if unit is not None else None
    return Target(
        raw=raw,
        kind="numeric",
        op=OPERATORS[m.group("op")] if m.group("op") else None,
        value=canonical_decimal(_decimal(m.group("num"))),
        unit=unit or None,
    )


def looks_like_target(text: str) -> bool:
    """A cell that can only be a target (never a 三级 name): a numeric target of the grammar with an
    operator (``≧95%``, ``＞＝90%``, ``=2500本``), or a bare percentage or points (``95%``, ``90分``).
    A bare number or count is not (``100``, ``2500本``): it may be a score, a weight, or a name cut
    off in a text dump."""
    target = parse_target(text)
    return target.kind == "numeric" and (target.op is not None or target.unit in _BARE_UNITS)


@dataclass(frozen=True)
class Bound:
    """The richer reading of a target phrased in words: ``不低于95%`` → ≥ 95 %; ``90%-95%`` →
    90 … 95 %. Not part of the contract (there such targets are kind ``text``)."""

    op: str  # ≥ ≤ > < = or "range"
    value: str
    unit: str | None
    upper: str | None = None


_WORD_OPS = (("不低于", "≥"), ("不少于", "≥"), ("不小于", "≥"), ("大于等于", "≥"), ("至少", "≥"),
             ("不高于", "≤"), ("不超过", "≤"), ("不多于", "≤"), ("不大于", "≤"), ("小于等于", "≤"),
             ("高于", ">"), ("大于", ">"), ("超过", ">"), ("低于", "<"), ("小于", "<"), ("达到", "≥"),
             ("达", "≥"))
_SUFFIX_OPS = (("及以上", "≥"), ("以上", "≥"), ("以内", "≤"), ("以下", "≤"), ("内", "≤"))
_OP_LONG_UNIT = regex.compile(rf"^(?P<op>{_OP})\s*(?P<num>{NUMBER})\s*(?P<unit>[^\d\s]{{1,8}})$")
_NUMBER_UNIT = regex.compile(rf"^(?P<num>{NUMBER})\s*(?P<unit>[^\d\s]{{0,8}})$")
_RANGE = regex.compile(rf"^(?P<a>{NUMBER})\s*(?P<u1>[%％]?)\s*[-~～—至到]\s*(?P<b>{NUMBER})\s*(?P<u2>\S{{0,4}})$")


def read_bound(text: str | None) -> Bound | None:
    """A bound or range read from a target in words (None when there is none)."""
    raw = compact(text or "")
    if not raw:
        return None
    target = parse_target(raw)
    if target.kind == "numeric" and target.value is not None:
        return Bound(target.op or "=", target.value, target.unit)
    m = _OP_LONG_UNIT.match(raw)
    if m:
        return Bound(OPERATORS[m.group("op")], canonical_decimal(_decimal(m.group("num"))), m.group("unit"))
    m = _RANGE.match(raw)
    if m:
        unit = m.group("u2") or m.group("u1") or None
        return Bound("range", canonical_decimal(_decimal(m.group("a"))), unit,
                     canonical_decimal(_decimal(m.group("b"))))
    op = None
    for word, sign in _WORD_OPS:
        if raw.startswith(word):
            raw, op = raw[len(word):], sign
            break
    for word, sign in _SUFFIX_OPS:
        if raw.endswith(word):
            raw, op = raw[: -len(word)], op or sign
            break
    if op is None:
        return None
    m = _NUMBER_UNIT.match(raw)
    if m is None:
        return None
    return Bound(op, canonical_decimal(_decimal(m.group("num"))), m.group("unit") or None)


@lru_cache(maxsize=1 << 12)  # amounts repeat (0.00, a total printed as this year's budget too)
def parse_money(text: str, unit: str = "元") -> str | None:
    """An amount into yuan as a decimal string: ``1,094,910,000.00`` → ``1094910000``; in a 万元
    column (or printed ``12.5万元``) × 10000 exactly. None when it is not an amount."""
    m = _MONEY.match(compact(text))
    if m is None:
        return None
    try:
        amount = _decimal(m.group("num"))
    except InvalidOperation:
        return None
    return canonical_decimal(amount * MONEY_UNITS[m.group("unit") or unit])


@lru_cache(maxsize=1 << 12)  # plan dates repeat (2024-01-01, 2024-12-31)
def parse_date(text: str) -> str | None:
    """``2020-1-1`` → ``2020-01-01``; None when it is not a full date."""
    m = _DATE.match(text.strip())
    if m is None:
        return None
    year, month, day = (int(g) for g in m.groups())
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    return f"{year:04d}-{month:02d}-{day:02d}"


def parse_year(text: str) -> int | None:
    """``2024``, ``2024年``, ``2024年度`` → 2024."""
    m = regex.fullmatch(r"(\d{4})\s*(?:年\s*度?)?", compact(text))
    return int(m.group(1)) if m else None


def parse_bool(text: str) -> bool | None:
    key = compact(text).upper()
    if key in _YES:
        return True
    if key in _NO:
        return False
    return None


def decimal_of(text: str | None) -> Decimal | None:
    """A printed number (``1,009.08``, ``95.5%``) as a Decimal; None for ``-``, blank or non-numbers."""
    key = compact(text or "").rstrip("%％")
    if key in NULL_CELLS or not _PLAIN_NUMBER.match(key):
        return None
    try:
        return _decimal(key)
    except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
        return None


def parse_decimal(text: str | None) -> str | None:
    """A weight, score, points or rate (``10``, ``9.80``, ``98.5%``, ``10分``) as the contract's
    decimal string; None when blank or not a number."""
    key = compact(text or "")
    if key.endswith("分"):
        key = key[:-1]
    value = decimal_of(key)
    return None if value is None else canonical_decimal(value)


_POINTS = regex.compile(rf"^(?P<name>.*?)\s*[(（]\s*(?P<points>{NUMBER})\s*分\s*[)）]\s*$")


def split_points(label: str) -> tuple[str, str | None]:
    """``产出指标（50分）`` → (``产出指标``, ``50``); a label without points → (label, None)."""
    m = _POINTS.match(label.strip())
    if m is None:
        return label, None
    return m.group("name"), canonical_decimal(_decimal(m.group("points")))
