"""Evaluation reports (issue 8): the seed report parses as its hand-made expected file, the report
is checked against itself, it is stored, linked to the target forms of its project, and shown
beside them by ``goalforms project``.

Beyond the seed: the same report as a Word document, a damaged copy of it, and a small report of
the same family written here, so that nothing in the parser leans on the seed's lines or values.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from goalforms.errors import NoKnownLayout
from goalforms.parsers.reports.checks import rules_differ
from goalforms.parsers.reports.names import name_match, project_key, unit_match
from goalforms.parsers.reports.text import clean, iso_date, number
from goalforms.pipeline import analysis, parse_file
from goalforms.pipeline.cli import app
from goalforms.pipeline.importer import LOADED, REPLACED, SKIPPED, import_paths
from goalforms.schema import models
from goalforms.schema import report_models as rm
from goalforms.schema.db import alembic_config, connect
from tests import pg
from tests.conftest import SAMPLES

SEED = SAMPLES / "reports" / "001_1026302de9d69c2f.txt"
EXPECTED = SAMPLES / "reports" / "001_1026302de9d69c2f.expected.json"
FORMS_2020 = SAMPLES / "text" / "000_914c13d346301e8d.txt"  # 社会保险经办业务费 2020
FORMS_2026 = SAMPLES / "text" / "004_dca627b1a6ea1aa7.txt"  # 社会保险经办业务费 2026
PROJECT = "社会保险经办业务费"
BACKENDS = ["sqlite", "postgresql"]
ISSUE_KEYS = ("code", "severity", "where", "field", "found", "expected")


@pytest.fixture(params=BACKENDS)
def any_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new, empty database on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'reports.db'}"
        return
    server: pg.PgServer = request.getfixturevalue("pg_server")
    url = server.create_database("reports")
    yield url
    server.drop_database(url)


def _report(path: Path = SEED) -> dict[str, Any]:
    reports = parse_file(path).to_dict()["reports"]
    assert len(reports) == 1
    report: dict[str, Any] = reports[0]
    return report


def _without_messages(report: dict[str, Any]) -> dict[str, Any]:
    # Messages are free text (docs/reports.md); every other key of an issue is compared.
    return {**report, "issues": [{k: i[k] for k in ISSUE_KEYS} for i in report["issues"]]}


# --- the seed report ------------------------------------------------------------------------------


def test_seed_parses_as_its_expected_file() -> None:
    expected = json.loads(EXPECTED.read_text(encoding="utf-8"))
    actual = parse_file(SEED).to_dict()
    assert actual["forms"] == [] and actual["collection_title"] is None
    assert {k: actual["source"][k] for k in expected["source"]} == expected["source"]
    got, want = _without_messages(actual["reports"][0]), _without_messages(expected["reports"][0])
    for key in want:  # one key at a time, so that a failure names the part that differs
        assert got[key] == want[key], key
    assert got == want


def test_seed_scores_add_up_to_the_total_of_91_34() -> None:
    report = _report()
    scores, subtotals = report["scores"], report["subtotals"]
    assert report["metadata"]["total_score"] == report["score_total"] == "91.34"
    assert [s["code"][0] for s in scores].count("A") == 5 and len(scores) == 30
    by_code = {s["code"]: s for s in subtotals}
    for code, subtotal in by_code.items():
        if code is None:
            continue
        members = [s for s in scores if s["code"].startswith(code)]
        assert sum(Decimal(s["weight"]) for s in members) == Decimal(subtotal["max"]), code
        assert sum(Decimal(s["score"]) for s in members) == Decimal(subtotal["score"]), code
    total = by_code[None]
    assert (total["max"], total["score"]) == ("100", "91.34")
    assert sum(Decimal(by_code[c]["score"]) for c in "ABC") == Decimal("91.34")
    assert not [i for i in report["issues"] if i["code"] == "sum_mismatch"]


def test_seed_budget_and_output_figures() -> None:
    report = _report()
    budget = report["budget_execution"]
    assert (budget["unit"], budget["total"]["budget"], budget["total"]["adjusted_budget"],
            budget["total"]["spent"], budget["total"]["execution_rate"]) == \
        ("万元", "2058.31", "2182.31", "1994.18", "91.38")
    assert [a["amount"] for a in budget["adjustments"]] == ["124"]
    years = report["financial_years"]
    assert [(t["year"], t["budget"], t["spent"]) for t in years["totals"]] == \
        [(2016, "2015.63", "1807.67"), (2017, "2527.04", "2257.6"), (2018, "2182.31", "1994.18")]
    outputs = {o["name"]: o for o in report["outputs"]["rows"]}
    assert (outputs["宣传告知单"]["planned"], outputs["宣传告知单"]["actual"], outputs["宣传告知单"]["unit"],
            outputs["宣传告知单"]["indicator"]) == ("35000", "6814", "包", "C15")
    assert report["satisfaction"]["total"] == {"max": "10", "rate": "88.9", "score": "8.89", "where": "line 1489"}


def test_the_duplicate_scoring_table_is_compared_not_merged() -> None:
    report = _report()
    assert report["score_table"] == {"source": "body", "where": "line 346", "duplicate": "annex1",
                                     "duplicate_where": "line 729"}
    c13 = report["scores"][16]
    assert c13["level3"] == "各类业务通知书告知书印发完成率"  # the body's name, not the annex's 告知单
    mismatch = [i for i in report["issues"] if i["code"] == "duplicate_table_mismatch"]
    assert [(i["where"], i["field"], i["found"], i["expected"]) for i in mismatch] == [
        ("line 346", "score_table", "", "一级指标"),
        ("line 753", "scores[16].level3", "各类业务通知书告知单印发完成率", "各类业务通知书告知书印发完成率"),
    ]


def test_the_same_report_as_a_word_document_parses_the_same(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    table_rows: list[list[str]] = []

    def flush() -> None:
        if table_rows:
            width = max(len(r) for r in table_rows)
            table = document.add_table(rows=len(table_rows), cols=width)
            for i, cells in enumerate(table_rows):
                for j, value in enumerate(cells):
                    table.cell(i, j).text = value
            table_rows.clear()

    for line in SEED.read_text(encoding="utf-8").splitlines():
        if "\t" in line:
            table_rows.append(line.split("\t"))
        elif line.strip():  # a blank line (a page break of the dump) inside a table does not end it
            flush()
            document.add_paragraph(line)
    flush()
    path = tmp_path / "report.docx"
    document.save(str(path))

    def facts(value: Any) -> Any:
        # Locations differ by format (line N / paragraph N / table t, row r); the facts do not.
        if isinstance(value, dict):
            return {k: facts(v) for k, v in value.items() if not k.endswith("where") and k not in ("also_at", "message")}
        if isinstance(value, list):
            return [facts(v) for v in value]
        return value

    word = _report(path)
    assert facts(word) == facts(_report())
    assert word["scores"][0]["where"].startswith("table ")


# --- a damaged copy and another report of the family ----------------------------------------------


def _edited(tmp_path: Path, *edits: tuple[str, str]) -> Path:
    text = SEED.read_text(encoding="utf-8")
    for old, new in edits:
        assert text.count(old) >= 1, old
        text = text.replace(old, new, 1)
    path = tmp_path / "edited.txt"
    path.write_text(text, encoding="utf-8")
    return path


def test_contradictions_of_a_damaged_copy_are_flagged(tmp_path: Path) -> None:
    path = _edited(
        tmp_path,
        ("\t\tB1 小计\t6\t5", "\t\tB1 小计\t6\t4"),  # body subtotal no longer the sum of B11 + B12
        ("宣传费\t165.00\t165.00\t81.49\t49.39%", "宣传费\t165.00\t165.00\t81.49\t59.39%"),  # wrong rate
        ("系统经办服务设备\t2\t91%\t1.82", "系统经办服务设备\t2\t91%\t1.92"),  # survey no longer adds up
        ("指标得分：3\n\n日期：2019 年 6 月 19 日\n\nC18", "指标得分：2\n\n日期：2019 年 6 月 19 日\n\nC18"),
    )
    issues = {(i["code"], i["field"]): i for i in _report(path)["issues"]}
    assert issues[("sum_mismatch", "subtotals[3].score")]["found"] == "4"
    assert issues[("sum_mismatch", "subtotals[3].score")]["expected"] == "5"
    assert issues[("sum_mismatch", "subtotals[6].score")]["expected"] == "18"  # B = 4 + 6 + 8
    assert issues[("duplicate_table_mismatch", "subtotals[3].score")]["found"] == "5"  # 附件1 still says 5
    assert issues[("score_mismatch", "subtotals[3].detail_score")]["found"] == "5"  # so does the heading
    rate = issues[("rate_mismatch", "budget_execution.rows[4].execution_rate")]
    assert (rate["found"], rate["expected"], rate["where"]) == ("59.39", "49.39", "line 147")
    assert issues[("sum_mismatch", "satisfaction.total.score")]["expected"] == "8.99"
    assert issues[("score_mismatch", "scores[20].workpaper.score")]["found"] == "2"


def test_a_scoring_row_without_its_code_is_flagged_not_guessed(tmp_path: Path) -> None:
    report = _report(_edited(tmp_path, ("\t\tA12 立项依据充分性\t2\t2", "\t\t立项依据充分性\t2\t2")))
    assert "A12" not in [s["code"] for s in report["scores"]]
    issues = {(i["code"], i["where"]) for i in report["issues"]}
    assert ("unknown_label", "line 348") in issues
    assert ("sum_mismatch", "line 350") in issues  # A1 小计 6 is no longer the sum of what could be placed


SMALL_REPORT = """\
财政项目支出绩效评价报告

