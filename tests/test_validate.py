"""validate on its own: small in-memory forms and the issues it adds (missing targets, values of a
cut-off form, prose that stops mid-sentence) — and the ones it must not add."""

from __future__ import annotations

from goalforms.pipeline.model import Form, Indicator, Issue
from goalforms.pipeline.validate import validate


def _indicator(level3: str, raw: str, kind: str, where: str) -> Indicator:
    return Indicator("产出指标", "数量指标", level3, raw, kind, None, None, None, "output.quantity", None, where)


def _form(*indicators: Indicator, goal: str | None = None, issues: list[Issue] | None = None,
          **budget: str | None) -> Form:
    header = {"project_name": "甲", "unit": "乙", "department": None, "project_nature": None, "goal": goal}
    return Form("2024", 2024, header, dict(budget), list(indicators), list(issues or []), where="line 1",
                sources={"header.goal": "line 9"})


def _codes(form: Form) -> list[tuple[str, str | None, str | None]]:
    return [(i.code, i.where, i.field) for i in form.issues]


def test_a_row_without_target_is_an_error_on_its_raw_field() -> None:
    form = validate(_form(_indicator("完成率", "=100%", "numeric", "line 20"),
                          _indicator("发放人数", "", "missing", "line 21")))
    assert _codes(form) == [("missing_target", "line 21", "indicators[1].raw")]
    assert form.issues[0].severity == "error"


def test_a_complete_form_gets_no_issue() -> None:
    form = validate(_form(_indicator("完成率", "=100%", "numeric", "line 20"),
                          goal="1、做好档案管理工作。2、完成年度任务。", total="100"))
    assert form.issues == []


def test_in_a_cut_off_form_every_target_and_every_empty_value_is_doubted() -> None:
    cut = Issue("truncated_columns", "error", "cells lost their right part", "line 18")
    form = validate(_form(_indicator("完成率", "=10", "numeric", "line 20"), goal="1、做好工作。",
                          issues=[cut], total="100", current_year=None))
    assert _codes(form)[1:] == [
        ("truncated_columns", "line 20", "indicators[0].raw"),
        ("truncated_columns", "line 1", "budget.current_year"),
    ]


def test_prose_that_stops_mid_sentence_is_a_warning_but_a_list_item_is_not() -> None:
    cut = validate(_form(goal="根据年度工作计划安排，向参保单位或个人寄发各类业务通知书和告知"))
    assert _codes(cut) == [("truncated_text", "line 9", "header.goal")]
    assert cut.issues[0].severity == "warning"
    assert validate(_form(goal="1、档案数字化流水线设备运行平稳;3、做好档案库房保管工作")).issues == []
