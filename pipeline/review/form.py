"""The form as the review rules see it: pure data, no database.

Built from the *corrected* state of a stored form (:func:`goalforms.pipeline.review.store.form_of`)
or from the parse contract's JSON (:func:`form_from_contract`, for crafted forms in tests). The
self-evaluation keys (``actual``, ``weight``, ``score``, ``kind``, ``header.total_score``) follow the
contract being added for 绩效自评表 layouts; a target form simply has none of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache, cached_property
from typing import Any


def decimal_or_none(value: Any) -> Decimal | None:
    """A contract decimal string (or number) as a Decimal; None for nothing or text that is no number."""
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


@dataclass
class ReviewIndicator:
    key: str  # the row as the parse contract names it: indicators[3] (a clerk's added row: indicators[c17])
    position: int  # 1-based, in the corrected form
    level1: str | None
    level2: str | None
    level3: str
    dimension: str | None
    raw: str
    kind: str  # numeric / qualitative / text / missing
    op: str | None
    value: Decimal | None
    unit: str | None
    indicator_id: int | None = None
    actual: dict[str, Any] | None = None  # self-evaluation: {raw, kind, op, value, unit}
    weight: Decimal | None = None  # self-evaluation: the indicator's points (分值)
    score: Decimal | None = None  # self-evaluation: the score given


@dataclass
class ReviewForm:
    layout: str
    year: int | None
    header: dict[str, Any]  # contract values: text, ISO dates
    budget: dict[str, Decimal | None]  # yuan
    indicators: list[ReviewIndicator]
    kind: str = "target"  # target / self_evaluation / department
    form_id: int | None = None
    # v_series rows whose later side is this form (the project's previous year lined up with it);
    # None when the form was reviewed without its history (in memory).
    series: list[dict[str, Any]] | None = None
    # Self-evaluations: the 得分 of the money block's rows (its 10 points count towards 总分).
    fund_scores: list[Decimal] = field(default_factory=list)


def form_from_contract(data: dict[str, Any]) -> ReviewForm:
    """A form of the parse contract's JSON (``forms[k]`` of ``goalforms parse --json``)."""
    indicators = []
    for k, item in enumerate(data.get("indicators") or []):
        indicators.append(ReviewIndicator(
            key=f"indicators[{k}]", position=k + 1, level1=item.get("level1"), level2=item.get("level2"),
            level3=item.get("level3") or "", dimension=item.get("dimension"), raw=item.get("raw") or "",
            kind=item.get("kind") or "missing", op=item.get("op"), value=decimal_or_none(item.get("value")),
            unit=item.get("unit"), actual=item.get("actual"), weight=decimal_or_none(item.get("weight")),
            score=decimal_or_none(item.get("score")),
        ))
    budget = {k: decimal_or_none(v) for k, v in (data.get("budget") or {}).items()}
    return ReviewForm(layout=str(data.get("layout") or ""), year=data.get("year"), header=dict(data.get("header") or {}),
                      budget=budget, indicators=indicators, kind=data.get("kind") or "target",
                      series=data.get("series"),
                      fund_scores=[d for f in data.get("funds") or [] if (d := decimal_or_none(f.get("score"))) is not None])


@dataclass(frozen=True)
class Framework:
    """A layout's 一级 groups and the layout-independent dimensions each one holds."""

    groups: dict[str, frozenset[str]] = field(default_factory=dict)

    @cached_property  # asked for every form reviewed; the framework is made once per layout
    def dimensions(self) -> frozenset[str]:
        return frozenset(d for dims in self.groups.values() for d in dims)


def _spec(layout: str) -> Any:
    from goalforms.parsers.layouts.discovery import spec_by_name  # the layouts' data, read once

    try:
        return spec_by_name(f"layout{layout}.toml")
    except (FileNotFoundError, OSError, KeyError, ValueError):
        return None


@cache
def budget_labels(layout: str) -> dict[str, str]:
    """Budget item -> its label as the layout prints it (项目资金总额 …)."""
    spec = _spec(layout)
    return {item: names[0] for item, names in spec.budget.items() if names} if spec is not None else {}


@cache
def framework(layout: str) -> Framework:
    """The dimension mapping of a layout's vocabulary (its TOML file); empty for a layout without one."""
    spec = _spec(layout)
    if spec is None:
        return Framework()
    groups: dict[str, set[str]] = {name: set() for name in spec.vocabulary.level1}
    for (level1, _level2), dimension in spec.vocabulary.dimension.items():
        groups.setdefault(level1, set()).add(dimension)
    return Framework({name: frozenset(dims) for name, dims in groups.items()})
