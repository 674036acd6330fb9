"""The plausibility stage: crafted wrong values for every check, with correct neighbours that must
not be flagged; the examples of issue 11; and the placement flags of the indicator table."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

import pytest

from goalforms.parsers.grid import Cell, Location, Row
from goalforms.parsers.layouts import LAYOUTS, RawForm
from goalforms.parsers.layouts.table import TableHeader, read_indicator_table
from goalforms.pipeline import parse_file
from goalforms.pipeline.model import Form
from goalforms.pipeline.plausibility import check_form

PLAUSIBILITY_CODES = {
    "glued_label", "glued_value", "missing_field", "budget_mismatch", "implausible_amount", "date_order", "implausible_date", "year_mismatch",
    "unparsed_form_title", "no_indicators", "sparse_targets", "target_is_label", "target_looks_like_name",
    "glued_target",
}

FORM_2024 = """财政项目支出绩效目标申报表\t\t\t\t\t
(2026 年度)\t\t\t\t\t
项目名称\t机关事业单位运行保障经费\t项目性质\t经常性专项业务费\t项目类别\t特定目标类
主管部门\t上海市人力资源和社会保障局\t实施单位\t上海市社会保险事业管理中心\t\t
计划开始日期\t2026-01-01\t计划完成日期\t2026-12-31\t\t
项目资金(元)\t项目资金总额:\t{total}\t年度资金申请总额:\t{year}\t
\t其中: 财政资金\t\t其中: 当年财政拨款\t{fiscal}\t
\t\t\t上年结转资金\t{carryover}\t
\t其他资金\t\t其他资金\t{other}\t
项目绩效目标\t项目总目标\t\t年度总体目标\t\t
\t\t\t年内计划完成社保工作人员工作服 34 套。\t\t
\t一级指标\t二级指标\t三级指标\t年度(/项目)指标值\t
绩效指标\t成本指标\t经济成本指标\t工作皮鞋及配件制作费用\t≤350.00(元/人)\t
\t\t\t工作服制作费用\t≤2150.00(元/人)\t
\t产出指标\t数量指标\t服装量体工作完成率\t=100(%)\t
\t\t\t服装制作计划完成率\t=100(%)\t
\t\t质量指标\t服装制作合格率\t=100(%)\t
\t\t时效指标\t服装制作完成时间\t年内全部完成\t
\t效益指标\t社会效益指标\t工作人员着装配备率\t=100(%)\t
\t\t\t统一着装率\t=100(%)\t
\t满意度指标\t服务对象满意度指标\t职工满意率\t≥95(%)\t
"""
MONEY_2024 = {"total": "85,000.00", "year": "85,000.00", "fiscal": "80,000.00", "carryover": "5,000.00",
              "other": "0.00"}

FORM_2020 = """财政项目支出绩效目标表
(2020年度)
申报单位名称：上海市普陀区社会保障管理服务中心
项目名称*：社管中心工伤异地调查、劳动能力鉴定费用\t项目类别*：\t延续性项目
计划开始日期*：\t2020-1-1\t计划完成日期\t2020-12-31
是否含有政府购买服务：\t否\t绩效类型：\t其他类
总目标及阶段性目标：\t依法对在外地发生工伤的案件调查取证。
项目总预算（元）：\t292417\t项目当年预算（元）：\t292417
同名项目上年预算额（元）：\t293700\t同名项目上年预算执行数（元）：\t266229
一级目标\t二级目标\t三级目标\t指标目标值
投入与管理\t投入管理\t预算执行率\t>90%
\t财务管理\t财务管理制度健全性\t健全
产出目标\t数量\t发放宣传手册\t=2500本
\t时效\t调查及时性\t及时
效果目标\t社会效益\t鉴定报告准确性\t=100%
\t满意度\t服务对象满意度\t≥90%
影响力目标\t长效管理\t长效管理制度建设\t完善
"""


def _parse(tmp_path: Path, text: str, name: str = "form.txt") -> list[Form]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return parse_file(path).forms


def _new(form: Form) -> set[tuple[str, str, str | None]]:
    return {(i.code, i.severity, i.field) for i in form.issues if i.code in PLAUSIBILITY_CODES}


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Form]:
    folder = tmp_path_factory.mktemp("clean")
    return {"2024": _parse(folder, FORM_2024.format(**MONEY_2024), "a.txt")[0],
            "2020": _parse(folder, FORM_2020, "b.txt")[0]}


def test_clean_forms_get_no_issue(clean: dict[str, Form]) -> None:
    for layout, form in clean.items():
        assert form.issues == [], layout
        assert len(form.indicators) in (7, 9)


def _set(section: str, key: str, value: object) -> Callable[[Form], None]:
    def change(form: Form) -> None:
        getattr(form, section)[key] = value
    return change


def _indicator(index: int, **values: str) -> Callable[[Form], None]:
    def change(form: Form) -> None:
        for key, value in values.items():
            setattr(form.indicators[index], key, value)
    return change


def _all_targets_missing(keep: int) -> Callable[[Form], None]:
    def change(form: Form) -> None:
        for indicator in form.indicators[keep:]:
            indicator.raw, indicator.kind = "", "missing"
    return change


# (layout, change of a clean form, the plausibility issues expected: code, severity, field)
CASES = [
    # Issue 11's examples: labels of neighbouring cells glued into header values.
    pytest.param("2024", _set("header", "project_name", "项目性质项目类别特定目标类"),
                 {("glued_label", "error", "header.project_name")}, id="issue11-project-name"),
    pytest.param("2024", _set("header", "department", "实施单位上海市普陀区市政工程建设中心"),
                 {("glued_label", "error", "header.department")}, id="issue11-department"),
    pytest.param("2024", _set("header", "project_nature", "经常性专项业务费项目类别特定目标类"),
                 {("glued_label", "error", "header.project_nature")}, id="issue11-project-nature"),
    pytest.param("2024", _set("header", "unit", "上海市社会保险事业管理中心计划开始日期"),
                 {("glued_label", "error", "header.unit")}, id="date-label-glued-to-unit"),
    pytest.param("2020", _set("header", "project_category", "延续性项目是否含有政府购买服务"),
                 {("glued_label", "error", "header.project_category")}, id="2020-label-glued"),
    # Values of neighbouring cells glued on (a date, an amount, another field's value).
    pytest.param("2024", _set("header", "unit", "上海市社会保险事业管理中心2026-01-01"),
                 {("glued_value", "error", "header.unit")}, id="date-glued-to-unit"),
    pytest.param("2024", _set("header", "project_category", "116,822.00特定目标类"),
                 {("glued_value", "error", "header.project_category")}, id="amount-glued-to-category"),
    pytest.param("2024", _set("header", "project_nature", "经常性专项业务费上海市人力资源和社会保障局"),
                 {("glued_value", "error", "header.project_nature")}, id="department-glued-to-nature"),
    pytest.param("2024", _set("header", "project_name", "上海市社会保险事业管理中心运行保障经费"), set(),
                 id="a-name-may-hold-the-unit"),
    pytest.param("2024", _set("header", "project_name", "征地养老管理信息系统(2024年运维)"), set(), id="a-name-with-a-year"),
    # A value every form fills, lost.
    pytest.param("2024", _set("header", "project_name", None),
                 {("missing_field", "error", "header.project_name")}, id="lost-project-name"),
    pytest.param("2024", _set("header", "plan_start", None),
                 {("missing_field", "error", "header.plan_start")}, id="lost-plan-start"),
    pytest.param("2020", _set("header", "performance_type", None), set(), id="performance-type-may-be-blank"),
    pytest.param("2020", lambda f: setattr(f, "year", None), {("missing_field", "error", "year")}, id="lost-year"),
    # Names that merely contain label words are right.
    pytest.param("2024", _set("header", "project_name", "信息化建设项目(项目管理系统)"), set(), id="name-with-项目"),
    pytest.param("2024", _set("header", "project_name", "项目资金绩效监控服务"), set(), id="name-with-a-caption-word"),
    pytest.param("2024", _set("header", "goal", "完成项目类别调整后的绩效目标。"), set(), id="prose-may-quote-labels"),
    # Money that does not reconcile.
    pytest.param("2024", _set("budget", "current_year", "75000"),
                 {("budget_mismatch", "error", "budget.current_year")}, id="parts-do-not-sum"),
    pytest.param("2024", _set("budget", "total", "50000"),
                 {("budget_mismatch", "error", "budget.total")}, id="total-below-the-year"),
    pytest.param("2024", _set("budget", "total", None), set(), id="blank-total-is-not-checked"),
    pytest.param("2024", _set("budget", "carryover", None), set(), id="sum-only-when-all-parts-present"),
    pytest.param("2020", _set("budget", "total", "192417"),
                 {("budget_mismatch", "error", "budget.total")}, id="2020-total-below-the-year"),
    pytest.param("2020", _set("budget", "total", "1292417"), set(), id="2020-multi-year-total"),
    # Issue 11's example: 同名项目上年预算额 and …执行数 run together, the second lost.
    pytest.param("2020", lambda f: (_set("budget", "prior_year_budget", "293700266229")(f),
                                    _set("budget", "prior_year_spent", None)(f)),
                 {("implausible_amount", "error", "budget.prior_year_budget")}, id="issue11-glued-amounts"),
    pytest.param("2024", _set("budget", "fiscal_appropriation", "80000085000"),
                 {("implausible_amount", "error", "budget.fiscal_appropriation"),
                  ("budget_mismatch", "error", "budget.current_year")}, id="glued-appropriation"),
    pytest.param("2024", _set("budget", "total", "8500000"), set(), id="a-total-100x-the-year-is-possible"),
    # A float artefact read from a spreadsheet cell without a number format.
    pytest.param("2020", _set("budget", "total", "1292417.0001"),
                 {("implausible_amount", "error", "budget.total")}, id="fractions-of-a-fen"),
    pytest.param("2020", _set("budget", "total", "1292417.05"), set(), id="fen-are-fine"),
    # Dates.
    pytest.param("2024", _set("header", "plan_end", "2025-12-31"),
                 {("date_order", "error", "header.plan_end")}, id="end-before-start"),
    pytest.param("2024", lambda f: (_set("header", "plan_start", "2062-01-01")(f),
                                    _set("header", "plan_end", "2062-12-31")(f)),
                 {("implausible_date", "warning", "header.plan_start"), ("implausible_date", "warning", "header.plan_end"),
                  ("year_mismatch", "warning", "year")}, id="dates-far-from-the-year"),
    pytest.param("2024", lambda f: setattr(f, "year", 2024),
                 {("year_mismatch", "warning", "year")}, id="year-outside-the-plan"),
    pytest.param("2024", _set("header", "plan_start", "2025-07-01"), set(), id="plan-spanning-two-years"),
    # Indicators.
    pytest.param("2024", _indicator(8, level3="职工满意率≥95(%)", raw="", kind="missing"),
                 {("glued_target", "error", "indicators[8].level3")}, id="target-glued-to-name"),
    pytest.param("2020", _indicator(5, level3="服务对象满意度 90%"),
                 {("glued_target", "error", "indicators[5].level3")}, id="percentage-glued-to-name"),
    pytest.param("2020", _indicator(2, level3="医学专家面检≥15次"),
                 {("glued_target", "error", "indicators[2].level3")}, id="target-with-unit-glued-to-name"),
    pytest.param("2024", _indicator(0, level3="V3.0社保业务经办流程无纸化率"), set(), id="name-starting-with-digits"),
    pytest.param("2024", _indicator(0, level3="不间断运行时间(7天*24小时)"), set(), id="name-ending-in-brackets"),
    pytest.param("2024", _indicator(2, raw="质量指标", kind="qualitative"),
                 {("target_is_label", "error", "indicators[2].raw")}, id="target-is-a-level-label"),
    pytest.param("2024", _indicator(2, raw="社会效益指标 =100(%)", kind="text"),
                 {("target_is_label", "error", "indicators[2].raw")}, id="target-holds-a-level-label"),
    pytest.param("2020", _indicator(3, raw="时效", kind="qualitative"),
                 {("target_is_label", "error", "indicators[3].raw")}, id="2020-target-is-a-level-label"),
    pytest.param("2024", _indicator(5, raw="年度(/项目)指标值", kind="text"),
                 {("target_is_label", "error", "indicators[5].raw")}, id="target-is-the-column-header"),
    pytest.param("2024", _indicator(8, raw="群众对象满意度达到 95%以上", kind="text"), set(), id="target-mentioning-满意度"),
    pytest.param("2024", _indicator(5, raw="服装制作计划完成率", kind="qualitative"),
                 {("target_looks_like_name", "warning", "indicators[5].raw")}, id="target-like-a-name"),
    pytest.param("2024", _indicator(5, raw="不高于同类市场价", kind="qualitative"), set(), id="qualitative-target"),
    pytest.param("2024", _indicator(5, raw="有效提高工作效率", kind="qualitative"), set(), id="verdict-ending-in-效率"),
    pytest.param("2024", _indicator(5, raw="提高群众政策知晓度", kind="qualitative"), set(), id="verdict-ending-in-知晓度"),
    pytest.param("2024", _all_targets_missing(3),
                 {("sparse_targets", "error", "indicators")}, id="target-column-mostly-empty"),
    pytest.param("2024", _all_targets_missing(6), set(), id="a-few-missing-targets"),
    pytest.param("2024", lambda f: f.indicators.clear(),
                 {("no_indicators", "error", "indicators")}, id="no-indicators"),
]


@pytest.mark.parametrize(("layout", "change", "expected"), CASES)
def test_plausibility(clean: dict[str, Form], layout: str, change: Callable[[Form], None],
                      expected: set[tuple[str, str, str | None]]) -> None:
    form = copy.deepcopy(clean[layout])
    change(form)
    form.issues = [i for i in form.issues if i.code not in PLAUSIBILITY_CODES]
    check_form(form, LAYOUTS[layout].spec)
    assert _new(form) == expected
    for issue in form.issues:
        assert issue.where, issue  # every issue says where to look


def test_issues_name_their_place(clean: dict[str, Form]) -> None:
    form = copy.deepcopy(clean["2024"])
    form.header["department"] = "实施单位上海市普陀区市政工程建设中心"
    check_form(form, LAYOUTS["2024"].spec)
    (issue,) = [i for i in form.issues if i.code == "glued_label"]
    assert issue.where == "line 4" and "实施单位" in issue.message


def test_glued_money_end_to_end(tmp_path: Path) -> None:
    text = FORM_2024.format(**MONEY_2024 | {"carryover": "5,000.00 0.00"})
    (form,) = _parse(tmp_path, text)
    assert ("invalid_value", "error", "budget.carryover") in {(i.code, i.severity, i.field) for i in form.issues}
    text = FORM_2024.format(**MONEY_2024 | {"year": "8500085000"})
    (form,) = _parse(tmp_path, text)
    assert _new(form) == {("implausible_amount", "error", "budget.current_year"),
                          ("budget_mismatch", "error", "budget.current_year"), ("budget_mismatch", "error", "budget.total")}


def test_title_glued_after_a_form_feed_is_flagged(tmp_path: Path) -> None:
    first = FORM_2024.format(**MONEY_2024)
    second = first.replace("机关事业单位运行保障经费", "社会保险服务费")
    lines = second.split("\n")
    # The second form's title ends up on the last line of the first form (pdftotext, form feed).
    glued = first.rstrip("\n") + "\f" + lines[0] + "\n" + "\n".join(lines[1:])
    forms = _parse(tmp_path, glued)
    assert len(forms) == 1  # the second form was not recognised ...
    issues = [(i.code, i.severity, i.where) for i in forms[0].issues if i.code == "unparsed_form_title"]
    assert issues == [("unparsed_form_title", "error", "line 21")]  # ... and the clerk is told where
    # Two properly separated forms: no such issue.
    forms = _parse(tmp_path, first + "\n" + second)
    assert len(forms) == 2 and all(_new(f) == set() for f in forms)


def test_collection_titles_are_not_lost_forms(tmp_path: Path) -> None:
    form = FORM_2024.format(**MONEY_2024)
    for collection in ("上海市社会保险事业管理中心 2026 年度财政项目支出绩效目标申报表",
                       "2026年度财政项目支出绩效目标申报表汇总表"):
        (parsed,) = _parse(tmp_path, collection + "\n\n" + form)
        assert _new(parsed) == set(), collection


def test_a_form_lost_above_the_first_is_flagged(tmp_path: Path) -> None:
    lost = FORM_2024.format(**MONEY_2024).replace("机关事业单位运行保障经费", "社会保险服务费")
    form = FORM_2024.format(**MONEY_2024)
    # The first form's title glued to the collection title: only the second form is recognised.
    text = "2026 年度项目绩效目标汇总表\f" + lost + "\n" + form
    (parsed,) = _parse(tmp_path, text)
    assert parsed.header["project_name"] == "机关事业单位运行保障经费"
    assert [(i.code, i.where) for i in parsed.issues if i.code == "unparsed_form_title"] == [
        ("unparsed_form_title", "line 1")]


def test_file_whose_forms_lack_indicators(tmp_path: Path) -> None:
    text = FORM_2024.format(**MONEY_2024).split("\t一级指标")[0] + "\t一级指标\t二级指标\t三级指标\t年度(/项目)指标值\t\n"
    (form,) = _parse(tmp_path, text)
    assert _new(form) == {("no_indicators", "error", "indicators")}


# -- placement flags of the indicator table (parsers/layouts/table.py) -----------------------------

HEADER_2024 = "\t一级指标\t二级指标\t三级指标\t年度(/项目)指标值"


def _table(body: str) -> RawForm:
    spec = LAYOUTS["2024"].spec
    rows = []
    for n, line in enumerate((HEADER_2024 + "\n" + body).split("\n"), start=1):
        parts = line.split("\t")
        rows.append(Row(tuple(Cell(p, i) for i, p in enumerate(parts)), Location(line=n), in_table=len(parts) > 1))
    form = RawForm(layout="2024", year=None, where=rows[0].where)
    read_indicator_table(TableHeader.from_row(rows[0], spec), rows[1:], spec, form)
    return form


def _placement(form: RawForm) -> list[int | None]:
    return [i.where.line if i.where else None for i in form.issues if i.code == "ambiguous_placement"]


PLACEMENTS = [
    # Top-aligned merged cells: every group's labels on its first row; blank cells inherit.
    pytest.param("\t成本指标\t经济成本指标\t甲\t=1\n\t\t\t乙\t=2\n\t产出指标\t数量指标\t丙\t=3\n\t\t\t丁\t=4\n\t\t质量指标\t戊\t=5",
                 [("成本指标", "经济成本指标")] * 2 + [("产出指标", "数量指标")] * 2 + [("产出指标", "质量指标")],
                 [], id="top-aligned-nothing-inferred"),
    # Vertically centred level-1 labels: 产出指标 printed on the middle row of its group. Row 3
    # (数量指标 under 成本指标) infers level 1 from the vocabulary; rows 4-5 carry that inferred
    # level on until the printed label; row 7 (质量指标) is placed by its own label.
    pytest.param("\t成本指标\t经济成本指标\t甲\t=1\n\t\t数量指标\t乙\t=2\n\t\t\t丙\t=3\n\t\t\t丁\t=4\n"
                 "\t产出指标\t\t戊\t=5\n\t\t质量指标\t己\t=6",
                 [("成本指标", "经济成本指标"), ("产出指标", "数量指标"), ("产出指标", "数量指标"), ("产出指标", "数量指标"),
                  ("产出指标", "数量指标"), ("产出指标", "质量指标")],
                 [3, 4, 5], id="centred-level1-label-rows-carrying-the-inference-are-flagged"),
    # The same, with a second level-2 label before the level-1 label: that row names its level 1
    # through its own label; the rows inheriting below it still carry the inference.
    pytest.param("\t成本指标\t经济成本指标\t甲\t=1\n\t\t数量指标\t乙\t=2\n\t\t\t丙\t=3\n\t\t质量指标\t丁\t=4\n"
                 "\t\t\t戊\t=5\n\t产出指标\t\t己\t=6",
                 [("成本指标", "经济成本指标")] + [("产出指标", "数量指标")] * 2 + [("产出指标", "质量指标")] * 3,
                 [3, 4, 6], id="centred-level1-label-with-two-level2-groups"),
    # A centred level-2 label whose level 1 changes: the rows above it that only inherited may
    # belong to its group: flagged, not silently kept where they are.
    pytest.param("\t成本指标\t经济成本指标\t甲\t=1\n\t\t\t乙\t=2\n\t\t数量指标\t丙\t=3\n\t产出指标\t\t丁\t=4",
                 [("成本指标", "经济成本指标")] * 2 + [("产出指标", "数量指标")] * 2,
                 [3, 4], id="rows-above-a-centred-label-are-flagged"),
    # A level-2 label one row late: the rows carrying the borrowed level 2 are flagged.
    pytest.param("\t成本指标\t经济成本指标\t甲\t=1\n\t产出指标\t\t乙\t=2\n\t\t\t丙\t=3\n\t\t数量指标\t丁\t=4",
                 [("成本指标", "经济成本指标"), ("产出指标", "数量指标"), ("产出指标", "数量指标"), ("产出指标", "数量指标")],
                 [3, 4], id="level2-label-below-carried-down"),
    # A label on a line of its own, above rows without that label: placed downwards, flagged.
    pytest.param("\t成本指标\t经济成本指标\t甲\t=1\n\t产出指标\t\t\t\n\t\t数量指标\t乙\t=2\n\t\t\t丙\t=3",
                 [("成本指标", "经济成本指标"), ("产出指标", "数量指标"), ("产出指标", "数量指标")],
                 [], id="level1-label-line-above-a-labelled-row"),
    pytest.param("\t成本指标\t经济成本指标\t甲\t=1\n\t\t社会成本指标\t\t\n\t\t\t乙\t=2\n\t\t\t丙\t=3",
                 [("成本指标", "经济成本指标"), ("成本指标", "社会成本指标"), ("成本指标", "社会成本指标")],
                 [4], id="label-line-given-to-the-row-below"),
]


@pytest.mark.parametrize(("body", "levels", "flagged"), PLACEMENTS)
def test_every_inferred_placement_is_flagged(body: str, levels: list[tuple[str, str]], flagged: list[int]) -> None:
    form = _table(body)
    assert [(i.level1, i.level2) for i in form.indicators] == levels
    assert sorted(set(_placement(form))) == flagged


def test_real_merged_cells_are_not_inferred() -> None:
    """A Word/PDF grid with row spans: blank cells under a merged label inherit without a flag."""
    spec = LAYOUTS["2024"].spec
    header = Row(tuple(Cell(t, i) for i, t in enumerate(HEADER_2024.split("\t"))), Location(table=1, row=0))
    rows = [
        Row((Cell("", 0), Cell("产出指标", 1, row_span=3), Cell("数量指标", 2, row_span=2), Cell("甲", 3), Cell("=1", 4)),
            Location(table=1, row=1)),
        Row((Cell("", 0), Cell("", 1), Cell("", 2), Cell("乙", 3), Cell("=2", 4)), Location(table=1, row=2)),
        Row((Cell("", 0), Cell("", 1), Cell("质量指标", 2), Cell("丙", 3), Cell("=3", 4)), Location(table=1, row=3)),
    ]
    form = RawForm(layout="2024", year=None, where=header.where)
    read_indicator_table(TableHeader.from_row(header, spec), rows, spec, form)
    assert [(i.level1, i.level2) for i in form.indicators] == [("产出指标", "数量指标")] * 2 + [("产出指标", "质量指标")]
    assert form.issues == []
