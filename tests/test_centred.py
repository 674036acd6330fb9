"""``pdftotext -layout`` dumps of vertically centred tables (the real 申报表 print their cells so).

A tall row spans several dump lines: a merged label and a short value sit on its middle line (or
on a line of their own between two lines of the tall cell). The dumps below are shaped like
``samples/layout-centred`` (the header part is a real dump of that folder); each test changes the
indicator table to show one thing: a label in the middle of its group with names wrapped above and
below, a target on the middle line of a three-line name, a tall row cut by a page break, and
placements that the centring cannot decide (flagged, never silently placed).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from goalforms.parsers import readers
from goalforms.parsers.layouts import LAYOUTS
from goalforms.parsers.layouts.centred import looks_centred
from goalforms.parsers.recognise import recognise
from goalforms.pipeline import parse_file
from tests.conftest import SAMPLES

HEAD_2024 = """\
                        财政项目支出绩效目标申报表
                                   (2024 年度)
 项目名称     外省市差旅费           项目性质     经常性项目              项目类别       特定目标类
          上海市闵行区人力资源和社会保障
 主管部门                                     实施单位       上海市闵行区社会保障服务中心
          局(汇总)
计划开始日期    2024-01-01                     计划完成日期      2024-12-31
          项目资金总额                       年度资金申请总额      300,000.00
          其中：财政资
                                       其中：当年财政拨款     300,000.00
项目资金(元)      金
                                         上年结转资金      0.00
            其他资金                          其他资金       0.00
                       项目总目标                       年度总体目标
                                    1、外调获取有效证据率 95%以上。2、年度重复领取待遇核查
项目绩效目标
                                    率 100%
            一级指标           二级指标           三级指标              年度(/项目)指标值
"""

# Labels on the middle line of their groups; a two-line name with its target on a line of its
# own between; a three-line name with its target (and its group's labels) on the middle line.
TABLE_MIDDLE = """\
                                    案件调查完成率          =100.00(%)
                           数量指标
                                    当年度重复领待案件核实率     =100.00(%)
                                    外调获取有效证据率        >95.00(%)
            产出指标           质量指标     当年度完成信息核实和待遇
                                                     =100.00(%)
                                    领取情况确认
 绩效指标
                                    案件调查及时率          =100.00(%)
                           时效指标
                                    核查参保人信息真实完整      真实完整
                                    被调查者对调查工作的满意
            效益指标          社会效益指标    度及调查人员服务态度评价     满意
                                    情况
                         服务对象满意度
           满意度指标                    案件当事人满意度         >90.00(%)
                            指标
"""

# The row 当年度完成信息核实和待遇/领取情况确认 is cut by a page break: LibreOffice prints the rows
# next to the break top-aligned, and the merged labels of groups that run on at the top of their
# part before the break.
TABLE_PAGE_BREAK = """\
            产出指标                        案件调查完成率          =100.00(%)
                           数量指标
                                    当年度重复领待案件核实率     =100.00(%)
                           质量指标     当年度完成信息核实和待遇     =100.00(%)
\f                                    领取情况确认
                                    外调获取有效证据率        >95.00(%)
            效益指标          社会效益指标    被调查者满意度          满意
                         服务对象满意度
           满意度指标                    案件当事人满意度         >90.00(%)
                            指标
"""

# 质量指标 could head the third row or only the fourth: its centred position fits both equally.
TABLE_UNDECIDED = """\
                                    案件调查完成率          =100.00(%)
                           数量指标
                                    当年度重复领待案件核实率     =100.00(%)
            产出指标                        外调获取有效证据率        >95.00(%)
                           质量指标     案件调查及时率          =100.00(%)
