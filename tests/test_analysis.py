"""Analyst views, read-only query, export, series and Python access, on SQLite and on PostgreSQL.

Every test taking ``samples_db`` runs twice: on an SQLite file and on a database of the throwaway
PostgreSQL server of tests/pg.py, each holding the imported samples/text/*.txt (28 forms, 441
indicators). The expected rows come from the hand-checked expected parses beside the samples.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import shlex
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from alembic import command
from sqlalchemy import inspect
from typer.testing import CliRunner

from goalforms.pipeline import analysis
from goalforms.pipeline.analysis import VIEW_COLUMNS, AnalysisError, ReadOnlyViolation
from goalforms.pipeline.cli import app
from goalforms.pipeline.importer import LOADED, import_paths
from goalforms.schema.db import alembic_config, connect
from tests import pg
from tests.conftest import REPO, SAMPLES

TEXT = SAMPLES / "text"
DOCS = REPO / "docs" / "views.md"
REPORT_DOCS = REPO / "docs" / "reports.md"  # the evaluation-report views
BACKENDS = ["sqlite", "postgresql"]



def _new_database(request: pytest.FixtureRequest, backend: str, folder: Path) -> tuple[str, pg.PgServer | None]:
    if backend == "sqlite":
        return f"sqlite:///{folder / 'goalforms.db'}", None
    server: pg.PgServer = request.getfixturevalue("pg_server")
    return server.create_database("analysis"), server


@pytest.fixture(scope="module", params=BACKENDS)
def samples_db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database holding the imported text samples (read by the tests, never changed)."""
    url, server = _new_database(request, request.param, tmp_path_factory.mktemp("samples"))
    engine = connect(url)
    report = import_paths([TEXT], engine)
    engine.dispose()
    assert [o.status for o in report.outcomes] == [LOADED] * 4, report.failures
    yield url
    if server is not None:
        server.drop_database(url)


