"""The indicator table: classify each row's cells by content, then recover the hierarchy.

Text dumps lose merged cells, so cell positions cannot be trusted: rows lose their leading
cells, labels land in the wrong column, on a line of their own, or on a middle row of their
group. Cells are therefore classified by what they say — a vocabulary name is a level label
wherever it stands; the remaining first text is the 三级 name and the last is the target — and
the hierarchy is rebuilt from the labels with the vocabulary (which level-2 name belongs to
which level-1 name). Every placement that had to be inferred is flagged.

Columns beyond that core (实际完成值, 分值, 得分, 备注, 上年度实际水平 — the roles ``actual``,
``weight``, ``score``, ``note``, ``prior_year`` of the layout's ``[table]``) are read by position: a
cell goes to such a column when that column's header is the nearest to it, and is then left out
of the content classification. A layout without them is read exactly as before.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from operator import attrgetter

from goalforms.parsers import roles
from goalforms.parsers.grid import Cell, Location, Origin, Row
from goalforms.parsers.labels import LabelHit, compact
from goalforms.parsers.layouts.blocks import centre, nearest
from goalforms.parsers.layouts.lookups import Lookups, lookups
from goalforms.parsers.layouts.origins import cell_origins
from goalforms.parsers.layouts.raw import RawForm, RawIndicator, RawIssue, RawValue
from goalforms.parsers.layouts.spec import POSITION_ROLES, LayoutSpec
from goalforms.parsers.values import looks_like_target, split_points


@dataclass
class TableHeader:
    where: Location
    columns: dict[str, int]
    target_label: str
    target_cut: bool
    # Centre of every named column (position roles are read by the nearest centre).
    centres: dict[str, float] = field(default_factory=dict)

    @classmethod
    def from_row(cls, row: Row, spec: LayoutSpec) -> TableHeader:
        columns: dict[str, int] = {}
        centres: dict[str, float] = {}
        target_label, target_cut = "", False
        for cell in row.filled:
            found = spec.table_column(cell.text)
            if found is None:
                continue
            column, cut = found
            columns.setdefault(column, cell.col)
            centres.setdefault(column, centre(row, cell))
            if column == "target":
                target_label, target_cut = cell.text.strip(), cut
        return cls(row.where, columns, target_label, target_cut, centres)

    @property
    def by_position(self) -> bool:
        return not self.centres.keys().isdisjoint(POSITION_ROLES)


def is_table_header(row: Row, spec: LayoutSpec) -> bool:
    """A row naming the layout's level columns (一级/二级/三级): the table header, or its repeat on a new page."""
    return lookups(spec).is_table_header(row.filled_texts)


def find_table_header(rows: list[Row], spec: LayoutSpec) -> int | None:
    """Index of the indicator table's header row."""
    header_row = lookups(spec).is_table_header  # (is_table_header, the layout's answers found once)
    for i, row in enumerate(rows):
        if header_row(row.filled_texts):
            return i
    return None


@dataclass
class Entry:
    """One table row after classification."""

    where: Location
    level1: str | None = None
    level2: str | None = None
    level3: str | None = None
    target: str | None = None
    unknown: dict[int, str] = field(default_factory=dict)  # level -> unknown label text
    notes: list[str] = field(default_factory=list)  # why a placement was inferred
    borrowed: str | None = None  # the levels were given by a label printed on a line of its own
    problems: list[tuple[str, str]] = field(default_factory=list)  # (code, message)
    extra: dict[str, str] = field(default_factory=dict)  # position role -> cell text
    period: str | None = None
    origins: dict[str, Origin] = field(default_factory=dict)  # field -> the cell it was read from

    @property
    def has_indicator(self) -> bool:
        return self.level3 is not None or self.target is not None

    @property
    def label_only(self) -> bool:
        return not self.has_indicator and (self.level1 is not None or self.level2 is not None)

    def own(self, level: int) -> str | None:
        return self.level1 if level == 1 else self.level2


_COLUMN = attrgetter("col")


