"""Normalise: the printed values of a raw form into the contract's values.

Money as decimal strings in yuan, dates as ISO, 是/否 as booleans, free text cleaned, targets
read into kind/op/value/unit. Values that cannot be read become null with an issue naming them.
"""

from __future__ import annotations

import regex

from goalforms.parsers.grid import Origin
from goalforms.parsers.labels import clean_text, compact
from goalforms.parsers.layouts import LAYOUTS, RawForm, RawValue
from goalforms.parsers.layouts.spec import FieldSpec
from goalforms.parsers.values import (
    NULL_CELLS,
    Target,
    canonical_decimal,
    parse_bool,
    parse_date,
    parse_decimal,
    parse_money,
    parse_target,
    parse_year,
)
from goalforms.pipeline.model import Form, Indicator, Issue

# The grammar lives in parsers/values.py; these names stay importable from here.
__all__ = ["Target", "canonical_decimal", "normalise", "parse_bool", "parse_date", "parse_money", "parse_target"]

# An indicator's origins by the contract's names (the layout parser says target, the contract raw).
_ORIGIN_NAMES = {"target": "raw"}
_WHAT = {"date": "a date", "bool": "是 or 否", "money": "an amount of money", "year": "a year",
         "decimal": "a number", "enum": "one of the allowed values"}


def _read_field(spec: FieldSpec, value: RawValue) -> object:
    """A header value by its declared type (None when it does not read as that type)."""
    text = value.text
    if spec.type == "text":
        return clean_text(text) or None
    if spec.type == "date":
        return parse_date(text)
    if spec.type == "bool":
        return parse_bool(text)
    if spec.type == "money":
        return parse_money(text, value.unit)
    if spec.type == "year":
        return parse_year(text)
    if spec.type == "decimal":
        return parse_decimal(text)
    # enum: the printed value, if it is one of the allowed ones; or the one check box ticked
    # (新增项目□ 延续项目☑)
    key = compact(text)
    exact = next((v for v in spec.values if compact(v) == key), None)
    if exact is not None:
        return exact
    ticked = [v for v in spec.values if regex.search(rf"(?:[☑■√✓✔]{regex.escape(compact(v))}|{regex.escape(compact(v))}[☑■√✓✔])", key)]
    return ticked[0] if len(ticked) == 1 else None


def _invalid(field: str, value: RawValue, what: str) -> Issue:
    return Issue("invalid_value", "error", f"{field}: {value.text.strip()!r} is not {what}", str(value.where), field)


def normalise(raw: RawForm) -> Form:
    """A raw form into a contract form (issues found while reading values are added)."""
    parser = LAYOUTS.get(raw.layout)
    specs = parser.spec.field_specs if parser is not None else {}
    form = Form(layout=raw.layout, year=raw.year, header={}, budget={}, where=str(raw.where), kind=raw.kind)
    for name, value in raw.header.items():
        cleaned: object = None
        spec = specs.get(name) or FieldSpec(name, [])  # (a FieldSpec is made only for a name the layout lacks)
        section = "header_extra" if spec.extra else "header"
        if value is not None:
            key = f"{section}.{name}"
            form.sources[key] = str(value.where)
            form.origins[key] = value.origin or Origin.of_location(value.where)
            if value.text.strip():
                cleaned = _read_field(spec, value)
                if cleaned is None and spec.type != "text":
                    form.issues.append(_invalid(key, value, _WHAT[spec.type]))
        if spec.extra:
            form.extra[name] = cleaned  # type: ignore[assignment]
        else:
            form.header[name] = cleaned
    for name, value in raw.budget.items():
        amount = None
        if value is not None:
            key = f"budget.{name}"
            form.sources[key] = str(value.where)
            form.origins[key] = value.origin or Origin.of_location(value.where)
            if value.text.strip():
                amount = parse_money(value.text, value.unit)
                if amount is None:
                    form.issues.append(_invalid(key, value, "an amount of money"))
        form.budget[name] = amount
    for n, row in enumerate(raw.funds):
        form.funds.append(_fund(n, row, form))
    for n, row in enumerate(raw.tasks):
        form.tasks.append(_task(n, row, form))
    form.points = dict(raw.points)
    for item in raw.indicators:
        index = len(form.indicators)
        target = parse_target(item.target)
        actual = parse_target(item.actual) if item.actual is not None else None
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
                actual=actual.to_dict() if actual is not None else None,
                # (None: the layout has no such column; the field path is spelt only for a value.)
                weight=None if item.weight is None else _number(item.weight, f"indicators[{index}].weight",
                                                                item.where, form),
                score=None if item.score is None else _number(item.score, f"indicators[{index}].score",
                                                              item.where, form),
                note=(clean_text(item.note) or None) if item.note is not None else None,
                prior_year=parse_target(item.prior_year).to_dict() if item.prior_year is not None else None,
                period=item.period,
                origins={_ORIGIN_NAMES.get(name, name): origin for name, origin in item.origins.items()},
            )
        )
        if actual is not None and actual.kind == "missing" and target.kind != "missing":
            form.issues.append(Issue("missing_actual", "warning", f"{compact(item.level3) or '(no name)'}: a target "
                                     "and no 实际完成值", str(item.where), f"indicators[{index}].actual"))
    form.issues.extend(
        Issue(i.code, i.severity, i.message, str(i.where) if i.where else None, i.field) for i in raw.issues
    )
    return form


def _number(text: str | None, path: str, where: object, form: Form) -> str | None:
    """A weight, score or rate as a decimal string; a printed value that is no number is an issue."""
    if text is None or compact(text) in NULL_CELLS:  # blank, or printed as "—": nothing here
        return None
    value = parse_decimal(text)
    if value is None:
        form.issues.append(Issue("invalid_value", "error", f"{path}: {text.strip()!r} is not a number", str(where), path))
    return value


def _money_cell(path: str, value: RawValue | None, form: Form) -> str | None:
    """An amount of a money or task row in yuan; a printed value that does not read is flagged."""
    if value is None or compact(value.text) in NULL_CELLS:  # blank, or printed as "—"
        return None
    amount = parse_money(value.text, value.unit)
    if amount is None:
        form.issues.append(_invalid(path, value, "an amount of money"))
    return amount


def _fund(n: int, row: dict[str, RawValue | None], form: Form) -> dict[str, str | None]:
    item = row.get("item")
    out: dict[str, str | None] = {"item": item.text if item is not None else None}
    for column in ("initial", "full_year", "executed"):
        out[column] = _money_cell(f"funds[{n}].{column}", row.get(column), form)
    for column in ("rate", "weight", "score"):
        value = row.get(column)
        out[column] = _number(value.text, f"funds[{n}].{column}", value.where, form) if value is not None else None
    return out


def _task(n: int, row: dict[str, RawValue | None], form: Form) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for column in ("name", "content"):
        value = row.get(column)
        out[column] = (clean_text(value.text) or None) if value is not None else None
    for column in ("total", "fiscal_appropriation", "other_funds"):
        out[column] = _money_cell(f"tasks[{n}].{column}", row.get(column), form)
    return out