@pytest.fixture(params=BACKENDS)
def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new database with no schema yet (a test may change it)."""
    url, server = _new_database(request, request.param, tmp_path)
    yield url
    if server is not None:
        server.drop_database(url)


def _expected() -> list[tuple[str, int, dict[str, Any]]]:
    """(file name, form ordinal, expected form) for every form of the text samples."""
    forms = []
    for path in sorted(TEXT.glob("*.expected.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        name = path.name.removesuffix(".expected.json") + ".txt"
        forms += [(name, n, form) for n, form in enumerate(doc["forms"], start=1)]
    return forms


def _rows(db: str, sql: str) -> list[dict[str, Any]]:
    result = analysis.query(db, sql)
    return [dict(zip(result.columns, row, strict=True)) for row in result.rows]


def _exact(value: Any) -> str | None:
    """An exact value as the contract writes it, whether the database gave text or Decimal."""
    return None if value is None else format(Decimal(str(value)).normalize(), "f")


def _count(db: str, table: str) -> int:
    return int(analysis.query(db, f"SELECT COUNT(*) FROM {table}").rows[0][0])


# --- the views ------------------------------------------------------------------------------------


def test_view_row_counts(samples_db: str) -> None:
    assert {name: _count(samples_db, name) for name in analysis.VIEWS} == {
        "v_indicators": 441, "v_forms": 28, "v_issues": 31, "v_series": 191,
        **{name: 0 for name in analysis.VIEWS if name not in analysis.FORM_VIEWS}}
    assert _count(samples_db, "indicators") == 441 and _count(samples_db, "parse_issues") == 31


def test_v_indicators_holds_every_expected_indicator(samples_db: str) -> None:
    rows = _rows(samples_db, "SELECT * FROM v_indicators ORDER BY source_path, form_ordinal, position")
    actual = [(Path(r["source_path"]).name, r["form_ordinal"], r["position"], r["level1"], r["level2"], r["level3"],
               r["dimension"], r["raw"], r["kind"], r["op"], _exact(r["value"]), r["unit"]) for r in rows]
    expected = [(name, ordinal, position, i["level1"], i["level2"], i["level3"], i["dimension"], i["raw"], i["kind"],
                 i["op"], i["value"], i["unit"])
                for name, ordinal, form in _expected()
                for position, i in enumerate(form["indicators"], start=1)]
    assert actual == expected
    for r in rows:
        assert (r["value_num"] is None) == (r["value"] is None)
        if r["value"] is not None:
            assert r["value_num"] == float(Decimal(str(r["value"])))


def test_v_indicators_exact_row(samples_db: str) -> None:
    row = _rows(samples_db, "SELECT * FROM v_indicators WHERE project_name = '征地养老费用' AND position = 1")
    assert len(row) == 1
    r = row[0]
    assert {k: v for k, v in r.items() if k not in ("indicator_id", "form_id", "source_path")} == {
        "form_ordinal": 2, "project_name": "征地养老费用", "org_unit": "上海市普陀区社会保障管理服务中心",
        "department": None, "year": 2020, "layout": "2020", "position": 1, "dimension": "management.input",
        "level1": "投入与管理", "level2": "投入管理", "level3": "预算执行率", "raw": ">90%", "kind": "numeric",
        "op": ">", "value": r["value"], "value_num": 90.0, "unit": "%", "source_line": 68,
        "source_location": "line 68",
        # issue 12 (0008_siblings): a target form's row has no actual, points, note, prior year or period
        "form_kind": "target", "project_key": "征地养老费用",
        **{k: None for k in ("period", "actual_raw", "actual_kind", "actual_op", "actual_value", "actual_value_num",
                             "actual_unit", "weight", "weight_num", "score", "score_num", "note", "prior_year_raw",
                             "prior_year_kind", "prior_year_op", "prior_year_value", "prior_year_value_num",
                             "prior_year_unit")}}
    assert _exact(r["value"]) == "90"
    assert Path(r["source_path"]).name == "003_cca29bee0b231de8.txt"


def test_v_forms_pivots_every_expected_budget(samples_db: str) -> None:
    rows = _rows(samples_db, "SELECT * FROM v_forms ORDER BY source_path, form_ordinal")
    assert len(rows) == 28
    for row, (name, ordinal, form) in zip(rows, _expected(), strict=True):
        assert (Path(row["source_path"]).name, row["form_ordinal"], row["layout"], row["year"]) == \
            (name, ordinal, form["layout"], form["year"])
        assert {item: _exact(row[item]) for item in form["budget"]} == form["budget"]
        for item, amount in form["budget"].items():
            assert row[f"{item}_num"] == (None if amount is None else float(amount))
        header = form["header"]
        assert (row["project_name"], row["org_unit"], row["department"]) == \
            (header["project_name"], header["unit"], header["department"])
        dates = [None if v is None else str(v)[:10] for v in (row["plan_start"], row["plan_end"])]
        assert dates == [header["plan_start"], header["plan_end"]]
        assert (None if row["gov_procurement"] is None else bool(row["gov_procurement"])) == header["gov_procurement"]
        assert row["indicator_count"] == len(form["indicators"])
        assert row["open_issue_count"] == len(form["issues"])


def test_v_forms_exact_money(samples_db: str) -> None:
    rows = _rows(samples_db, "SELECT project_name, total, prior_year_spent, prior_year_spent_num FROM v_forms "
                             "WHERE prior_year_spent_num > 145000000")
    assert [(r["project_name"], _exact(r["total"]), _exact(r["prior_year_spent"]), r["prior_year_spent_num"])
            for r in rows] == [("征地养老费用", "147494700", "145147721.65", 145147721.65)]


def test_v_issues_holds_every_expected_issue_and_its_indicator(samples_db: str) -> None:
    rows = _rows(samples_db, "SELECT * FROM v_issues ORDER BY form_id, issue_id")
    actual = Counter((Path(r["source_path"]).name, r["form_ordinal"], r["code"], r["severity"], r["location"],
                      r["field"]) for r in rows)
    expected = Counter((name, ordinal, i["code"], i["severity"], i["where"], i.get("field"))
                       for name, ordinal, form in _expected() for i in form["issues"])
    assert actual == expected
    indicators = {(r["form_id"], r["position"]): r
                  for r in _rows(samples_db, "SELECT * FROM v_indicators")}
    for r in rows:
        found = re.match(r"indicators\[(\d+)\]", r["field"] or "")
        if found is None:
            assert (r["indicator_id"], r["position"], r["level3"]) == (None, None, None)
        else:
            ind = indicators[(r["form_id"], int(found.group(1)) + 1)]
            assert (r["indicator_id"], r["position"], r["level3"]) == \
                (ind["indicator_id"], ind["position"], ind["level3"])
    missing = [(r["project_name"], r["location"], r["level3"]) for r in rows if r["code"] == "missing_target"]
    assert sorted(missing) == [("信息化建设项目", "line 121", "产品软件购置完成率"),
                               ("办公用房修缮及装修经费", "line 215", "户外招牌检测完成率")]


def test_views_documented_column_by_column(samples_db: str) -> None:
    documented = _documented_columns()
    assert set(documented) == set(analysis.VIEWS) == set(VIEW_COLUMNS)
    for name in analysis.VIEWS:
        in_database = analysis.query(samples_db, f"SELECT * FROM {name} WHERE 1 = 0").columns
        assert list(in_database) == list(VIEW_COLUMNS[name]) == documented[name], name


def _documented_columns() -> dict[str, list[str]]:
    """The first cell of every row of each view's "| column | type | meaning |" table."""
    views: dict[str, list[str]] = {}
    view_name: str | None = None
    columns: list[str] | None = None  # the table being read
    lines = DOCS.read_text(encoding="utf-8").splitlines() + REPORT_DOCS.read_text(encoding="utf-8").splitlines()
    for line in lines:
        if line.startswith("## "):
            heading = re.match(r"## (v_\w+)$", line)
            view_name, columns = (heading.group(1) if heading else None), None
        elif view_name and line == "| column | type | meaning |":
            columns = views.setdefault(view_name, [])
        elif columns is not None and (cell := re.match(r"\| `(\w+)` \|", line)):
            columns.append(cell.group(1))
        elif columns is not None and not line.startswith("|"):
            columns = None
    return views


