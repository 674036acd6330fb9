"""The keys of issue 12 (self-evaluations, department forms, local variants) as database rows.

The loader reads them from the contract's JSON form of a parsed form (``Form.to_dict()``, the
shape /work/wt/CONTRACT-12.md and docs/contract.md fix), not from the parser's attributes: the
contract is the one interface the layouts and the store both follow. A form of an older layout
has none of these keys; every function then gives the "nothing" values (kind "target", null
columns, no funds, no tasks).

Pure functions from a form's contract dict to column dicts: ``pipeline/load.py`` adds them to the
rows it writes.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from goalforms.parsers.layouts.discovery import header_keys
from goalforms.parsers.reports.names import project_key
from goalforms.pipeline.model import Form

# forms[].kind by layout, for a parse that does not state it (the contract's kinds).
KIND_OF_LAYOUT = {"self_eval": "self_evaluation", "dept": "department"}
TARGET = "target"
FUND_ITEMS = ("total", "fiscal_appropriation", "carryover", "other_funds")


def _dec(value: Any) -> Decimal | None:
    """A decimal string of the contract (or a number) as Decimal; None for null or ""."""
    if value is None or value == "":
        return None
    return Decimal(str(value))


def form_kind(data: dict[str, Any]) -> str:
    return str(data.get("kind") or KIND_OF_LAYOUT.get(str(data.get("layout")), TARGET))


def form_columns(data: dict[str, Any]) -> dict[str, Any]:
    """The forms-table columns added by migration 0008_siblings."""
    header = data.get("header") or {}
    return {
        "kind": form_kind(data),
        "project_key": project_key(header.get("project_name")),
        "outcome": header.get("outcome"),
        "total_score": _dec(header.get("total_score")),
        "grade": header.get("grade"),
        "points": dict(data.get("points") or {}),
    }


# The indicators-table columns added by migration 0008_siblings, in the order of indicator_values.
INDICATOR_COLUMNS = ("actual_raw", "actual_kind", "actual_op", "actual_value", "actual_unit", "weight", "score", "note",
                     "prior_year_raw", "prior_year_kind", "prior_year_op", "prior_year_value", "prior_year_unit",
                     "period")


def header_read() -> tuple[str, ...]:
    """The header keys :func:`contract_of` reads that the contract has (those of the layouts in
    force): asked once per document, not per form (a union over every layout)."""
    keys = set(header_keys())
    return tuple(key for key in _HEADER_READ if key in keys)


def contract_of(form: Form, read: tuple[str, ...] | None = None) -> dict[str, Any]:
    """The part of ``form.to_dict()`` these functions read, with the same values (the full JSON
    form also converts every value's origin, most of its cost, for nothing here). ``read``:
    :func:`header_read`, if already asked."""
    header = form.header
    return {
        "layout": form.layout,
        "kind": form.kind,
        "header": {key: header.get(key) for key in (header_read() if read is None else read)},
        "funds": [dict(f) for f in form.funds],
        "tasks": [dict(t) for t in form.tasks],
        "points": dict(form.points),
        "indicators": [{"actual": i.actual, "weight": i.weight, "score": i.score, "note": i.note,
                        "prior_year": i.prior_year, "period": i.period} for i in form.indicators],
    }


_HEADER_READ = ("project_name", "outcome", "total_score", "grade")


def indicator_values(data: dict[str, Any]) -> tuple[Any, ...]:
    """One indicator's dict (its actual and prior-year values {"raw", "kind", "op", "value", "unit"}
    or null) as the INDICATOR_COLUMNS values, in their order."""
    # Run for every indicator of every form: a target form has neither actual nor prior-year
    # values, and then its nine columns are NULL without nine dict lookups.
    actual = data.get("actual")
    prior = data.get("prior_year")
    weight, score = data.get("weight"), data.get("score")
    head = ((actual.get("raw"), actual.get("kind"), actual.get("op"), _dec(actual.get("value")), actual.get("unit"))
            if actual else _NO_VALUE)
    tail = ((prior.get("raw"), prior.get("kind"), prior.get("op"), _dec(prior.get("value")), prior.get("unit"))
            if prior else _NO_VALUE)
    return (*head, None if weight is None else _dec(weight), None if score is None else _dec(score), data.get("note"),
            *tail, data.get("period"))


_NO_VALUE = (None, None, None, None, None)


def fund_rows(form_id: int, data: dict[str, Any]) -> list[dict[str, Any]]:
    """fund_lines rows of one form (self-evaluations only; [] for the others)."""
    return [
        {"form_id": form_id, "position": position, "item": fund.get("item"),
         "initial": _dec(fund.get("initial")), "full_year": _dec(fund.get("full_year")),
         "executed": _dec(fund.get("executed")), "rate": _dec(fund.get("rate")),
         "weight": _dec(fund.get("weight")), "score": _dec(fund.get("score"))}
        for position, fund in enumerate(data.get("funds") or [], start=1)
    ]


def task_rows(form_id: int, data: dict[str, Any]) -> list[dict[str, Any]]:
    """department_tasks rows of one form (department forms only; [] for the others)."""
    return [
        {"form_id": form_id, "position": position, "name": task.get("name"), "content": task.get("content"),
         "total": _dec(task.get("total")), "fiscal_appropriation": _dec(task.get("fiscal_appropriation")),
         "other_funds": _dec(task.get("other_funds"))}
        for position, task in enumerate(data.get("tasks") or [], start=1)
    ]
