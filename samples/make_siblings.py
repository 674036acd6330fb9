"""Generate the sibling-form samples (issue 12): self-evaluations, a department form, two local
variants of the target form — as tab-separated text dumps, Word and PDF.

What is written by hand, and what is generated from it:

- ``DUMPS`` below are the text dumps, written by hand as the real published dumps look
  (shared/spec/sibling-layouts.md, the seeds): merged cells lost (a merged label is printed once,
  the rows below it are blank in that column), a 一级 label on the middle row of its group, wrapped
  labels (``满意度指 标（10分）``, ``服务对象 满意度指 标``, ``可持续影响 指标``), an empty
  实际完成值 and empty 偏差原因 cells, a self-evaluation whose 总分 (98.2) is not the sum of its
  scores (96.2) — for the reviewer's rule, not for the parser. The generator writes them to
  ``samples/siblings/text/NAME.txt``.
- ``samples/siblings/truth/NAME.truth.json`` is the expected parse of each dump, WRITTEN BY HAND
  from the dump (contract of docs/contract.md + /work/wt/CONTRACT-12.md): every value as the form
  prints it, money converted from 万元 to yuan by hand, targets/actuals/prior-year levels
  normalised by hand, ``where`` = the dump's line, and the issues the dump's damage must raise.
  Nothing in it comes from a parser. The generator never changes these files.

Generated from the truth (this script; ``make samples`` may call it):

- ``samples/siblings/text/NAME.expected.json``: the truth with ``source`` filled in (the dump's
  sha256, format ``txt``).
- ``samples/siblings/docx/NAME.docx``: a clean rendering of the truth's forms with python-docx
  (merged cells as the national templates print them; the helpers of make_samples.py), and
  ``samples/siblings/pdf/NAME.pdf`` converted by LibreOffice (own profile) — each with its
  ``NAME.expected.json`` derived by the rule of :func:`derive_expected`:
  1. locations are dropped (``forms[].where``, ``indicators[].where``, ``issues[].where``):
     they differ by format;
  2. only issues that are facts of the form are kept (``missing_target``, ``truncated_text``,
     ``missing_actual``: a blank cell is blank in every rendering); issues of the dump's damage
     (``ambiguous_placement`` for a label on a middle row, …) are dropped, because the clean
     rendering prints every label on its merged cell;
  3. every other value is the truth's: the clean rendering prints the truth's values (wrapped
     labels are printed whole, amounts in 万元 with two decimals, rates with ``%``).

Needs LibreOffice, CJK fonts and poppler (see make_samples.py). Run from the repository::

    .venv/bin/python samples/make_siblings.py

The .docx files are byte-for-byte reproducible; the PDFs are pinned like make_samples' ones.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pdfplumber
from docx.document import Document as DocxDocument
from docx.table import Table
from make_samples import (
    convert_to_pdf,
    fill_row,
    merge_down,
    new_document,
    new_table,
    paragraph,
    pin_pdf,
    reproducible_zip,
    runs,
    squash,
    text,
    write,
)

REPO = Path(__file__).resolve().parent.parent
ROOT = REPO / "samples" / "siblings"
TRUTH_DIR = ROOT / "truth"
TEXT_DIR, DOCX_DIR, PDF_DIR = ROOT / "text", ROOT / "docx", ROOT / "pdf"
LO_PROFILE = "file:///tmp/lo-siblings"

# Issues that are facts of the form (kept in every rendering), see the module docstring.
FORM_ISSUES = {"missing_target", "truncated_text", "missing_actual"}
TITLES = {"self_eval": "项目支出绩效自评表", "dept": "部门整体支出绩效目标表",
          "local_prior_year": "项目支出绩效目标表", "local_content": "项目绩效目标申报表"}

T = "\t"


def row(*cells: str) -> str:
    return T.join(cells)


# ---------------------------------------------------------------- the dumps (written by hand)

SELF_EVAL_2024 = [
    "",
    "项目支出绩效自评表",
    "（2024年度）",
    row("项目名称", "征地养老费支出", "", "", "", "", "", "", ""),
    row("主管部门", "上海市闵行区人力资源和社会保障局", "", "", "实施单位", "上海市闵行区社会保障服务中心", "", "", ""),
    row("项目资金（万元）", "", "年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分", ""),
    row("", "年度资金总额", "109491.00", "109491.00", "108396.09", "10", "99.00%", "9.90", ""),
    row("", "其中：当年财政拨款", "109491.00", "109491.00", "108396.09", "", "99.00%", "", ""),
    row("", "上年结转资金", "0.00", "0.00", "0.00", "", "", "", ""),
    row("", "其他资金", "0.00", "0.00", "0.00", "", "", "", ""),
    row("年度总体目标", "预期目标", "", "", "", "实际完成情况", "", "", ""),
    row("", "落实市、区级文件要求，确保征地养老各类补贴准确、及时、足额发放，保障征地养老人员基本生活。", "", "", "",
        "全年按月足额发放征地养老待遇，补贴发放准确率100%，受补对象满意度91.3%。", "", "", ""),
    row("绩效指标", "一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分", "偏差原因分析及改进措施"),
    row("", "产出指标（50分）", "数量指标", "征地养老资金应发实发率", "=23000人", "22850人", "15", "14.9",
        "部分人员年内死亡，待遇按规定停发"),
    row("", "", "质量指标", "征地养老资金发放准确率", "=100%", "100%", "15", "15", ""),
    row("", "", "时效指标", "征地养老资金发放及时率", "与政策规定一致", "按时发放", "20", "20", ""),
    # 效益指标（30分） is printed on the middle row of its three rows (vertically centred label)
    row("", "", "社会效益指标", "补贴对象覆盖率", "=100%", "100%", "10", "10", ""),
    row("", "效益指标（30分）", "", "有责投诉数", "=0起", "2起", "10", "8", "发放时间调整告知不及时，已加强事前告知"),
    row("", "", "", "群体性事件发生数", "=0件", "0件", "10", "10", ""),
    row("", "满意度指标（10分）", "服务对象满意度指标", "受补对象满意度", "≥85%", "91.3%", "10", "10", ""),
    row("总分", "", "", "", "", "", "100", "97.8", ""),
    row("自评等级", "优", "", "", "", "", "", "", ""),
    "",
    "项目支出绩效自评表",
    "（2024年度）",
    row("项目名称", "外省市差旅费", "", "", "", "", "", "", ""),
    row("主管部门", "上海市闵行区人力资源和社会保障局", "", "", "实施单位", "上海市闵行区社会保障服务中心", "", "", ""),
    row("项目资金（万元）", "", "年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分", ""),
    row("", "年度资金总额", "30.00", "30.00", "27.60", "10", "92.00%", "9.20", ""),
    row("", "其中：当年财政拨款", "30.00", "30.00", "27.60", "", "92.00%", "", ""),
    row("", "上年结转资金", "0.00", "0.00", "0.00", "", "", "", ""),
    row("", "其他资金", "0.00", "0.00", "0.00", "", "", "", ""),
    row("年度总体目标", "预期目标", "", "", "", "实际完成情况", "", "", ""),
    row("", "外调获取有效证据率95%以上，年度重复领取待遇核查率100%。", "", "", "",
        "完成外省市调查案件132件，重复领取待遇核查率100%，有效证据获取率93.5%。", "", "", ""),
    row("绩效指标", "一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分", "偏差原因分析及改进措施"),
    row("", "产出指标（50分）", "数量指标", "案件调查完成率", "=100%", "100%", "10", "10", ""),
    row("", "", "", "当年度重复领待案件核实率", "=100%", "100%", "10", "10", ""),
    row("", "", "质量指标", "外调获取有效证据率", ">95%", "93.5%", "10", "8",
        "部分外省市协查单位未及时反馈，下年度提前发函协查"),
    row("", "", "时效指标", "案件调查及时率", "=100%", "98%", "10", "9", ""),
    row("", "", "成本指标", "差旅费支出控制数", "≤30万元", "27.6万元", "10", "10", ""),
    row("", "效益指标（30分）", "社会效益指标", "重复领取待遇追回率", "≥90%", "95%", "15", "15", ""),
    row("", "", "", "被调查者满意度", "满意", "达成预期指标", "15", "15", ""),
    row("", "满意度指标（10分）", "服务对象满意度指标", "案件当事人满意度", ">90%", "92%", "10", "10", ""),
    # The printed total is not the sum of the scores (9.2 + 86 + 1 = 96.2): a reviewer's catch.
    row("总分", "", "", "", "", "", "100", "98.2", "优"),
]

SELF_EVAL_2020 = [
    "",
    "项目支出绩效自评表",
    "（2020年度）",
    row("项目名称", "社会保险经办业务费", "", "", "", "", "", "", ""),
    row("主管部门", "上海市人力资源和社会保障局", "", "", "实施单位", "上海市社会保险事业管理中心", "", "", ""),
    row("项目资金（万元）", "", "年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分", ""),
    row("", "年度资金总额", "2822.31", "2822.31", "2745.18", "10", "97.27%", "9.73", ""),
    row("", "其中：当年财政拨款", "2822.31", "2822.31", "2745.18", "", "97.27%", "", ""),
    row("", "上年结转资金", "0.00", "0.00", "0.00", "", "", "", ""),
    row("", "其他资金", "0.00", "0.00", "0.00", "", "", "", ""),
    row("年度总体目标", "预期目标", "", "", "", "实际完成情况", "", "", ""),
    row("", "按计划印制寄发各类业务通知书、告知书和个人权益记录单，确保社会保险经办服务工作正常开展。", "", "", "",
        "全年寄发各类通知书告知书和个人权益记录单，寄达率98.7%，参保个人满意度88.4%。", "", "", ""),
    row("绩效指标", "一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分", "偏差原因分析及改进措施"),
    row("", "产出指标（50分）", "数量指标", "各类通知书告知书邮寄率", "=100%", "100%", "10", "10", ""),
    row("", "", "", "个人权益记录单邮寄率", "=100%", "99.6%", "10", "9.5", "部分参保人员地址变更未及时更新，退件已重新寄发"),
    row("", "", "质量指标", "个人权益记录单寄达率", "=100%", "98.7%", "10", "9", "地址信息不准确导致退件，下年度加强地址核验"),
    row("", "", "时效指标", "各类通知书告知书印发及时率", "及时", "及时", "10", "10", ""),
    row("", "", "成本指标", "单份邮寄成本", "≤3元", "2.8元", "10", "10", ""),
    row("", "效益指标（30分）", "社会效益指标", "政策知晓度", "≥90%", "92%", "15", "15", ""),
    row("", "", "可持续影响 指标", "长效管理制度建设", "完善", "", "15", "12", ""),
    row("", "满意度指 标（10分）", "服务对象 满意度指 标", "参保个人满意度", "≥85%", "88.4%", "5", "5", ""),
    row("", "", "", "参保单位满意度", "≥85%", "83.1%", "5", "4", "经办窗口高峰期等候时间较长，拟增设自助终端"),
    row("总分", "", "", "", "", "", "100", "94.23", ""),
    row("自评等级", "优", "", "", "", "", "", "", ""),
]

DEPT_2024 = [
    "",
    "部门整体支出绩效目标表",
    "（2024年度）",
    row("部门（单位）名称", "上海市社会保险事业管理中心", "", "", "", ""),
    row("年度主要任务", "任务名称", "主要内容", "预算金额（万元）", "", ""),
    row("", "", "", "总额", "财政拨款", "其他资金"),
    row("", "社会保险经办服务", "参保登记、缴费核定、待遇核定与发放等社会保险经办业务", "5210.00", "5010.00", "200.00"),
    row("", "信息化建设与运维", "社会保险信息系统运维、网络安全保障及信息化项目建设", "3385.50", "3385.50", "0.00"),
    row("", "社保档案管理", "社保业务档案数字化、整理、保管与利用", "820.36", "820.36", "0.00"),
    row("", "金额合计", "", "9415.86", "9215.86", "200.00"),
    row("年度总体目标", "目标1：做好全市社会保险参保登记、缴费核定和待遇发放工作，确保各项待遇按时足额发放。", "", "", "", ""),
    row("", "目标2：保障社会保险信息系统安全稳定运行，提升“一网通办”社保服务能级。", "", "", "", ""),
    row("", "目标3：加强社保档案管理，推进档案数字化，提高档案利用效率。", "", "", "", ""),
    row("绩效指标", "一级指标", "二级指标", "三级指标", "指标值", ""),
    row("", "产出指标", "数量指标", "养老金按时足额发放率", "=100%", ""),
    row("", "", "", "社保业务档案数字化数量", "≥120万卷", ""),
    row("", "", "质量指标", "信息系统全年正常运行率", "≥99.9%", ""),
    row("", "", "时效指标", "待遇核定办结时限", "≤5个工作日", ""),
    row("", "效益指标", "社会效益指标", "社保经办“一网通办”网办率", "≥90%", ""),
    row("", "", "可持续影响指标", "社保档案电子化利用率", "≥80%", ""),
    row("", "满意度指标", "服务对象满意度指标", "参保单位和个人满意度", "≥95%", ""),
    row("", "履职效能", "重点工作任务", "年度重点工作任务完成率", "=100%", ""),
    row("", "管理效率", "预算管理", "部门预算执行率", "≥95%", ""),
    row("", "", "资产管理", "固定资产账实相符率", "=100%", ""),
]

LOCAL_PRIOR_YEAR_2021 = [
    "",
    "项目支出绩效目标表",
    "（2021年度）",
    row("项目名称", "征地养老费用", "项目类别", "特定目标类", "", ""),
    row("项目属性", "新增项目□ 延续项目☑", "", "", "", ""),
    row("主管部门", "上海市普陀区人力资源和社会保障局", "实施单位", "上海市普陀区社会保障管理服务中心", "", ""),
    row("项目负责人", "王敏", "联系电话", "021-52564588", "", ""),
    row("计划开始日期", "2021-01-01", "计划完成日期", "2021-12-31", "", ""),
    row("项目资金（万元）", "资金总额", "14812.50", "", "", ""),
    row("", "财政拨款", "14812.50", "", "", ""),
    row("", "自有资金", "0.00", "", "", ""),
    row("", "事业收入", "0.00", "", "", ""),
    row("", "其他", "0.00", "", "", ""),
    row("年度绩效目标", "保障已锁定的征地养老人员的社会保障，按时足额发放征地养老生活费和医疗费用，建立规范的征地养老管理。",
        "", "", "", ""),
    row("一级指标", "二级指标", "三级指标", "上年度实际水平", "本年度计划水平", "指标内容/计算公式"),
    row("产出指标", "数量指标", "征地养老人员生活费发放人数", "9635人", "≥9400人", "当年实际发放生活费的征地养老人员数"),
    row("", "", "召开经办人员会议", "4次", "≥4次", "全年召开征地养老经办人员业务会议次数"),
    row("", "质量指标", "生活费发放准确率", "100%", "=100%", "准确发放金额/应发放金额×100%"),
    row("", "时效指标", "费用发放及时率", "100%", "=100%", "按时发放月数/12×100%"),
    row("", "成本指标", "人均月生活费标准", "1268元", "≤1310元", "按本市征地养老人员生活费标准执行"),
    # 效益指标 is printed on the second row of its group (vertically centred)
    row("", "社会效益指标", "征地养老人员政策知晓度", "98%", "≥95%", "抽样调查知晓人数/调查人数×100%"),
    row("效益指标", "可持续影响指标", "征地养老管理制度健全性", "健全", "健全", ""),
    row("满意度指 标", "服务对象 满意度指 标", "征地养老人员满意度", "92.5%", "≥90%", "满意人数/调查人数×100%"),
]

LOCAL_CONTENT_2025 = [
    "",
    "项目绩效目标申报表",
    "（2025年度）",
    row("项目名称", "宣传费", "项目类别", "特定目标类", ""),
    row("项目属性", "新增项目□ 延续项目☑", "", "", ""),
    row("主管部门", "上海市闵行区人力资源和社会保障局", "实施单位", "上海市闵行区社会保障服务中心", ""),
    row("项目负责人", "李华", "联系电话", "021-64128800", ""),
    row("计划开始日期", "2025-01-01", "计划完成日期", "2027-12-31", ""),
    row("项目资金（万元）", "资金总额", "20.40", "", ""),
    row("", "财政拨款", "20.40", "", ""),
    row("", "自有资金", "0.00", "", ""),
    row("", "事业收入", "0.00", "", ""),
    row("", "其他", "0.00", "", ""),
    row("年度绩效目标", "围绕社会保障政策开展宣传，制作发放宣传品，提升群众政策知晓率和满意度。", "", "", ""),
    row("长期绩效指标", "", "", "", ""),
    row("一级指标", "二级指标", "指标内容", "指标值", "备注"),
    row("产出指标", "数量指标", "三年累计制作发放宣传品", "≥60000份", "2025—2027年"),
    row("效益指标", "社会效益指标", "政策宣传覆盖率", "=100%", ""),
    row("", "可持续影响 指标", "长效宣传机制健全性", "健全", ""),
    row("满意度指标", "服务对象满意度指标", "群众满意度", "≥90%", ""),
    row("年度绩效指标", "", "", "", ""),
    row("一级指标", "二级指标", "指标内容", "指标值", "备注"),
    row("产出指标", "数量指标", "宣传品制作数量", "≥20000份", ""),
    row("", "质量指标", "宣传主题契合度", "契合", ""),
    row("", "时效指标", "宣传品制作及时性", "重要节点前10个工作日完成", ""),
    row("", "成本指标", "宣传品单位制作成本", "≤3.4元/份", "按政府采购价格"),
    row("效益指标", "社会效益指标", "政策宣传知晓率", "≥85%", ""),
    row("满意度指标", "服务对象满意度指标", "群众满意度", "≥90%", "抽样调查"),
]

DUMPS: dict[str, list[str]] = {
    "self_eval_2024": SELF_EVAL_2024,
    "self_eval_2020": SELF_EVAL_2020,
    "dept_2024": DEPT_2024,
    "local_prior_year_2021": LOCAL_PRIOR_YEAR_2021,
    "local_content_2025": LOCAL_CONTENT_2025,
}


# ---------------------------------------------------------------- values as the clean forms print them


def wan(yuan: str | None) -> str:
    """Yuan of the truth as the form prints 万元: two decimals, no separators."""
    return "" if yuan is None else f"{Decimal(yuan) / 10000:.2f}"


def percent(value: str | None) -> str:
    return "" if value is None else f"{Decimal(value):.2f}%"


def plain(value: str | None) -> str:
    return value or ""


def nature_boxes(nature: str | None) -> str:
    """项目属性 as the local forms print it: two check boxes, the form's own ticked."""
    return " ".join(f"{name}{'☑' if name == nature else '□'}" for name in ("新增项目", "延续项目"))


