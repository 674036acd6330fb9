"""The named checks a rule's condition is built from (docs/review.md lists each with its parameters).

A check is a pure function registered under a name. An *indicator* check looks at one indicator and
returns the values its message needs when the indicator breaks it (None when it passes); a *form*
check looks at the whole form and returns one :class:`Hit` per thing that breaks it. Each check
declares the parameters it accepts (with defaults) and the placeholders it fills, so a rule file
with an unknown parameter or placeholder is refused when it is loaded, not when it runs.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import fnmatch
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

from goalforms.pipeline.review.form import (
    ReviewForm,
    ReviewIndicator,
    budget_labels,
    decimal_or_none,
    framework,
)

INDICATOR, FORM = "indicator", "form"


@dataclass
class Hit:
    """One thing on a form that breaks a rule."""

    subject: str  # what the finding is about, stable across re-imports (a 三级 name, a budget item, a group)
    field: str  # the value concerned, as the parse contract names it (indicators[3], budget.total, header.plan_end, form)
    values: dict[str, Any] = dataclasses.field(default_factory=dict)
    indicator: ReviewIndicator | None = None


IndicatorCheck = Callable[[ReviewForm, ReviewIndicator, dict[str, Any]], dict[str, Any] | None]
FormCheck = Callable[[ReviewForm, dict[str, Any]], Iterable[Hit]]


@dataclass
class Check:
    name: str
    level: str  # INDICATOR or FORM
    function: Callable[..., Any]
    params: dict[str, Any]  # accepted parameters and their defaults
    provides: tuple[str, ...]  # placeholders the check fills besides the common ones
    doc: str


CHECKS: dict[str, Check] = {}
# Placeholders every finding can use.
COMMON = ("project", "year", "layout", "level3", "raw", "dimension", "position", "field", "subject")


def _register(name: str, level: str, provides: tuple[str, ...] = (), **params: Any) -> Callable[[Any], Any]:
    def wrap(function: Callable[..., Any]) -> Callable[..., Any]:
        CHECKS[name] = Check(name, level, function, params, provides, (function.__doc__ or "").strip())
        return function
    return wrap


def matches(dimension: str | None, patterns: Iterable[str]) -> bool:
    """A dimension against glob patterns (``cost.*``)."""
    return dimension is not None and _matches(dimension, patterns if isinstance(patterns, tuple) else tuple(patterns))


@lru_cache(maxsize=4096)
def _matches(dimension: str, patterns: tuple[str, ...]) -> bool:
    # A few dozen dimensions against a few rules' patterns, asked for every row of every form.
    return any(fnmatch.fnmatchcase(dimension, p) for p in patterns)


_SPACES = re.compile(r"\s+")


@lru_cache(maxsize=1 << 16)
def _squeezed(text: str | None) -> str:
    """The text without whitespace (how names and targets are compared). Remembered: four checks
    ask it of every target and name, which repeat across the forms of an archive."""
    return _SPACES.sub("", text or "")


def _fmt(value: Decimal | None) -> str:
    if value is None:
        return "—"
    text = format(value.normalize(), "f")
    return text if "." not in text else text.rstrip("0").rstrip(".")


def _money(value: Decimal | None) -> str:
    return "—" if value is None else f"{value:,.2f} 元"


def _label(form: ReviewForm, item: str, labels: dict[str, str]) -> str:
    """A budget item as the form prints it: the rule's own label, else the layout's, else its key."""
    return labels.get(item) or budget_labels(form.layout).get(item) or item


# --- measurability ----------------------------------------------------------------------------------


def _is_placeholder(ind: ReviewIndicator, values: list[str]) -> bool:
    text = _squeezed(ind.raw)
    return text in values


@_register("placeholder_target", INDICATOR, values=["", "*", "/", "无", "待定"])
def placeholder_target(form: ReviewForm, ind: ReviewIndicator, params: dict[str, Any]) -> dict[str, Any] | None:
    """The target is a placeholder (one of ``values``, whitespace ignored; ``""``: blank)."""
    return {} if _is_placeholder(ind, params["values"]) else None


@_register("qualitative_for_quantity", INDICATOR, provides=("suffix",), suffixes=["率", "数", "量"],
           exclude_suffixes=["质量"], placeholders=["", "*", "/", "无", "待定"])
def qualitative_for_quantity(form: ReviewForm, ind: ReviewIndicator, params: dict[str, Any]) -> dict[str, Any] | None:
    """The 三级 name ends in one of ``suffixes`` (it asks for a rate or a count; not in one of
    ``exclude_suffixes``: 质量 is a quality) but the target is not a number (placeholders are left to
    ``placeholder_target``)."""
    if ind.kind == "numeric":  # most rows: no need to look at the name
        return None
    name = (ind.level3 or "").strip()
    if any(name.endswith(s) for s in params["exclude_suffixes"]):
        return None
    suffix = next((s for s in params["suffixes"] if name.endswith(s)), None)
    if suffix is None or _is_placeholder(ind, params["placeholders"]):
        return None
    return {"suffix": suffix}


@_register("quantified_share", FORM, provides=("share", "minimum", "quantified", "count"), minimum=0.5,
           min_indicators=1)
def quantified_share(form: ReviewForm, params: dict[str, Any]) -> Iterable[Hit]:
    """Fewer than ``minimum`` (a fraction) of the form's targets are numeric."""
    count = len(form.indicators)
    if count < params["min_indicators"]:
        return []
    quantified = sum(1 for i in form.indicators if i.kind == "numeric")
    share = quantified / count
    if share >= float(params["minimum"]):
        return []
    return [Hit("form", "form", {"share": f"{share:.0%}", "minimum": f"{float(params['minimum']):.0%}",
                                 "quantified": quantified, "count": count})]


