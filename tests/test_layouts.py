"""Layouts as data (docs/layouts.md): a new layout is one TOML file and no code; a broken file is an
error naming the file and the key; when no layout matches, the error names the closest one; the
new row fields can be corrected."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from goalforms.errors import NoKnownLayout
from goalforms.parsers.layouts import LAYOUTS, discovery
from goalforms.parsers.layouts.spec import LayoutError, parse_spec
from goalforms.pipeline import corrections as corr
from goalforms.pipeline import parse_file

# A county's "绩效目标简表", invented for the test: a title, two header fields (one a date, one
# an enum ticked in a check box), money in 万元, and a table with a target, an actual value and a
# note — no Python anywhere.
SIMPLE_TOML = """
id = "county_brief"
name = "县级项目绩效目标简表"
kind = "self_evaluation"
budget_unit = "万元"
titles = ["县级项目绩效目标简表"]

[fields]
project_name = ["项目名称"]
plan_end = { labels = ["完成时间"], type = "date" }
project_nature = { labels = ["项目属性"], type = "enum", values = ["新增项目", "延续项目"] }
contact = { labels = ["联系人"], extra = true }

[budget]
total = ["资金总额"]

[table]
level1 = ["一级指标"]
level2 = ["二级指标"]
level3 = ["三级指标"]
target = ["目标值"]
actual = ["完成值"]
note = ["说明"]

[vocabulary."产出指标"]
"数量指标" = "output.quantity"

[vocabulary."满意度指标"]
"服务对象满意度指标" = "satisfaction"
"""

SIMPLE_SAMPLE = "\n".join([
    "县级项目绩效目标简表",
    "（2025年度）",
    "项目名称\t村道维修\t联系人\t赵六",
    "完成时间\t2025-11-30\t项目属性\t新增项目□ 延续项目☑",
    "资金总额\t12.50",
    "一级指标\t二级指标\t三级指标\t目标值\t完成值\t说明",
    "产出指标\t数量指标\t维修里程\t≧10公里\t10.5公里\t",
    "满意度指标\t服务对象满意度指标\t村民满意度\t＞＝90%\t\t未调查",
]) + "\n"


@pytest.fixture
def user_layouts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A user layout folder in force for one test; the built-in layouts again afterwards."""
    folder = tmp_path / "layouts"
    folder.mkdir()
    monkeypatch.delenv(discovery.ENV, raising=False)
    yield folder
    discovery._user_dirs.clear()
    discovery.refresh()


def test_a_toml_file_is_a_whole_layout(user_layouts: Path, tmp_path: Path) -> None:
    (user_layouts / "county.toml").write_text(SIMPLE_TOML, encoding="utf-8")
    sample = tmp_path / "brief.txt"
    sample.write_text(SIMPLE_SAMPLE, encoding="utf-8")
    with pytest.raises(NoKnownLayout):
        parse_file(sample)  # not known before the folder is used
    discovery.use_layout_dirs([user_layouts])
    assert LAYOUTS["county_brief"].spec.source.startswith("user")
    form = parse_file(sample).to_dict()["forms"][0]
    assert (form["layout"], form["kind"], form["year"]) == ("county_brief", "self_evaluation", 2025)
    assert form["header"]["project_name"] == "村道维修"
    assert form["header"]["plan_end"] == "2025-11-30"
    assert form["header"]["project_nature"] == "延续项目"  # the ticked box
    assert form["header_extra"] == {"contact": "赵六"}
    assert form["budget"]["total"] == "125000"  # 万元 × 10000
    first, second = form["indicators"]
    assert (first["level1"], first["level2"], first["level3"], first["dimension"]) == (
        "产出指标", "数量指标", "维修里程", "output.quantity")
    assert (first["kind"], first["op"], first["value"], first["unit"]) == ("numeric", "≥", "10", "公里")
    assert first["actual"] == {"raw": "10.5公里", "kind": "numeric", "op": None, "value": "10.5", "unit": "公里"}
    assert (second["op"], second["value"], second["note"]) == ("≥", "90", "未调查")
    assert second["actual"]["kind"] == "missing"
    assert {(i["code"], i["field"]) for i in form["issues"]} >= {("missing_actual", "indicators[1].actual")}
    # Every form carries the union of the layouts' keys: the built-in forms too.
    assert "grade" in form["header"] and "outcome" in form["header"]