"""

OUTPUT = "产出指标"
BENEFIT = "效益指标"
SATISFACTION = ("满意度指标", "服务对象满意度指标")


def _parse(tmp_path: Path, text: str) -> dict[str, Any]:
    path = tmp_path / "centred.txt"
    path.write_text(text, encoding="utf-8")
    parsed = parse_file(path).to_dict()
    assert len(parsed["forms"]) == 1
    form: dict[str, Any] = parsed["forms"][0]
    return form


def _rows(form: dict[str, Any]) -> list[tuple[str | None, str | None, str, str]]:
    return [(i["level1"], i["level2"], i["level3"], i["raw"]) for i in form["indicators"]]


def _flags(form: dict[str, Any]) -> list[str]:
    return [i["field"] for i in form["issues"] if i["code"] == "ambiguous_placement"]


def test_header_values_wrapped_above_and_below_their_label(tmp_path: Path) -> None:
    form = _parse(tmp_path, HEAD_2024 + TABLE_MIDDLE)
    assert form["header"]["project_name"] == "外省市差旅费"
    # The value's two lines stand above and below 主管部门 (the label sits between them).
    assert form["header"]["department"] == "上海市闵行区人力资源和社会保障局(汇总)"
    assert form["header"]["unit"] == "上海市闵行区社会保障服务中心"
    assert form["header"]["plan_start"] == "2024-01-01"
    assert form["budget"]["current_year"] == "300000"
    assert form["budget"]["fiscal_appropriation"] == "300000"
    # The side caption 项目绩效目标 in the middle of the goal does not cut it short.
    assert form["header"]["goal"] == "1、外调获取有效证据率95%以上。2、年度重复领取待遇核查率100%"


def test_labels_in_the_middle_of_their_groups(tmp_path: Path) -> None:
    form = _parse(tmp_path, HEAD_2024 + TABLE_MIDDLE)
    assert _rows(form) == [
        (OUTPUT, "数量指标", "案件调查完成率", "=100.00(%)"),
        (OUTPUT, "数量指标", "当年度重复领待案件核实率", "=100.00(%)"),
        (OUTPUT, "质量指标", "外调获取有效证据率", ">95.00(%)"),
        # two-line name, its target on a line of its own between the two
        (OUTPUT, "质量指标", "当年度完成信息核实和待遇领取情况确认", "=100.00(%)"),
        (OUTPUT, "时效指标", "案件调查及时率", "=100.00(%)"),
        (OUTPUT, "时效指标", "核查参保人信息真实完整", "真实完整"),
        # three-line name, target and both labels on its middle line
        (BENEFIT, "社会效益指标", "被调查者对调查工作的满意度及调查人员服务态度评价情况", "满意"),
        # a wrapped level-2 label (服务对象满意度 / 指标) centred on its one row
        (*SATISFACTION, "案件当事人满意度", ">90.00(%)"),
    ]
    assert form["issues"] == []


def test_tall_row_cut_by_a_page_break(tmp_path: Path) -> None:
    form = _parse(tmp_path, HEAD_2024 + TABLE_PAGE_BREAK)
    assert _rows(form) == [
        (OUTPUT, "数量指标", "案件调查完成率", "=100.00(%)"),
        (OUTPUT, "数量指标", "当年度重复领待案件核实率", "=100.00(%)"),
        (OUTPUT, "质量指标", "当年度完成信息核实和待遇领取情况确认", "=100.00(%)"),
        (OUTPUT, "质量指标", "外调获取有效证据率", ">95.00(%)"),
        (BENEFIT, "社会效益指标", "被调查者满意度", "满意"),
        (*SATISFACTION, "案件当事人满意度", ">90.00(%)"),
    ]
    assert form["issues"] == []


def test_undecided_group_boundary_is_flagged(tmp_path: Path) -> None:
    form = _parse(tmp_path, HEAD_2024 + TABLE_UNDECIDED)
    rows = _rows(form)
    assert [r[2] for r in rows] == ["案件调查完成率", "当年度重复领待案件核实率", "外调获取有效证据率", "案件调查及时率"]
    assert rows[0][1] == rows[1][1] == "数量指标"
    assert rows[3][1] == "质量指标"
    # 外调获取有效证据率 may belong to either group: whatever was chosen is flagged on that row.
    assert "indicators[2].level2" in _flags(form)
    assert all(i["severity"] == "warning" for i in form["issues"] if i["code"] == "ambiguous_placement")


def test_asymmetric_header_value_is_flagged(tmp_path: Path) -> None:
    # Both lines of 主管部门's value above it, none below: which lines are its own is a guess.
    head = HEAD_2024.replace(
        "          上海市闵行区人力资源和社会保障\n 主管部门                                     实施单位"
        "       上海市闵行区社会保障服务中心\n          局(汇总)\n",
        "          上海市闵行区人力资源和社会保障\n          局(汇总)\n 主管部门                      "
        "               实施单位       上海市闵行区社会保障服务中心\n",
    )
    assert head != HEAD_2024
    form = _parse(tmp_path, head + TABLE_MIDDLE)
    assert "header.department" in _flags(form)
    assert form["header"]["project_name"] == "外省市差旅费"


def test_2020_target_between_name_lines_and_wrapped_budget_label(tmp_path: Path) -> None:
    text = """\
                        财政项目支出绩效目标表
                                 (2020 年度)