def classify(row: Row, header: TableHeader, spec: LayoutSpec, points_seen: dict[str, str] | None = None,
             known: Lookups | None = None, by_position: bool | None = None) -> Entry:
    """Split a row's cells into level labels, the 三级 name and the target (and the columns read by position).
    ``known`` and ``by_position``: the layout's answers and ``header.by_position``, when the caller
    (reading a whole table) has them already."""
    points_seen = {} if points_seen is None else points_seen
    vocab = spec.vocabulary
    table_cell = (known or lookups(spec)).table_cell
    if by_position is None:
        by_position = header.by_position
    entry = Entry(row.where)
    labels: list[tuple[Cell, LabelHit]] = []
    texts: list[Cell] = []
    for cell in row.filled:
        skip, hit, fragment = table_cell(cell.text)
        if skip:
            continue
        if spec.points_in_labels:
            text, points = split_points(cell.text)
            if points is not None and (found := vocab.lookup(text)) is not None:
                points_seen[found.name] = points
                cell = Cell(text, cell.col, cell.row_span, cell.col_span)
                _skip, hit, fragment = table_cell(text)
        if hit is None and by_position:
            role = nearest(header.centres, centre(row, cell))
            if role in POSITION_ROLES and role not in entry.extra:
                entry.extra[role] = cell.text
                continue
        if hit is not None:
            labels.append((cell, hit))
        elif not fragment:
            texts.append(cell)
    # A cut name (a proper prefix of a vocabulary name) is a label only where the row still has
    # a 三级 name and a target besides it; otherwise it is more likely a short 三级 name.
    for cell, hit in list(labels):
        if compact(cell.text) != hit.name and len(texts) < 2:
            labels.remove((cell, hit))
            texts.append(cell)
    if len(texts) > 1:
        texts.sort(key=_COLUMN)
    for _cell, hit in labels:
        previous = entry.own(hit.level)
        if previous is not None and previous != hit.name:
            entry.problems.append(
                ("ambiguous_placement", f"two level-{hit.level} labels on one row: {previous}, {hit.name}")
            )
        if hit.level == 1:
            entry.level1 = hit.name
        else:
            entry.level2 = hit.name
    if len(texts) >= 3:
        # Texts standing in the level columns are labels the vocabulary does not know.
        level3_col = header.columns.get("level3", 2)
        for cell in [c for c in texts if c.col < level3_col][: len(texts) - 2]:
            level = 1 if cell.col <= header.columns.get("level1", 0) else 2
            if entry.own(level) is None and level not in entry.unknown:
                entry.unknown[level] = compact(cell.text)
                texts.remove(cell)
    if len(texts) == 1:
        if looks_like_target(texts[0].text):
            entry.target = texts[0].text
        else:
            entry.level3 = texts[0].text
    elif len(texts) >= 2:
        entry.level3 = texts[0].text if len(texts) == 2 else "".join(c.text for c in texts[:-1])
        entry.target = texts[-1].text
        if len(texts) > 2:
            entry.problems.append(
                ("ambiguous_placement", f"{len(texts)} texts on one row; the first {len(texts) - 1} were joined as the 三级 name")
            )
    entry.origins = cell_origins(row, entry, labels, texts)
    roles.classified(row, entry, labels, texts)  # goalforms debug: what each cell was taken for
    return entry


def attach_label_lines(entries: list[Entry], parent: dict[str, str] | None = None) -> None:
    """A label on a line of its own belongs to the rows below it when they carry no label of
    that level; otherwise to the rows just above it that had only inherited that level (its
    merged cell's label was printed after them). Either way the placement is inferred: a line of
    its own is no indicator row, so which rows its merged cell spanned is a guess."""
    for i, entry in enumerate(entries):
        if not entry.label_only:
            continue
        level = 2 if entry.level2 is not None else 1
        name = entry.own(level)
        following = next((e for e in entries[i + 1 :] if e.has_indicator), None)
        if following is not None and following.own(level) is None and following.level1 is None:
            following.level1 = following.level1 or entry.level1
            following.level2 = following.level2 or entry.level2
            # A level 1 that the row's own level-2 label names anyway was not guessed.
            if not (level == 1 and following.level2 is not None and (parent or {}).get(following.level2) == name):
                following.borrowed = f"the label {name} printed on its own at {entry.where}"
            continue
        claimed = []
        for previous in reversed(entries[:i]):
            if not previous.has_indicator:
                continue
            if previous.own(level) is not None or previous.level1 is not None:
                break
            claimed.append(previous)
        for previous in claimed:
            previous.level1 = previous.level1 or entry.level1
            previous.level2 = previous.level2 or entry.level2
            previous.notes.append(f"the label {name} printed on its own at {entry.where} was placed on this row")