def test_the_cli_lists_user_layouts(tmp_path: Path) -> None:
    folder = tmp_path / "layouts"
    folder.mkdir()
    (folder / "county.toml").write_text(SIMPLE_TOML, encoding="utf-8")
    sample = tmp_path / "brief.txt"
    sample.write_text(SIMPLE_SAMPLE, encoding="utf-8")
    listed = subprocess.run([sys.executable, "-m", "goalforms", "layouts", "--layouts", str(folder)],
                            capture_output=True, text=True, timeout=120)
    assert listed.returncode == 0, listed.stderr
    assert "county_brief" in listed.stdout and "self_eval" in listed.stdout and "built-in" in listed.stdout
    parsed = subprocess.run([sys.executable, "-m", "goalforms", "parse", str(sample), "--json", "--layouts",
                             str(folder)], capture_output=True, text=True, timeout=120)
    assert parsed.returncode == 0, parsed.stderr
    assert json.loads(parsed.stdout)["forms"][0]["layout"] == "county_brief"


BROKEN = [
    # (what is changed in SIMPLE_TOML, the key the error must name)
    (('type = "date"', 'type = "datum"'), "fields.plan_end.type"),
    (('kind = "self_evaluation"', 'kind = "evaluation"'), "kind"),
    (('titles = ["县级项目绩效目标简表"]', "titles = []"), "titles"),
    (('target = ["目标值"]', 'target = ["目标值"]\nscore_column = ["得分"]'), "table.score_column"),
    (('values = ["新增项目", "延续项目"]', "values = []"), "fields.project_nature.values"),
    (('budget_unit = "万元"', 'budget_unit = "千元"'), "budget_unit"),
    (('"数量指标" = "output.quantity"', '"数量指标" = 3'), "vocabulary.产出指标"),
    (('id = "county_brief"', 'id = "county brief"'), "id"),
    (('[budget]', '[budget]\nfoo = "bar'), "not valid TOML"),
]


