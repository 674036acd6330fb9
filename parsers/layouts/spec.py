"""A layout as data: one TOML file, checked when loaded (``docs/layouts.md`` is the reference).

Everything a layout prints is named here — titles, header fields with their types, the money
block, text blocks, the task table, the indicator table with a role for every column, the
vocabulary with its dimensions, the form's kind. No Python lists a layout's fields: the model,
normalise, corrections and the web app read them from the loaded specs.

A mistake in a file raises :class:`LayoutError` naming the file and the key
(``my.toml: fields.plan_start.type: 'datum' is not one of text, money, …``).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import regex

from goalforms.errors import GoalformsError
from goalforms.parsers.labels import Vocabulary, compact, label_pattern

FIELD_TYPES = ("text", "money", "date", "year", "enum", "bool", "decimal")
KINDS = ("target", "self_evaluation", "department")
# Roles of indicator-table columns. level1/level2/level3/target are classified by content (text
# dumps shift cells); the others are read from the column their header names.
TABLE_ROLES = ("level1", "level2", "level3", "target", "actual", "weight", "score", "note", "prior_year")
POSITION_ROLES = ("actual", "weight", "score", "note", "prior_year")
FUND_ITEMS = ("total", "fiscal_appropriation", "carryover", "other_funds")
FUND_COLUMNS = ("initial", "full_year", "executed", "rate", "weight", "score")
TASK_COLUMNS = ("name", "content", "total", "fiscal_appropriation", "other_funds")
MONEY_UNITS = ("元", "万元")
PERIODS = ("long_term", "annual")


class LayoutError(GoalformsError):
    """A layout file that cannot be used: the path is the file, the reason names the key."""


@dataclass(frozen=True)
class LabelMatch:
    kind: str  # "field", "text_block", "budget" or "caption"
    name: str  # contract field name ("" for captions)
    rest: str  # text after the label in the same cell (the value, when present)


@dataclass(frozen=True)
class FieldSpec:
    name: str
    labels: list[str]
    type: str = "text"
    # A header text outside the contract's header keys (header_extra): 项目概况, 立项依据 …
    extra: bool = False
    values: tuple[str, ...] = ()  # enum: the allowed values
    # The value goes on in the rows below while their label cell is blank (numbered paragraphs
    # 目标1：… 目标2：… one per row); the lines are joined with "\n".
    continued: bool = False


@dataclass
class MoneyBlock:
    """The money block of a self-evaluation: rows (年度资金总额 …) × columns (年初预算数 …)."""

    unit: str
    rows: dict[str, list[str]]
    columns: dict[str, list[str]]
    budget_column: str  # the column whose amounts fill budget.<row>

    def row_of(self, text: str) -> str | None:
        key = compact(text)
        # Longest spelling first: 其中：当年财政拨款 before 当年财政拨款.
        for name, spellings in sorted(self.rows.items(), key=lambda kv: -max(map(len, kv[1] or [""]))):
            if any(key == s or key.startswith(s) for s in spellings):
                return name
        return None

    def column_of(self, text: str) -> str | None:
        key = compact(text)
        return next((name for name, spellings in self.columns.items() if key in spellings), None)


@dataclass
class TaskTable:
    """The task table of a department form: one row per task, a totals row."""

    unit: str
    columns: dict[str, list[str]]
    total_row: list[str]

    def column_of(self, text: str) -> str | None:
        key = compact(text)
        return next((name for name, spellings in self.columns.items() if key in spellings), None)


@dataclass
class LayoutSpec:
    id: str
    name: str
    titles: list[str]
    fields: dict[str, list[str]]
    text_blocks: dict[str, list[str]]
    budget: dict[str, list[str]]
    captions: list[str]
    table: dict[str, list[str]]
    vocabulary: Vocabulary
    kind: str = "target"
    source: str = "built-in"
    path: str = ""
    field_specs: dict[str, FieldSpec] = field(default_factory=dict)
    budget_unit: str = "元"
    money: MoneyBlock | None = None
    tasks: TaskTable | None = None
    periods: dict[str, list[str]] = field(default_factory=dict)  # period -> table captions
    total_row: list[str] = field(default_factory=list)  # 总分 row of a self-evaluation
    # Points printed in 一级 labels (产出指标（50分）) are split off into forms[].points.
    points_in_labels: bool = False
    # The labels longest first (text, kind, name); their patterns are compiled when the layout first
    # matches a cell (start-up: compiling every layout's patterns costs more than reading the files).
    _label_texts: list[tuple[str, str, str]] = field(default_factory=list, init=False, repr=False, compare=False)
    _labels: list[tuple[regex.Pattern[str], str, str]] | None = field(default=None, init=False, repr=False,
                                                                      compare=False)
    # Speed (every cell of a form is tried against every label): the labels that can match a cell
    # starting with a given character, in the same order; and the column of each header name.
    _by_first: dict[str, list[tuple[regex.Pattern[str], str, str]]] = field(default_factory=dict, init=False,
                                                                          repr=False, compare=False)
    _anywhere: list[tuple[regex.Pattern[str], str, str]] = field(default_factory=list, init=False, repr=False,
                                                                 compare=False)
    _columns: dict[str, str] = field(default_factory=dict, repr=False)
    _target_prefixes: frozenset[str] = field(default_factory=frozenset, repr=False)

    def __post_init__(self) -> None:
        labels: list[tuple[str, str, str]] = []
        for kind, table in (("field", self.fields), ("text_block", self.text_blocks), ("budget", self.budget)):
            for name, spellings in table.items():
                labels += [(spelling, kind, name) for spelling in spellings]
        labels += [(caption, "caption", "") for caption in self.captions]
        labels += [(caption, "caption", "") for captions in self.periods.values() for caption in captions]
        # Longest first, so 项目资金总额 wins over 项目资金 and 同名项目上年预算执行数 over …预算额.
        labels.sort(key=lambda item: -len(compact(item[0])))
        self._label_texts = labels
        for column, names in self.table.items():
            if column != "side_labels":
                for name in names:
                    self._columns.setdefault(name, column)
        self._target_prefixes = frozenset(name[:i] for name in self.table.get("target", [])
                                          for i in range(2, len(name) + 1))
        for table in (self.fields, self.text_blocks):
            for name in table:
                self.field_specs.setdefault(name, FieldSpec(name, table[name]))

    def compile_labels(self) -> list[tuple[regex.Pattern[str], str, str]]:
        labels = [(label_pattern(text), kind, name) for text, kind, name in self._label_texts]
        firsts = [_first_chars(text) for text, _, _ in self._label_texts]
        for key in {ch for chars in firsts if chars for ch in chars}:
            self._by_first[key] = [entry for entry, chars in zip(labels, firsts, strict=True)
                                   if not chars or key in chars]
        self._anywhere = [entry for entry, chars in zip(labels, firsts, strict=True) if not chars]
        self._labels = labels
        return labels

    def match_label(self, text: str) -> LabelMatch | None:
        """The header/budget label a cell starts with, if any."""
        if self._labels is None:
            self.compile_labels()
        # A pattern matches from the first non-blank character (label_pattern: ``^\s*`` then the
        # label's first character), so only the labels starting with that character are tried.
        for pattern, kind, name in self._by_first.get(text.lstrip()[:1], self._anywhere):
            m = pattern.match(text)
            if m:
                return LabelMatch(kind, name, m.group("rest").strip())
        return None

    def is_title(self, text: str) -> bool:
        return compact(text) in self.titles

    def table_column(self, text: str) -> tuple[str, bool] | None:
        """Which table-header column a cell names, and whether the name was cut short (``指标``
        for ``指标目标值``: the cells of that column lost their right part)."""
        key = compact(text)
        if not key:
            return None
        column = self._columns.get(key)
        if column is not None:
            return column, False
        # Only the target column is printed last, so only its header can lose its right part.
        if key in self._target_prefixes:  # a name of two or more characters that starts a target name
            return "target", True
        return None

    @property
    def side_labels(self) -> list[str]:
        return self.table.get("side_labels", [])

    @property
    def header_roles(self) -> set[str]:
        """The columns a row must name to be the indicator table's header: the level columns the
        layout prints (and the target column when it prints fewer than two)."""
        roles = {r for r in ("level1", "level2", "level3") if self.table.get(r)}
        return roles if len(roles) >= 2 else roles | {"target"}

    @property
    def position_roles(self) -> list[str]:
        """Declared columns read by their position (actual, weight, score, note, prior_year)."""
        return [r for r in POSITION_ROLES if self.table.get(r)]

    def header_keys(self) -> list[str]:
        return [n for n, f in self.field_specs.items() if not f.extra]

    def labels(self) -> list[str]:
        """Every label this layout prints (for telling the closest layout when none matched)."""
        out = [s for table in (self.fields, self.text_blocks, self.budget) for v in table.values() for s in v]
        out += [s for role, names in self.table.items() if role != "side_labels" for s in names]
        if self.money is not None:
            out += [s for v in self.money.rows.values() for s in v]
            out += [s for v in self.money.columns.values() for s in v]
        if self.tasks is not None:
            out += [s for v in self.tasks.columns.values() for s in v]
        return list(dict.fromkeys(compact(s) for s in out if s))


def _first_chars(label: str) -> frozenset[str]:
    """The characters a cell matching ``label_pattern(label)`` can start with (after blanks);
    empty when the label is blank (then it is tried on every cell)."""
    first = label.lstrip()[:1]
    for variants in ("：:", "(（", ")）"):
        if first and first in variants:
            return frozenset(variants)
    return frozenset(first)


# -- loading and checking -------------------------------------------------------------------------


class _Checker:
    """Reads a parsed TOML document; every complaint names the file and the key."""

    def __init__(self, path: str) -> None:
        self.path = path

    def fail(self, key: str, why: str) -> LayoutError:
        return LayoutError(self.path, f"{key}: {why}")

    def string(self, data: dict[str, Any], key: str, where: str, default: str | None = None) -> str:
        value = data.get(key, default)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(f"{where}{key}", "a non-empty string is required" if key not in data
                            else f"{value!r} is not a non-empty string")
        return value

    def strings(self, value: Any, key: str, allow_empty: bool = True) -> list[str]:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise self.fail(key, f"{value!r} is not a list of non-empty strings")
        if not value and not allow_empty:
            raise self.fail(key, "at least one spelling is required")
        return value

    def table(self, data: dict[str, Any], key: str, where: str = "") -> dict[str, Any]:
        value = data.get(key, {})
        if not isinstance(value, dict):
            raise self.fail(f"{where}{key}", f"a table is required, not {type(value).__name__}")
        return value

    def known(self, data: dict[str, Any], allowed: tuple[str, ...] | set[str], where: str) -> None:
        for key in data:
            if key not in allowed:
                raise self.fail(f"{where}{key}", f"unknown key (expected one of {', '.join(sorted(allowed))})")

    def labels(self, data: dict[str, Any], where: str, allowed: tuple[str, ...] | None = None) -> dict[str, list[str]]:
        if allowed is not None:
            self.known(data, allowed, where)
        return {name: self.strings(value, f"{where}{name}") for name, value in data.items()}


_TOP_KEYS = ("id", "name", "kind", "titles", "fields", "text_blocks", "budget", "budget_unit", "captions",
             "money", "tasks", "table", "vocabulary")
_FIELD_KEYS = ("labels", "type", "extra", "values", "continued")


def _field(check: _Checker, name: str, value: Any, where: str) -> FieldSpec:
    key = f"{where}{name}"
    if not isinstance(value, dict):
        return FieldSpec(name, check.strings(value, key))
    check.known(value, _FIELD_KEYS, f"{key}.")
    kind = value.get("type", "text")
    if kind not in FIELD_TYPES:
        raise check.fail(f"{key}.type", f"{kind!r} is not one of {', '.join(FIELD_TYPES)}")
    extra, continued = value.get("extra", False), value.get("continued", False)
    for flag, given in (("extra", extra), ("continued", continued)):
        if not isinstance(given, bool):
            raise check.fail(f"{key}.{flag}", f"{given!r} is not true or false")
    values = tuple(check.strings(value.get("values", []), f"{key}.values"))
    if kind == "enum" and not values:
        raise check.fail(f"{key}.values", "an enum field needs its list of values")
    return FieldSpec(name, check.strings(value.get("labels", []), f"{key}.labels"), kind, extra, values, continued)


def parse_spec(text: str, path: str, source: str = "built-in") -> LayoutSpec:
    """A layout from the text of its TOML file; :class:`LayoutError` names the file and the key."""
    check = _Checker(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LayoutError(path, f"not valid TOML: {exc}") from exc
    check.known(data, _TOP_KEYS, "")
    layout_id = check.string(data, "id", "")
    if not regex.fullmatch(r"[A-Za-z0-9_\-]+", layout_id):
        raise check.fail("id", f"{layout_id!r}: letters, digits, _ and - only")
    kind = data.get("kind", "target")
    if kind not in KINDS:
        raise check.fail("kind", f"{kind!r} is not one of {', '.join(KINDS)}")
    titles = check.strings(data.get("titles"), "titles", allow_empty=False) if "titles" in data else None
    if titles is None:
        raise check.fail("titles", "at least one title is required")
    specs: dict[str, FieldSpec] = {}
    for section in ("fields", "text_blocks"):
        for name, value in check.table(data, section).items():
            if name in specs:
                raise check.fail(f"{section}.{name}", "declared twice (in fields and text_blocks)")
            specs[name] = _field(check, name, value, f"{section}.")
    fields = {n: f.labels for n, f in specs.items() if n in check.table(data, "fields")}
    blocks = {n: f.labels for n, f in specs.items() if n in check.table(data, "text_blocks")}
    budget = check.labels(check.table(data, "budget"), "budget.")
    budget_unit = data.get("budget_unit", "元")
    if budget_unit not in MONEY_UNITS:
        raise check.fail("budget_unit", f"{budget_unit!r} is not one of {', '.join(MONEY_UNITS)}")
    captions_data = check.table(data, "captions")
    check.known(captions_data, ("labels",), "captions.")
    captions = check.strings(captions_data.get("labels", []), "captions.labels")
    table_data = check.table(data, "table")
    if not table_data:
        raise check.fail("table", "the indicator table is required ([table] with a role per column)")
    check.known(table_data, (*TABLE_ROLES, "side_labels", "periods", "total_row", "points_in_labels"), "table.")
    table = {role: [compact(v) for v in check.strings(names, f"table.{role}")]
             for role, names in table_data.items() if role in (*TABLE_ROLES, "side_labels")}
    if not table.get("target"):
        raise check.fail("table.target", "the target column's header is required")
    if not table.get("level3"):
        raise check.fail("table.level3", "the indicator name column's header is required")
    periods = check.labels(check.table(table_data, "periods", "table."), "table.periods.", PERIODS)
    total_row = check.strings(table_data.get("total_row", []), "table.total_row")
    points = table_data.get("points_in_labels", False)
    if not isinstance(points, bool):
        raise check.fail("table.points_in_labels", f"{points!r} is not true or false")
    vocab_data = check.table(data, "vocabulary")
    for level1, children in vocab_data.items():
        if not isinstance(children, dict) or not all(isinstance(v, str) for v in children.values()):
            raise check.fail(f"vocabulary.{level1}", "a table of level-2 name = \"dimension\" is required")
    money = _money(check, check.table(data, "money")) if "money" in data else None
    tasks = _tasks(check, check.table(data, "tasks")) if "tasks" in data else None
    return LayoutSpec(
        id=layout_id,
        name=check.string(data, "name", ""),
        titles=[compact(t) for t in titles],
        fields=fields,
        text_blocks=blocks,
        budget=budget,
        captions=captions,
        table=table,
        vocabulary=Vocabulary(vocab_data),
        kind=kind,
        source=source,
        path=path,
        field_specs=specs,
        budget_unit=budget_unit,
        money=money,
        tasks=tasks,
        periods={p: [compact(s) for s in v] for p, v in periods.items()},
        total_row=[compact(s) for s in total_row],
        points_in_labels=points,
    )


def _unit(check: _Checker, data: dict[str, Any], where: str) -> str:
    unit = data.get("unit", "元")
    if unit not in MONEY_UNITS:
        raise check.fail(f"{where}unit", f"{unit!r} is not one of {', '.join(MONEY_UNITS)}")
    return str(unit)


def _money(check: _Checker, data: dict[str, Any]) -> MoneyBlock:
    check.known(data, ("unit", "rows", "columns", "budget_column"), "money.")
    rows = check.labels(check.table(data, "rows", "money."), "money.rows.", FUND_ITEMS)
    columns = check.labels(check.table(data, "columns", "money."), "money.columns.", FUND_COLUMNS)
    if not rows or not columns:
        raise check.fail("money.rows" if not rows else "money.columns", "at least one entry is required")
    budget_column = data.get("budget_column", "full_year")
    if budget_column not in columns:
        raise check.fail("money.budget_column", f"{budget_column!r} is not one of the block's columns")
    return MoneyBlock(_unit(check, data, "money."),
                      {k: [compact(s) for s in v] for k, v in rows.items()},
                      {k: [compact(s) for s in v] for k, v in columns.items()}, budget_column)


def _tasks(check: _Checker, data: dict[str, Any]) -> TaskTable:
    check.known(data, ("unit", "columns", "total_row"), "tasks.")
    columns = check.labels(check.table(data, "columns", "tasks."), "tasks.columns.", TASK_COLUMNS)
    if "name" not in columns:
        raise check.fail("tasks.columns.name", "the task name column is required")
    total_row = check.strings(data.get("total_row", []), "tasks.total_row")
    return TaskTable(_unit(check, data, "tasks."), {k: [compact(s) for s in v] for k, v in columns.items()},
                     [compact(s) for s in total_row])


def load_file(path: Path, source: str) -> LayoutSpec:
    """Load and check one layout file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LayoutError(str(path), f"cannot be read: {exc}") from exc
    return parse_spec(text, str(path), source)