def level_runs(table: Table, first_row: int, indicators: Sequence[dict[str, Any]], col1: int, col2: int,
               label1: Callable[[str], str] = str) -> None:
    """Level 1 and level 2 labels merged down over their groups (make_samples.merge_levels, with
    the 一级 label as printed: a self-evaluation adds its points)."""
    level1 = [text(i["level1"]) for i in indicators]
    level2 = [(text(i["level1"]), text(i["level2"])) for i in indicators]
    for start, end, name in runs(level1):
        merge_down(table, col1, first_row + start, first_row + end, label1(name))
    for start, end, (_, name) in runs(level2):
        merge_down(table, col2, first_row + start, first_row + end, name)


# ---------------------------------------------------------------- the four layouts, clean


def render_self_eval(doc: DocxDocument, form: dict[str, Any], first: bool) -> None:
    h, year, points = form["header"], form["year"], form["points"]
    paragraph(doc, TITLES["self_eval"], size=16, bold=True, center=True, page_break=not first, space_after=4)
    paragraph(doc, f"（{year}年度）", size=12, center=True, space_after=6)
    indicators = form["indicators"]
    table = new_table(doc, 10 + len(indicators) + 1, (1.2, 1.8, 1.8, 2.5, 2.0, 2.0, 1.2, 1.5, 3.0))
    fill_row(table, 0, [(0, 0, "项目名称", True), (1, 8, text(h["project_name"]), False)])
    fill_row(table, 1, [(0, 0, "主管部门", True), (1, 3, text(h["department"]), False), (4, 4, "实施单位", True),
                        (5, 8, text(h["unit"]), False)])
    fill_row(table, 2, [(1, 2, "", False)] + [(n, n, label, True) for n, label in
                                              enumerate(("年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分"),
                                                        start=3)])
    names = {"total": "年度资金总额", "fiscal_appropriation": "其中：当年财政拨款", "carryover": "上年结转资金",
             "other_funds": "其他资金"}
    for n, fund in enumerate(form["funds"], start=3):
        fill_row(table, n, [(1, 2, names[fund["item"]], True), (3, 3, wan(fund["initial"]), False),
                            (4, 4, wan(fund["full_year"]), False), (5, 5, wan(fund["executed"]), False),
                            (6, 6, plain(fund["weight"]), False), (7, 7, percent(fund["rate"]), False),
                            (8, 8, plain(fund["score"]), False)])
    merge_down(table, 0, 2, 2 + len(form["funds"]), "项目资金（万元）", bold=True)
    fill_row(table, 7, [(1, 4, "预期目标", True), (5, 8, "实际完成情况", True)])
    fill_row(table, 8, [(1, 4, text(h["goal"]), False), (5, 8, text(h["outcome"]), False)])
    merge_down(table, 0, 7, 8, "年度总体目标", bold=True)
    fill_row(table, 9, [(n, n, label, True) for n, label in enumerate(
        ("一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分", "偏差原因分析及改进措施"), start=1)])
    first_row = 10
    for n, i in enumerate(indicators, start=first_row):
        actual = i["actual"]["raw"] if i["actual"] else ""
        fill_row(table, n, [(3, 3, i["level3"], False), (4, 4, i["raw"], False), (5, 5, actual, False),
                            (6, 6, plain(i["weight"]), False), (7, 7, plain(i["score"]), False),
                            (8, 8, plain(i["note"]), False)])
    level_runs(table, first_row, indicators, 1, 2, lambda name: f"{name}（{points[name]}分）" if name in points else name)
    merge_down(table, 0, 9, first_row + len(indicators) - 1, "绩效指标", bold=True)
    total_row = first_row + len(indicators)
    fill_row(table, total_row, [(0, 5, "总分", True), (6, 6, "100", False), (7, 7, plain(h["total_score"]), False),
                                (8, 8, plain(h["grade"]), False)])