def test_migration_downgrade_drops_the_views_and_upgrade_restores_them(empty_db: str) -> None:
    engine = connect(empty_db)
    cfg = alembic_config(empty_db)
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0001")
    assert not set(inspect(engine).get_view_names()) & set(analysis.VIEWS)
    assert "indicators" in inspect(engine).get_table_names()
    engine.dispose()
    engine = connect(empty_db)
    assert set(analysis.VIEWS) <= set(inspect(engine).get_view_names())
    engine.dispose()


def test_a_database_from_before_the_views_is_upgraded_when_read(empty_db: str) -> None:
    engine = connect(empty_db)
    import_paths([TEXT / "000_914c13d346301e8d.txt"], engine)
    cfg = alembic_config(empty_db)
    with engine.begin() as connection:  # back to the schema of before the views, data kept
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0001")
    assert not set(inspect(engine).get_view_names()) & set(analysis.VIEWS)
    engine.dispose()
    assert analysis.query(empty_db, "SELECT COUNT(*) FROM v_indicators").rows == [(107,)]


# --- the read-only query --------------------------------------------------------------------------

WRITES = {
    "insert": "INSERT INTO parse_issues (form_id, code, severity, message) VALUES (1, 'x', 'error', 'x')",
    "update": "UPDATE indicators SET raw_target = 'changed'",
    "delete": "DELETE FROM parse_issues",
    "create table": "CREATE TABLE intruder (a INTEGER)",
    "create view": "CREATE VIEW v_intruder AS SELECT 1 AS a",
    "drop view": "DROP VIEW v_series",
    "drop table": "DROP TABLE parse_issues",
    "alter table": "ALTER TABLE forms ADD COLUMN intruder INTEGER",
    "create index": "CREATE INDEX ix_intruder ON forms (goal)",
    "temp table": "CREATE TEMP TABLE intruder (a INTEGER)",
}


def _fingerprint(db: str) -> tuple[Any, ...]:
    return (tuple(_count(db, t) for t in ("source_documents", "forms", "budget_figures", "indicators",
                                          "parse_issues")),
            analysis.query(db, "SELECT raw_target FROM indicators ORDER BY id").rows,
            sorted(analysis.query(db, "SELECT * FROM v_series WHERE 1 = 0").columns))


