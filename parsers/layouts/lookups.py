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
        # A caption's period: the first period (in the layout's order) that prints it.
        self.period_of: dict[str, str] = {}
        for period, captions in spec.periods.items():
            for caption in captions:
                self.period_of.setdefault(caption, period)


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