def resolve_hierarchy(entries: list[Entry], spec: LayoutSpec,
                      levels_printed: bool = True) -> list[tuple[Entry, str | None, str | None]]:
    """Give every indicator row its level-1 and level-2 name.

    A level printed on the row, or carried down through blank cells from the label printed on
    the first row of its group (the merged cell's reading), is not inferred. Every other
    placement is noted on the row — and on every row below that carries the inferred level on,
    until a label of that level is printed again: those rows too hold a level no printed label
    gave them (in a vertically centred table they are the rows above the group's label).
    """
    parent = spec.vocabulary.parent
    rows = [e for e in entries if e.has_indicator]
    resolved: list[tuple[Entry, str | None, str | None]] = []
    level1: str | None = None
    level2: str | None = None
    # Why the running level 1 / level 2 is not a printed label (None: it is), and where.
    why1: str | None = None
    why2: str | None = None
    for i, row in enumerate(rows):
        own1 = row.level1 or row.unknown.get(1)
        own2 = row.level2 or row.unknown.get(2)
        notes_before = len(row.notes)
        if row.borrowed is not None:
            row.notes.append(f"levels taken from {row.borrowed}")
        if own2 is not None:
            owner = parent.get(own2)
            if own1 is not None:
                level1, why1 = own1, None
                if owner is not None and own1 in spec.vocabulary.level1 and owner != own1:
                    row.notes.append(f"{own2} is not a level-2 name under {own1}; kept as printed")
            elif owner is not None and owner != level1:
                # The level-1 label of this group is printed on a later (middle) row.
                row.notes.append(f"level 1 {owner} inferred from level 2 {own2} (was {level1 or 'none'})")
                level1, why1 = owner, f"level 1 {owner} was inferred at {row.where} from level 2 {own2}"
                # Labels printed mid-group (vertical centring): the rows just above that only
                # inherited their levels may belong to this group rather than the one above.
                for above in reversed(rows[:i]):
                    if above.level1 or above.level2 or above.unknown:
                        break
                    above.notes.append(f"may belong to the group of {own2}, whose label is printed below at {row.where}")
            level2, why2 = own2, None
        elif own1 is not None:
            level1, why1 = own1, None
            if level2 is None or parent.get(level2, level1) != level1:
                # The level-2 label of this group is printed on a later row.
                ahead = None
                for later in rows[i + 1 :]:
                    if later.level1 is not None and later.level1 != own1:
                        break
                    if later.level2 is not None:
                        ahead = later.level2 if parent.get(later.level2) == own1 else None
                        break
                note = (f"level 2 {ahead} taken from the label printed below at a later row" if ahead
                        else f"no level-2 label for this row under {own1}")
                row.notes.append(note)
                level2, why2 = ahead, f"{note} (at {row.where})"
        elif (level1 is None or level2 is None) and levels_printed:
            row.notes.append("no level label above this row")
        if len(row.notes) == notes_before:
            # Nothing inferred on this row itself: it may still carry an inferred level down.
            # A level 1 that the row's own level-2 label names through the vocabulary is not carried.
            named = own2 is not None and parent.get(own2) == level1
            carried = [why for why, printed in ((why1, own1 is not None or named), (why2, own2 is not None))
                       if why is not None and not printed]
            if carried:
                row.notes.append("; ".join(carried) + ", and carried down to this row")
        resolved.append((row, level1, level2))
    return resolved


def _total_row(row: Row, header: TableHeader, spec: LayoutSpec) -> dict[str, str] | None:
    """The 总分 row of a self-evaluation: its weight, score and grade cells by position (in the
    order 分值, 得分, grade when positions do not tell)."""
    cells = row.filled
    if not cells or compact(cells[0].text) not in spec.total_row:
        return None
    values: dict[str, str] = {}
    rest = cells[1:]
    for cell in rest:
        role = nearest(header.centres, centre(row, cell)) if header.centres else ""
        if role in ("weight", "score", "note") and role not in values:
            values[role] = cell.text
    if len(values) < len(rest):  # positions did not tell: read the cells in their printed order
        values = dict(zip(("weight", "score", "note"), (c.text for c in rest), strict=False))
    return values


def _trailing_field(row: Row, header: TableHeader, spec: LayoutSpec, form: RawForm,
                    first_col: int | None = None, known: Lookups | None = None) -> bool:
    """A header field printed below the table (自评等级 | 优), its label in the first column:
    read into the header (unless the header already holds a value) rather than as an indicator.
    ``first_col``: the header's leftmost named column, when the caller knows it."""

    cells = row.filled
    if not cells:
        return False
    if first_col is None and header.columns:
        first_col = min(header.columns.values())
    if first_col is not None and cells[0].col > first_col:
        return False
    hit = (known or lookups(spec)).match_label(cells[0].text)
    if hit is None or hit.kind != "field":
        return False
    text = hit.rest or (cells[1].text if len(cells) > 1 else "")
    current = form.header.get(hit.name)
    if current is None or not current.text.strip():
        form.header[hit.name] = RawValue(text, row.where)
    return True


def _period(row: Row, spec: LayoutSpec, known: Lookups | None = None) -> str | None:
    """The period a caption row names (长期绩效指标 / 年度绩效指标), if the row is one."""
    if not spec.periods:
        return None
    period_of = (known or lookups(spec)).period_of
    for cell in row.filled:
        period = period_of.get(compact(cell.text))
        if period is not None:
            return period
    return None