def render_dept(doc: DocxDocument, form: dict[str, Any], first: bool) -> None:
    h, year, tasks = form["header"], form["year"], form["tasks"]
    paragraph(doc, TITLES["dept"], size=16, bold=True, center=True, page_break=not first, space_after=4)
    paragraph(doc, f"（{year}年度）", size=12, center=True, space_after=6)
    indicators = form["indicators"]
    task_end = 3 + len(tasks)  # the 金额合计 row
    goal_row = task_end + 1
    first_row = goal_row + 2
    table = new_table(doc, first_row + len(indicators), (2.0, 1.9, 2.1, 4.4, 2.3, 2.3, 2.0))
    fill_row(table, 0, [(0, 0, "部门（单位）名称", True), (1, 6, text(h["unit"]), False)])
    fill_row(table, 1, [(4, 6, "预算金额（万元）", True)])
    merge_down(table, 1, 1, 2, "任务名称", bold=True)
    write(table.cell(1, 2).merge(table.cell(2, 3)), "主要内容", bold=True, center=True)
    fill_row(table, 2, [(4, 4, "总额", True), (5, 5, "财政拨款", True), (6, 6, "其他资金", True)])
    for n, task in enumerate(tasks, start=3):
        fill_row(table, n, [(1, 1, text(task["name"]), False), (2, 3, text(task["content"]), False),
                            (4, 4, wan(task["total"]), False), (5, 5, wan(task["fiscal_appropriation"]), False),
                            (6, 6, wan(task["other_funds"]), False)])
    b = form["budget"]
    fill_row(table, task_end, [(1, 3, "金额合计", True), (4, 4, wan(b["total"]), False),
                               (5, 5, wan(b["fiscal_appropriation"]), False), (6, 6, wan(b["other_funds"]), False)])
    merge_down(table, 0, 1, task_end, "年度主要任务", bold=True)
    fill_row(table, goal_row, [(0, 0, "年度总体目标", True), (1, 6, text(h["goal"]), False)])
    header_row = goal_row + 1
    fill_row(table, header_row, [(1, 1, "一级指标", True), (2, 2, "二级指标", True), (3, 4, "三级指标", True),
                                 (5, 6, "指标值", True)])
    for n, i in enumerate(indicators, start=first_row):
        fill_row(table, n, [(3, 4, i["level3"], False), (5, 6, i["raw"], False)])
    level_runs(table, first_row, indicators, 1, 2)
    merge_down(table, 0, header_row, first_row + len(indicators) - 1, "绩效指标", bold=True)


