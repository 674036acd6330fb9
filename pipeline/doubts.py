"""Values the reader doubted, flagged from their own origins (the cell each value was read from).

The readers put their doubt on the cell (``Cell.doubt``: an OCR confusion or a low confidence on a
scan, a number holding more than it prints in a spreadsheet); the layout parser copies it into the
value's :class:`~goalforms.parsers.grid.Origin`. So the parse stage needs no second look at the
rows: every value whose origin carries a doubt gets an issue naming its field.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from goalforms.parsers.grid import Location, Origin, Row
from goalforms.parsers.readers.ocr_repair import spacing_matters
from goalforms.parsers.readers.spreadsheet import FORMATS as SPREADSHEET_FORMATS
from goalforms.pipeline.model import Form, Issue

_BIG = 1 << 30


def doubt_issues(form: Form, fmt: str, rows: Sequence[Row] = (),
                 parse_target: Callable[[str], Any] | None = None) -> list[Issue]:
    """``low_confidence`` (scans) or ``rounded_number`` (spreadsheets) issues for ``form``'s doubted
    values, in the order their cells stand in ``rows`` (the form's rows). On a scan, a target is
    also flagged when its meaning hangs on a space the page cannot show (``parse_target``: the
    normaliser's, to read it with and without)."""
    if parse_target is None:
        from goalforms.pipeline.normalise import parse_target as read_target

        parse_target = read_target
    order: dict[Location, int] = {}
    if fmt == "scan" or fmt in SPREADSHEET_FORMATS:
        order = {row.where: i for i, row in reversed(list(enumerate(rows)))}
    if fmt == "scan":
        found = [(o, Issue("low_confidence", "warning", _ocr_message(form, name, o), _cell_where(o), name))
                 for name, o in _doubted(form, ("level3", "raw"))]
        found.sort(key=lambda item: _position(item[0], order))
        issues = [issue for _, issue in found]
        flagged = {issue.field for issue in issues}
        for index, indicator in enumerate(form.indicators):
            if f"indicators[{index}].raw" not in flagged and spacing_matters(indicator.raw, parse_target):
                issues.append(Issue("low_confidence", "warning",
                                    f"target {indicator.raw!r}: a scan cannot show whether a space was typed between "
                                    "Chinese and Latin/digits, and the target reads otherwise without it; check the "
                                    "spaces", indicator.where, f"indicators[{index}].raw"))
        return issues
    if fmt in SPREADSHEET_FORMATS:
        found = [(o, Issue("rounded_number", "warning", f"{name}: {o.doubt}", str(o.where), name))
                 for name, o in _doubted(form, ("raw",))]
        found.sort(key=lambda item: _position(item[0], order))
        return [issue for _, issue in found]
    return []


def _doubted(form: Form, indicator_fields: tuple[str, ...]) -> Iterator[tuple[str, Origin]]:
    for name, origin in form.origins.items():
        if origin.doubt and _value(form, name) is not None:
            yield name, origin
    for index, indicator in enumerate(form.indicators):
        for field in indicator_fields:
            origin = indicator.origins.get(field)
            if origin is not None and origin.doubt:
                yield f"indicators[{index}].{field}", origin


def _value(form: Form, name: str) -> object:
    section, key = name.split(".", 1)
    values = {"budget": form.budget, "header": form.header, "header_extra": form.extra}
    return values.get(section, {}).get(key)


def _ocr_message(form: Form, name: str, origin: Origin) -> str:
    if name.startswith("indicators["):
        index, field = name[len("indicators["):].split("].")
        return f"OCR doubt in {field} {getattr(form.indicators[int(index)], field)!r}: {origin.doubt}"
    return f"OCR doubt in {name}: {origin.doubt}"


def _cell_where(origin: Origin) -> str:
    return f"{origin.where}, column {origin.col + 1}" if origin.col is not None else str(origin.where)


def _position(origin: Origin, order: dict[Location, int]) -> tuple[int, int]:
    return (order.get(origin.where, _BIG), origin.col if origin.col is not None else -1)