@pytest.mark.parametrize("statement", list(WRITES.values()), ids=list(WRITES))
def test_query_refuses_every_change(samples_db: str, statement: str) -> None:
    before = _fingerprint(samples_db)
    with pytest.raises(ReadOnlyViolation, match="read-only and cannot change the database"):
        analysis.query(samples_db, statement)
    assert _fingerprint(samples_db) == before


@pytest.mark.parametrize("statement", ["SELECT 1; DELETE FROM parse_issues",
                                       "SELECT 1; COMMIT; DELETE FROM parse_issues"])
def test_query_runs_one_statement_only(samples_db: str, statement: str) -> None:
    before = _fingerprint(samples_db)
    with pytest.raises(AnalysisError, match="only one SQL statement per query"):
        analysis.query(samples_db, statement)
    assert _fingerprint(samples_db) == before


def test_query_cli_refusal_exits_non_zero_with_a_clear_message(samples_db: str) -> None:
    result = CliRunner().invoke(app, ["query", "DELETE FROM indicators", "--db", samples_db])
    assert result.exit_code == 1
    assert "error: refused: goalforms query is read-only and cannot change the database" in result.output
    assert _count(samples_db, "v_indicators") == 441


def test_query_errors_name_the_problem(samples_db: str, tmp_path: Path) -> None:
    with pytest.raises(AnalysisError, match="the query failed: .*no_such_table"):
        analysis.query(samples_db, "SELECT * FROM no_such_table")
    with pytest.raises(AnalysisError, match="the query is empty"):
        analysis.query(samples_db, "  ")
    with pytest.raises(AnalysisError, match="no such SQLite database file"):
        analysis.query(str(tmp_path / "absent.db"), "SELECT 1")
    assert not (tmp_path / "absent.db").exists()  # reading never creates a database
    (tmp_path / "blank.db").write_bytes(b"")
    with pytest.raises(AnalysisError, match="holds no goalforms data"):
        analysis.query(str(tmp_path / "blank.db"), "SELECT 1")


def test_query_formats(samples_db: str) -> None:
    sql = ("SELECT project_name, year, value, value_num, unit FROM v_indicators "
           "WHERE project_name = '征地养老费用' AND position <= 2 ORDER BY position")
    runner = CliRunner()
    as_json = runner.invoke(app, ["query", sql, "--db", samples_db, "--format", "json"])
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.output) == [
        {"project_name": "征地养老费用", "year": 2020, "value": "90", "value_num": 90.0, "unit": "%"},
        {"project_name": "征地养老费用", "year": 2020, "value": "100", "value_num": 100.0, "unit": "%"}]
    as_csv = runner.invoke(app, ["query", sql, "--db", samples_db, "--format", "csv"])
    assert as_csv.output == ("project_name,year,value,value_num,unit\n"
                             "征地养老费用,2020,90,90.0,%\n征地养老费用,2020,100,100.0,%\n")
    table = runner.invoke(app, ["query", sql, "--db", samples_db]).output.splitlines()
    assert table[0].split() == ["project_name", "year", "value", "value_num", "unit"]
    assert table[2].split() == ["征地养老费用", "2020", "90", "90.0", "%"]
    assert table[-1] == "(2 rows)"
    # Columns line up by display width (an ideograph takes two columns).
    assert table[0].index("year") == table[2].index("2020") + len("征地养老费用")


# --- the two analyst questions (the commands of docs/views.md) ------------------------------------


def _documented_commands() -> list[list[str]]:
    text = DOCS.read_text(encoding="utf-8")
    section = text.split("## Two questions, one command each", 1)[1].split("\n## ", 1)[0]
    return [shlex.split(line) for line in re.findall(r"```sh\n(goalforms .+)\n```", section)]


def _run_documented(argv: list[str], db: str) -> subprocess.CompletedProcess[str]:
    args = argv[1:]
    args[args.index("--db") + 1] = db
    return subprocess.run([sys.executable, "-m", "goalforms", *args], capture_output=True, text=True,
                          timeout=120)