申报单位名称：上海市普陀区社会保障管理服务中心
                    社管中心工伤异地调查、
     项目名称：                                    项目类别：           延续性项目
                    劳动能力鉴定费用
   计划开始日期：          2020-01-01               计划完成日期：          2020-12-31
本项目上年度市级财政资金使用情况
   项目总预算(元)：        292,417               项目当年预算(元)：          292,417
                                       同名项目上年预算执行数
 同名项目上年预算额(元)：      293,700                                   266,229
                                           (元)：
2020 年绩效目标
  一级目标       二级目标                  三级目标                          指标目标值
                        预算执行率                          >90%
             投入管理
                        预算资金到位率                        =100%
 投入与管理                  财务管理制度健全性                      健全
             财务管理       财务监控有效性                        有效
                        资金使用合规性                        合规
                        政府采购及合同管理制度健全执行有
  产出目标         数量                                      完整
                        效性
"""
    form = _parse(tmp_path, text)
    assert form["header"]["project_name"] == "社管中心工伤异地调查、劳动能力鉴定费用"
    assert form["budget"]["prior_year_budget"] == "293700"
    assert form["budget"]["prior_year_spent"] == "266229"
    assert _rows(form) == [
        ("投入与管理", "投入管理", "预算执行率", ">90%"),
        ("投入与管理", "投入管理", "预算资金到位率", "=100%"),
        ("投入与管理", "财务管理", "财务管理制度健全性", "健全"),
        ("投入与管理", "财务管理", "财务监控有效性", "有效"),
        ("投入与管理", "财务管理", "资金使用合规性", "合规"),
        # a two-line name, its target and both labels on a line of their own between
        ("产出目标", "数量", "政府采购及合同管理制度健全执行有效性", "完整"),
    ]


@pytest.mark.parametrize("folder, centred", [("layout", False), ("layout-centred", True)])
def test_centring_is_recognised_per_form(folder: str, centred: bool) -> None:
    for sample in sorted((SAMPLES / folder).glob("*.txt")):
        _title, segments = recognise(readers.read(sample))
        for segment in segments:
            assert looks_centred(segment.rows, LAYOUTS[segment.layout].spec) is centred, f"{sample.name}"


HEAD_ONE_LINE = """\
                        财政项目支出绩效目标申报表
                                   (2024 年度)
 项目名称     征地养老费支出           项目性质     经常性项目            项目类别             特定目标类
 主管部门     上海市闵行区人力资源和社会保障局(汇总)        实施单位     上海市闵行区社会保障服务中心
计划开始日期    2024-01-01                     计划完成日期      2024-12-31
            项目资金总额                       年度资金申请总额      1,094,910,000.00
           其中：财政资金                      其中：当年财政拨款     1,094,910,000.00
项目资金(元)
                                         上年结转资金      0.00
            其他资金                          其他资金       0.00
                       项目总目标                       年度总体目标
项目绩效目标                              落实市、区级文件要求，规范征地养老各类保障待遇。
            一级指标           二级指标           三级指标              年度(/项目)指标值