# --- coverage ---------------------------------------------------------------------------------------


@_register("dimensions_covered", FORM, provides=("group", "covered", "required"), required={})
def dimensions_covered(form: ReviewForm, params: dict[str, Any]) -> Iterable[Hit]:
    """Every group of the layout's framework named in ``required[layout]`` (its 一级 names) has an
    indicator: a row whose dimension the layout's vocabulary maps under that group."""
    required = params["required"].get(form.layout)
    if not required:
        return []
    groups = framework(form.layout).groups
    present = {i.dimension for i in form.indicators if i.dimension}
    covered = [g for g in required if groups.get(g, frozenset()) & present]
    return [Hit(g, "form", {"group": g, "covered": "、".join(covered) or "none", "required": "、".join(required)})
            for g in required if g not in covered]


# --- direction --------------------------------------------------------------------------------------


@_register("lower_bound", INDICATOR, ops=["≥", ">"])
def lower_bound(form: ReviewForm, ind: ReviewIndicator, params: dict[str, Any]) -> dict[str, Any] | None:
    """A numeric target whose operator is one of ``ops`` (on a cost indicator: a floor on what is spent)."""
    return {} if ind.kind == "numeric" and ind.op in params["ops"] else None


@_register("percent_above", INDICATOR, provides=("maximum",), maximum=100, units=["%"], ops=["=", "≥", ">"])
def percent_above(form: ReviewForm, ind: ReviewIndicator, params: dict[str, Any]) -> dict[str, Any] | None:
    """A percentage target (unit in ``units``, operator in ``ops`` or none) above ``maximum``."""
    if ind.kind != "numeric" or ind.value is None or (ind.unit or "") not in params["units"]:
        return None
    if ind.op is not None and ind.op not in params["ops"]:
        return None
    return {"maximum": params["maximum"]} if ind.value > Decimal(str(params["maximum"])) else None


@_register("target_below", INDICATOR, provides=("minimum",), minimum=80, units=["%"], ops=["=", "≥", ">"])
def target_below(form: ReviewForm, ind: ReviewIndicator, params: dict[str, Any]) -> dict[str, Any] | None:
    """A numeric target (unit in ``units``, operator in ``ops`` or none) below ``minimum``."""
    if ind.kind != "numeric" or ind.value is None or (ind.unit or "") not in params["units"]:
        return None
    if ind.op is not None and ind.op not in params["ops"]:
        return None
    return {"minimum": params["minimum"]} if ind.value < Decimal(str(params["minimum"])) else None


# --- money ------------------------------------------------------------------------------------------

MONEY_UNITS = {"元": Decimal(1), "千元": Decimal(1000), "万元": Decimal(10000), "百万元": Decimal(1000000),
               "亿元": Decimal(100000000)}


def in_yuan(value: Decimal | None, unit: str | None) -> Decimal | None:
    """A target's amount in yuan, when its unit is one of money (``元``, ``万元`` …)."""
    if value is None or unit is None:
        return None
    factor = MONEY_UNITS.get(unit.strip().strip("()（）"))
    return value * factor if factor is not None else None


