"""The review rules on crafted in-memory forms: for every shipped rule, forms that break it and
forms that pass it (table-driven), and rule files that are refused with every problem named."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from goalforms.parsers.layouts.discovery import spec_by_name as load_spec
from goalforms.pipeline.normalise import parse_target
from goalforms.pipeline.review import (
    ReviewForm,
    RuleError,
    default_rule_sets,
    form_from_contract,
    load_rule_set,
    review,
)
from goalforms.pipeline.review.checks import dates_named
from goalforms.pipeline.review.rules import combine, parse_rule_set
from goalforms.pipeline.review.series import Side, line_up

# A 2024 form that passes every rule: each group covered, every target numeric and sensible.
GOOD_2024 = [
    ("成本指标", "经济成本指标", "办公设备购置成本", "≤50万元"),
    ("产出指标", "数量指标", "档案数字化数量", "≥100万页"),
    ("产出指标", "质量指标", "数字化验收合格率", "≥98%"),
    ("产出指标", "时效指标", "完成时间", "2024年11月底前"),
    ("效益指标", "社会效益指标", "档案查询响应率", "=100%"),
    ("满意度指标", "服务对象满意度指标", "查询用户满意度", "≥90%"),
]
GOOD_2020 = [
    ("投入与管理", "投入管理", "预算执行率", "≥95%"),
    ("产出目标", "数量", "发放人数", "≥1000人"),
    ("效果目标", "社会效益", "按时发放率", "=100%"),
    ("影响力目标", "长效管理", "制度健全率", "=100%"),
]
BUDGET_2024 = {"total": "3000000", "current_year": "1000000", "fiscal_appropriation": "800000",
               "carryover": "150000", "other_funds": "50000"}
HEADER = {"project_name": "档案数字化", "unit": "某中心", "plan_start": "2024-01-01", "plan_end": "2024-12-31"}


def crafted(rows: list[tuple[str, str, str, str]], layout: str = "2024", budget: dict[str, str] | None = None,
            header: dict[str, Any] | None = None, **extra: Any) -> ReviewForm:
    """A form as the parse contract would give it: targets normalised, dimensions from the layout."""
    vocabulary = load_spec(f"layout{layout}.toml").vocabulary
    indicators = []
    for level1, level2, level3, raw in rows:
        t = parse_target(raw)
        indicators.append({"level1": level1, "level2": level2, "level3": level3, "raw": t.raw, "kind": t.kind,
                           "op": t.op, "value": t.value, "unit": t.unit,
                           "dimension": vocabulary.dimension_of(level1, level2)})
    for k, values in extra.pop("self_eval", {}).items():
        indicators[k].update(values)
    data = {"layout": layout, "year": 2024 if layout == "2024" else 2020,
            "header": dict(HEADER if header is None else header),
            "budget": dict(BUDGET_2024 if budget is None and layout == "2024" else budget or {}),
            "indicators": indicators, **extra}
    return form_from_contract(data)


def replace_row(rows: list[tuple[str, str, str, str]], k: int, **change: str) -> list[tuple[str, str, str, str]]:
    names = ("level1", "level2", "level3", "raw")
    out = list(rows)
    values = dict(zip(names, out[k], strict=True)) | change
    out[k] = (values["level1"], values["level2"], values["level3"], values["raw"])
    return out


def previous_year(rows: list[tuple[str, str, str, str]], form: ReviewForm) -> ReviewForm:
    """``form`` with its series: lined up against a 2023 form of ``rows``."""
    before = crafted(rows)
    sides_b = [Side(i, 2023, ("a", 1, i.position)) for i in before.indicators]
    sides_a = [Side(i, 2024, ("b", 1, i.position)) for i in form.indicators]
    form.series = line_up(sides_b, sides_a)
    return form


def findings_of(form: ReviewForm, rule: str) -> list[Any]:
    return [f for f in review(form) if f.rule_id == rule]


@dataclass
class Case:
    rule: str
    failing: ReviewForm
    passing: ReviewForm
    count: int = 1  # findings on the failing form
    says: list[str] = field(default_factory=list)  # in the first finding's message


def _self_eval(scores: dict[int, dict[str, Any]], total: str | None) -> ReviewForm:
    header = dict(HEADER, total_score=total)
    return crafted(GOOD_2024, header=header, kind="self_evaluation", self_eval=scores)


FULL = {k: {"weight": "10", "score": "10", "actual": {"raw": "=100%", "kind": "numeric", "op": "=", "value": "100",
                                                   "unit": "%"}} for k in range(6)}

CASES = [
    Case("coverage.dimensions", crafted(GOOD_2024[1:]), crafted(GOOD_2024), says=["成本指标"]),
    Case("coverage.dimensions", crafted(GOOD_2020[:2], layout="2020"), crafted(GOOD_2020, layout="2020"), count=2,
         says=["效果目标"]),
    Case("measurability.placeholder", crafted(replace_row(replace_row(GOOD_2024, 1, raw="*"), 2, raw="待定")),
         crafted(GOOD_2024), count=2, says=["档案数字化数量", "'*'"]),
    Case("measurability.placeholder", crafted(replace_row(GOOD_2024, 4, raw="")), crafted(GOOD_2024)),
    Case("measurability.qualitative_count", crafted(replace_row(GOOD_2024, 2, raw="高")),
         crafted(replace_row(GOOD_2024, 2, level3="验收质量", raw="高")), says=["率"]),
    Case("measurability.quantified_share",
         crafted([replace_row(GOOD_2024, k, raw="好")[k] for k in range(3)] + GOOD_2024[3:]),
         crafted([replace_row(GOOD_2024, k, raw="好")[k] for k in range(2)] + GOOD_2024[2:]), says=["2 of 6"]),
    Case("direction.cost_lower_bound", crafted(replace_row(GOOD_2024, 0, raw="≥50万元")), crafted(GOOD_2024),
         says=["办公设备购置成本"]),
    Case("direction.percent_above_100", crafted(replace_row(GOOD_2024, 2, raw="≥120%")),
         crafted(replace_row(GOOD_2024, 2, raw="≤120%")), says=["above 100%"]),
    Case("direction.satisfaction_low", crafted(replace_row(GOOD_2024, 5, raw="≥60%")),
         crafted(replace_row(GOOD_2024, 5, raw="≥80%")), says=["below 80%"]),
    Case("money.annual_sum", crafted(GOOD_2024, budget=dict(BUDGET_2024, carryover="100000")), crafted(GOOD_2024),
         says=["年度资金申请总额", "difference 50,000.00 元"]),
    Case("money.total_below_annual", crafted(GOOD_2024, budget=dict(BUDGET_2024, total="900000")),
         crafted(GOOD_2024, budget=dict(BUDGET_2024, total="1000000")), says=["项目资金总额"]),
    Case("money.total_below_annual",
         crafted(GOOD_2020, layout="2020", budget={"total": "100", "current_year": "200"}),
         crafted(GOOD_2020, layout="2020", budget={"total": "200", "current_year": "200"}), says=["项目总预算"]),
    # 120万元 = 1,200,000 yuan > 1,000,000; 90万元 fits (元 vs 万元 converted).
    Case("money.cost_over_budget", crafted(replace_row(GOOD_2024, 0, raw="≤120万元")),
         crafted(replace_row(GOOD_2024, 0, raw="≤90万元")), says=["1,200,000.00 元"]),
    Case("money.cost_over_budget", crafted(replace_row(GOOD_2024, 0, raw="≤1200000元")),
         crafted(replace_row(GOOD_2024, 0, raw="≤1000000元"))),
    Case("time.date_outside_plan", crafted(replace_row(GOOD_2024, 3, raw="2025年3月底前")),
         crafted(replace_row(GOOD_2024, 3, raw="2024年12月31日前")), says=["2025年3月", "after the plan's end"]),
    Case("time.date_outside_plan", crafted(replace_row(GOOD_2024, 3, raw="2023-12-01")),
         crafted(replace_row(GOOD_2024, 3, raw="12月底前")), says=["before the plan's start"]),
    Case("time.plan_order", crafted(GOOD_2024, header=dict(HEADER, plan_end="2023-12-31")), crafted(GOOD_2024),
         says=["2023-12-31"]),
    Case("repetition.duplicate_name", crafted(GOOD_2024 + [GOOD_2024[2]]), crafted(GOOD_2024),
         says=["数字化验收合格率", "rows 3, 7"]),
    Case("repetition.identical_targets", crafted([(a, b, c, "=100%") for a, b, c, _ in GOOD_2024]),
         crafted(GOOD_2024), says=["all 6 targets"]),
    Case("series.target_lowered", previous_year(GOOD_2024, crafted(replace_row(GOOD_2024, 2, raw="≥90%"))),
         previous_year(GOOD_2024, crafted(replace_row(GOOD_2024, 2, raw="≥99%"))), says=["'≥98%' (2023: 数字化验收合格率)", "'≥90%'"]),
    # a lower ceiling on a cost is no loss
    Case("series.target_lowered", previous_year(GOOD_2024, crafted(replace_row(GOOD_2024, 5, raw="≥85%"))),
         previous_year(GOOD_2024, crafted(replace_row(GOOD_2024, 0, raw="≤40万元")))),
    Case("series.dropped_last_quantified",
         previous_year(GOOD_2024, crafted(GOOD_2024[:2] + GOOD_2024[3:])),
         previous_year(GOOD_2024, crafted(GOOD_2024[:3] + GOOD_2024[4:])), says=["数字化验收合格率", "output.quality"]),
    Case("self_evaluation.score_above_points", _self_eval({**FULL, 1: {"weight": "10", "score": "12"}}, "62"),
         _self_eval(FULL, "60"), says=["12 of 10"]),
    Case("self_evaluation.total", _self_eval(FULL, "58"), _self_eval(FULL, "60"), says=["60", "58"]),
    Case("self_evaluation.full_score_missed",
         _self_eval({**FULL, 2: {"weight": "10", "score": "10",
                                 "actual": {"raw": "95%", "kind": "numeric", "op": None, "value": "95", "unit": "%"}}},
                    "60"),
         _self_eval({**FULL, 2: {"weight": "10", "score": "8",
                                 "actual": {"raw": "95%", "kind": "numeric", "op": None, "value": "95", "unit": "%"}}},
                    "58"),
         says=["'95%'", "'≥98%'"]),
]


@pytest.mark.parametrize("case", CASES, ids=[f"{c.rule}-{k}" for k, c in enumerate(CASES)])
def test_a_rule_finds_what_breaks_it_and_nothing_on_a_form_that_passes(case: Case) -> None:
    found = findings_of(case.failing, case.rule)
    assert len(found) == case.count, [f.message for f in review(case.failing)]
    for text in case.says:
        assert text in found[0].message, found[0].message
    assert findings_of(case.passing, case.rule) == [], [f.message for f in findings_of(case.passing, case.rule)]


def test_every_shipped_rule_has_a_failing_and_a_passing_case() -> None:
    shipped = {r.id for s in default_rule_sets() for r in s.rules}
    assert shipped == {c.rule for c in CASES}


def test_the_good_forms_have_no_finding_at_all() -> None:
    assert review(crafted(GOOD_2024)) == []
    assert review(crafted(GOOD_2020, layout="2020")) == []


def test_findings_name_the_row_the_rule_and_the_rule_set_version() -> None:
    (found,) = findings_of(crafted(replace_row(GOOD_2024, 1, raw="/")), "measurability.placeholder")
    assert (found.field, found.position, found.subject, found.severity) == ("indicators[1]", 2, "档案数字化数量", "error")
    assert (found.rule_set, found.version) == ("goalforms", default_rule_sets()[0].version)


def test_self_evaluation_rules_find_nothing_on_target_forms() -> None:
    form = crafted(GOOD_2024, header=dict(HEADER, total_score="1"))
    assert not [f for f in review(form) if f.rule_id.startswith("self_evaluation.")]


def test_dates_are_read_only_where_they_are_dates() -> None:
    assert [p for _a, _b, p in dates_named("≥2020.5万元", 2020)] == []
    assert [p for _a, _b, p in dates_named("2020年底前", None)] == ["2020年底"]
    assert [p for _a, _b, p in dates_named("2021年2月30日", None)] == []
    assert [(a.isoformat(), b.isoformat()) for a, b, _p in dates_named("11月底", 2020)] == [("2020-11-01", "2020-11-30")]


RULE_FILE = """
[ruleset]
name = "bureau"
version = "2026-11"

