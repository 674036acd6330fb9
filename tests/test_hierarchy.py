"""Hierarchy recovery on small hand-made tables: each case is one kind of damage the seeds show."""

from __future__ import annotations

import pytest

from goalforms.parsers.grid import Cell, Location, Row
from goalforms.parsers.layouts import LAYOUTS, RawForm
from goalforms.parsers.layouts.table import TableHeader, read_indicator_table

HEADER_2024 = "\t一级指标\t二级指标\t三级指标\t年度(/项目)指标值"
HEADER_2020 = "一级目标\t二级目标\t三级目标\t指标目标值"


def _rows(text: str) -> list[Row]:
    rows = []
    for n, line in enumerate(text.strip("\n").split("\n"), start=1):
        parts = line.split("\t")
        rows.append(Row(tuple(Cell(p, i) for i, p in enumerate(parts)), Location(line=n), in_table=len(parts) > 1))
    return rows


def _table(layout: str, header: str, body: str) -> RawForm:
    spec = LAYOUTS[layout].spec
    rows = _rows(header + "\n" + body)
    form = RawForm(layout=layout, year=None, where=rows[0].where)
    read_indicator_table(TableHeader.from_row(rows[0], spec), rows[1:], spec, form)
    return form


def _levels(form: RawForm) -> list[tuple[str | None, str | None, str, str]]:
    return [(i.level1, i.level2, i.level3, i.target) for i in form.indicators]


def _codes(form: RawForm) -> list[tuple[str, int | None]]:
    return [(i.code, i.where.line if i.where else None) for i in form.issues]


CASES = [
    pytest.param(
        "2020", HEADER_2020,
        "投入与管理\t投入管理\t预算执行率\t=100%\n\t\t资金使用规范性\t规范\n实施管理\t项目管理制度健全性\t健全\t",
        [("投入与管理", "投入管理", "预算执行率", "=100%"), ("投入与管理", "投入管理", "资金使用规范性", "规范"),
         ("投入与管理", "实施管理", "项目管理制度健全性", "健全")],
        [], id="blank-cells-inherit-and-row-lost-leading-cells",
    ),
    pytest.param(
        "2020", HEADER_2020,
        "产出目标\t时效\t养老金发放及时率\t及时\n延伸社区工作培训及时性\t\t及时\t",
        [("产出目标", "时效", "养老金发放及时率", "及时"), ("产出目标", "时效", "延伸社区工作培训及时性", "及时")],
        [], id="row-shifted-two-cells-left",
    ),
    pytest.param(
        "2024", HEADER_2024,
        "绩效 指标\t产出指标\t时效指标\t时效指标\t工作完成及时性\t及时\n\t\t\t经济效益指标\t人员结构优化情况\t优化\n\n"
        "效益指标\t社会效益指标\t单位工作效率提升情况\t提升",
        [("产出指标", "时效指标", "工作完成及时性", "及时"), ("效益指标", "经济效益指标", "人员结构优化情况", "优化"),
         ("效益指标", "社会效益指标", "单位工作效率提升情况", "提升")],
        [("ambiguous_placement", 3)], id="level1-label-on-a-later-row-and-label-in-wrong-column",
    ),
    pytest.param(
        "2024", HEADER_2024,
        "绩效 指标\t成本指标\t社会成本指标\t养老金应付尽付率\t=100.00(%)\t\n\t\t\t\t产出指标\t资格认证工作完成率\t=100(%)\n"
        "\t\t数量指标\t\t监督检查工作完成率\t=100(%)\t",
        [("成本指标", "社会成本指标", "养老金应付尽付率", "=100.00(%)"),
         ("产出指标", "数量指标", "资格认证工作完成率", "=100(%)"), ("产出指标", "数量指标", "监督检查工作完成率", "=100(%)")],
        [("ambiguous_placement", 3)], id="level2-label-printed-on-the-next-row",
    ),
    pytest.param(
        "2024", HEADER_2024,
        "\t\t质量指标\t\t评估报告质量验收合格率\t=100.00(%)\n\t\t\t\t报告完成及时率\t≥95.00(%)\n时效指标\t\t\t\t\t\n"
        "效益指标\t社会效益\t\t参保单位投诉率(有责投诉)\t<1.00(%)\n\n\t指标\t参保人员投诉率（有责投诉）\t<1.00(%)",
        [("产出指标", "质量指标", "评估报告质量验收合格率", "=100.00(%)"), ("产出指标", "时效指标", "报告完成及时率", "≥95.00(%)"),
         ("效益指标", "社会效益指标", "参保单位投诉率(有责投诉)", "<1.00(%)"),
         ("效益指标", "社会效益指标", "参保人员投诉率（有责投诉）", "<1.00(%)")],
        None, id="label-on-its-own-line-after-its-row-and-wrapped-label",
    ),
    pytest.param(
        "2024", HEADER_2024,
        "满意度指标\t服务对象满意度指\t微信总阅读数\t>100.00(万次)\t\n\t\t网上办事满意度\t≥95.00(%)\t\n-------\t----\t----",
        [("满意度指标", "服务对象满意度指标", "微信总阅读数", ">100.00(万次)"),
         ("满意度指标", "服务对象满意度指标", "网上办事满意度", "≥95.00(%)")],
        [], id="cut-label-and-separator-line",
    ),
    pytest.param(
        "2024", HEADER_2024,
        "绩效 指标\t成本指标\t经济成本 指标\t硬件资源上云率\t=100.00(%)\t\n\t\t\t\t产出指标\t数量指标\t产品软件购置完成率",
        [("成本指标", "经济成本指标", "硬件资源上云率", "=100.00(%)"), ("产出指标", "数量指标", "产品软件购置完成率", "")],
        [], id="row-without-target",
    ),
    pytest.param(
        "2020", HEADER_2020,
        "影响力目标\t可持续发展\t制度建设\t完善",
        [("影响力目标", "可持续发展", "制度建设", "完善")],
        [("unknown_label", 2)], id="unknown-label",
    ),
]


@pytest.mark.parametrize(("layout", "header", "body", "levels", "issues"), CASES)
def test_hierarchy(layout: str, header: str, body: str, levels: list, issues: list | None) -> None:  # type: ignore[type-arg]
    form = _table(layout, header, body)
    assert _levels(form) == levels
    if issues is not None:
        assert _codes(form) == issues


def test_label_claimed_backwards_is_flagged() -> None:
    form = _table("2024", HEADER_2024, CASES[4].values[2])
    assert ("ambiguous_placement", 3) in _codes(form)  # 报告完成及时率 is line 3 (the header is line 1)
