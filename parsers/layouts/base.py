"""The skeleton every layout parser follows, and what it produces.

A layout parser takes the rows of one form (from its title to the next form) and returns a
:class:`RawForm`: header and budget values as the cells printed them (with their location),
indicators with their recovered hierarchy, and the issues met on the way. Cleaning the values
(money, dates, targets) is the next stage's job (``pipeline/normalise.py``).

Stages, fixed once here: split the rows into header zone / indicator table / trailing fragments →
read label–value pairs → read text blocks → read the indicator table. A layout overrides a hook
only where it really differs.
"""

from __future__ import annotations

import regex

from goalforms.parsers import roles
from goalforms.parsers.grid import Cell, Origin, Row
from goalforms.parsers.labels import clean_text, compact
from goalforms.parsers.layouts import flowing
from goalforms.parsers.layouts.blocks import read_blocks
from goalforms.parsers.layouts.continuation import flag_placements, rebuild_rows
from goalforms.parsers.layouts.lookups import lookups
from goalforms.parsers.layouts.raw import RawForm, RawIssue, RawValue
from goalforms.parsers.layouts.spec import LayoutSpec
from goalforms.parsers.layouts.table import (
    TableHeader,
    find_table_header,
    first_period,
    periods_by_row,
    read_indicator_table,
)
from goalforms.parsers.layouts.wrapping import display_width


def _centre(row: Row, cell: Cell) -> float:
    """Horizontal centre of a cell: its column, plus half its printed width in a space-aligned dump."""
    return cell.col + (display_width(cell.text.strip()) / 2 if row.soft else 0)


_YEAR = regex.compile(r"[(（]\s*(\d{4})\s*年\s*度?\s*[)）]|(\d{4})\s*年\s*度")


