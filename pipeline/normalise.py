"""Normalise: the printed values of a raw form into the contract's values.

Money as decimal strings in yuan, dates as ISO, 是/否 as booleans, free text cleaned, targets
read into kind/op/value/unit. Values that cannot be read become null with an issue naming them.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache

import regex

from goalforms.parsers.labels import clean_text, compact
from goalforms.parsers.layouts import RawForm, RawValue
from goalforms.pipeline.model import Form, Indicator, Issue

_OPERATORS = {">=": "≥", "<=": "≤", "＝": "=", "=": "=", "≥": "≥", "≤": "≤", ">": ">", "<": "<",
              "＞": ">", "＜": "<", "≧": "≥", "≦": "≤", "＞＝": "≥", "＜＝": "≤"}
_NUMBER = r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
_TARGET = regex.compile(
    rf"""^(?P<op>>=|<=|＞＝|＜＝|[=＝≥≤><＞＜≧≦])?\s*
         (?P<num>{_NUMBER})\s*
         (?:[(（](?P<punit>[^()（）]*)[)）]|(?P<unit>[^\d\s()（）][^\d\s()（）]{{0,2}}))?$""",
    regex.VERBOSE,
)
_WHITESPACE_RUN = regex.compile(r"\s+")
_DIGIT = regex.compile(r"\d")
_DATE = regex.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_MONEY = regex.compile(rf"^[¥￥]?\s*(?P<num>{_NUMBER})\s*(?:元)?$")
_YES = {"是", "有", "Y", "YES", "TRUE"}
_NO = {"否", "无", "N", "NO", "FALSE"}


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


@lru_cache(maxsize=1 << 14)  # targets repeat (=100%, ≥95%): a Target is immutable, so shared
def parse_target(text: str | None) -> Target:
    """A target cell into kind/op/value/unit (``shared/spec/output.md``, Indicators)."""
    raw = _WHITESPACE_RUN.sub(" ", text or "").strip()
    if not raw:
        return Target(raw="", kind="missing")
    if not _DIGIT.search(raw):
        return Target(raw=raw, kind="qualitative")
    m = _TARGET.match(raw)
    if m is None:
        return Target(raw=raw, kind="text")
    unit = m.group("punit") if m.group("punit") is not None else m.group("unit")
    unit = compact(unit) if unit is not None else None
    return Target(
        raw=raw,
        kind="numeric",
        op=_OPERATORS[m.group("op")] if m.group("op") else None,
        value=canonical_decimal(_decimal(m.group("num"))),
        unit=unit or None,
    )


def parse_money(text: str) -> str | None:
    """``1,094,910,000.00`` → ``1094910000``; None when it is not an amount."""
    m = _MONEY.match(compact(text))
    if m is None:
        return None
    try:
        return canonical_decimal(_decimal(m.group("num")))
    except InvalidOperation:
        return None


def parse_date(text: str) -> str | None:
    """``2020-1-1`` → ``2020-01-01``; None when it is not a full date."""
    m = _DATE.match(text.strip())
    if m is None:
        return None
    year, month, day = (int(g) for g in m.groups())
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    return f"{year:04d}-{month:02d}-{day:02d}"


def parse_bool(text: str) -> bool | None:
    key = compact(text).upper()
    if key in _YES:
        return True
    if key in _NO:
        return False
    return None


_HEADER_READERS = {"plan_start": parse_date, "plan_end": parse_date, "gov_procurement": parse_bool}
_CONTRACT_HEADER = {"project_name", "unit", "department", "project_category", "project_nature",
                    "plan_start", "plan_end", "gov_procurement", "performance_type", "goal"}


def _invalid(field: str, value: RawValue, what: str) -> Issue:
    return Issue("invalid_value", "error", f"{field}: {value.text.strip()!r} is not {what}", str(value.where), field)


def normalise(raw: RawForm) -> Form:
    """A raw form into a contract form (issues found while reading values are added)."""
    form = Form(layout=raw.layout, year=raw.year, header={}, budget={}, where=str(raw.where))
    for name, value in raw.header.items():
        cleaned: object = None
        section = "header" if name in _CONTRACT_HEADER else "header_extra"
        if value is not None:
            form.sources[f"{section}.{name}"] = str(value.where)
        if value is not None and value.text.strip():
            reader = _HEADER_READERS.get(name)
            if reader is None:
                cleaned = clean_text(value.text) or None
            else:
                cleaned = reader(value.text)
                if cleaned is None:
                    what = "a date" if reader is parse_date else "是 or 否"
                    form.issues.append(_invalid(f"header.{name}", value, what))
        if name in _CONTRACT_HEADER:
            form.header[name] = cleaned
        else:
            form.extra[name] = cleaned  # type: ignore[assignment]
    for name, value in raw.budget.items():
        amount = None
        if value is not None:
            form.sources[f"budget.{name}"] = str(value.where)
        if value is not None and value.text.strip():
            amount = parse_money(value.text)
            if amount is None:
                form.issues.append(_invalid(f"budget.{name}", value, "an amount of money"))
        form.budget[name] = amount
    for item in raw.indicators:
        target = parse_target(item.target)
        form.indicators.append(
            Indicator(
                level1=item.level1,
                level2=item.level2,
                level3=compact(item.level3),
                raw=target.raw,
                kind=target.kind,
                op=target.op,
                value=target.value,
                unit=target.unit,
                dimension=item.dimension,
                line=item.where.line,
                where=str(item.where),
            )
        )
    form.issues.extend(
        Issue(i.code, i.severity, i.message, str(i.where) if i.where else None, i.field) for i in raw.issues
    )
    return form
