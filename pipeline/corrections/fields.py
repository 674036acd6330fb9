"""What a layout lets a clerk correct: its header fields, budget items and row columns, with
the labels it prints them under (read from the layout's TOML spec)."""

from __future__ import annotations

from goalforms.parsers.layouts import LAYOUTS
from goalforms.parsers.layouts.discovery import budget_keys, header_keys, spec_by_name
from goalforms.parsers.layouts.spec import LayoutSpec
from goalforms.pipeline.corrections.model import LATER_ROW_FIELDS


def _spec(layout: str) -> LayoutSpec | None:
    try:
        return spec_by_name(f"layout{layout}.toml")
    except (FileNotFoundError, OSError, KeyError):
        return None  # a layout without a spec file still gets the contract's fields


def header_fields(layout: str) -> list[tuple[str, str]]:
    """(path, printed label) of the header fields a layout prints, contract keys first."""
    spec = _spec(layout)
    labels: dict[str, str] = {}
    if spec is not None:
        for table in (spec.fields, spec.text_blocks):
            for name, spellings in table.items():
                labels.setdefault(name, spellings[0] if spellings else name)
    contract = header_keys()
    keys = [k for k in contract if spec is None or k in labels]
    extra = [k for k in labels if k not in contract]
    return [(f"header.{k}", labels.get(k, k)) for k in keys] + [(f"header_extra.{k}", labels[k]) for k in extra]


def budget_fields(layout: str) -> list[tuple[str, str]]:
    """(path, printed label) of the budget items a layout prints."""
    spec = _spec(layout)
    if spec is None:
        return [(f"budget.{k}", k) for k in budget_keys()]
    items = [(k, spellings[0] if spellings else k) for k, spellings in spec.budget.items()]
    if spec.money is not None:  # a self-evaluation's money rows (budget = the row's 全年预算数)
        items += [(k, spellings[0] if spellings else k) for k, spellings in spec.money.rows.items()]
    if spec.tasks is not None and spec.tasks.total_row:  # a department form's 金额合计 row
        items += [(k, f"{spec.tasks.total_row[0]} {spellings[0] if spellings else k}")
                  for k, spellings in spec.tasks.columns.items() if k in ("total", "fiscal_appropriation", "other_funds")]
    return [(f"budget.{k}", label) for k, label in dict(items).items()]


def field_hint(layout: str, path: str) -> tuple[bool, str]:
    """(multiline, typing hint) of a header field of a layout, from its declared type: prose
    (text blocks, header_extra, continued fields, the goal) is multiline; a typed field gets a hint."""
    spec = _spec(layout)
    section, _, name = path.partition(".")
    field_spec = spec.field_specs.get(name) if spec is not None and section in ("header", "header_extra") else None
    if field_spec is None:
        return name == "goal", ""
    multiline = field_spec.type == "text" and (
        field_spec.extra or field_spec.continued or name in spec.text_blocks or name == "goal")  # type: ignore[union-attr]
    hints = {"date": "e.g. 2020-01-01", "bool": "是 or 否", "decimal": "e.g. 95.5", "year": "e.g. 2026",
             "money": "yuan, e.g. 280000", "enum": " / ".join(field_spec.values)}
    return multiline, hints.get(field_spec.type, "")


def row_fields(layout: str) -> list[tuple[str, str]]:
    """(row field, printed column header) of the indicator columns a layout prints: the four of
    every layout, then actual/weight/score/note where it has them."""
    spec = _spec(layout)
    table = spec.table if spec is not None else {}
    names = {"level1": "一级指标", "level2": "二级指标", "level3": "三级指标", "raw": "指标值"}
    out = [(name, table.get(role, [names[name]])[0] if table.get(role) else names[name])
           for name, role in (("level1", "level1"), ("level2", "level2"), ("level3", "level3"), ("raw", "target"))]
    return out + [(name, table[name][0]) for name in LATER_ROW_FIELDS if table.get(name)]


def vocabulary(layout: str) -> dict[str, list[str]]:
    """level1 -> its level2 names, for choosing where a row belongs."""
    spec = _spec(layout)
    if spec is None:
        return {}
    tree: dict[str, list[str]] = {name: [] for name in spec.vocabulary.level1}
    for level2, level1 in spec.vocabulary.parent.items():
        tree.setdefault(level1, []).append(level2)
    return tree


def _dimension(layout: str, level1: str | None, level2: str | None) -> str | None:
    spec = _spec(layout)
    return spec.vocabulary.dimension_of(level1, level2) if spec is not None else None


def _field_type(name: str) -> str:
    """A header field's type as its layouts declare it (text when none does)."""
    for parser in LAYOUTS.values():
        spec = parser.spec.field_specs.get(name)
        if spec is not None and spec.type != "text":
            return spec.type
    return "text"