def local_header(table: Table, form: dict[str, Any], last: int) -> int:
    """The local forms' header block (columns 0..last); returns the next free row."""
    h, b, extra = form["header"], form["budget"], form.get("header_extra") or {}
    half = last // 2 + 1
    pairs = (("项目名称", h["project_name"], "项目类别", h["project_category"]),
             ("主管部门", h["department"], "实施单位", h["unit"]),
             ("项目负责人", extra.get("project_leader"), "联系电话", extra.get("phone")),
             ("计划开始日期", h["plan_start"], "计划完成日期", h["plan_end"]))
    fill_row(table, 0, [(0, 0, pairs[0][0], True), (1, half - 1, text(pairs[0][1]), False),
                        (half, half, pairs[0][2], True), (half + 1, last, text(pairs[0][3]), False)])
    fill_row(table, 1, [(0, 0, "项目属性", True), (1, last, nature_boxes(h["project_nature"]), False)])
    for n, (l1, v1, l2, v2) in enumerate(pairs[1:], start=2):
        fill_row(table, n, [(0, 0, l1, True), (1, half - 1, text(v1), False), (half, half, l2, True),
                            (half + 1, last, text(v2), False)])
    money = (("资金总额", b["total"]), ("财政拨款", b["fiscal_appropriation"]), ("自有资金", "0"), ("事业收入", "0"),
             ("其他", b["other_funds"]))
    for n, (label, amount) in enumerate(money, start=5):
        fill_row(table, n, [(1, 1, label, True), (2, last, wan(amount), False)])
    merge_down(table, 0, 5, 9, "项目资金（万元）", bold=True)
    fill_row(table, 10, [(0, 0, "年度绩效目标", True), (1, last, text(h["goal"]), False)])
    return 11


