"""A project's previous year lined up with one form: the rows ``v_series`` holds for that step,
computed for the two forms alone.

``v_series`` (docs/views.md) compares every project of the database at once; asking it on every
import would cost the whole archive each time. This is the same line-up — inside one dimension, the
same 三级 name is exact; else the Dice coefficient of character pairs, a pair of at least 0.5 when
each name is the other's best (ties: closest in order within the dimension, then document order),
applied twice — and the same ``change`` words; tests/test_review_store.py holds the two together
on the samples.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from goalforms.pipeline.review.form import ReviewIndicator

THRESHOLD = 0.5


@dataclass
class Side:
    """An indicator of one side, with what the line-up orders by."""

    ind: ReviewIndicator
    year: int
    order: tuple[str, int, int]  # document order: path, form ordinal, position
    rank: int = 0  # position among the indicators of its dimension in its form


def _grams(name: str) -> frozenset[str]:
    return frozenset(name[i:i + 2] for i in range(len(name) - 1)) if len(name) >= 2 else frozenset()


def similarity(a: str, b: str) -> float:
    if a == b:
        return 1.0
    ga, gb = _grams(a), _grams(b)
    if not ga and not gb:
        return 0.0
    return 2.0 * len(ga & gb) / (len(ga) + len(gb))


def _ranked(sides: list[Side]) -> None:
    counters: dict[tuple[str, int, str], int] = {}
    for s in sorted(sides, key=lambda s: s.order):
        key = (s.order[0], s.order[1], s.ind.dimension or "")
        counters[key] = counters.get(key, 0) + 1
        s.rank = counters[key]


def _match(before: list[Side], after: list[Side]) -> list[tuple[Side, Side, float]]:
    scored = [(a, b, similarity(a.ind.level3, b.ind.level3)) for a in before for b in after
              if (a.ind.dimension or "") == (b.ind.dimension or "")]
    made: list[tuple[Side, Side, float]] = []
    for _round in range(2):
        used_a = {id(a) for a, _b, _s in made}
        used_b = {id(b) for _a, b, _s in made}
        pool = [(a, b, s) for a, b, s in scored if s >= THRESHOLD and id(a) not in used_a and id(b) not in used_b]
        best_a: dict[int, tuple[Any, ...]] = {}
        best_b: dict[int, tuple[Any, ...]] = {}
        for a, b, s in pool:
            ka = (-s, abs(a.rank - b.rank), b.order)
            kb = (-s, abs(a.rank - b.rank), a.order)
            if id(a) not in best_a or ka < best_a[id(a)][0]:
                best_a[id(a)] = (ka, id(b))
            if id(b) not in best_b or kb < best_b[id(b)][0]:
                best_b[id(b)] = (kb, id(a))
        made += [(a, b, s) for a, b, s in pool if best_a[id(a)][1] == id(b) and best_b[id(b)][1] == id(a)]
    return made


def change(a: ReviewIndicator | None, b: ReviewIndicator | None) -> str:
    """How a target changed, in v_series' words (first that applies)."""
    if a is None:
        return "added"
    if b is None:
        return "dropped"
    if a.raw == b.raw:
        return "unchanged"
    if b.kind == "missing":
        return "target now missing"
    if a.kind == "missing":
        return "target was missing"
    if a.kind == "numeric" and b.kind == "numeric" and (a.unit or "") == (b.unit or ""):
        if a.value is not None and b.value is not None and b.value > a.value:
            return "raised"
        if a.value is not None and b.value is not None and b.value < a.value:
            return "lowered"
        return "operator changed" if (a.op or "") != (b.op or "") else "unchanged"
    if a.kind == "numeric" and b.kind == "numeric":
        return "unit changed"
    if b.kind == "numeric":
        return "quantified"
    if a.kind == "numeric":
        return "no longer numeric"
    return "reworded"


def _row(a: Side | None, b: Side | None, kind: str, sim: float | None, from_year: int, to_year: int) -> dict[str, Any]:
    x, y = (a.ind if a else None), (b.ind if b else None)
    either = x if x is not None else y
    return {
        "dimension": either.dimension if either is not None else None, "from_year": from_year, "to_year": to_year,
        "match_kind": kind, "similarity": sim, "change": change(x, y),
        "from_level3": x.level3 if x else None, "to_level3": y.level3 if y else None,
        "from_raw": x.raw if x else None, "to_raw": y.raw if y else None,
        "from_kind": x.kind if x else None, "to_kind": y.kind if y else None,
        "from_op": x.op if x else None, "to_op": y.op if y else None,
        "from_value": x.value if x else None, "to_value": y.value if y else None,
        "from_unit": x.unit if x else None, "to_unit": y.unit if y else None,
        "from_indicator_id": x.indicator_id if x else None, "to_indicator_id": y.indicator_id if y else None,
    }


def line_up(before: Sequence[Side], after: Sequence[Side]) -> list[dict[str, Any]]:
    """The v_series rows of one step: ``before`` (the earlier year's indicators) against ``after``."""
    if not before or not after:
        return []
    b_list, a_list = list(before), list(after)
    _ranked(b_list)
    _ranked(a_list)
    from_year, to_year = b_list[0].year, a_list[0].year
    made = _match(b_list, a_list)
    matched_a = {id(a) for a, _b, _s in made}
    matched_b = {id(b) for _a, b, _s in made}
    rows = [_row(a, b, "exact" if a.ind.level3 == b.ind.level3 else "near", s, from_year, to_year) for a, b, s in made]
    rows += [_row(a, None, "dropped", None, from_year, to_year) for a in b_list if id(a) not in matched_a]
    rows += [_row(None, b, "added", None, from_year, to_year) for b in a_list if id(b) not in matched_b]
    return rows