SATISFACTION_95 = [
    ("社会保险经办业务费", "网上办事企业对社保在线帮办的满意度", "≥95.00(%)"),
    ("社会保险经办业务费", "掌上办事个人社保在线帮办的满意度", "≥95.00(%)"),
    ("社会保险经办业务费", "参保单位经办服务满意率", "≥95(%)"),
    ("社会保险经办业务费", "参保对象满意率", "≥95(%)"),
    ("社会保险经办业务费", "职业年金代理人满意度", "=100.00(%)"),
    ("社会保险经办业务费", "分中心、部门满意度", "≥95.00(%)"),
    ("社会保险经办业务费", "内部工作人员对社保在线帮办的认可度", "≥95.00(%)"),
    ("社会保险核查业务费", "参保人员满意度", "≥99(%)"),
    ("社会保险核查业务费", "相关机构、部门满意度", "≥95(%)"),
    ("信息化建设项目", "分中心和部门满意度", "≥98.00(%)"),
    ("信息化建设项目", "系统用户满意度", "≥99.00(%)"),
    ("征地养老人员费用", "征地养老人员满意度", "≥99.00(%)"),
    ("信息化运维项目", "系统用户满意度", "≥99(%)"),
    ("办公用房修缮及装修经费", "相关职能部门满意度", "≥95(%)"),
    ("办公用房修缮及装修经费", "参保对象满意度", "≥95(%)"),
    ("办公用房修缮及装修经费", "社保中心对项目验收结果满意度", "≥95(%)"),
    ("社会保险服务费", "参保对象满意度", "≥95(%)"),
    ("社会保险服务费", "工作人员满意度", "≥95.00(%)"),
    ("机关事业单位运行保障经费", "职工满意率", "≥95(%)"),
    ("社保档案资料管理费", "档案查询利用用户满意度", "≥99(%)"),
    ("社保档案资料管理费", "档案影像查询用户满意度", "≥99.00(%)"),
]


def test_docs_hold_the_two_analyst_commands() -> None:
    commands = _documented_commands()
    assert [c[:2] for c in commands] == [["goalforms", "query"], ["goalforms", "series"]]
    assert commands[1][2] == "社保档案资料管理费"


def test_question_satisfaction_targets_of_at_least_95_percent(samples_db: str) -> None:
    result = _run_documented(_documented_commands()[0], samples_db)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["project_name", "level3", "raw"]
    assert [tuple(line.split()) for line in lines[2:-1]] == SATISFACTION_95
    assert lines[-1] == "(21 rows)"


def test_question_how_did_a_projects_targets_change(samples_db: str) -> None:
    result = _run_documented(_documented_commands()[1], samples_db)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == list(analysis.SERIES_COLUMNS)
    assert lines[-1] == "(38 rows)"
    body = [line.split() for line in lines[2:-1]]
    assert Counter(cells[3] for cells in body) == {"added": 15, "dropped": 21, "exact": 1, "near": 1}
    assert ["satisfaction", "2020", "2026", "exact", "1.0", "档案影像查询用户满意度", "高", "档案影像查询用户满意度",
            "≥99.00(%)", "quantified"] in body
    assert body[0] == ["cost.economic", "2020", "2026", "added", "社保档案库房租用", "≥118.00(万卷)", "added"]


def test_series_lines_up_exact_and_near_matches(samples_db: str) -> None:
    result = analysis.series(samples_db, "社会保险经办业务费")
    rows = [dict(zip(result.columns, r, strict=True)) for r in result.rows]
    matched = {(r["from_level3"], r["from_raw"], r["to_level3"], r["to_raw"], r["match_kind"], r["change"])
               for r in rows if r["match_kind"] in ("exact", "near")}
    assert matched == {
        ("各类通知书告知书邮寄率", "=100%", "各类业务通知书告知书打印、邮寄率", ">95.00(%)", "near", "lowered"),
        ("个人权益记录单邮寄率", "=100%", "个人权益记录单打印、邮寄率", "=100.00(%)", "near", "unchanged"),
        ("个人权益记录单印发及时率", "及时", "个人权益记录单打印寄发及时率", ">98.00(%)", "near", "quantified"),
        ("各类通知书告知书印发及时率", "及时", "各类业务通知书告知书印发及时性", "及时", "near", "unchanged"),
        ("参保单位满意度", "≥85%", "参保单位经办服务满意率", "≥95(%)", "near", "raised"),
    }
    near = next(r for r in rows if r["from_level3"] == "参保单位满意度")
    assert near["similarity"] == 0.5 and near["dimension"] == "satisfaction"
    # Every indicator of both forms appears exactly once.
    assert sum(r["from_level3"] is not None for r in rows) == 21
    assert sum(r["to_level3"] is not None for r in rows) == 57