def render_local_prior_year(doc: DocxDocument, form: dict[str, Any], first: bool) -> None:
    paragraph(doc, TITLES["local_prior_year"], size=16, bold=True, center=True, page_break=not first, space_after=4)
    paragraph(doc, f"（{form['year']}年度）", size=12, center=True, space_after=6)
    indicators = form["indicators"]
    table = new_table(doc, 12 + len(indicators), (2.0, 2.4, 3.6, 2.2, 2.2, 4.6))
    header_row = local_header(table, form, 5)
    fill_row(table, header_row, [(n, n, label, True) for n, label in enumerate(
        ("一级指标", "二级指标", "三级指标", "上年度实际水平", "本年度计划水平", "指标内容/计算公式"))])
    for n, i in enumerate(indicators, start=header_row + 1):
        prior = i["prior_year"]["raw"] if i["prior_year"] else ""
        fill_row(table, n, [(2, 2, i["level3"], False), (3, 3, prior, False), (4, 4, i["raw"], False),
                            (5, 5, plain(i["note"]), False)])
    level_runs(table, header_row + 1, indicators, 0, 1)


def render_local_content(doc: DocxDocument, form: dict[str, Any], first: bool) -> None:
    paragraph(doc, TITLES["local_content"], size=16, bold=True, center=True, page_break=not first, space_after=4)
    paragraph(doc, f"（{form['year']}年度）", size=12, center=True, space_after=6)
    indicators = form["indicators"]
    periods = [("long_term", "长期绩效指标"), ("annual", "年度绩效指标")]
    table = new_table(doc, 11 + 2 * len(periods) + len(indicators), (2.4, 2.8, 5.4, 3.2, 3.2))
    at = local_header(table, form, 4)
    for period, caption in periods:
        rows = [i for i in indicators if i["period"] == period]
        fill_row(table, at, [(0, 4, caption, True)])
        fill_row(table, at + 1, [(n, n, label, True) for n, label in enumerate(
            ("一级指标", "二级指标", "指标内容", "指标值", "备注"))])
        for n, i in enumerate(rows, start=at + 2):
            fill_row(table, n, [(2, 2, i["level3"], False), (3, 3, i["raw"], False), (4, 4, plain(i["note"]), False)])
        level_runs(table, at + 2, rows, 0, 1)
        at += 2 + len(rows)


