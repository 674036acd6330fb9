"""Flowing text (copy-paste, ``extract_text()``, pdftotext without -layout): every damage it does,
on crafted lines — the values that can be read, and the flags on those that cannot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from goalforms.parsers.readers import text as text_reader
from goalforms.pipeline import parse_file

HEADER_2024 = [
    "财政项目支出绩效目标申报表",
    "(2024年度)",
    "项目名称 外省市差旅费 项目性质 经常性项目 项目类别 特定目标类",
    "主管部门 上海市闵行区人力资源和社会保障局 实施单位 上海市闵行区社会保障服务中心",
    "计划开始日期 2024-01-01 计划完成日期 2024-12-31",
    "项目资金(元) 项目资金总额 年度资金申请总额 300,000.00",
    "其中：财政资 其中：当年财政拨款 300,000.00",
    "金",
    "上年结转资金 0.00",
    "其他资金 其他资金 0.00",
    "项目绩效目标 年度总体目标",
    "保障外省市调查工作正常开展。",
]
TABLE_2024 = [
    "一级指标 二级指标 三级指标 年度(/项目)指标值",
    "绩效指标 产出指标 数量指标 外省市调查次数 ≥10(次)",
    "质量指标 调查报告合格率 =100(%)",
    "满意度指标 服务对象满意度 调查对象满意度 ≥90(%)",
    "指标 委托单位满意度 ≥95(%)",
]


def parse(tmp_path: Path, lines: list[str], sep: str = "\n") -> dict[str, Any]:
    path = tmp_path / "flow.txt"
    path.write_text(sep.join(lines) + sep, encoding="utf-8")
    return parse_file(path).to_dict()


def flags(form: dict[str, Any]) -> dict[str, str]:
    return {i["field"]: i["severity"] for i in form["issues"] if i["code"] == "uncertain_split"}


def levels(form: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    return [(i["level1"], i["level2"], i["level3"], i["raw"]) for i in form["indicators"]]


def test_reader_marks_flowing_lines_and_pages() -> None:
    rows = text_reader.flowing_rows(["标题", "a b", "末行\f财政项目支出绩效目标表", "\f(2020年度)"])
    assert all(row.flowing for row in rows)
    assert [(row.text(), row.where.line, row.where.page) for row in rows if not row.blank] == [
        ("标题", 1, 1), ("a b", 2, 1), ("末行", 3, 1), ("财政项目支出绩效目标表", 3, 2), ("(2020年度)", 4, 3)]
    assert text_reader.looks_flowing(["项目名称 X 项目性质 Y"])
    assert not text_reader.looks_flowing(["项目名称\tX"])


def test_labels_glued_in_one_line_are_split(tmp_path: Path) -> None:
    form = parse(tmp_path, HEADER_2024 + TABLE_2024)["forms"][0]
    assert form["header"]["project_name"] == "外省市差旅费"
    assert form["header"]["project_nature"] == "经常性项目"
    assert form["header"]["project_category"] == "特定目标类"
    assert form["header"]["department"] == "上海市闵行区人力资源和社会保障局"
    assert form["header"]["unit"] == "上海市闵行区社会保障服务中心"
    assert form["header"]["plan_end"] == "2024-12-31"
    assert form["header"]["goal"] == "保障外省市调查工作正常开展。"
    # 其中：财政资 + 金 is one caption; the empty 项目资金总额 stays empty, as printed.
    assert form["budget"] == {"total": None, "current_year": "300000", "fiscal_appropriation": "300000",
                              "carryover": "0", "other_funds": "0", "prior_year_budget": None,
                              "prior_year_spent": None}
    assert flags(form) == {}


def test_split_level_labels_and_targets(tmp_path: Path) -> None:
    form = parse(tmp_path, HEADER_2024 + TABLE_2024)["forms"][0]
    assert levels(form) == [
        ("产出指标", "数量指标", "外省市调查次数", "≥10(次)"),
        ("产出指标", "质量指标", "调查报告合格率", "=100(%)"),
        ("满意度指标", "服务对象满意度指标", "调查对象满意度", "≥90(%)"),
        ("满意度指标", "服务对象满意度指标", "委托单位满意度", "≥95(%)"),
    ]
    assert flags(form) == {}


def test_wrapped_value_after_a_line_of_several_values_is_flagged_not_glued(tmp_path: Path) -> None:
    lines = list(HEADER_2024)
    lines[2] = "项目名称 征地养老费支 项目性质 经常性项目 项目类别 特定目标类"
    lines.insert(3, "出")
    form = parse(tmp_path, lines + TABLE_2024)["forms"][0]
    # What the line shows is kept; whose the wrapped 出 is cannot be told: all three flagged.
    assert form["header"]["project_name"] == "征地养老费支"
    assert form["header"]["project_nature"] == "经常性项目"
    assert form["header"]["project_category"] == "特定目标类"
    assert flags(form) == {"header.project_name": "warning", "header.project_nature": "warning",
                           "header.project_category": "warning"}


def test_wrapped_value_after_its_only_label_is_joined(tmp_path: Path) -> None:
    lines = list(HEADER_2024)
    lines[3] = "主管部门 上海市闵行区人力资源和社会保障"
    lines.insert(4, "局(汇总)")
    lines.insert(5, "实施单位 上海市闵行区社会保障服务中心")
    form = parse(tmp_path, lines + TABLE_2024)["forms"][0]
    assert form["header"]["department"] == "上海市闵行区人力资源和社会保障局(汇总)"
    assert form["header"]["unit"] == "上海市闵行区社会保障服务中心"
    assert flags(form) == {}


def test_value_above_and_below_a_centred_label(tmp_path: Path) -> None:
    lines = [*HEADER_2024[:3], "计划开始日期 2024-01-01 计划完成日期 2024-12-31",
             "上海市普陀区建设和", "主管部门", "管理委员会",
             "实施单位 上海市普陀区市政工程建设中心", *HEADER_2024[5:]]
    form = parse(tmp_path, lines + TABLE_2024)["forms"][0]
    # Dates cannot go on, so the line above 主管部门 is its value's first line.
    assert form["header"]["department"] == "上海市普陀区建设和管理委员会"
    assert form["header"]["unit"] == "上海市普陀区市政工程建设中心"
    assert flags(form) == {}


def test_labels_without_values_between_them_are_never_glued(tmp_path: Path) -> None:
    """The issue's case: 项目名称 = 项目性质项目类别特定目标类 — the values of the first two
    labels were printed above and below (centred cells)."""
    lines = [*HEADER_2024[:2], "2024年区级道路", "项目名称 项目性质 项目类别 特定目标类", "改建工程 经常性项目",
             "主管部门 上海市普陀区建设和管理委员会 实施单位 上海市普陀区市政工程建设中心", *HEADER_2024[4:]]
    form = parse(tmp_path, lines + TABLE_2024)["forms"][0]
    header = form["header"]
    assert header["project_name"] is None and header["project_nature"] is None
    assert header["project_category"] == "特定目标类"
    assert header["department"] == "上海市普陀区建设和管理委员会"
    assert header["unit"] == "上海市普陀区市政工程建设中心"
    found = flags(form)
    assert found["header.project_name"] == "error" and found["header.project_nature"] == "error"
    assert "header.project_category" in found  # the line below may be part of it too


def test_two_amounts_on_one_line_are_flagged_not_joined(tmp_path: Path) -> None:
    lines = ["财政项目支出绩效目标表", "(2020年度)", "申报单位名称：上海市普陀区市政工程建设中心",
             "项目名称： 道路养护 项目类别： 其他经常性项目",
             "项目总预算(元)： 10,153,278 项目当年预算(元)： 10,153,278",
             "同名项目上年预算额(元)： 同名项目上年预算执行数(元)： 2,937,002 66,229",
             "2020年绩效目标", "一级目标 二级目标 三级目标 指标目标值",
             "产出目标 数量 道路养护里程 ≥20公里"]
    form = parse(tmp_path, lines)["forms"][0]
    assert form["budget"]["total"] == "10153278"
    assert form["budget"]["prior_year_budget"] is None
    assert form["budget"]["prior_year_spent"] is None
    assert flags(form) == {"budget.prior_year_budget": "error", "budget.prior_year_spent": "error"}
    assert levels(form) == [("产出目标", "数量", "道路养护里程", "≥20公里")]


def test_form_feed_between_forms_keeps_every_title(tmp_path: Path) -> None:
    form1 = HEADER_2024 + TABLE_2024
    form2 = [line.replace("外省市差旅费", "邮寄费") for line in form1]
    # pdfplumber pages joined by \f glue the next page's title to the last line.
    text = "\n".join(form1) + "\f" + "\n".join(form2)
    path = tmp_path / "two.txt"
    path.write_text(text, encoding="utf-8")
    doc = parse_file(path).to_dict()
    assert [f["header"]["project_name"] for f in doc["forms"]] == ["外省市差旅费", "邮寄费"]
    assert [len(f["indicators"]) for f in doc["forms"]] == [4, 4]
    assert doc["forms"][1]["where"].startswith("page 2")


def test_title_glued_after_text_without_form_feed(tmp_path: Path) -> None:
    """A viewer's copy-paste of two pages: no form feed, the title after other text on a line."""
    form2 = [line.replace("外省市差旅费", "邮寄费") for line in HEADER_2024 + TABLE_2024]
    lines = HEADER_2024 + TABLE_2024[:-1] + [TABLE_2024[-1] + " " + form2[0]] + form2[1:]
    doc = parse(tmp_path, lines, sep="\r\n")
    assert [f["header"]["project_name"] for f in doc["forms"]] == ["外省市差旅费", "邮寄费"]
    assert levels(doc["forms"][0])[-1] == ("满意度指标", "服务对象满意度指标", "委托单位满意度", "≥95(%)")