@_register("budget_sum", FORM, provides=("total_label", "total", "parts", "sum", "difference"),
           total="current_year", parts=["fiscal_appropriation", "carryover", "other_funds"], tolerance=0.01,
           labels={})
def budget_sum(form: ReviewForm, params: dict[str, Any]) -> Iterable[Hit]:
    """Budget item ``total`` equals the sum of ``parts`` (missing parts count 0; skipped when the
    total or every part is missing), within ``tolerance`` yuan."""
    total = form.budget.get(params["total"])
    parts = [form.budget.get(p) for p in params["parts"]]
    if total is None or all(p is None for p in parts):
        return []
    added = sum((p for p in parts if p is not None), Decimal(0))
    if abs(added - total) <= Decimal(str(params["tolerance"])):
        return []
    labels = params["labels"]
    shown = " + ".join(f"{_label(form, name, labels)} {_money(p)}" for name, p in zip(params["parts"], parts, strict=True))
    return [Hit(params["total"], f"budget.{params['total']}", {
        "total_label": _label(form, params["total"], labels), "total": _money(total), "parts": shown,
        "sum": _money(added), "difference": _money(total - added)})]


@_register("budget_not_below", FORM, provides=("larger_label", "larger", "smaller_label", "smaller"),
           larger="total", smaller="current_year", labels={})
def budget_not_below(form: ReviewForm, params: dict[str, Any]) -> Iterable[Hit]:
    """Budget item ``larger`` is at least budget item ``smaller`` (skipped when either is missing)."""
    larger, smaller = form.budget.get(params["larger"]), form.budget.get(params["smaller"])
    if larger is None or smaller is None or larger >= smaller:
        return []
    labels = params["labels"]
    return [Hit(params["larger"], f"budget.{params['larger']}", {
        "larger_label": _label(form, params["larger"], labels), "larger": _money(larger),
        "smaller_label": _label(form, params["smaller"], labels), "smaller": _money(smaller)})]


@_register("money_targets_over_budget", FORM, provides=("sum", "budget", "budget_label", "count"),
           dimensions=["cost.*"], budget="current_year", labels={})
def money_targets_over_budget(form: ReviewForm, params: dict[str, Any]) -> Iterable[Hit]:
    """The targets in money (元, 万元 … converted to yuan) of indicators in ``dimensions`` add up to
    more than budget item ``budget``."""
    budget = form.budget.get(params["budget"])
    if budget is None:
        return []
    amounts = [in_yuan(i.value, i.unit) for i in form.indicators
               if i.kind == "numeric" and matches(i.dimension, params["dimensions"])]
    money = [a for a in amounts if a is not None]
    if not money or sum(money, Decimal(0)) <= budget:
        return []
    return [Hit("cost", "form", {"sum": _money(sum(money, Decimal(0))), "budget": _money(budget),
                                 "budget_label": _label(form, params["budget"], params["labels"]),
                                 "count": len(money)})]


# --- time -------------------------------------------------------------------------------------------

# 2020年12月31日 / 2020年12月 / 2020-12-31 (a dot or slash too, the same twice) / 2020年底; 12月底 without a year.
_YMD = re.compile(r"(?P<y>(?:19|20)\d{2})\s*年\s*(?P<m>\d{1,2})\s*月(?:\s*(?P<d>\d{1,2})\s*[日号])?"
                  r"|(?P<y2>(?:19|20)\d{2})(?P<sep>[-./])(?P<m2>\d{1,2})(?P=sep)(?P<d2>\d{1,2})(?!\d)"
                  r"|(?P<y3>(?:19|20)\d{2})\s*年\s*(?:底|末|年底|年末)")
_MONTH_DAY = re.compile(r"(?<![\d年./-])(?P<m>\d{1,2})\s*月(?:\s*(?P<d>\d{1,2})\s*[日号])?")


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)


def _span(year: int, month: int, day: str | None) -> tuple[dt.date, dt.date]:
    if day:
        one = dt.date(year, month, int(day))
        return one, one
    return dt.date(year, month, 1), _month_end(year, month)