[[rule]]
id = "bureau.satisfaction_90"
applies_to = "indicator"
check = "target_below"
dimensions = ["satisfaction"]
severity = "info"
message = "{level3}: {raw} is under {minimum}%"
source = "the bureau's 2026 guidance"
[rule.params]
minimum = 95
"""


def test_a_user_rule_file_adds_rules_and_overrides_by_id(tmp_path: Path) -> None:
    path = tmp_path / "bureau.toml"
    path.write_text(RULE_FILE, encoding="utf-8")
    extra = load_rule_set(path)
    found = [f for f in review(crafted(GOOD_2024), combine([extra])) if f.rule_id == "bureau.satisfaction_90"]
    assert [(f.message, f.rule_set, f.version, f.severity) for f in found] == [
        ("查询用户满意度: ≥90% is under 95%", "bureau", "2026-11", "info")]
    # the same id as a shipped rule replaces it
    override = parse_rule_set(RULE_FILE.replace("bureau.satisfaction_90", "direction.satisfaction_low"))
    ids = [r.id for s in combine([override]) for r in s.rules]
    assert ids.count("direction.satisfaction_low") == 1


@pytest.mark.parametrize(("change", "said"), [
    (("check = \"target_below\"", "check = \"no_such_check\""), "unknown check 'no_such_check'"),
    (("severity = \"info\"", "severity = \"fatal\""), "severity must be one of"),
    (("minimum = 95", "minimum = 95\nmaximum = 3"), "has no parameter(s) maximum"),
    (("{minimum}%", "{minimum}% {nothing}"), "unknown placeholder(s) nothing"),
    (("source = \"the bureau's 2026 guidance\"\n", ""), "say where the rule comes from"),
    (("applies_to = \"indicator\"", "applies_to = \"form\""), "applies_to must be indicator"),
    (("version = \"2026-11\"", ""), "[ruleset] table with a name and a version"),
    (("[rule.params]", "[rule.params"), "not valid TOML"),
])
def test_a_malformed_rule_file_is_refused_naming_the_problem(change: tuple[str, str], said: str) -> None:
    old, new = change
    assert old in RULE_FILE
    with pytest.raises(RuleError) as caught:
        parse_rule_set(RULE_FILE.replace(old, new), "bureau.toml")
    assert said in str(caught.value) and "bureau.toml" in str(caught.value)