RENDERERS: dict[str, Callable[[DocxDocument, dict[str, Any], bool], None]] = {
    "self_eval": render_self_eval,
    "dept": render_dept,
    "local_prior_year": render_local_prior_year,
    "local_content": render_local_content,
}


def build_docx(truth: dict[str, Any]) -> bytes:
    import io

    doc = new_document()
    for n, form in enumerate(truth["forms"]):
        RENDERERS[form["layout"]](doc, form, n == 0)
    paragraph(doc, "")  # a Word document ends with a paragraph (see make_samples.build_docx)
    buffer = io.BytesIO()
    doc.save(buffer)
    return reproducible_zip(buffer.getvalue())


# ---------------------------------------------------------------- expected parses


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def expected_for_text(truth: dict[str, Any], path: Path) -> dict[str, Any]:
    """The hand-written truth of the dump, with the dump's hash."""
    return {"source": {"sha256": sha256(path), "format": "txt"},
            **{k: v for k, v in truth.items() if k != "source"}}


def derive_expected(truth: dict[str, Any], path: Path, fmt: str) -> dict[str, Any]:
    """The truth of a clean rendering: no locations, only the form's own issues (module docstring)."""
    forms = []
    for form in truth["forms"]:
        derived = {k: v for k, v in form.items() if k not in ("where", "indicators", "issues")}
        derived["indicators"] = [{k: v for k, v in i.items() if k != "where"} for i in form["indicators"]]
        derived["issues"] = [{"code": i["code"], "severity": i["severity"], "field": i.get("field")}
                             for i in form["issues"] if i["code"] in FORM_ISSUES]
        forms.append(derived)
    return {"source": {"sha256": sha256(path), "format": fmt}, "collection_title": truth["collection_title"],
            "forms": forms}


