"""Every target shape seen in the seeds (and the contract's examples) → kind/op/value/unit."""

from __future__ import annotations

import pytest

from goalforms.pipeline.normalise import Target, parse_target

CASES = [
    # raw, kind, op, value, unit
    ("=100%", "numeric", "=", "100", "%"),
    ("≥95%", "numeric", "≥", "95", "%"),
    (">=95%", "numeric", "≥", "95", "%"),
    ("<=5", "numeric", "≤", "5", None),
    ("＝100%", "numeric", "=", "100", "%"),
    (">90%", "numeric", ">", "90", "%"),
    ("=100.00(%)", "numeric", "=", "100", "%"),
    ("≥90.00 (%)", "numeric", "≥", "90", "%"),
    ("=23000.00(人)", "numeric", "=", "23000", "人"),
    ("=2500本", "numeric", "=", "2500", "本"),
    ("≥15次", "numeric", "≥", "15", "次"),
    ("≥4", "numeric", "≥", "4", None),
    ("100%", "numeric", None, "100", "%"),
    ("<120(分钟)", "numeric", "<", "120", "分钟"),
    ("=24.00(7 天*24 小时)", "numeric", "=", "24", "7天*24小时"),
    ("≥150.00(条/年)", "numeric", "≥", "150", "条/年"),
    ("=0.00(起)", "numeric", "=", "0", "起"),
    ("<0.10(%)", "numeric", "<", "0.1", "%"),
    ("≤12.00(次)", "numeric", "≤", "12", "次"),
    (">100.00(万次)", "numeric", ">", "100", "万次"),
    ("=4.00(个子系统)", "numeric", "=", "4", "个子系统"),
    ("=25600.00(元/月)", "numeric", "=", "25600", "元/月"),
    ("  =100%  ", "numeric", "=", "100", "%"),
    ("合理", "qualitative", None, None, None),
    ("健全", "qualitative", None, None, None),
    ("不高于同类市场价", "qualitative", None, None, None),
    ("中心城区一个半小时内；郊区三个小时内", "qualitative", None, None, None),
    ("网办事项解决率达 90%以上", "text", None, None, None),
    ("市区 2 小时，郊区 4 小时", "text", None, None, None),
    ("2024年重阳节前", "text", None, None, None),
    ("移交后 30 天", "text", None, None, None),
    ("安全性 100%，稳定性 99%以上", "text", None, None, None),
    ("1 个工作日内及时响应，1-3 个工作日内解决", "text", None, None, None),
    ("", "missing", None, None, None),
    ("   ", "missing", None, None, None),
]


@pytest.mark.parametrize(("raw", "kind", "op", "value", "unit"), CASES, ids=[c[0] or "(empty)" for c in CASES])
def test_target(raw: str, kind: str, op: str | None, value: str | None, unit: str | None) -> None:
    target = parse_target(raw)
    assert (target.kind, target.op, target.value, target.unit) == (kind, op, value, unit)


def test_raw_is_trimmed_with_inner_whitespace_collapsed() -> None:
    assert parse_target("  市区  2 小时，\t郊区 4 小时 ") == Target("市区 2 小时， 郊区 4 小时", "text")