def test_v_series_covers_the_four_projects_followed_across_years(samples_db: str) -> None:
    rows = _rows(samples_db, "SELECT project_name, from_year, to_year, match_kind, COUNT(*) AS n FROM v_series "
                             "GROUP BY project_name, from_year, to_year, match_kind")
    counts = {(r["project_name"], r["match_kind"]): r["n"] for r in rows}
    assert {r["project_name"] for r in rows} == {"社保档案资料管理费", "社会保险服务费", "社会保险经办业务费",
                                                 "征地养老人员费用"}
    assert {(r["from_year"], r["to_year"]) for r in rows} == {(2020, 2026)}
    assert counts == {
        ("征地养老人员费用", "added"): 17, ("征地养老人员费用", "dropped"): 12, ("征地养老人员费用", "exact"): 1,
        ("征地养老人员费用", "near"): 2,
        ("社会保险服务费", "added"): 21, ("社会保险服务费", "dropped"): 23, ("社会保险服务费", "exact"): 1,
        ("社会保险服务费", "near"): 3,
        ("社会保险经办业务费", "added"): 52, ("社会保险经办业务费", "dropped"): 16,
        ("社会保险经办业务费", "near"): 5,
        ("社保档案资料管理费", "added"): 15, ("社保档案资料管理费", "dropped"): 21, ("社保档案资料管理费", "exact"): 1,
        ("社保档案资料管理费", "near"): 1,
    }


def test_series_explains_a_project_it_cannot_follow(samples_db: str) -> None:
    with pytest.raises(AnalysisError, match="'宣传费' appears only in 2024"):
        analysis.series(samples_db, "宣传费")
    with pytest.raises(AnalysisError, match="no form has the project name '社保'; similar names: .*社保档案资料管理费"):
        analysis.series(samples_db, "社保")
    result = CliRunner().invoke(app, ["series", "没有这个项目", "--db", samples_db])
    assert result.exit_code == 1 and "error: no form has the project name '没有这个项目'" in result.output
    unit = "上海市社会保险事业管理中心"
    assert analysis.series(samples_db, "社保档案资料管理费", unit=unit).rows == \
        analysis.series(samples_db, "社保档案资料管理费").rows


# --- Python access and exports --------------------------------------------------------------------

DTYPES = {"text": "str", "exact": "object", "number": "float64", "integer": "Int64", "date": "datetime64[ns]",
          "boolean": "boolean"}


def test_views_as_dataframes(samples_db: str) -> None:
    frames = analysis.views(samples_db)
    assert {name: len(frame) for name, frame in frames.items()} == {
        "v_indicators": 441, "v_forms": 28, "v_issues": 31, "v_series": 191,
        **{name: 0 for name in analysis.VIEWS if name not in analysis.FORM_VIEWS}}
    for name, frame in frames.items():
        assert list(frame.columns) == list(VIEW_COLUMNS[name])
        assert {c: str(t) for c, t in frame.dtypes.items()} == {c: DTYPES[k] for c, k in VIEW_COLUMNS[name].items()}
    forms = frames["v_forms"]
    one = forms[forms.prior_year_spent_num > 145_000_000].iloc[0]
    assert one.prior_year_spent == Decimal("145147721.65") and one.plan_start == pd.Timestamp("2020-01-01")
    ind = frames["v_indicators"]
    chosen = ind[(ind.year == 2026) & (ind.dimension == "satisfaction") & (ind.unit == "%") & (ind.value_num >= 95)
                 & ind.op.isin(["=", "≥", ">"])]
    assert len(chosen) == len(SATISFACTION_95)
    with pytest.raises(AnalysisError, match="unknown view 'v_nope'; the views are v_indicators, v_forms"):
        analysis.view(samples_db, "v_nope")