"""

# Only one-line rows: nothing but the labels' positions tells centred from top-aligned. Here
# every label sits exactly at the centre of its group, and the first row has no level-1 label.
TABLE_ONE_LINE_CENTRED = """\
                               数量指标   征地养老资金应发实发率     =23000.00(人)
              产出指标             质量指标   征地养老资金发放准确率     =100.00(%)
                               时效指标   征地养老资金发放及时率     与政策规定一致
                                      补贴对象覆盖率         =100.00(%)
 绩效指标                                 征地养老待遇提升情况      提升
              效益指标         社会效益指标     社会保障制度完善情况      完善
                                      有责投诉数           =0.00(起)
                                      群体性事件发生数        =0.00(件)
             满意度指标       服务对象满意度指标    受补对象满意度         ≥85.00(%)
"""

# The same rows top-aligned, the first level-1 label misspelt (not in the vocabulary): the
# labels do not sit at their groups' centres, so the dump is read as top-aligned.
TABLE_ONE_LINE_TOP = """\
              产出类指标            数量指标   征地养老资金应发实发率     =23000.00(人)
                                      征地养老资金发放准确率     =100.00(%)
                                      征地养老资金发放及时率     与政策规定一致
              效益指标         社会效益指标     补贴对象覆盖率         =100.00(%)
                                      征地养老待遇提升情况      提升
                                      社会保障制度完善情况      完善
"""


def test_one_line_rows_with_labels_at_their_centres(tmp_path: Path) -> None:
    form = _parse(tmp_path, HEAD_ONE_LINE + TABLE_ONE_LINE_CENTRED)
    social = (BENEFIT, "社会效益指标")
    assert [(r[0], r[1]) for r in _rows(form)] == [
        (OUTPUT, "数量指标"), (OUTPUT, "质量指标"), (OUTPUT, "时效指标"),
        social, social, social, social, social, SATISFACTION,
    ]
    assert form["issues"] == []
    assert form["header"]["goal"] == "落实市、区级文件要求，规范征地养老各类保障待遇。"


def test_one_line_rows_top_aligned_stay_top_aligned(tmp_path: Path) -> None:
    form = _parse(tmp_path, HEAD_ONE_LINE + TABLE_ONE_LINE_TOP)
    # Read as centred, 效益指标 (the only known level-1 label, near the middle) would take every row.
    assert [(r[0], r[1]) for r in _rows(form)] == [(OUTPUT, "数量指标")] * 3 + [(BENEFIT, "社会效益指标")] * 3
    # The misspelt label's row is flagged by the table reader (its level 1 is inferred).
    assert "indicators[0]" in _flags(form)


# A three-line target beside a two-line name: the lines of the two cells alternate. The
# level-2 label 服务对象满意度指标 is squeezed into two pieces, the second of four characters.
TABLE_INTERLEAVED = """\
                                    案件调查完成率          =100.00(%)
                           数量指标
                                    当年度重复领待案件核实率     =100.00(%)
            产出指标                                     1 个工作日内及时响应，1-3 个工
                                    各类系统运行和技术资源问
                           时效指标                      作日内解决，特殊情况不晚于 1
                                    题的响应度
                                                     周
                          服务对象满
           满意度指标                    案件当事人满意度         >90.00(%)
                           意度指标
"""


def test_interleaved_lines_and_a_squeezed_label(tmp_path: Path) -> None:
    form = _parse(tmp_path, HEAD_2024 + TABLE_INTERLEAVED)
    assert _rows(form) == [
        (OUTPUT, "数量指标", "案件调查完成率", "=100.00(%)"),
        (OUTPUT, "数量指标", "当年度重复领待案件核实率", "=100.00(%)"),
        (OUTPUT, "时效指标", "各类系统运行和技术资源问题的响应度",
         "1 个工作日内及时响应，1-3 个工作日内解决，特殊情况不晚于 1 周"),
        (*SATISFACTION, "案件当事人满意度", ">90.00(%)"),
    ]
    assert form["issues"] == []
