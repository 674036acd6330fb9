"""The parse contract (``shared/spec/output.md``) as typed objects, and its JSON form."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from goalforms.parsers.grid import Origin
from goalforms.parsers.layouts.discovery import budget_keys, header_keys


def __getattr__(name: str) -> tuple[str, ...]:
    """``HEADER_KEYS`` / ``BUDGET_KEYS``: the union over the layouts in force (their TOML files),
    read when asked, so user layouts (``--layouts``) count."""
    if name == "HEADER_KEYS":
        return tuple(header_keys())
    if name == "BUDGET_KEYS":
        return tuple(budget_keys())
    raise AttributeError(name)


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
    # The later columns (CONTRACT-12): the actual and prior-year values read like targets
    # ({"raw", "kind", "op", "value", "unit"}), weight/score as decimal strings, the note's text.
    actual: dict[str, str | None] | None = None
    weight: str | None = None
    score: str | None = None
    note: str | None = None
    prior_year: dict[str, str | None] | None = None
    period: str | None = None
    # The cell each field was read from ("level1", "level2", "level3", "raw", "actual" …).
    origins: dict[str, Origin] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "level1": self.level1, "level2": self.level2, "level3": self.level3,
            "raw": self.raw, "kind": self.kind, "op": self.op, "value": self.value, "unit": self.unit,
            "dimension": self.dimension, "where": self.where,
            "actual": self.actual, "weight": self.weight, "score": self.score, "note": self.note,
            "prior_year": self.prior_year, "period": self.period,
            "origin": {name: origin.to_dict() for name, origin in self.origins.items()},
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
    # The cell each header/budget value was read from (its page, box, sheet and cell, confidence):
    # the contract's ``forms[].sources``.
    origins: dict[str, Origin] = field(default_factory=dict)
    kind: str = "target"
    funds: list[dict[str, str | None]] = field(default_factory=list)
    tasks: list[dict[str, str | None]] = field(default_factory=list)
    points: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "layout": self.layout,
            "kind": self.kind,
            "year": self.year,
            "where": self.where,
            "header": {key: self.header.get(key) for key in header_keys()},
            "header_extra": dict(self.extra),
            "budget": {key: self.budget.get(key) for key in budget_keys()},
            "funds": [dict(f) for f in self.funds],
            "tasks": [dict(t) for t in self.tasks],
            "points": dict(self.points),
            "indicators": [i.to_dict() for i in self.indicators],
            "issues": [i.to_dict() for i in self.issues],
            "sources": {name: origin.to_dict() for name, origin in self.origins.items()},
        }


@dataclass
class Source:
    path: str
    sha256: str
    format: str


@dataclass(frozen=True)
class GridRow:
    """One row of the grid a Word, ODT, HTML or .ods file was read as, texts only: what the loader
    stores (``source_grids``) for the clerk page. ``cells``: (text, col_span, row_span, col)."""

    location: str
    table: int | None
    row: int | None
    sheet: str | None
    cells: tuple[tuple[str, int, int, int], ...]


@dataclass
class ParsedDocument:
    source: Source
    collection_title: str | None
    forms: list[Form]
    # Evaluation reports (绩效评价报告) in the shape of docs/reports.md, already plain JSON data.
    reports: list[dict[str, Any]] = field(default_factory=list)
    # The file's grid for the clerk page (grid-shaped formats only; not part of the JSON contract).
    grid_rows: list[GridRow] = field(default_factory=list, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": {"path": self.source.path, "sha256": self.source.sha256, "format": self.source.format},
            "collection_title": self.collection_title,
            "forms": [_with_format(f.to_dict(), self.source.format) for f in self.forms],
            "reports": self.reports,
        }


def _with_format(form: dict[str, Any], fmt: str) -> dict[str, Any]:
    """Every origin names the file's format (``source.format``): an origin read alone says how to
    read its keys (a box in PDF points, a cell of a sheet, a line of a dump)."""
    for origin in form["sources"].values():
        origin["format"] = fmt
    for indicator in form["indicators"]:
        for origin in indicator["origin"].values():
            origin["format"] = fmt
    return form