class LayoutParser:
    """Parse one form of any layout: everything layout-specific is in its :class:`LayoutSpec`."""

    def __init__(self, spec: LayoutSpec) -> None:
        self.spec = spec

    def parse(self, rows: list[Row]) -> RawForm:
        if any(row.flowing for row in rows):
            return flowing.parse_flowing(self, rows)  # cells split by the labels, then parsed as below
        rows, placements = rebuild_rows(rows, self.spec)
        roles.seen(rows)  # goalforms debug: the rows as read, and (roles.note) what each cell was taken for
        roles.note(rows[0].where, None, "title")
        form = RawForm(layout=self.spec.id, year=self.find_year(rows), where=rows[0].where, kind=self.spec.kind)
        for name in list(self.spec.fields) + list(self.spec.text_blocks):
            form.header[name] = None
        for name in self.spec.budget:
            form.budget[name] = None
        table_at = find_table_header(rows, self.spec)
        header_rows = rows[1:table_at] if table_at is not None else rows[1:]
        header_rows = read_blocks(header_rows, self.spec, form)
        self.read_label_values(header_rows, form)
        self.read_text_blocks(header_rows, form)
        if table_at is None:
            form.issues.append(
                RawIssue("missing_table", "error", self.missing_table(rows), rows[0].where)
            )
            flag_placements(placements, form)
            return form
        header = TableHeader.from_row(rows[table_at], self.spec)
        table_rows, fragments = self.split_fragments(rows[table_at + 1 :])
        for row in [rows[table_at], *fragments]:
            roles.note(row.where, None, "table header" if row is rows[table_at] else "fragment")
        period = first_period(rows[: table_at + 1], self.spec)
        periods = periods_by_row(rows[table_at + 1 :], self.spec, period) if self.spec.periods else None
        read_indicator_table(header, table_rows, self.spec, form, period, periods)
        self.check_truncation(header, fragments, form)
        flag_placements(placements, form)
        return form

    def missing_table(self, rows: list[Row]) -> str:
        """Why no table header was found: which of the layout's column headers are missing."""
        cells = {compact(c.text) for row in rows for c in row.filled}
        wanted = {role: self.spec.table.get(role, []) for role in sorted(self.spec.header_roles)}
        missing = ["/".join(names) for names in wanted.values() if not cells & set(names)]
        found = ["/".join(sorted(cells & set(names))) for names in wanted.values() if cells & set(names)]
        return (f"no indicator table header found in this form (layout {self.spec.id}): "
                f"{'、'.join(missing) or 'the column headers on one row'} not found"
                + (f"; found {'、'.join(found)}" if found else ""))

    # -- hooks ---------------------------------------------------------------------------------

    def find_year(self, rows: list[Row]) -> int | None:
        for row in rows[:6]:
            m = _YEAR.search(row.text())
            if m:
                return int(m.group(1) or m.group(2))
        return None

    def read_label_values(self, rows: list[Row], form: RawForm) -> None:
        """Label–value pairs: the value is in the label's cell after it, or in the next non-empty
        cell of the row unless that cell is itself a label. A later non-empty value of a label
        printed twice (其他资金) wins over an earlier blank one."""
        open_field: tuple[str, int] | None = None  # a ``continued`` field and its label's column
        match_label = lookups(self.spec).match_label
        for row in rows:
            cells = row.filled
            if open_field is not None:
                name, label_col = open_field
                current = form.header.get(name)
                if (cells and current is not None and all(c.col > label_col for c in cells)
                        and not any(match_label(c.text) for c in cells)):
                    form.header[name] = RawValue(current.text + "\n" + row.text(" "), current.where, current.unit,
                                                 current.origin)
                    continue
                open_field = None
            used: set[int] = set()
            for i, cell in enumerate(cells):
                if i in used:
                    continue
                hit = match_label(cell.text)
                if hit is None or hit.kind in ("caption", "text_block"):
                    continue
                unit = self.spec.budget_unit if hit.kind == "budget" else "元"
                role = "money" if hit.kind == "budget" else "header value"
                roles.note(row.where, cell, role if hit.rest else "header label", hit.name if hit.rest else None)
                value_cell, text = cell, hit.rest  # the rest of the label's cell, or the next cell
                if not hit.rest and i + 1 < len(cells) and match_label(cells[i + 1].text) is None:
                    value_cell, text = cells[i + 1], cells[i + 1].text
                    used.add(i + 1)
                    roles.note(row.where, cells[i + 1], role, hit.name)
                target = form.budget if hit.kind == "budget" else form.header
                current = target.get(hit.name)
                if current is None or not current.text.strip():
                    target[hit.name] = RawValue(text, row.where, unit, Origin.of(row, value_cell))
                    spec = self.spec.field_specs.get(hit.name)
                    if hit.kind == "field" and spec is not None and spec.continued:
                        open_field = (hit.name, cell.col)

    def read_text_blocks(self, rows: list[Row], form: RawForm) -> None:
        """Texts printed on the rows below their label row, in the label's column (2024 goals).
        Continuation rows after a page break are joined without a separator."""
        if not self.spec.text_blocks:
            return
        columns: dict[int, tuple[str, float]] = {}
        texts: dict[str, list[RawValue]] = {}
        match_label = lookups(self.spec).match_label
        for row in rows:
            hits = [(cell, match_label(cell.text)) for cell in row.filled]
            blocks = [(cell, hit) for cell, hit in hits if hit is not None and hit.kind == "text_block"]
            if blocks:
                columns = {cell.col: (hit.name, _centre(row, cell)) for cell, hit in blocks}
                for cell, _hit in blocks:
                    roles.note(row.where, cell, "header label")
                placed: dict[int, str] = {}
                continue
            if any(hit is not None for _, hit in hits):
                columns = {}  # another labelled row: the text block is over
                continue
            if not columns:
                continue
            for cell in row.filled:
                # A line under an earlier line of text goes on that text; otherwise the label
                # whose centre is nearest the text's centre (ties go left): in a space-aligned
                # dump labels are centred and texts start at their cell's left edge.
                name = placed.get(cell.col)
                if name is None:
                    centre = _centre(row, cell)
                    name = columns[min(columns, key=lambda c: (abs(columns[c][1] - centre), c))][0]
                    placed[cell.col] = name
                texts.setdefault(name, []).append(RawValue(cell.text, row.where, origin=Origin.of(row, cell)))
                roles.note(row.where, cell, "text block", name)
        for name, parts in texts.items():
            joined = "".join(clean_text(p.text) for p in parts)
            # The first part's place; the box around the parts on its page, every part's doubt.
            page = parts[0].where.page
            origin = Origin.joined([p.origin for p in parts if p.origin is not None and p.where.page == page])
            form.header[name] = RawValue(joined, parts[0].where, origin=origin)

    def split_fragments(self, rows: list[Row]) -> tuple[list[Row], list[Row]]:
        """Table rows, and the fragments of cut-off cells dumped after the table (003, third form).

        Free lines (no cell structure) are not table rows: page headers, notes, and the pieces a
        cut-off column left behind. Three or more short free lines after the table are taken as
        such pieces (evidence of cut-off columns); other free lines are ignored.
        """
        table = [row for row in rows if row.in_table]
        last_table_row = max((i for i, row in enumerate(rows) if row.in_table), default=-1)
        after = [row for row in rows[last_table_row + 1 :] if not row.blank]
        fragments = after if len(after) >= 3 and all(len(r.joined) <= 15 for r in after) else []
        return table, fragments

    def check_truncation(self, header: TableHeader, fragments: list[Row], form: RawForm) -> None:
        if not (header.target_cut or fragments):
            return
        form.truncated = True
        span = ""
        if fragments:
            first, last = fragments[0].where, fragments[-1].where
            span = f"; {len(fragments)} cut-off fragments at {first}" + (
                f" to {last}" if last != first else ""
            )
        form.issues.append(
            RawIssue(
                "truncated_columns",
                "error",
                "cells of this form lost their right part (the target column header reads "
                f"{header.target_label!r}){span}: header values and targets may be incomplete",
                header.where,
            )
        )