def check_truth(name: str, truth: dict[str, Any], dump: list[str]) -> None:
    """The hand-written truth must describe this dump: every indicator's line holds its 三级 name
    and the form's title line its title (a guard against a truth written for another draft)."""
    for form in truth["forms"]:
        where = int(form["where"].removeprefix("line "))
        if TITLES[form["layout"]] not in dump[where - 1]:
            sys.exit(f"make_siblings: {name}: {form['where']} is not the title of a {form['layout']} form")
        for indicator in form["indicators"]:
            line = int(indicator["where"].removeprefix("line "))
            if squash(indicator["level3"]) not in squash(dump[line - 1]):
                sys.exit(f"make_siblings: {name}: {indicator['where']} does not hold {indicator['level3']!r}")


def check_pdf(path: Path, truth: dict[str, Any]) -> None:
    """The PDF must read back as Chinese text (a missing CJK font gives garbage): every 三级
    name is a table cell."""
    with pdfplumber.open(path) as pdf:
        cells = {squash(cell) for page in pdf.pages for table in page.extract_tables()
                 for r in table for cell in r if cell}
    for form in truth["forms"]:
        for indicator in form["indicators"]:
            if squash(indicator["level3"]) not in cells:
                sys.exit(f"make_siblings: {path.name}: {indicator['level3']!r} not in the PDF text (CJK font?)")


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def main() -> None:
    for folder in (TEXT_DIR, DOCX_DIR, PDF_DIR):
        folder.mkdir(parents=True, exist_ok=True)
        for path in folder.iterdir():
            if path.is_file() and path.suffix in {".txt", ".docx", ".pdf", ".json"}:
                path.unlink()
    truths = {}
    for name, dump in DUMPS.items():
        truth_path = TRUTH_DIR / f"{name}.truth.json"
        if not truth_path.exists():
            sys.exit(f"make_siblings: no hand-written truth {truth_path}")
        truth = json.loads(truth_path.read_text(encoding="utf-8"))
        check_truth(name, truth, dump)
        truths[name] = truth
        text_path = TEXT_DIR / f"{name}.txt"
        text_path.write_text("\n".join(dump) + "\n", encoding="utf-8")
        write_json(TEXT_DIR / f"{name}.expected.json", expected_for_text(truth, text_path))
        (DOCX_DIR / f"{name}.docx").write_bytes(build_docx(truth))
    docx_files = [DOCX_DIR / f"{name}.docx" for name in truths]
    convert_to_pdf(docx_files, PDF_DIR, LO_PROFILE)
    for name, truth in truths.items():
        docx_path, pdf_path = DOCX_DIR / f"{name}.docx", PDF_DIR / f"{name}.pdf"
        pin_pdf(pdf_path, docx_path.read_bytes())
        check_pdf(pdf_path, truth)
        for path, fmt in ((docx_path, "docx"), (pdf_path, "pdf")):
            write_json(path.with_name(f"{name}.expected.json"), derive_expected(truth, path, fmt))
        print(f"{name}: {len(truth['forms'])} forms")


if __name__ == "__main__":
    main()