@pytest.mark.parametrize(
    ("rows", "expected", "flagged"),
    [
        # The name wrapped; the target is whole (grammar): only the name goes on.
        (["在线帮办全程信息化流转无 =100.00(%)", "纸化率"],
         [("在线帮办全程信息化流转无纸化率", "=100.00(%)")], set()),
        # Both columns wrapped on the same printed row (visual order): read, flagged.
        (["各类系统运行和技术资源问 作日内解决特殊情况不晚", "题的响应度 于一周"],
         [("各类系统运行和技术资源问题的响应度", "作日内解决特殊情况不晚于一周")], {"level3", "raw"}),
        # Only spaces next to digits: no sure boundary between name and target.
        (["技术资源问题响应 1 个工作日内响应"], [("技术资源问题响应", "1 个工作日内响应")], {"level3", "raw"}),
        # One space between two Chinese characters is the boundary, whatever the target holds.
        (["打印复印设备故障报修上门 市区 2 小时，郊区 4 小时"],
         [("打印复印设备故障报修上门", "市区 2 小时，郊区 4 小时")], set()),
        # A bare percentage after the boundary is the target's end, not a target of its own.
        (["按照绿色环保节能要求开展 环保达标率 100%"], [("按照绿色环保节能要求开展", "环保达标率 100%")], set()),
    ],
)
def test_indicator_lines(tmp_path: Path, rows: list[str], expected: list[tuple[str, str]], flagged: set[str]) -> None:
    lines = HEADER_2024 + [TABLE_2024[0], "绩效指标 产出指标 数量指标 " + rows[0], *rows[1:]]
    form = parse(tmp_path, lines)["forms"][0]
    assert [(i["level3"], i["raw"]) for i in form["indicators"]] == expected
    assert {f.split(".")[-1] for f in flags(form) if f.startswith("indicators[0]")} == flagged