@pytest.mark.parametrize(("change", "key"), BROKEN, ids=[k for _, k in BROKEN])
def test_a_broken_layout_names_the_file_and_the_key(user_layouts: Path, change: tuple[str, str], key: str) -> None:
    old, new = change
    assert old in SIMPLE_TOML
    path = user_layouts / "broken.toml"
    path.write_text(SIMPLE_TOML.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(LayoutError) as caught:
        discovery.use_layout_dirs([user_layouts])
    assert caught.value.path == str(path)
    assert key in caught.value.reason
    assert "county_brief" not in LAYOUTS  # nothing half-loaded


def test_a_broken_layout_stops_the_cli_with_its_name(tmp_path: Path) -> None:
    folder = tmp_path / "layouts"
    folder.mkdir()
    (folder / "bad.toml").write_text(SIMPLE_TOML.replace('type = "date"', 'type = "datum"'), encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "goalforms", "layouts", "--layouts", str(folder)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "bad.toml" in result.stderr and "fields.plan_end.type" in result.stderr


def test_builtin_layouts_are_all_data() -> None:
    assert {"2020", "2024", "self_eval", "dept", "local_prior_year", "local_content"} <= set(LAYOUTS)
    assert LAYOUTS["self_eval"].spec.kind == "self_evaluation" and LAYOUTS["dept"].spec.kind == "department"
    # No Python class per layout: one parser, the spec its data.
    assert {type(p).__name__ for p in LAYOUTS.values()} == {"LayoutParser"}
    spec = parse_spec(SIMPLE_TOML, "x.toml")
    assert spec.position_roles == ["actual", "note"] and spec.header_keys() == ["project_name", "plan_end",
                                                                                  "project_nature"]


def test_no_layout_matches_names_the_closest(tmp_path: Path) -> None:
    near = tmp_path / "near.txt"
    near.write_text("\n".join([
        "绩效自评汇总",
        "项目名称\t征地养老费支出",
        "主管部门\t人社局\t实施单位\t服务中心",
        "一级指标\t二级指标\t三级指标\t年度指标值\t实际完成值\t分值\t得分\t偏差原因分析及改进措施",
    ]) + "\n", encoding="utf-8")
    with pytest.raises(NoKnownLayout) as caught:
        parse_file(near)
    assert "closest layout self_eval" in caught.value.reason
    assert "实际完成值" in caught.value.reason and "missing: the title" in caught.value.reason
    titled = tmp_path / "titled.txt"
    titled.write_text("本单位财政项目支出绩效目标申报表（2024年度）的说明文字\n项目名称\t某项目\n", encoding="utf-8")
    with pytest.raises(NoKnownLayout) as caught:
        parse_file(titled)
    assert "closest layout 2024: its title 财政项目支出绩效目标申报表 found inside the line" in caught.value.reason
    assert "its table header" in caught.value.reason and "not found" in caught.value.reason


def _state(layout: str) -> corr.FormState:
    row = corr.RowState(key="indicators[0]", level1="产出指标", level2="数量指标", level3="维修里程", raw="≥10公里",
                        kind="numeric", op="≥", value="10", unit="公里", dimension="output.quantity", indicator_id=1,
                        parse_index=0, source_line=7, source_location="line 7", actual="10.5公里", weight="20",
                        score="18", note=None)
    return corr.FormState(1, "a.txt", 1, layout, 2025, {}, {}, {}, [row], [])


def test_corrections_on_the_new_row_fields() -> None:
    state = _state("self_eval")
    changes = [
        corr.Change(corr.SET, "indicators[0].actual", " ≧ 11公里 ", expected="10.5公里"),
        corr.Change(corr.SET, "indicators[0].weight", "20.0"),  # the same value: no correction
        corr.Change(corr.SET, "indicators[0].score", "19.50分"),
        corr.Change(corr.SET, "indicators[0].note", "复核后 调整"),
    ]
    made = [c for change in changes if (c := corr._correction(state, change)) is not None]
    assert [(c.field, c.old_value, c.new_value) for c in made] == [
        ("indicators[0].actual", "10.5公里", "≧ 11公里"),
        ("indicators[0].score", "18", "19.5"),
        ("indicators[0].note", None, "复核后调整"),
    ]
    for ident, c in enumerate(made, start=1):
        assert corr._apply(state, c, ident) is None
    row = state.rows[0]
    assert (row.actual, row.score, row.note) == ("≧ 11公里", "19.5", "复核后调整")
    assert row.actual_reading() == {"raw": "≧ 11公里", "kind": "numeric", "op": "≥", "value": "11", "unit": "公里"}
    assert row.corrected_by == {"actual": 1, "score": 2, "note": 3}
    with pytest.raises(ValueError, match="not a number"):
        corr._correction(state, corr.Change(corr.SET, "indicators[0].weight", "二十"))
    # A layout without the column refuses the field.
    with pytest.raises(ValueError, match="no weight column"):
        corr._correction(_state("2024"), corr.Change(corr.SET, "indicators[0].weight", "20"))
    assert ("actual", "实际完成值") in corr.row_fields("self_eval")
    assert [name for name, _ in corr.row_fields("2024")] == ["level1", "level2", "level3", "raw"]


def test_layouts_sharing_a_title_are_told_apart_by_the_table_header(tmp_path: Path) -> None:
    head = ["项目支出绩效目标表", "（2025年度）", "项目名称\t宣传费", "实施单位\t服务中心"]
    content = tmp_path / "content.txt"
    content.write_text("\n".join([*head, "一级指标\t二级指标\t指标内容\t指标值\t备注",
                                  "产出指标\t数量指标\t宣传品数量\t≥60000份\t三年"]) + "\n", encoding="utf-8")
    prior = tmp_path / "prior.txt"
    prior.write_text("\n".join([*head, "指标名称\t上年度实际水平\t本年度计划水平\t指标内容/计算公式",
                                "宣传品数量\t50000份\t≥60000份\t年度发放数"]) + "\n", encoding="utf-8")
    first = parse_file(content).to_dict()["forms"][0]
    assert first["layout"] == "local_content"
    assert (first["indicators"][0]["level3"], first["indicators"][0]["note"]) == ("宣传品数量", "三年")
    second = parse_file(prior).to_dict()["forms"][0]
    assert second["layout"] == "local_prior_year"
    row = second["indicators"][0]
    assert (row["level1"], row["level3"], row["raw"], row["note"]) == (None, "宣传品数量", "≥60000份", "年度发放数")
    assert row["prior_year"] == {"raw": "50000份", "kind": "numeric", "op": None, "value": "50000", "unit": "份"}
    # No level column at all: no placement to flag.
    assert not [i for i in second["issues"] if i["code"] == "ambiguous_placement"]
