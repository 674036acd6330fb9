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

from goalforms.parsers.reports.names import project_key

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


def _normalised(prefix: str, value: Any) -> dict[str, Any]:
    """An actual or prior-year value ({"raw", "kind", "op", "value", "unit"} or null) as columns."""
    value = value or {}
    return {
        f"{prefix}_raw": value.get("raw"),
        f"{prefix}_kind": value.get("kind"),
        f"{prefix}_op": value.get("op"),
        f"{prefix}_value": _dec(value.get("value")),
        f"{prefix}_unit": value.get("unit"),
    }


def indicator_columns(data: dict[str, Any]) -> dict[str, Any]:
    """The indicators-table columns added by migration 0008_siblings, from one indicator's dict."""
    return {
        **_normalised("actual", data.get("actual")),
        "weight": _dec(data.get("weight")),
        "score": _dec(data.get("score")),
        "note": data.get("note"),
        **_normalised("prior_year", data.get("prior_year")),
        "period": data.get("period"),
    }


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