def dates_named(text: str, default_year: int | None) -> list[tuple[dt.date, dt.date, str]]:
    """The dates a target names, each as (first day, last day, as printed): ``2020年12月31日`` is one
    day, ``2020年12月`` a month, ``2020年底`` its last day; ``12月底`` takes ``default_year``. Numbers
    that only look like dates (``2020.5万元``) are not dates: a year needs 年 or a full Y-M-D."""
    found: list[tuple[dt.date, dt.date, str]] = []
    taken: list[tuple[int, int]] = []
    for m in _YMD.finditer(text):
        try:
            if m["y"]:
                first, last = _span(int(m["y"]), int(m["m"]), m["d"])
            elif m["y2"]:
                first, last = _span(int(m["y2"]), int(m["m2"]), m["d2"])
            else:
                first = last = dt.date(int(m["y3"]), 12, 31)
        except ValueError:  # month 13, 31 February: not a date
            continue
        taken.append(m.span())
        found.append((first, last, m.group(0).strip()))
    if default_year is None:
        return found
    for m in _MONTH_DAY.finditer(text):
        if any(a <= m.start() < b for a, b in taken):
            continue
        try:
            first, last = _span(default_year, int(m["m"]), m["d"])
        except ValueError:
            continue
        found.append((first, last, m.group(0).strip()))
    return found


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


@_register("date_outside_plan", INDICATOR, provides=("date", "plan_start", "plan_end", "side"))
def date_outside_plan(form: ReviewForm, ind: ReviewIndicator, params: dict[str, Any]) -> dict[str, Any] | None:
    """The target names a date after 计划完成日期 or before 计划开始日期 (a date without a year takes
    the plan's year, else the form's)."""
    start, end = _date(form.header.get("plan_start")), _date(form.header.get("plan_end"))
    if start is None and end is None:
        return None
    known = end or start
    year = known.year if known is not None else form.year
    for first, last, printed in dates_named(ind.raw or "", year):
        if end is not None and first > end:
            return {"date": printed, "plan_start": start or "—", "plan_end": end, "side": "after the plan's end"}
        if start is not None and last < start:
            return {"date": printed, "plan_start": start, "plan_end": end or "—", "side": "before the plan's start"}
    return None


@_register("plan_order", FORM, provides=("plan_start", "plan_end"))
def plan_order(form: ReviewForm, params: dict[str, Any]) -> Iterable[Hit]:
    """计划完成日期 is before 计划开始日期."""
    start, end = _date(form.header.get("plan_start")), _date(form.header.get("plan_end"))
    if start is None or end is None or end >= start:
        return []
    return [Hit("plan", "header.plan_end", {"plan_start": start, "plan_end": end})]


# --- repetition -------------------------------------------------------------------------------------


@_register("duplicate_names", FORM, provides=("count", "positions"))
def duplicate_names(form: ReviewForm, params: dict[str, Any]) -> Iterable[Hit]:
    """The same 三级 name (whitespace ignored) on several rows of the form: one finding per name, on
    its second row."""
    seen: dict[str, list[ReviewIndicator]] = {}
    for ind in form.indicators:
        name = _squeezed(ind.level3)
        if name:
            seen.setdefault(name, []).append(ind)
    return [Hit(rows[0].level3, rows[1].key, {"count": len(rows), "positions": ", ".join(str(r.position) for r in rows)},
                rows[1])
            for rows in seen.values() if len(rows) > 1]


@_register("identical_targets", FORM, provides=("target", "count"), min_indicators=3)
def identical_targets(form: ReviewForm, params: dict[str, Any]) -> Iterable[Hit]:
    """Every target of the form (at least ``min_indicators`` rows) is the same non-blank text."""
    targets = {_squeezed(i.raw) for i in form.indicators}
    if len(form.indicators) < params["min_indicators"] or len(targets) != 1 or targets == {""}:
        return []
    return [Hit("targets", "form", {"target": form.indicators[0].raw, "count": len(form.indicators)})]


# --- across years (v_series rows whose later form is this one) --------------------------------------

# The checks that read ``form.series`` (the project's other years, stored from other files): the
# importer runs rules of these checks (and every ``applies_to = "series"`` rule) in the file's
# transaction, the others before it (pipeline/review/batch.py).
SERIES_CHECKS = frozenset({"target_lowered", "dropped_last_quantified"})


@_register("target_lowered", FORM, provides=("from_year", "from_raw", "to_raw", "from_level3"),
           ops=["≥", ">", "="], exclude_dimensions=["cost.*"])