def test_stream_order_target_below_its_wrapped_name(tmp_path: Path) -> None:
    """pdftotext without -layout: a wrapped name's lines, then the target on its own line."""
    rows = ["绩效指标 成本指标 经济成本指标 征地养老人员一次性节日补", "助发放金额", "按规定标准发放",
            "产出指标 数量指标 征地养老人员生活费应发尽", "发率", "=100(%)"]
    form = parse(tmp_path, HEADER_2024 + [TABLE_2024[0], *rows])["forms"][0]
    assert [(i["level3"], i["raw"]) for i in form["indicators"]] == [
        ("征地养老人员一次性节日补助发放金额", "按规定标准发放"), ("征地养老人员生活费应发尽发率", "=100(%)")]
    # The qualitative target's place rests on the column widths: flagged; the numeric one is sure.
    assert {f for f in flags(form) if f.startswith("indicators[")} == {"indicators[0].level3", "indicators[0].raw"}


def _measure(path: Path) -> dict[str, int]:
    """Indicators of a flow sample against the hand-checked text parse: exact (unflagged and
    right), flagged (an issue names it), wrong and unflagged (must never happen)."""
    import json
    import re

    from tests.conftest import SAMPLES

    def printed(raw: str) -> str:  # pdftotext prints a space between digits and Chinese
        return re.sub(r"(?<=[0-9A-Za-z%)]) (?=[\u4e00-\u9fff])|(?<=[\u4e00-\u9fff]) (?=[0-9A-Za-z(=≥≤<>])", "", raw)

    truth = json.loads((SAMPLES / "text" / f"{path.name.split('.')[0]}.expected.json").read_text(encoding="utf-8"))
    got = parse_file(path).to_dict()
    counts = {"exact": 0, "flagged": 0, "wrong": 0, "header_wrong": 0}
    assert len(got["forms"]) == len(truth["forms"])
    for form, want in zip(got["forms"], truth["forms"], strict=True):
        named = {i["field"] for i in form["issues"] if i["field"]}
        for section in ("header", "budget"):
            for key, value in want[section].items():
                same = re.sub(r"\s", "", str(form[section][key])) == re.sub(r"\s", "", str(value))
                if not same and f"{section}.{key}" not in named:
                    counts["header_wrong"] += 1
        wanted = [(w["level1"], w["level2"], w["level3"], printed(w["raw"])) for w in want["indicators"]]
        at = 0
        for k, ind in enumerate(form["indicators"]):
            key = (ind["level1"], ind["level2"], ind["level3"], printed(ind["raw"]))
            flagged = any(f == f"indicators[{k}]" or f.startswith(f"indicators[{k}].") for f in named)
            if key in wanted[at:]:
                at = wanted.index(key, at) + 1
                counts["flagged" if flagged else "exact"] += 1
            else:
                counts["flagged" if flagged else "wrong"] += 1
    return counts


