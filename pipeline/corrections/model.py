"""What a correction is about: field paths, the state a form is in, a clerk's change.

A form's state (:class:`FormState`) is the parse with its corrections replayed so far; a
:class:`Change` is what a clerk asks for, before it becomes a stored ``Correction`` record.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from goalforms.errors import GoalformsError
from goalforms.pipeline.normalise import parse_target

SET, ADD, DELETE, MOVE, REORDER, RESOLVE = "set", "add", "delete", "move", "reorder", "resolve"
ACTIONS = (SET, ADD, DELETE, MOVE, REORDER, RESOLVE)
ROW_FIELDS = ("level1", "level2", "level3", "raw")
# Row columns of issue 12 a clerk can correct where the layout has them (docs/contract.md).
LATER_ROW_FIELDS = ("actual", "weight", "score", "note")
FORM_FIELD = "form"  # the field of a resolved issue that concerns the whole form
ROWS = "indicators"  # the field of an added row

_ROW = re.compile(r"^indicators\[(?P<ref>\d+|c\d+)\]$")
_ROW_FIELD = re.compile(
    r"^(?P<row>indicators\[(?:\d+|c\d+)\])\.(?P<name>level1|level2|level3|raw|actual|weight|score|note)$")
# An issue's field on a parsed row: the row, then the rest of the path (``indicators[3].raw``).
_ISSUE_ROW = re.compile(r"^(?P<row>indicators\[\d+\])(?P<rest>.*)$")

# Indicator columns of issue 12 that the corrected copy carries from the parse (migration 0008_siblings).
SIBLING_ROW_COLUMNS = (
    "actual_raw", "actual_kind", "actual_op", "actual_value", "actual_unit", "weight", "score", "note",
    "prior_year_raw", "prior_year_kind", "prior_year_op", "prior_year_value", "prior_year_unit", "period",
)


class CorrectionError(GoalformsError):
    """A correction was refused; nothing was saved. ``problems`` holds one sentence per refusal."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__(None, "; ".join(self.problems))


class NotFound(GoalformsError):
    """No such form or correction."""


# --- the state a form is in: the parse, then each correction replayed over it ----------------------


@dataclass
class RowState:
    key: str  # indicators[3] (parsed) or indicators[c17] (added by correction 17)
    level1: str | None
    level2: str | None
    level3: str
    raw: str
    kind: str
    op: str | None
    value: str | None
    unit: str | None
    dimension: str | None
    indicator_id: int  # indicators.id, or minus the id of the correction that added the row
    parse_index: int | None
    source_line: int | None
    source_location: str | None
    corrected_by: dict[str, int] = field(default_factory=dict)  # row field -> last correction that set it
    # Later columns (issue 12): the actual value's printed text, weight and score as decimal
    # strings, the note; None where the layout has no such column.
    actual: str | None = None
    weight: str | None = None
    score: str | None = None
    note: str | None = None

    def actual_reading(self) -> dict[str, str | None] | None:
        """The actual value read like a target (None when the row has none)."""
        return parse_target(self.actual).to_dict() if self.actual is not None else None
    # The parsed row's other issue-12 columns (prior year, period; the actual as normalised), carried
    # into the corrected copy; a row a clerk added has none.
    sibling: dict[str, Any] = field(default_factory=dict)

    def snapshot(self) -> dict[str, Any]:
        """What identifies a row to a delete: its levels, name and target."""
        return {"level1": self.level1, "level2": self.level2, "level3": self.level3, "raw": self.raw}


@dataclass
class IssueState:
    issue_id: int
    code: str
    severity: str
    message: str
    location: str | None
    field: str | None
    resolved_by: int | None = None  # the resolving correction

    @property
    def target(self) -> str:
        return self.field or FORM_FIELD


@dataclass
class FormState:
    form_id: int
    document_path: str
    ordinal: int
    layout: str
    year: int | None
    header: dict[str, Any]  # contract values: text, ISO dates, booleans
    extra: dict[str, Any]
    budget: dict[str, str | None]  # decimal strings in yuan
    rows: list[RowState]
    issues: list[IssueState]
    corrected_by: dict[str, int] = field(default_factory=dict)  # year/header/budget path -> correction

    def row(self, key: str) -> RowState | None:
        return next((r for r in self.rows if r.key == key), None)

    def position(self, row: RowState) -> int:
        return self.rows.index(row) + 1

    def value(self, path: str) -> Any:
        """The current value at a year/header/header_extra/budget path (KeyError if there is none)."""
        if path == "year":
            return self.year
        section, _, name = path.partition(".")
        mapping = {"header": self.header, "header_extra": self.extra, "budget": self.budget}.get(section)
        if mapping is None or name not in mapping:
            raise KeyError(path)
        return mapping[name]


_UNSET: Any = object()  # a Change's expected value when the clerk gave none (None is a value)


@dataclass
class Change:
    """One change a clerk asks for.

    ``new`` is what the clerk typed (text) or, from a JSON file, a JSON value; for ``add`` a dict
    with level1, level2, level3, raw and ``after`` (the key of the row it follows, None: first);
    for ``move`` {level1, level2}; for ``reorder`` {position}; for ``resolve`` the issue's code
    (and message, when several issues share code and field). ``expected`` is the value the clerk
    saw: when given, the change is refused if the form shows something else (someone changed it
    meanwhile, or a bulk file was written against another parse).
    """

    action: str
    field: str
    new: Any = None
    expected: Any = _UNSET
    note: str | None = None
    level3: str | None = None  # for a bulk file: the row's 三级 name, checked like expected


def as_text(value: Any) -> str:
    """A value as a clerk reads and types it: '' for nothing, 是/否 for booleans; dicts item by item."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dict):
        return json.dumps({k: as_text(v) for k, v in sorted(value.items())}, ensure_ascii=False)
    return str(value)
