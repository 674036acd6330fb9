"""What the layout parsers ask a layout about a cell's text, answered once per text.

Every cell of a form is tried against the layout's labels, table-column names, side labels and
period captions, by several stages (header, table, trailing fields, plausibility), and an archive
prints the same labels in every form. The answers depend only on the layout and the text, so they
are kept per layout: label matches and column names in bounded caches (the texts of a long import
are not all kept), the layout's name lists as sets. ``lookups(spec)`` gives the one set of answers
of a layout; :class:`LayoutSpec` itself stays plain data.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from goalforms.parsers.labels import LabelHit, compact, is_separator
from goalforms.parsers.layouts.spec import POSITION_ROLES, LabelMatch, LayoutSpec

# Texts kept per layout and question: the labels repeat, the values churn through; a few MiB at
# most over a long import.
_CACHE = 1 << 12


class Lookups:
    """One layout's answers: the same results as the :class:`LayoutSpec` methods they wrap."""

    def __init__(self, spec: LayoutSpec) -> None:
        self.match_label: Callable[[str], LabelMatch | None] = lru_cache(maxsize=_CACHE)(spec.match_label)
        self.table_column: Callable[[str], tuple[str, bool] | None] = lru_cache(maxsize=_CACHE)(spec.table_column)
        self.side_labels = frozenset(spec.side_labels)
        self.header_roles = frozenset(spec.header_roles)
        self.position_roles = frozenset(POSITION_ROLES)
        # Every position role, and whether the layout prints its column.
        self.position_columns = tuple((role, bool(spec.table.get(role))) for role in POSITION_ROLES)
        # A row that left them all blank: "" where the layout prints the column, else None.
        self.blank_positions: dict[str, str | None] = {role: "" if printed else None
                                                        for role, printed in self.position_columns}
        # Whether a row is the indicator table's header, by its filled cells' texts (every row
        # of every form is asked, and the header and label rows repeat from form to form).
        self.is_table_header: Callable[[tuple[str, ...]], bool] = lru_cache(maxsize=_CACHE)(self._is_table_header)
        # A table cell's text: skipped (a ruling line, a side label), its vocabulary label, a
        # wrapped label's tail — the three questions ``table.classify`` asks of every cell.
        self.table_cell: Callable[[str], tuple[bool, LabelHit | None, bool]] = lru_cache(maxsize=_CACHE)(
            self._table_cell)
        self._vocabulary = spec.vocabulary
        # A caption's period: the first period (in the layout's order) that prints it.
        self.period_of: dict[str, str] = {}
        for period, captions in spec.periods.items():
            for caption in captions:
                self.period_of.setdefault(caption, period)


    def _is_table_header(self, texts: tuple[str, ...]) -> bool:
        """A row naming the layout's level columns (一级/二级/三级): the table header, or its repeat
        on a new page."""
        named = {found[0] for text in texts if (found := self.table_column(text))}
        # A layout whose name column may be the only one (指标名称) also knows its header by the
        # name and target columns with a column read by position beside them.
        return self.header_roles <= named or ({"level3", "target"} <= named and bool(named & self.position_roles))

    def _table_cell(self, text: str) -> tuple[bool, LabelHit | None, bool]:
        vocabulary = self._vocabulary
        return (is_separator(text) or compact(text) in self.side_labels, vocabulary.lookup(text),
                vocabulary.is_wrap_fragment(text))


# By the spec's identity (a LayoutSpec is an unhashable dataclass); the spec is kept with its
# answers, so its id cannot be reused by another spec while the entry lives.
_BY_SPEC: dict[int, tuple[LayoutSpec, Lookups]] = {}
_SPECS = 64


def lookups(spec: LayoutSpec) -> Lookups:
    found = _BY_SPEC.get(id(spec))
    if found is None or found[0] is not spec:
        if len(_BY_SPEC) >= _SPECS:  # layouts loaded again and again (tests, user layouts)
            _BY_SPEC.clear()
        found = _BY_SPEC[id(spec)] = (spec, Lookups(spec))
    return found[1]