项目名称：2021年度“社区长者食堂补贴”项目
项目单位：上海市某区民政局
主管部门：上海市某区人民政府
委托单位：上海市某区财政局
评价机构：某某会计师事务所有限公司
报告文号：某会绩评〔2022〕7号

2022年5月8日

一、项目基本情况

2021 年社区长者食堂补贴预算资金 320.00 万元，实际支出 300.00 万元。

项目\t预算数\t支出数\t执行率
餐费补贴\t300.00\t280.00\t93.33%
宣传\t20.00\t20.00\t100.00%
合计\t320.00\t300.00\t93.75%

项目实施期限为 2021 年 1 月 1 日至 2021 年 12 月 31 日。

2021 年长者食堂计划供餐 12,000 人次，实际供餐 11,000 人次。

项目绩效总目标：为辖区老年人提供助餐服务。

三、评价结论和绩效分析

评价组对该项目进行了评价，最终评分结果为 27.33 分，绩效评级为差。

一级指标\t二级指标\t三级指标\t分值\t得分
A 决策\tA1 立项（10）\tA11 立项依据充分性\t5\t5
\t\tA12 立项程序规范性\t5\t4
\t\tA1 小计\t10\t9
\t\tA 决策小计\t10\t9
C 绩效\tC1 产出（20）\tC11 供餐完成率\t20\t18.33
\t\tC1 小计\t20\t18.3
\t\tC 绩效小计\t20\t18.33
总分\t\t\t30\t27.33