FLOW_SAMPLES = sorted(Path(__file__).resolve().parent.parent.joinpath("samples", "flow").glob("*.txt"))


@pytest.mark.parametrize("path", FLOW_SAMPLES, ids=lambda p: p.name)
def test_flow_samples_have_no_wrong_unflagged_indicator(path: Path) -> None:
    """Also the samples without an expected parse (004 in stream order, the centred ones):
    no indicator, header or budget value wrong without a flag."""
    counts = _measure(path)
    assert counts["wrong"] == 0 and counts["header_wrong"] == 0, counts
    assert counts["exact"] > 0


def test_column_block_order_is_refused(tmp_path: Path) -> None:
    """pdftotext without -layout or -raw prints a form's columns one block after the other:
    no value can be paired with its label, so the file is refused rather than guessed."""
    from goalforms.errors import UnreadableFile

    lines = ["财政项目支出绩效目标申报表", "(2024年度)", "项目名称", "主管部门", "", "外省市差旅费", "项目性质",
             "", "一级指标", "", "二级指标", "", "三级指标", "年度(/项目)指标值", "", "产出指标", "",
             "数量指标", "外省市调查次数", "≥10(次)"]
    path = tmp_path / "blocks.txt"
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(UnreadableFile, match="column-block order"):
        parse_file(path)


