"""The one value grammar (parsers/values.py): every reading in ONE table.

A row: the function, the printed text, the expected result. Targets and actual values give
(kind, op, value, unit) — the contract's meaning (docs/contract.md), unchanged; ``bound`` gives
the richer reading of targets in words (not in the contract); ``shape`` is the table parser's
"can this cell only be a target?", which must agree with ``target`` (a cell it takes for a target
is a numeric target).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from goalforms.parsers import values as v


def _target(text: str) -> tuple[str, str | None, str | None, str | None]:
    t = v.parse_target(text)
    return (t.kind, t.op, t.value, t.unit)


def _bound(text: str) -> tuple[str, str, str | None, str | None] | None:
    b = v.read_bound(text)
    return None if b is None else (b.op, b.value, b.unit, b.upper)


READERS: dict[str, Callable[[str], Any]] = {
    "target": _target,
    "shape": v.looks_like_target,
    "bound": _bound,
    "money": v.parse_money,
    "money_wan": lambda text: v.parse_money(text, "万元"),
    "date": v.parse_date,
    "year": v.parse_year,
    "bool": v.parse_bool,
    "decimal": v.parse_decimal,
    "points": v.split_points,
}

CASES: list[tuple[str, str, Any]] = [
    # targets (and actual values, read the same way)
    ("target", "=100%", ("numeric", "=", "100", "%")),
    ("target", "≥95%", ("numeric", "≥", "95", "%")),
    ("target", "≧95%", ("numeric", "≥", "95", "%")),
    ("target", "＞＝90%", ("numeric", "≥", "90", "%")),
    ("target", ">=95%", ("numeric", "≥", "95", "%")),
    ("target", "≦5", ("numeric", "≤", "5", None)),
    ("target", "90分", ("numeric", None, "90", "分")),
    ("target", "=100.00(%)", ("numeric", "=", "100", "%")),
    ("target", "=2500本", ("numeric", "=", "2500", "本")),
    ("target", "≤5个工作日", ("numeric", "≤", "5", "个工作日")),
    ("target", "98%", ("numeric", None, "98", "%")),
    ("target", "22850人", ("numeric", None, "22850", "人")),
    ("target", "1,200", ("numeric", None, "1200", None)),
    ("target", "2024年重阳节前", ("text", None, None, None)),
    ("target", "不低于95%", ("text", None, None, None)),
    ("target", "达95%以上", ("text", None, None, None)),
    ("target", "90%-95%", ("text", None, None, None)),
    ("target", "1 个工作日内及时响应，1-3 个工作日内解决", ("text", None, None, None)),
    ("target", "达成预期指标", ("qualitative", None, None, None)),
    ("target", "按时完成", ("qualitative", None, None, None)),
    ("target", "", ("missing", None, None, None)),
    # is this cell a target? (table parser) — agrees with the grammar
    ("shape", "≧95%", True),
    ("shape", "＞＝90%", True),
    ("shape", "90分", True),
    ("shape", "95%", True),
    ("shape", "=2500本", True),
    ("shape", "≤5个工作日", True),
    ("shape", "2500本", False),  # a bare count may be a cut-off name
    ("shape", "100", False),  # a bare number may be a weight or a score
    ("shape", "不低于95%", False),
    ("shape", "征地养老资金发放准确率", False),
    # richer readings of targets in words (extra, not the contract's kind)
    ("bound", "不低于95%", ("≥", "95", "%", None)),
    ("bound", "达95%以上", ("≥", "95", "%", None)),
    ("bound", "90%-95%", ("range", "90", "%", "95")),
    ("bound", "≤3个工作日", ("≤", "3", "个工作日", None)),
    ("bound", "3个工作日以内", ("≤", "3", "个工作日", None)),
    ("bound", "≥95%", ("≥", "95", "%", None)),
    ("bound", "明显改善", None),
    # money: yuan, and 万元 × 10000 exactly
    ("money", "1,094,910,000.00", "1094910000"),
    ("money", "¥280000元", "280000"),
    ("money", "12.5万元", "125000"),
    ("money", "abc", None),
    ("money_wan", "109491.00", "1094910000"),
    ("money_wan", "2822.31", "28223100"),
    ("money_wan", "0.0001", "1"),
    ("money_wan", "27.6", "276000"),
    # dates and years
    ("date", "2020-1-1", "2020-01-01"),
    ("date", "2021年12月31日", "2021-12-31"),
    ("date", "2021-13-01", None),
    ("year", "2024年度", 2024),
    ("year", "二〇二四", None),
    # yes / no
    ("bool", "是", True),
    ("bool", "否", False),
    ("bool", "不详", None),
    # weights, scores, rates, points
    ("decimal", "9.80", "9.8"),
    ("decimal", "97.27%", "97.27"),
    ("decimal", "10分", "10"),
    ("decimal", "—", None),
    ("decimal", "优", None),
    ("points", "产出指标（50分）", ("产出指标", "50")),
    ("points", "满意度指标(10分)", ("满意度指标", "10")),
    ("points", "产出指标", ("产出指标", None)),
]


@pytest.mark.parametrize(("reader", "text", "expected"), CASES, ids=[f"{c[0]}:{c[1] or '(empty)'}" for c in CASES])
def test_value(reader: str, text: str, expected: Any) -> None:
    assert READERS[reader](text) == expected


def test_shape_agrees_with_the_grammar() -> None:
    """Every cell the table parser takes for a target is a numeric target to normalise."""
    for _reader, text, _ in CASES:
        if v.looks_like_target(text):
            assert v.parse_target(text).kind == "numeric", text