(二) 具体绩效分析

A11 立项依据充分性（满分 5 分，得 5 分）

指标解释：立项依据是否充分。

评分标准：符合得 5 分。

得分：依据充分，满分 5 分，得 5 分。

A12 立项程序规范性（满分 5 分，得 4 分）

得分：程序基本规范，满分 5 分，得 4 分。

C11 供餐完成率（满分 20 分，得 18.33 分）

指标解释：实际供餐人次与计划供餐人次之比。

评分标准：指标得分=完成率*20

得分：计划供餐 12,000 人次，实际供餐 11,000 人次，完成率 91.67%，满分 20 分，得 18.33 分。

附件 2 基础数据表

项目\t计划数\t实际数
长者食堂供餐\t12000\t11000
"""


def test_another_report_of_the_family(tmp_path: Path) -> None:
    path = tmp_path / "small.txt"
    path.write_text(SMALL_REPORT, encoding="utf-8")
    report = _report(path)
    meta = report["metadata"]
    assert (meta["project_name"], meta["year"], meta["unit"], meta["report_number"], meta["report_date"],
            meta["plan_start"], meta["plan_end"], meta["goal"], meta["total_score"], meta["grade"]) == (
        "2021年度“社区长者食堂补贴”项目", 2021, "上海市某区民政局", "某会绩评〔2022〕7号", "2022-05-08",
        "2021-01-01", "2021-12-31", "为辖区老年人提供助餐服务。", "27.33", "差")
    assert [(s["code"], s["level1"], s["level2"], s["level2_max"], s["weight"], s["score"]) for s in report["scores"]] \
        == [("A11", "决策", "立项", "10", "5", "5"), ("A12", "决策", "立项", "10", "5", "4"),
            ("C11", "绩效", "产出", "20", "20", "18.33")]
    assert report["scores"][1]["explanation"] is None and report["scores"][2]["criteria"] == "指标得分=完成率*20"
    assert report["score_table"]["duplicate"] is None and report["scores"][0]["workpaper"] is None
    budget = report["budget_execution"]
    assert budget["unit"] == "万元" and budget["rows"][0]["adjusted_budget"] is None
    assert budget["total"]["execution_rate"] == "93.75"
    output = report["outputs"]["rows"][0]
    assert (output["unit"], output["indicator"], output["text_where"]) == ("人次", "C11", "line 23")
    issues = [(i["code"], i["field"], i["found"], i["expected"]) for i in report["issues"]]
    assert ("sum_mismatch", "subtotals[2].score", "18.3", "18.33") in issues
    assert ("missing_value", "scores[1].explanation", None, None) in issues
    assert not [i for i in issues if i[0] in ("rate_mismatch", "duplicate_table_mismatch", "score_mismatch")]


@pytest.mark.parametrize("report_first", [True, False], ids=["report-then-forms", "forms-then-report"])
def test_a_file_may_hold_forms_and_a_report(tmp_path: Path, report_first: bool) -> None:
    parts = [SEED, FORMS_2020] if report_first else [FORMS_2020, SEED]
    path = tmp_path / "both.txt"
    path.write_text("".join(part.read_text(encoding="utf-8") for part in parts), encoding="utf-8")
    both = parse_file(path).to_dict()
    forms_alone = parse_file(FORMS_2020).to_dict()["forms"]
    # Neither runs into the other: the forms are those of the form file, the report that of the seed.
    assert [(f["header"]["project_name"], len(f["indicators"]), len(f["issues"])) for f in both["forms"]] == \
        [(f["header"]["project_name"], len(f["indicators"]), len(f["issues"])) for f in forms_alone]
    assert [(len(r["scores"]), len(r["issues"]), r["score_total"]) for r in both["reports"]] == [(30, 16, "91.34")]


def test_a_title_and_a_name_are_not_a_report(tmp_path: Path) -> None:
    path = tmp_path / "stub.txt"
    path.write_text("财政项目支出绩效评价报告\n项目名称：某项目\n", encoding="utf-8")
    with pytest.raises(NoKnownLayout):
        parse_file(path)


def test_a_file_with_neither_form_nor_report_still_fails(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("会议纪要\n\n今天讨论了预算。\n", encoding="utf-8")
    with pytest.raises(NoKnownLayout) as caught:
        parse_file(path)
    assert "财政项目支出绩效目标表" in str(caught.value)


# --- small pure functions -------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "cleaned"), [
    ("项目名称：**2018年社会保险经办业务费**", "项目名称：2018年社会保险经办业务费"),
    ("2018 年社会保险", "2018年社会保险"),
    ("预算执行率 < 100%，得 3.5 分", "预算执行率<100%，得3.5分"),
    ("印刷质量合格率 $\\geq 95\\%$ ，得 3 分， $< 95\\%$ 不得分", "印刷质量合格率≥95%，得3分，<95%不得分"),
    ("<p>指标评分计算过程及依据：</p> <p style=\"x\">甲。</p> <p>乙。</p>", "指标评分计算过程及依据：\n甲。\n乙。"),
    ("open 12333 hotline", "open 12333 hotline"),
])
def test_clean(raw: str, cleaned: str) -> None:
    assert clean(raw) == cleaned


@pytest.mark.parametrize(("raw", "value"), [
    ("1,009.08", "1009.08"), ("24.50", "24.5"), ("7.00", "7"), ("100.00%", "100"), ("-", None), ("", None),
    ("按需", None),
])
def test_number(raw: str, value: str | None) -> None:
    assert number(raw) == value


def test_dates_and_names() -> None:
    assert iso_date("日期：2019 年 6 月 19 日") == "2019-06-19" and iso_date("9 月") is None
    assert project_key("2018年社会保险经办业务费") == project_key("社会保险经办业务费") == PROJECT
    assert project_key("“2019年度社会保险经办业务费”项目") == PROJECT
    assert (name_match("2018年社会保险经办业务费", PROJECT), name_match(PROJECT, PROJECT)) == ("near", "exact")
    assert name_match("社会保险服务费", PROJECT) is None
    assert (unit_match("上海市 社保中心", "上海市社保中心"), unit_match(None, "x"), unit_match("a", "b")) == \
        ("exact", "unknown", None)


def test_rules_differ_only_when_they_share_less_than_half() -> None:
    body = "①项目是否需要采购②采购过程是否合规；每符合1项，得1分，反之不得分"
    assert rules_differ("考察项目实施是否采取了必要的采购。", body)
    assert not rules_differ("每符合一项，得1分", "每符合1项，得1分。")
    assert not rules_differ("指标得分=覆盖率*3", "根据访谈，指标得分=覆盖率*3")


# --- the store ------------------------------------------------------------------------------------


def _counts(engine: Any) -> dict[str, int]:
    with Session(engine) as s:
        return {model.__tablename__: s.scalar(select(func.count()).select_from(model)) or 0
                for model in (rm.Report, rm.ReportScore, rm.ReportSubtotal, rm.ReportBudgetLine, rm.ReportAdjustment,
                              rm.ReportOutput, rm.ReportScheduleRow, rm.ReportSatisfactionRow, rm.ReportIssue,
                              rm.ReportFormLink)}


SEED_COUNTS = {"reports": 1, "report_scores": 30, "report_subtotals": 12, "report_budget_lines": 6 + 18 + 3,
               "report_adjustments": 1, "report_outputs": 7, "report_schedule": 5, "report_satisfaction": 6,
               "report_issues": 16, "report_form_links": 2}


@pytest.mark.parametrize("report_first", [True, False], ids=["report-first", "forms-first"])
def test_import_stores_the_report_and_links_it_to_its_forms(any_db: str, tmp_path: Path, report_first: bool) -> None:
    engine = connect(any_db)
    files = [SEED, FORMS_2020, FORMS_2026] if report_first else [FORMS_2020, FORMS_2026, SEED]
    for file in files:  # one import per file: the links must not depend on the order
        assert [o.status for o in import_paths([file], engine).outcomes] == [LOADED]
    assert _counts(engine) == SEED_COUNTS
    with Session(engine) as s:
        report = s.scalars(select(rm.Report)).one()
        assert (report.project_name, report.project_key, report.year, report.total_score, report.grade,
                report.report_date.isoformat() if report.report_date else None) == \
            ("2018年社会保险经办业务费", PROJECT, 2018, Decimal("91.34"), "优", "2019-06-20")
        c15 = next(sc for sc in report.scores if sc.code == "C15")
        assert (c15.weight, c15.score, c15.wp_score, c15.source_location) == \
            (Decimal("3"), Decimal("0.58"), Decimal("0.58"), "line 373")
        links = sorted((link.form.year, link.name_match, link.unit_match) for link in report.form_links)
        assert links == [(2020, "near", "exact"), (2026, "near", "exact")]
        assert all(link.form.project_name == PROJECT for link in report.form_links)
    engine.dispose()


def test_reimport_is_skipped_and_a_changed_report_replaces_its_rows(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'replace.db'}"
    engine = connect(url)
    copy = tmp_path / "report.txt"
    shutil.copy(SEED, copy)
    import_paths([FORMS_2020, copy], engine)
    assert [o.status for o in import_paths([copy], engine).outcomes] == [SKIPPED]
    copy.write_text(copy.read_text(encoding="utf-8").replace("绩效评级为优", "绩效评级为良"), encoding="utf-8")
    assert [o.status for o in import_paths([copy], engine).outcomes] == [REPLACED]
    counts = _counts(engine)
    assert counts["reports"] == 1 and counts["report_form_links"] == 1 and counts["report_scores"] == 30
    with Session(engine) as s:
        assert s.scalars(select(rm.Report.grade)).one() == "良"
    engine.dispose()


def test_the_migration_creates_what_the_models_describe(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'schema.db'}"
    engine = connect(url)
    report_tables = {t for t in rm.Report.metadata.tables if t.startswith("report")}
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), rm.Report.metadata)
    assert [d for d in diff if any(t in repr(d) for t in report_tables)] == []
    views = set(inspect(engine).get_view_names())
    assert set(rm.VIEWS) <= views
    cfg = alembic_config(url)
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0002")
    assert not set(inspect(engine).get_view_names()) & set(rm.VIEWS)
    assert not {t for t in inspect(engine).get_table_names() if t.startswith("report")}
    engine.dispose()


# --- views, query, export and the project command -------------------------------------------------


@pytest.fixture
def project_db(any_db: str) -> str:
    engine = connect(any_db)
    report = import_paths([SEED, FORMS_2020, FORMS_2026], engine)
    engine.dispose()
    assert [o.status for o in report.outcomes] == [LOADED] * 3
    return any_db


def test_views_and_query(project_db: str) -> None:
    def rows(sql: str) -> list[dict[str, Any]]:
        result = analysis.query(project_db, sql)
        return [dict(zip(result.columns, row, strict=True)) for row in result.rows]

    counts = {view: rows(f"SELECT COUNT(*) AS n FROM {view}")[0]["n"] for view in rm.VIEWS}
    assert counts == {"v_reports": 1, "v_report_scores": 30, "v_report_budget": 27, "v_report_issues": 16,
                      "v_project_evaluations": 2}
    for view, columns in rm.VIEW_COLUMNS.items():
        assert list(analysis.query(project_db, f"SELECT * FROM {view} WHERE 1 = 0").columns) == list(columns), view
    weak = rows("SELECT code, score FROM v_report_scores WHERE score_percent_num <= 50 ORDER BY position")
    assert [(r["code"], str(r["score"])) for r in weak] == [("C15", "0.58"), ("C31", "2.5")]
    side = rows("SELECT report_year, total_score_num, grade, form_year, name_match, report_execution_rate_num "
                "FROM v_project_evaluations WHERE project_key = '社会保险经办业务费' ORDER BY form_year")
    assert [(r["report_year"], r["total_score_num"], r["grade"], r["form_year"], r["name_match"],
             r["report_execution_rate_num"]) for r in side] == \
        [(2018, 91.34, "优", 2020, "near", 91.38), (2018, 91.34, "优", 2026, "near", 91.38)]


def test_report_views_export_like_the_form_views(project_db: str, tmp_path: Path) -> None:
    for view in rm.VIEWS:
        out = analysis.export(project_db, "csv", view, tmp_path / f"{view}.csv")
        assert out.read_text(encoding="utf-8").splitlines()[0].split(",") == list(rm.VIEW_COLUMNS[view])


def test_project_command_shows_forms_and_evaluation_side_by_side(project_db: str) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["project", PROJECT, "--db", project_db])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    documents = [line.split()[:2] for line in lines if line[:4] in ("2018", "2020", "2026") and "  " in line][:3]
    assert documents == [["2018", "evaluation"], ["2020", "target"], ["2026", "target"]]
    assert "91.34" in result.output and "上审资绩报[2019]8011" in result.output
    b11 = next(line for line in lines if " B11 " in line)
    assert "预算执行率: ≥95%" in b11  # the 2020 target beside the 2018 score
    as_json = json.loads(runner.invoke(app, ["project", "2018年社会保险经办业务费", "--db", project_db,
                                             "--format", "json"]).output)
    assert [(d["year"], d["document"]) for d in as_json["documents"]] == \
        [(2018, "evaluation"), (2020, "target form"), (2026, "target form")]
    assert as_json["evaluations"][0]["total_score"] == "91.34" and len(as_json["evaluations"][0]["scores"]) == 30
    unknown = runner.invoke(app, ["project", "不存在的项目", "--db", project_db])
    assert unknown.exit_code == 1 and "no target form or evaluation report" in unknown.output


def test_parse_prints_the_report_readably() -> None:
    result = CliRunner().invoke(app, ["parse", str(SEED)])
    assert result.exit_code == 0, result.output
    assert "上审资绩报[2019]8011" in result.output  # not eaten as markup
    assert "总分 91.34" in result.output and "score_mismatch (line 654)" in result.output


def test_project_command_help_is_documented() -> None:
    result = CliRunner().invoke(app, ["project", "--help"])
    assert result.exit_code == 0 and "--db" in result.output
    docs = (SAMPLES.parent / "docs" / "reports.md").read_text(encoding="utf-8")
    assert "### goalforms project" in docs
    for view, columns in rm.VIEW_COLUMNS.items():
        assert f"## {view}" in docs, view
        for column in columns:
            assert f"| `{column}` |" in docs, (view, column)


def test_stored_reports_reach_their_document(tmp_path: Path) -> None:
    engine = connect(f"sqlite:///{tmp_path / 'doc.db'}")
    import_paths([SEED], engine)
    with Session(engine) as s:
        document = s.scalars(select(models.SourceDocument)).one()
        assert s.scalars(select(rm.Report.document_id)).one() == document.id
        assert document.forms == []
    engine.dispose()
