"""The tables of an evaluation report, found by their header labels and read by column.

Every reader gives a table as rows of cells; a report's tables are recognised by what their header
says (预算数 / 执行率, 2016年预算数, 计划数 / 实际数, 计划完成时间, 满意度评价内容 / 得分), never by
where they stand. A table runs from its header over blank lines to the first row that is not a
table row, is another table's header, or follows its 合计 row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import regex

from goalforms.parsers.grid import Row
from goalforms.parsers.reports.text import clean, compact

TOTAL_LABELS = ("合计", "总计", "总分", "合计得分", "总得分")
_YEAR_COLUMN = regex.compile(r"^(\d{4})年度?(.+)$")
_NUMBER_CELL = regex.compile(r"^[-+]?[\d,.]+%?$")

# Header label → key, per table kind. The first matching spelling wins, so longer ones come first.
BUDGET_COLUMNS: tuple[tuple[str, str], ...] = (
    ("调整后预算数", "adjusted_budget"), ("调整后预算", "adjusted_budget"), ("调整预算数", "adjusted_budget"),
    ("全年预算数", "adjusted_budget"),
    ("年初预算数", "budget"), ("预算数", "budget"), ("预算金额", "budget"), ("预算", "budget"),
    ("实际支出数", "spent"), ("支出数", "spent"), ("执行数", "spent"), ("实际支出", "spent"),
    ("支出金额", "spent"), ("实际执行数", "spent"),
    ("预算执行率", "execution_rate"), ("执行率", "execution_rate"),
)
OUTPUT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("计划数", "planned"), ("计划产出", "planned"), ("计划完成数", "planned"), ("实际数", "actual"),
    ("实际产出", "actual"), ("实际完成数", "actual"),
)
SCHEDULE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("计划完成时间", "planned"), ("计划时间", "planned"), ("实际完成时间", "actual"), ("实际时间", "actual"),
)
SATISFACTION_COLUMNS: tuple[tuple[str, str], ...] = (
    ("题目满意度", "rate"), ("满意度得分率", "rate"), ("满意率", "rate"), ("满意度", "rate"),
    ("分值", "max"), ("满分", "max"), ("得分", "score"),
)


def column_key(label: str, columns: tuple[tuple[str, str], ...]) -> str | None:
    key = compact(label).strip("()（）")
    for spelling, name in columns:
        if key == spelling or key.endswith(spelling) or key.startswith(spelling + "("):
            return name
    return None


@dataclass
class Table:
    kind: str  # score | budget | years | outputs | schedule | satisfaction
    header: int  # row index of the header
    columns: dict[int, str]  # column index → key (for years: "2016:budget")
    rows: list[int] = field(default_factory=list)  # row indices of the body, blank rows left out


def _labels(row: Row) -> dict[int, str]:
    """Column index → compact header label, blank cells left out."""
    return {c.col: compact(c.text) for c in row.cells if compact(c.text)}


def header_kind(row: Row) -> tuple[str, dict[int, str]] | None:
    """What table a row is the header of, with its columns; None for a row that is no header.

    A header is a table row of short labels (no numbers, no sentences) naming the columns its kind
    needs: a data row of a workpaper (指标解释 | 计划产出数与…) never passes for one."""
    if not row.in_table or len(row.filled) < 2:
        return None
    labels = _labels(row)
    if any(len(c) > 16 or _NUMBER_CELL.match(c) for c in labels.values()):
        return None
    values = list(labels.values())
    if any("三级指标" in c or c == "指标" for c in values) and "分值" in values and "得分" in values:
        return "score", labels
    years = {i: m for i, c in labels.items() if (m := _YEAR_COLUMN.match(c))}
    if len(years) >= 2:
        columns = {}
        for i, m in years.items():
            key = column_key(m.group(2), BUDGET_COLUMNS)
            if key:
                columns[i] = f"{m.group(1)}:{key}"
        if len(columns) >= 2:
            return "years", columns
    first = values[0]
    satisfaction = _columns(labels, SATISFACTION_COLUMNS, skip_first=True)
    if (first.startswith("满意度") or "评价内容" in first) and "score" in satisfaction.values():
        return "satisfaction", satisfaction
    for kind, spellings, needed in (("schedule", SCHEDULE_COLUMNS, {"planned", "actual"}),
                                    ("outputs", OUTPUT_COLUMNS, {"planned", "actual"}),
                                    ("budget", BUDGET_COLUMNS, {"execution_rate", "spent"})):
        columns = _columns(labels, spellings, skip_first=True)
        if needed <= set(columns.values()):
            return kind, columns
    return None


def _columns(labels: dict[int, str], spellings: tuple[tuple[str, str], ...], skip_first: bool) -> dict[int, str]:
    columns: dict[int, str] = {}
    first = min(labels, default=0)
    for i, label in labels.items():
        if skip_first and i == first:
            continue
        key = column_key(label, spellings)
        if key and key not in columns.values():
            columns[i] = key
    return columns


def is_total(label: str) -> bool:
    return compact(label) in TOTAL_LABELS


def find_tables(rows: list[Row], start: int, end: int, is_heading: Callable[[int], bool]) -> list[Table]:
    """Every recognised table of ``rows[start:end]`` in order (row indices are those of ``rows``).
    ``is_heading`` tells a section heading, which ends a table even when the reader marked it as a
    table row."""
    tables: list[Table] = []
    i = start
    while i < end:
        found = header_kind(rows[i])
        if found is None:
            i += 1
            continue
        kind, columns = found
        table = Table(kind, i, columns)
        j = i + 1
        last = i
        while j < end:
            row = rows[j]
            if row.blank:
                j += 1
                continue
            if not row.in_table or not _continues(rows[last], row) or is_heading(j) or header_kind(row) is not None:
                break
            last = j
            table.rows.append(j)
            j += 1
            if any(is_total(c.text) for c in row.filled[: 1 if kind != "score" else None]):
                break
        tables.append(table)
        i = j
    return tables


def _continues(previous: Row, row: Row) -> bool:
    """Whether ``row`` belongs to the table of ``previous``: the same table of the reader, or the
    first row of a new page (a PDF table split by a page break comes as a new table per page)."""
    if row.where.table == previous.where.table:
        return True
    return row.where.page is not None and previous.where.page is not None and row.where.page > previous.where.page


def item_and_cells(row: Row) -> tuple[str, dict[int, str]]:
    """The first filled cell (the item) and the other cells by column index."""
    filled = row.filled
    if not filled:
        return "", {}
    first = filled[0]
    return clean(first.text), {c.col: c.text for c in row.cells if c.col != first.col}