def periods_by_row(rows: list[Row], spec: LayoutSpec, period: str | None) -> dict[int, str]:
    """The period of every row (by ``id``), from the period captions printed above it."""
    out: dict[int, str] = {}
    for row in rows:
        period = _period(row, spec) or period
        if period is not None:
            out[id(row)] = period
    return out


def first_period(rows: list[Row], spec: LayoutSpec) -> str | None:
    """The period caption printed last above the table header (or in it)."""
    found = None
    for row in rows:
        found = _period(row, spec) or found
    return found


def read_indicator_table(header: TableHeader, rows: list[Row], spec: LayoutSpec, form: RawForm,
                         period: str | None = None, periods_at: dict[int, str] | None = None) -> None:
    """Read the indicator rows below the table header into ``form``. ``periods_at``: the period of
    each row (by ``id``) from the caption lines above it, which are free lines, not table rows."""

    entries: list[Entry] = []
    known = lookups(spec)  # the layout's answers, found once for the table
    header_row = known.is_table_header  # (is_table_header, asked of every row)
    by_position = header.by_position
    periods_at = periods_at or {}
    first_col = min(header.columns.values()) if header.columns else None
    for row in rows:
        if row.blank:
            continue
        caption = _period(row, spec, known)
        period = periods_at.get(id(row)) or caption or period
        if header_row(row.filled_texts):
            continue
        if caption is not None and len(row.filled) == 1:
            continue  # the caption of the next table
        if _trailing_field(row, header, spec, form, first_col, known):
            continue
        total = _total_row(row, header, spec) if spec.total_row else None
        if total is not None:
            if total.get("score") is not None:
                form.header["total_score"] = RawValue(total["score"], row.where)
            grade = form.header.get("grade")
            if total.get("note") and (grade is None or not grade.text.strip()):
                form.header["grade"] = RawValue(total["note"], row.where)
            continue
        entry = classify(row, header, spec, form.points, known, by_position)
        entry.period = period
        if not entry.has_indicator and entry.extra and entries and entries[-1].has_indicator:
            # Only later columns on this row: the wrapped rest of the row above.
            for role, text in entry.extra.items():
                entries[-1].extra[role] = entries[-1].extra.get(role, "") + text
            continue
        entries.append(entry)
    periods = {e.period for e in entries if e.has_indicator}
    attach_label_lines(entries, spec.vocabulary.parent)
    printed = "level1" in header.columns or "level2" in header.columns  # 指标名称 alone: no levels at all
    for entry, level1, level2 in resolve_hierarchy(entries, spec, printed):
        if entry.level3 is None and form.indicators and not form.indicators[-1].target.strip():
            # A target alone on its row: the rest of the row above, split by a page break.
            form.indicators[-1].target = entry.target or ""
            form.issues.append(
                RawIssue("ambiguous_placement", "warning", "a target alone on its row was joined to the row above",
                         entry.where, f"indicators[{len(form.indicators) - 1}].raw")
            )
            continue
        index = len(form.indicators)
        form.indicators.append(
            RawIndicator(
                level1=level1,
                level2=level2,
                level3=entry.level3 or "",
                target=entry.target or "",
                where=entry.where,
                dimension=spec.vocabulary.dimension_of(level1, level2),
                **_position_values(entry, header, spec, known),
                period=entry.period if len(periods) > 1 else None,
                origins=entry.origins,
            )
        )
        if not (entry.unknown or entry.problems or entry.notes or entry.level3 is None):
            continue  # most rows: nothing to report
        name = compact(entry.level3 or "") or "(no name)"
        for level, text in sorted(entry.unknown.items()):
            form.issues.append(
                RawIssue("unknown_label", "warning", f"level-{level} label {text!r} is not in the {spec.name} vocabulary",
                         entry.where, f"indicators[{index}].level{level}")
            )
        for code, message in entry.problems:
            form.issues.append(RawIssue(code, "warning", f"{name}: {message}", entry.where, f"indicators[{index}]"))
        for note in entry.notes:
            form.issues.append(
                RawIssue("ambiguous_placement", "warning", f"{name}: {note}", entry.where, f"indicators[{index}]")
            )
        if entry.level3 is None:
            form.issues.append(
                RawIssue("missing_name", "error", f"a target {entry.target!r} with no 三级 name", entry.where,
                         f"indicators[{index}].level3")
            )


def _position_values(entry: Entry, header: TableHeader, spec: LayoutSpec,
                     known: Lookups | None = None) -> dict[str, str | None]:
    """The later columns of a row: "" where the layout has the column and the row left it blank,
    None where the layout has no such column."""
    known = known or lookups(spec)
    if not entry.extra:  # most rows: every printed column blank
        return dict(known.blank_positions)
    return {role: (entry.extra.get(role, "") if printed else None) for role, printed in known.position_columns}
