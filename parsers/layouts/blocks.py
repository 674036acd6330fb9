"""Grid blocks of the header zone: the money block of a self-evaluation (rows × columns) and the
task table of a department form. Both are declared in the layout's TOML (``[money]``, ``[tasks]``).

A block starts at the row naming two or more of its columns (a second row of column names
right below it — the 总额/财政拨款/其他资金 under 预算金额 — adds its columns). A value cell
belongs to the column whose header is nearest to it: in a Word/spreadsheet grid the columns are
exact, in a space-aligned dump the cells' centres. The rows a block reads are taken out of the
header zone, so no label–value pair is read from them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from goalforms.parsers import roles
from goalforms.parsers.grid import Cell, Row
from goalforms.parsers.labels import compact
from goalforms.parsers.layouts.lookups import lookups
from goalforms.parsers.layouts.raw import RawForm, RawValue
from goalforms.parsers.layouts.wrapping import display_width

if TYPE_CHECKING:
    from goalforms.parsers.layouts.spec import LayoutSpec


def centre(row: Row, cell: Cell) -> float:
    """A cell's horizontal centre: in a space-aligned dump its column plus half its printed width,
    in a grid its column plus half its span."""
    return cell.col + (display_width(cell.text.strip()) / 2 if row.soft else (cell.col_span - 1) / 2)


def nearest(columns: dict[str, float], position: float) -> str:
    return min(columns, key=lambda name: (abs(columns[name] - position), columns[name]))


def _header(rows: list[Row], start: int, column_of: object) -> tuple[dict[str, float], int] | None:
    """Column positions named by rows[start] (and the row below it), and the first data row."""
    find = column_of  # callable: text -> column name | None
    columns: dict[str, float] = {}
    for cell in rows[start].filled:
        name = find(cell.text)  # type: ignore[operator]
        if name is not None:
            columns.setdefault(name, centre(rows[start], cell))
    if len(columns) < 2:
        return None
    end = start + 1
    if end < len(rows):
        below = {find(c.text): centre(rows[end], c) for c in rows[end].filled if find(c.text)}  # type: ignore[operator]
        if len(below) >= 2:
            for name, position in below.items():
                columns.setdefault(name, position)  # type: ignore[arg-type]
            end += 1
    return columns, end


def read_blocks(rows: list[Row], spec: LayoutSpec, form: RawForm) -> list[Row]:
    """Read the layout's money block and task table from the header-zone rows; return the rest."""
    used: set[int] = set()
    if spec.money is not None:
        used |= _read_money(rows, spec, form)
    if spec.tasks is not None:
        used |= _read_tasks(rows, spec, form)
    return [row for i, row in enumerate(rows) if i not in used]


def _read_money(rows: list[Row], spec: LayoutSpec, form: RawForm) -> set[int]:

    money = spec.money
    assert money is not None
    for start in range(len(rows)):
        found = _header(rows, start, money.column_of)
        if found is None:
            continue
        columns, i = found
        used = set(range(start, i))
        seen: set[str] = set()
        for n in range(i, len(rows)):
            row = rows[n]
            cells = row.filled
            hit = next(((k, c) for k, c in enumerate(cells) if money.row_of(c.text)), None)
            if hit is None:
                if row.blank:
                    continue
                break
            k, label = hit
            item = money.row_of(label.text)
            assert item is not None
            if item in seen:
                break
            seen.add(item)
            used.add(n)
            entry: dict[str, RawValue | None] = dict.fromkeys(money.columns)
            for cell in cells[k + 1 :]:
                name = nearest(columns, centre(row, cell))
                if entry[name] is None:
                    entry[name] = RawValue(cell.text, row.where, money.unit)
                    roles.note(row.where, cell, "money", name)  # goalforms debug
            form.funds.append({"item": RawValue(item, row.where), **entry})
            if item not in form.budget or form.budget[item] is None:
                form.budget[item] = entry.get(money.budget_column)
        return used
    return set()


def _read_tasks(rows: list[Row], spec: LayoutSpec, form: RawForm) -> set[int]:

    tasks = spec.tasks
    assert tasks is not None
    for start in range(len(rows)):
        found = _header(rows, start, tasks.column_of)
        if found is None or "name" not in found[0]:
            continue
        columns, i = found
        used = set(range(start, i))
        for n in range(i, len(rows)):
            row = rows[n]
            if row.blank:
                continue
            cells = row.filled
            if lookups(spec).match_label(cells[0].text) is not None:
                break  # the next labelled part of the form (年度总体目标)
            used.add(n)
            entry: dict[str, RawValue | None] = dict.fromkeys(tasks.columns)
            for cell in cells:
                name = nearest(columns, centre(row, cell))
                if entry[name] is None:
                    entry[name] = RawValue(cell.text, row.where, tasks.unit)
                    roles.note(row.where, cell, "header value" if name in ("name", "content") else "money", name)
            if compact(cells[0].text) in tasks.total_row:  # 金额合计, whichever column it spans
                for key in ("total", "fiscal_appropriation", "other_funds"):
                    form.budget[key] = entry.get(key)
                break
            form.tasks.append(entry)
        return used
    return set()
