"""The parse contract (``shared/spec/output.md``) as typed objects, and its JSON form."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

HEADER_KEYS = (
    "project_name", "unit", "department", "project_category", "project_nature",
    "plan_start", "plan_end", "gov_procurement", "performance_type", "goal",
)
BUDGET_KEYS = (
    "total", "current_year", "prior_year_budget", "prior_year_spent",
    "fiscal_appropriation", "carryover", "other_funds",
)


@dataclass
class Issue:
    code: str
    severity: str
    message: str
    where: str | None
    field: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "severity": self.severity, "message": self.message,
                "where": self.where, "field": self.field}


@dataclass
class Indicator:
    level1: str | None
    level2: str | None
    level3: str
    raw: str
    kind: str
    op: str | None
    value: str | None
    unit: str | None
    dimension: str | None
    line: int | None
    where: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "level1": self.level1, "level2": self.level2, "level3": self.level3,
            "raw": self.raw, "kind": self.kind, "op": self.op, "value": self.value, "unit": self.unit,
            "dimension": self.dimension, "where": self.where,
        }


@dataclass
class Form:
    layout: str
    year: int | None
    header: dict[str, Any]
    budget: dict[str, str | None]
    indicators: list[Indicator] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    # Header texts beyond the contract's keys (项目概况, 立项依据, 项目总目标 …).
    extra: dict[str, str | None] = field(default_factory=dict)
    where: str = ""
    # Where each header/budget value was printed ("header.goal" -> "line 14").
    sources: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "layout": self.layout,
            "year": self.year,
            "where": self.where,
            "header": {key: self.header.get(key) for key in HEADER_KEYS},
            "header_extra": dict(self.extra),
            "budget": {key: self.budget.get(key) for key in BUDGET_KEYS},
            "indicators": [i.to_dict() for i in self.indicators],
            "issues": [i.to_dict() for i in self.issues],
        }


@dataclass
class Source:
    path: str
    sha256: str
    format: str


@dataclass
class ParsedDocument:
    source: Source
    collection_title: str | None
    forms: list[Form]
    # Evaluation reports (绩效评价报告) in the shape of docs/reports.md, already plain JSON data.
    reports: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": {"path": self.source.path, "sha256": self.source.sha256, "format": self.source.format},
            "collection_title": self.collection_title,
            "forms": [f.to_dict() for f in self.forms],
            "reports": self.reports,
        }