def test_centred_table_rows_without_their_level_names_are_flagged(tmp_path: Path) -> None:
    """Centred cells print a level name on a middle line of its group: which rows it covers is
    not printed, so every row not on a line with its names is flagged for those levels."""
    rows = ["外省市调查次数 ≥10(次)", "产出指标 数量指标 调查报告份数 ≥10(份)", "调查报告合格率 =100(%)",
            "质量指标", "调查数据准确率 =100(%)"]
    form = parse(tmp_path, HEADER_2024 + [TABLE_2024[0], *rows])["forms"][0]
    assert [i["level3"] for i in form["indicators"]] == ["外省市调查次数", "调查报告份数", "调查报告合格率", "调查数据准确率"]
    found = flags(form)
    assert (form["indicators"][1]["level1"], form["indicators"][1]["level2"]) == ("产出指标", "数量指标")
    assert "indicators[1].level1" not in found and "indicators[1].level2" not in found
    for k in (0, 2):
        assert {f"indicators[{k}].level1", f"indicators[{k}].level2"} <= set(found)
    assert "indicators[3].level1" in found


def test_names_and_labels_cut_over_two_lines(tmp_path: Path) -> None:
    """A level name (生态环境成本指 + 标) and a header label (保证项目实施的制度、措 + 施：) cut by
    the wrap: put back together, the rest of the next line kept."""
    header = ["财政项目支出绩效目标表", "(2020年度)", "申报单位名称：上海市社会保险事业管理中心",
              "项目名称： 社保档案资料管理费 项目类别： 其他经常性项目",
              "保证项目实施的制度、措 《社保业务档案管理信息系统管理办法》以及相关管理规范、维护合同中明确的技术要",
              "施： 求和义务。", "项目总预算(元)： 10,153,278 项目当年预算(元)： 10,153,278",
              "同名项目上年预算额(元)： 3,379,848 同名项目上年预算执行数 3,379,848", "(元)：",
              "2020年绩效目标", "一级目标 二级目标 三级目标 指标目标值", "产出目标 数量 库房上架数量 =100%"]
    form = parse(tmp_path, header)["forms"][0]
    assert form["header_extra"]["measures"] == (
        "《社保业务档案管理信息系统管理办法》以及相关管理规范、维护合同中明确的技术要求和义务。")
    assert form["budget"]["prior_year_spent"] == "3379848"
    assert flags(form) == {}
    table = HEADER_2024 + [TABLE_2024[0], "绩效指标 成本指标 生态环境成本指 在线帮办全程信息化流转无 =100.00(%)",
                           "标 纸化率"]
    form = parse(tmp_path, table)["forms"][0]
    assert levels(form) == [("成本指标", "生态环境成本指标", "在线帮办全程信息化流转无纸化率", "=100.00(%)")]
    assert flags(form) == {}


def test_centred_level_names_cover_the_rows_around_them(tmp_path: Path) -> None:
    rows = ["外省市调查次数 ≥10(次)", "产出指标 数量指标 调查报告份数 ≥10(份)", "调查报告合格率 =100(%)",
            "调查数据准确率 =100(%)", "质量指标 调查报告完整率 =100(%)", "调查报告规范率 =100(%)"]
    form = parse(tmp_path, HEADER_2024 + [TABLE_2024[0], *rows])["forms"][0]
    assert [(i["level1"], i["level2"]) for i in form["indicators"]] == [("产出指标", "数量指标")] * 3 + [
        ("产出指标", "质量指标")] * 3
    # Placed by estimate, so flagged, except where the row's own line prints the name.
    found = flags(form)
    assert "indicators[1].level2" not in found and "indicators[4].level2" not in found
    assert {"indicators[0].level2", "indicators[2].level2", "indicators[3].level2", "indicators[5].level2"} <= set(found)