def _canonical(value: Any, kind: str) -> str:
    """A cell as comparable text, whatever a file format made of it (NULL, NaN and '' all empty)."""
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, str) and value == "":
        return ""
    if kind in ("exact", "number", "integer"):
        return format(Decimal(str(value)).normalize(), "f")
    if kind == "date":
        return pd.Timestamp(value).date().isoformat()
    if kind == "boolean":
        return str(value in (True, 1, "True", "true", "1"))
    return str(value)


def _canonical_rows(name: str, frame: pd.DataFrame) -> list[tuple[str, ...]]:
    kinds = VIEW_COLUMNS[name]
    return [tuple(_canonical(v, kinds[c]) for c, v in zip(frame.columns, row, strict=True))
            for row in frame.itertuples(index=False)]


READ_BACK = {
    "csv": lambda path: pd.read_csv(path, dtype=str, keep_default_na=False),
    "xlsx": lambda path: pd.read_excel(path, dtype=object),
    "parquet": pd.read_parquet,
}


@pytest.mark.parametrize("fmt", list(READ_BACK))
def test_exports_read_back_hold_the_same_rows(samples_db: str, fmt: str, tmp_path: Path) -> None:
    frames = analysis.views(samples_db)
    for name in analysis.VIEWS:
        result = CliRunner().invoke(app, ["export", "--format", fmt, "--view", name, "--out",
                                          str(tmp_path / f"{name}.{fmt}"), "--db", samples_db])
        assert result.exit_code == 0, result.output
        back = READ_BACK[fmt](tmp_path / f"{name}.{fmt}")
        assert list(back.columns) == list(VIEW_COLUMNS[name])
        assert _canonical_rows(name, back) == _canonical_rows(name, frames[name]), f"{name}.{fmt}"
    if fmt == "parquet":  # exact decimals stay exact
        back = pd.read_parquet(tmp_path / "v_forms.parquet")
        assert Decimal("145147721.65") in set(back.prior_year_spent)


def test_export_defaults_and_errors(samples_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert analysis.export(samples_db, "csv") == Path("v_indicators.csv")
    assert len(pd.read_csv(tmp_path / "v_indicators.csv")) == 441
    (tmp_path / "out").mkdir()
    assert analysis.export(samples_db, "parquet", "v_issues", tmp_path / "out") == tmp_path / "out" / "v_issues.parquet"
    runner = CliRunner()
    wrong_view = runner.invoke(app, ["export", "--format", "csv", "--view", "indicators", "--db", samples_db])
    assert wrong_view.exit_code == 1
    assert "error: unknown view 'indicators'; the views are v_indicators, v_forms, v_issues, v_series" \
        in wrong_view.output
    wrong_format = runner.invoke(app, ["export", "--format", "dbf", "--db", samples_db])
    assert wrong_format.exit_code != 0
    no_folder = runner.invoke(app, ["export", "--format", "csv", "--out", str(tmp_path / "no" / "x.csv"),
                                    "--db", samples_db])
    assert no_folder.exit_code == 1 and "its folder does not exist" in no_folder.output


def test_every_analyst_command_has_help_and_is_documented() -> None:
    docs = DOCS.read_text(encoding="utf-8")
    for name in ("query", "export", "series"):
        result = CliRunner().invoke(app, [name, "--help"])
        assert result.exit_code == 0 and "--db" in result.output
        assert f"### goalforms {name}" in docs


def test_dates_and_ids_are_python_values_in_json(samples_db: str) -> None:
    result = analysis.query(samples_db, "SELECT plan_start FROM v_forms WHERE plan_start IS NOT NULL "
                                        "ORDER BY source_path, form_ordinal")
    rendered = json.loads(analysis.render(result, "json"))
    assert rendered[0] == {"plan_start": "2020-01-01"}
    assert all(dt.date.fromisoformat(r["plan_start"]) for r in rendered)