def target_lowered(form: ReviewForm, params: dict[str, Any]) -> Iterable[Hit]:
    """A target v_series calls ``lowered`` from the year before, when the later operator is one of
    ``ops`` (a lower floor; a lower ceiling ``≤`` is stricter) and the dimension is not excluded
    (spending less is no loss)."""
    if not form.series:
        return []
    by_id = {i.indicator_id: i for i in form.indicators}
    hits = []
    for row in form.series or []:
        if row.get("change") != "lowered" or (row.get("to_op") or "=") not in params["ops"]:
            continue
        if matches(row.get("dimension"), params["exclude_dimensions"]):
            continue
        ind = by_id.get(row.get("to_indicator_id"))
        if ind is None:
            continue
        hits.append(Hit(ind.level3, ind.key, {"from_year": row.get("from_year"), "from_raw": row.get("from_raw"),
                                              "to_raw": row.get("to_raw"), "from_level3": row.get("from_level3")}, ind))
    return hits


@_register("dropped_last_quantified", FORM, provides=("from_year", "dropped", "quantified_before"))
def dropped_last_quantified(form: ReviewForm, params: dict[str, Any]) -> Iterable[Hit]:
    """An indicator of the year before was dropped while its dimension, which had a numeric target
    then, has none now — only for dimensions the form's layout still has (a dimension the new
    framework no longer holds is the framework's change, not the unit's)."""
    if not form.series:
        return []
    dims_now = framework(form.layout).dimensions
    by_dim: dict[str, list[dict[str, Any]]] = {}
    for row in form.series or []:
        if row.get("dimension"):
            by_dim.setdefault(row["dimension"], []).append(row)
    hits = []
    for dimension, rows in by_dim.items():
        if dims_now and dimension not in dims_now:
            continue
        dropped = [r for r in rows if r.get("match_kind") == "dropped"]
        before = sum(1 for r in rows if r.get("from_level3") is not None and r.get("from_kind") == "numeric")
        now = any(i.kind == "numeric" and i.dimension == dimension for i in form.indicators)
        if dropped and before and not now:
            hits.append(Hit(dimension, "form", {
                "from_year": dropped[0].get("from_year"), "quantified_before": before,
                "dropped": "、".join(str(r.get("from_level3")) for r in dropped), "dimension": dimension}))
    return hits


# --- self-evaluation (indicators with actual / weight / score) --------------------------------------


@_register("score_above_points", INDICATOR, provides=("score", "points"))
def score_above_points(form: ReviewForm, ind: ReviewIndicator, params: dict[str, Any]) -> dict[str, Any] | None:
    """An indicator scored more than its points (分值)."""
    if ind.score is None or ind.weight is None or ind.score <= ind.weight:
        return None
    return {"score": _fmt(ind.score), "points": _fmt(ind.weight)}


@_register("scores_sum_to_total", FORM, provides=("sum", "total"), tolerance=0.01)
def scores_sum_to_total(form: ReviewForm, params: dict[str, Any]) -> Iterable[Hit]:
    """The indicators' scores, with the money block's 得分, add up to 总分 (``header.total_score``),
    within ``tolerance``."""
    total = decimal_or_none(form.header.get("total_score"))
    scores = [i.score for i in form.indicators if i.score is not None]
    if total is None or not scores:
        return []
    added = sum(scores, Decimal(0)) + sum(form.fund_scores, Decimal(0))
    if abs(added - total) <= Decimal(str(params["tolerance"])):
        return []
    return [Hit("total_score", "header.total_score", {"sum": _fmt(added), "total": _fmt(total)})]


def misses(target_op: str | None, target: Decimal, actual: Decimal) -> bool:
    """Whether an actual value misses a numeric target (no operator: the target is a floor)."""
    if target_op in ("≤",):
        return actual > target
    if target_op == "<":
        return actual >= target
    if target_op == ">":
        return actual <= target
    if target_op == "=":
        return actual != target
    return actual < target


@_register("full_score_missed", INDICATOR, provides=("actual", "score", "points"))
def full_score_missed(form: ReviewForm, ind: ReviewIndicator, params: dict[str, Any]) -> dict[str, Any] | None:
    """An indicator scored its full points while its numeric actual misses its numeric target (same unit)."""
    actual = ind.actual or {}
    value = decimal_or_none(actual.get("value"))
    if (ind.score is None or ind.weight is None or ind.score < ind.weight or ind.kind != "numeric"
            or ind.value is None or actual.get("kind") != "numeric" or value is None
            or (actual.get("unit") or "") != (ind.unit or "")):
        return None
    if not misses(ind.op, ind.value, value):
        return None
    return {"actual": actual.get("raw") or _fmt(value), "score": _fmt(ind.score), "points": _fmt(ind.weight)}
