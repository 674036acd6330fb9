"""Clerk corrections (issue 5): records of their own, replayed over the parse; what analysts see;
re-imports of the same and of changed files; undo; the bulk twin on the command line.

The importer calls ``reapply_corrections`` right after storing a document; these tests call it
themselves after each import as well (``reimport``), which changes nothing once the importer does.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from alembic import command
from sqlalchemy import Engine, func, inspect, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from goalforms.pipeline import analysis, cli_clerk, users
from goalforms.pipeline import corrections as corr
from goalforms.pipeline.corrections import ADD, DELETE, MOVE, REORDER, RESOLVE, SET, Change, CorrectionError
from goalforms.pipeline.importer import import_paths
from goalforms.pipeline.load import find_by_path, remove_document, store_document
from goalforms.pipeline.parse import parse_file
from goalforms.schema import models
from goalforms.schema.clerk_models import ACTIVE, STALE, UNDONE, CorrectedForm, Correction
from goalforms.schema.db import alembic_config, connect
from tests.conftest import SAMPLES

SEED_2026 = "004_dca627b1a6ea1aa7.txt"  # form 3: 产品软件购置完成率 (line 121), form 6: 户外招牌检测完成率 (line 215)
SEED_003 = "003_cca29bee0b231de8.txt"  # form 3: cut-off columns (truncated_columns)

# The damaged third form of 003, repaired from the fragments dumped after its table (README).
REPAIR_003 = {
    "header.plan_end": "2020-12-31",
    "header.performance_type": "其他类",
    "budget.current_year": "280,000.00",
    "budget.prior_year_spent": "0",
    **{f"indicators[{i}].raw": raw for i, raw in enumerate([
        ">90%", "=100%", "规范", "有效", "合规", "健全", "可控", "完备", "合规", "良好", "及时", "≥95%",
        "=100%", "合理", "充分"])},
}


# --- helpers (also used by tests/test_web.py and tests/test_browser.py) -----------------------------


def copy_samples(folder: Path, *names: str) -> list[Path]:
    """Copies of text samples: the tests change files, never the samples."""
    folder.mkdir(parents=True, exist_ok=True)
    return [Path(shutil.copy(SAMPLES / "text" / name, folder / name)) for name in names]


def reimport(engine: Engine, paths: list[Path]) -> list[Correction]:
    """Import files as ``goalforms import`` does, then reapply corrections (the importer's hook)
    and return the stale ones."""
    import_paths(paths, engine)
    stale: list[Correction] = []
    with Session(engine) as session, session.begin():
        for path in paths:
            document = find_by_path(session, str(path.resolve()))
            assert document is not None, path
            stale += corr.reapply_corrections(session, document)
        session.expunge_all()
    return stale


def record(engine: Engine, path: Path, ordinal: int, *changes: Change, author: str = "alice",
           note: str | None = None) -> list[Correction]:
    with Session(engine) as session, session.begin():
        made = corr.record(session, str(path.resolve()), ordinal, list(changes), author, note)
        session.flush()
        session.expunge_all()
    return made


def rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    # A plain connection, not analysis.query: the tests also read the users table, which analyst
    # SQL may not (docs/limits.md).
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return [tuple(r) for r in connection.execute(text(sql))]
    finally:
        engine.dispose()


def indicator(url: str, path: Path, ordinal: int, level3: str) -> tuple[Any, ...]:
    found = rows(url, "SELECT position, level1, level2, raw, kind, op, value, unit, dimension FROM v_indicators "
                      f"WHERE source_path = '{path.resolve()}' AND form_ordinal = {ordinal} AND level3 = '{level3}'")
    assert len(found) == 1, found
    return found[0]


def open_issue_count(url: str, path: Path, ordinal: int) -> int:
    return rows(url, f"SELECT open_issue_count FROM v_forms WHERE source_path = '{path.resolve()}' "
                     f"AND form_ordinal = {ordinal}")[0][0]


@pytest.fixture
def db(tmp_path: Path) -> Iterator[tuple[str, Engine, Path, Path]]:
    """A database with copies of the 2026 seed and of seed 003 imported."""
    url = f"sqlite:///{tmp_path / 'clerks.db'}"
    engine = connect(url)
    seed, damaged = copy_samples(tmp_path / "archive", SEED_2026, SEED_003)
    reimport(engine, [seed, damaged])
    yield url, engine, seed, damaged
    engine.dispose()


# --- recording and what analysts see --------------------------------------------------------------


def test_a_filled_target_is_normalised_and_analysts_see_it_while_the_parse_stays(db: Any) -> None:
    url, engine, seed, _ = db
    assert indicator(url, seed, 3, "产品软件购置完成率")[3:5] == ("", "missing")
    made = record(engine, seed, 3, Change(SET, "indicators[1].raw", " =100.00 (%) ", expected=""),
                  note="from the signed copy")
    assert [(c.action, c.field, c.row_level3, c.old_value, c.new_value, c.author, c.note) for c in made] == [
        (SET, "indicators[1].raw", "产品软件购置完成率", "", "=100.00 (%)", "alice", "from the signed copy")]
    assert indicator(url, seed, 3, "产品软件购置完成率") == (
        2, "产出指标", "数量指标", "=100.00 (%)", "numeric", "=", "100", "%", "output.quantity")
    # The raw parse is untouched in the base tables.
    raw = rows(url, "SELECT raw_target, kind FROM indicators WHERE level3 = '产品软件购置完成率'")
    assert raw == [("", "missing")]
    # The issue stays open until a clerk resolves it.
    assert open_issue_count(url, seed, 3) == 1
    record(engine, seed, 3, Change(RESOLVE, "indicators[1].raw", {"code": "missing_target"}), note="target filled")
    assert open_issue_count(url, seed, 3) == 0
    assert not rows(url, f"SELECT * FROM v_issues WHERE source_path = '{seed.resolve()}' AND form_ordinal = 3")
    assert rows(url, "SELECT COUNT(*) FROM parse_issues WHERE code = 'missing_target'") == [(2,)]


def test_bad_values_are_refused_with_a_clear_message_and_nothing_is_saved(db: Any) -> None:
    url, engine, seed, _ = db
    before = rows(url, "SELECT * FROM v_forms ORDER BY source_path, form_ordinal")
    with pytest.raises(CorrectionError) as refused:
        record(engine, seed, 6,
               Change(SET, "header.project_name", "改过的名称"),  # fine on its own: refused with the rest
               Change(SET, "budget.total", "12abc"),
               Change(SET, "header.plan_end", "2026-13-01"),
               Change(SET, "header.plan_start", "明年"),
               Change(SET, "year", "20x6"),
               Change(SET, "indicators[0].level3", "  "),
               Change(SET, "header.no_such_field", "x"))
    assert refused.value.problems == [
        "项目资金总额 (budget.total): '12abc' is not an amount of money (write yuan in digits: 280000 or 2,745,200.00)",
        "计划完成日期 (header.plan_end): '2026-13-01' is not a date (write it as 2020-12-31)",
        "计划开始日期 (header.plan_start): '明年' is not a date (write it as 2020-12-31)",
        "year: '20x6' is not a year (write it as 2026)",
        "indicators[0].level3 (户外招牌检测数): a 三级 name cannot be empty (delete the row instead)",
        "the form has no field header.no_such_field",
    ]
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Correction)) == 0
        assert session.scalar(select(func.count()).select_from(CorrectedForm)) == 0
    assert rows(url, "SELECT * FROM v_forms ORDER BY source_path, form_ordinal") == before


def test_a_value_changed_meanwhile_is_refused(db: Any) -> None:
    url, engine, seed, _ = db
    record(engine, seed, 3, Change(SET, "indicators[1].raw", "=100%", expected=""), author="bob")
    with pytest.raises(CorrectionError, match="was changed meanwhile: it now reads '=100%', not ''"):
        record(engine, seed, 3, Change(SET, "indicators[1].raw", "=90%", expected=""))
    assert indicator(url, seed, 3, "产品软件购置完成率")[3] == "=100%"


def test_header_budget_and_dates_are_corrected_in_v_forms(db: Any) -> None:
    url, engine, seed, _ = db
    record(engine, seed, 6, Change(SET, "budget.total", "54,700.00"), Change(SET, "header.plan_end", "2026-6-30"),
           Change(SET, "header.project_name", "办公用房 修缮及装修经费 <p>"), Change(SET, "year", "2026"))
    found = rows(url, "SELECT project_name, plan_end, total, total_num, current_year, open_issue_count, indicator_count "
                      f"FROM v_forms WHERE source_path = '{seed.resolve()}' AND form_ordinal = 6")
    assert found == [("办公用房修缮及装修经费", "2026-06-30", "54700", 54700.0, "54700", 1, 11)]
    # Every view of the form follows: v_indicators and v_issues carry the corrected header too.
    assert set(rows(url, f"SELECT DISTINCT project_name FROM v_indicators WHERE source_path = '{seed.resolve()}' "
                         "AND form_ordinal = 6")) == {("办公用房修缮及装修经费",)}
    with Session(engine) as session:  # nothing to change: a value equal to the current one is no correction
        assert corr.record(session, str(seed.resolve()), 6, [Change(SET, "budget.total", "54700")], "alice") == []


def test_rows_added_deleted_moved_and_reordered(db: Any) -> None:
    url, engine, seed, _ = db
    path = str(seed.resolve())
    record(engine, seed, 3,
           Change(ADD, corr.ROWS, {"level1": "产出指标", "level2": "时效指标", "level3": "上线及时率", "raw": "=100%",
                                   "after": "indicators[1]"}),
           Change(DELETE, "indicators[0]"),
           Change(MOVE, "indicators[2]", {"level1": "产出指标", "level2": "质量指标"}),
           note="checked against the paper form")
    found = rows(url, f"SELECT position, indicator_id < 0, level1, level2, level3, raw, dimension FROM v_indicators "
                      f"WHERE source_path = '{path}' AND form_ordinal = 3 ORDER BY position")
    assert found[:3] == [
        (1, 0, "产出指标", "数量指标", "产品软件购置完成率", "", "output.quantity"),
        (2, 1, "产出指标", "时效指标", "上线及时率", "=100%", "output.timeliness"),
        (3, 0, "产出指标", "质量指标", "应用软件开发计划完成率", "=100.00(%)", "output.quality"),
    ]
    assert len(found) == 12  # 12 parsed - 1 deleted + 1 added
    # The issue on the parsed row 产品软件购置完成率 still names its row, now at position 1.
    assert rows(url, f"SELECT position, level3 FROM v_issues WHERE source_path = '{path}' AND form_ordinal = 3") == [
        (1, "产品软件购置完成率")]
    with Session(engine) as session, session.begin():
        added = corr.replay(session, corr.find_form(session, path, 3), path).state.rows[1]  # type: ignore[arg-type]
        added_key = added.key
    record(engine, seed, 3, Change(REORDER, added_key, {"position": 12}), Change(SET, f"{added_key}.raw", "≥98%"))
    last = rows(url, f"SELECT position, level3, raw, op, value FROM v_indicators WHERE source_path = '{path}' "
                     "AND form_ordinal = 3 ORDER BY position DESC LIMIT 1")
    assert last == [(12, "上线及时率", "≥98%", "≥", "98", )]
    assert rows(url, f"SELECT indicator_count FROM v_forms WHERE source_path = '{path}' AND form_ordinal = 3") == [(12,)]


def test_undo_restores_and_reports_the_corrections_that_depended_on_it(db: Any) -> None:
    url, engine, seed, _ = db
    add = record(engine, seed, 3, Change(ADD, corr.ROWS, {"level1": "产出指标", "level2": "时效指标",
                                                            "level3": "上线及时率", "raw": "", "after": None}))[0]
    edit = record(engine, seed, 3, Change(SET, f"indicators[c{add.id}].raw", "=100%"))[0]
    fix = record(engine, seed, 3, Change(SET, "indicators[1].raw", "=100%"))[0]
    with Session(engine) as session, session.begin():
        lost = corr.undo(session, add.id, "bob")
        assert [c.id for c in lost] == [edit.id]
        with pytest.raises(CorrectionError, match="already undone by bob"):
            corr.undo(session, add.id, "bob")
    with Session(engine) as session:
        statuses = {c.id: (c.status, c.undone_by) for c in session.scalars(select(Correction))}
    assert statuses == {add.id: (UNDONE, "bob"), edit.id: (STALE, None), fix.id: (ACTIVE, None)}
    assert not rows(url, "SELECT * FROM v_indicators WHERE level3 = '上线及时率'")
    assert indicator(url, seed, 3, "产品软件购置完成率")[3] == "=100%"
    with Session(engine) as session, session.begin():
        corr.undo(session, fix.id, "bob")
        corr.undo(session, edit.id, "bob")
    assert indicator(url, seed, 3, "产品软件购置完成率")[3] == ""
    with Session(engine) as session:  # nothing left applied: the views read the parse again
        assert session.scalar(select(func.count()).select_from(CorrectedForm)) == 0


def test_resolving_an_issue_is_a_correction_that_undo_reopens(db: Any) -> None:
    url, engine, _, damaged = db
    path = str(damaged.resolve())
    assert open_issue_count(url, damaged, 3) == 23
    with Session(engine) as session, session.begin():
        state = corr.replay(session, corr.find_form(session, path, 3), path).state  # type: ignore[arg-type]
        made = corr.record(session, path, 3, [Change(RESOLVE, i.target, {"code": i.code, "message": i.message})
                                               for i in state.issues], "alice", "checked against the fragments")
        ids = [c.id for c in made]
        first = (made[0].old_value["code"], made[0].field)
    assert len(ids) == 23 and open_issue_count(url, damaged, 3) == 0
    assert first == ("invalid_value", "header.plan_end")
    with Session(engine) as session, session.begin():
        corr.undo(session, ids[0], "alice")
    assert rows(url, f"SELECT code, field FROM v_issues WHERE source_path = '{path}' AND form_ordinal = 3") == [first]
    with pytest.raises(CorrectionError, match="no open issue missing_target on header.goal"):
        record(engine, damaged, 3, Change(RESOLVE, "header.goal", "missing_target"))


# --- re-imports ----------------------------------------------------------------------------------


def _fix_2026_seed(engine: Engine, seed: Path) -> None:
    record(engine, seed, 3, Change(SET, "indicators[1].raw", "=100.00(%)", expected=""))
    record(engine, seed, 3, Change(RESOLVE, "indicators[1].raw", "missing_target"), note="filled")
    record(engine, seed, 6, Change(SET, "indicators[1].raw", "=100(%)", expected=""),
           Change(SET, "budget.current_year", "54800"))


def test_reimporting_the_same_file_keeps_every_correction(db: Any) -> None:
    url, engine, seed, damaged = db
    _fix_2026_seed(engine, seed)
    shown = "SELECT source_path, form_ordinal, position, level1, level2, level3, raw, kind, op, value, unit " \
            "FROM v_indicators ORDER BY 1, 2, 3"
    before = rows(url, shown)
    assert reimport(engine, [seed, damaged]) == []  # unchanged files: skipped by their hash
    # The same content stored again (the importer replacing a file's rows) gets them back too.
    with Session(engine) as session, session.begin():
        document = find_by_path(session, str(seed.resolve()))
        assert document is not None
        remove_document(session, document)
        stored = store_document(session, parse_file(seed), str(seed.resolve()), seed.stat().st_size)
        assert corr.reapply_corrections(session, stored) == []
    assert rows(url, shown) == before
    assert open_issue_count(url, seed, 3) == 0


def test_a_changed_file_keeps_the_corrections_that_still_apply_and_lists_the_others(db: Any) -> None:
    url, engine, seed, _ = db
    _fix_2026_seed(engine, seed)
    lines = seed.read_text(encoding="utf-8").split("\n")
    # The file changes: a new row above the corrected one in form 3 (its index in the parse moves),
    # and form 6's 年度资金申请总额 now reads differently from what the clerk corrected.
    assert lines[206].endswith("54,700.00\t")
    lines[206] = lines[206].replace("54,700.00", "55,000.00")
    lines.insert(120, "\t成本指标\t经济成本指标\t软件许可费用控制率\t≤100.00(%)\t")
    seed.write_text("\n".join(lines), encoding="utf-8")
    stale = reimport(engine, [seed])
    assert [(c.field, c.status, c.status_reason) for c in stale] == [
        ("budget.current_year", STALE,
         "budget.current_year now reads '55000', not '54700' as when it was corrected")]
    # Row 产品软件购置完成率 is now the parse's indicators[2]: found by its 三级 name, fix and resolution kept.
    assert indicator(url, seed, 3, "产品软件购置完成率")[3:5] == ("=100.00(%)", "numeric")
    assert open_issue_count(url, seed, 3) == 0
    assert indicator(url, seed, 6, "户外招牌检测完成率")[3] == "=100(%)"
    assert rows(url, f"SELECT current_year FROM v_forms WHERE source_path = '{seed.resolve()}' "
                     "AND form_ordinal = 6") == [("55000",)]
    # Reapplying again changes nothing; the stale correction is kept and listed until undone.
    with Session(engine) as session, session.begin():
        document = find_by_path(session, str(seed.resolve()))
        assert [c.field for c in corr.reapply_corrections(session, document)] == ["budget.current_year"]  # type: ignore[arg-type]
        assert [r["field"] for r in corr.export_corrections(session, status=STALE)] == ["budget.current_year"]


def test_a_form_gone_from_the_file_makes_its_corrections_stale(db: Any, tmp_path: Path) -> None:
    url, engine, seed, _ = db
    record(engine, seed, 9, Change(SET, "header.unit", "社保中心"))
    lines = seed.read_text(encoding="utf-8").split("\n")
    seed.write_text("\n".join(lines[:286]), encoding="utf-8")  # the ninth form cut off
    stale = reimport(engine, [seed])
    assert [(c.field, c.status_reason) for c in stale] == [("header.unit", "the file has no form 9 any more")]


def test_the_damaged_form_of_003_is_repaired_and_survives_reimport(db: Any) -> None:
    url, engine, _, damaged = db
    path = str(damaged.resolve())
    record(engine, damaged, 3, *(Change(SET, field, value) for field, value in REPAIR_003.items()),
           note="from the fragments after the table")
    with Session(engine) as session, session.begin():
        state = corr.replay(session, corr.find_form(session, path, 3), path).state  # type: ignore[arg-type]
        corr.record(session, path, 3, [Change(RESOLVE, i.target, {"code": i.code, "message": i.message})
                                       for i in state.issues], "alice", "repaired")
    expected = rows(url, f"SELECT * FROM v_forms WHERE source_path = '{path}' AND form_ordinal = 3")
    assert expected[0][10:12] == ("2020-01-01", "2020-12-31")
    assert open_issue_count(url, damaged, 3) == 0
    kinds = rows(url, f"SELECT raw, kind, op, value, unit FROM v_indicators WHERE source_path = '{path}' "
                      "AND form_ordinal = 3 ORDER BY position")
    assert kinds[0] == (">90%", "numeric", ">", "90", "%") and kinds[3] == ("有效", "qualitative", None, None, None)
    damaged.write_text(damaged.read_text(encoding="utf-8") + "\n", encoding="utf-8")  # changed: re-parsed
    assert reimport(engine, [damaged]) == []
    assert rows(url, f"SELECT * FROM v_forms WHERE source_path = '{path}' AND form_ordinal = 3")[0][1:] == \
        expected[0][1:]


# --- files of corrections, the command line ------------------------------------------------------


def _cli() -> typer.Typer:
    app = typer.Typer()
    cli_clerk.register(app)
    return app


def test_export_and_apply_carry_corrections_to_another_database(db: Any, tmp_path: Path) -> None:
    url, engine, seed, damaged = db
    _fix_2026_seed(engine, seed)
    runner = CliRunner()
    for fmt in ("csv", "json"):
        out = tmp_path / f"corrections.{fmt}"
        result = runner.invoke(_cli(), ["corrections", "export", "--db", url, "--out", str(out)])
        assert result.exit_code == 0, result.output
        other = f"sqlite:///{tmp_path / f'other-{fmt}.db'}"
        reimport(connect(other), [seed, damaged])
        result = runner.invoke(_cli(), ["corrections", "apply", str(out), "--db", other, "--author", "carol"])
        assert result.exit_code == 0, result.output
        assert "applied 4 corrections" in result.output
        compared = "SELECT source_path, form_ordinal, position, level3, raw, kind, value FROM v_indicators ORDER BY 1, 2, 3"
        assert rows(other, compared) == rows(url, compared)
        assert rows(other, "SELECT current_year FROM v_forms ORDER BY source_path, form_ordinal") == \
            rows(url, "SELECT current_year FROM v_forms ORDER BY source_path, form_ordinal")
        assert {r[0] for r in rows(other, "SELECT author FROM corrections")} == {"carol"}


def test_apply_refuses_a_whole_file_naming_each_bad_row(db: Any, tmp_path: Path) -> None:
    url, engine, seed, _ = db
    sheet = tmp_path / "fixes.csv"
    sheet.write_text(
        "path,form,action,field,level3,old_value,new_value,note\n"
        f"{seed},3,set,indicators[1].raw,产品软件购置完成率,,=100%,ok\n"
        f"{seed},6,set,budget.total,,,lots,bad money\n"
        f"{seed},6,set,indicators[1].raw,户外招牌检测完成率,=90%,=100%,stale old value\n"
        f"{seed},99,set,header.unit,,,x,no such form\n", encoding="utf-8")
    result = CliRunner().invoke(_cli(), ["corrections", "apply", str(sheet), "--db", url])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "error: nothing applied:",
        "  row 2: 项目资金总额 (budget.total): 'lots' is not an amount of money (write yuan in digits: 280000 or "
        "2,745,200.00)",
        "  row 3: indicators[1].raw (户外招牌检测完成率) was changed meanwhile: it now reads '', not '=90%' "
        "(reload the form and try again)",
        f"  row 4: no form 99 in {seed.resolve()}",
    ]
    assert rows(url, "SELECT COUNT(*) FROM corrections") == [(0,)]
    # The good row alone applies; a relative path names the file too.
    sheet.write_text("path,form,action,field,level3,old_value,new_value,note\n"
                     f"{seed},3,set,indicators[1].raw,产品软件购置完成率,,=100%,ok\n"
                     f"{seed},3,resolve,indicators[1].raw,,missing_target,,filled\n", encoding="utf-8")
    result = CliRunner().invoke(_cli(), ["corrections", "apply", str(sheet), "--db", url, "--author", "dan"])
    assert result.exit_code == 0, result.output
    assert indicator(url, seed, 3, "产品软件购置完成率")[3] == "=100%" and open_issue_count(url, seed, 3) == 0


def test_issues_command_lists_open_issues_and_undo_reopens(db: Any) -> None:
    url, engine, seed, _ = db
    runner = CliRunner()
    result = runner.invoke(_cli(), ["issues", "--db", url, "--file", str(seed), "--format", "json"])
    assert result.exit_code == 0, result.output
    listed = json.loads(result.output)
    assert [(i["ordinal"], i["code"], i["field"], i["level3"]) for i in listed] == [
        (2, "ambiguous_placement", "indicators[7]", "报告完成及时率"),
        (3, "missing_target", "indicators[1].raw", "产品软件购置完成率"),
        (6, "missing_target", "indicators[1].raw", "户外招牌检测完成率"),
        (7, "ambiguous_placement", "indicators[1]", "资格认证工作完成率"),
    ]
    made = record(engine, seed, 3, Change(RESOLVE, "indicators[1].raw", "missing_target"), note="filled")
    result = runner.invoke(_cli(), ["issues", "--db", url, "--code", "missing_target", "--format", "csv"])
    assert result.output.count("missing_target") == 1
    result = runner.invoke(_cli(), ["corrections", "undo", str(made[0].id), "--db", url, "--author", "bob"])
    assert result.exit_code == 0 and f"undid correction {made[0].id}" in result.output
    assert runner.invoke(_cli(), ["issues", "--db", url, "--code", "missing_target", "--format", "csv"]
                         ).output.count("missing_target") == 2
    result = runner.invoke(_cli(), ["corrections", "undo", "999", "--db", url])
    assert result.exit_code == 1 and "error: no correction 999" in result.output


def test_user_add_reads_the_password_from_standard_input_and_hashes_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'users.db'}"
    runner = CliRunner()
    result = runner.invoke(_cli(), ["user", "add", "alice", "--role", "clerk", "--db", url], input="correct horse\n")
    assert result.exit_code == 0, result.output
    assert "added clerk alice" in result.output
    stored = rows(url, "SELECT name, role, password_hash FROM users")
    assert stored[0][:2] == ("alice", "clerk") and stored[0][2].startswith("$argon2id$")
    assert "correct horse" not in stored[0][2]
    assert runner.invoke(_cli(), ["user", "add", "alice", "--role", "clerk", "--db", url],
                         input="another one\n").output == "error: user 'alice' exists already\n"
    assert "at least 8" in runner.invoke(_cli(), ["user", "add", "bob", "--role", "analyst", "--db", url],
                                         input="short\n").output
    assert "unknown role 'admin'" in runner.invoke(_cli(), ["user", "add", "bob", "--role", "admin", "--db", url],
                                                   input="long enough\n").output
    engine = connect(url)
    with Session(engine) as session:
        assert users.authenticate(session, "alice", "correct horse") is not None
        assert users.authenticate(session, "alice", "wrong horse") is None
        assert users.authenticate(session, "nobody", "correct horse") is None


def test_every_clerk_command_has_help() -> None:
    runner = CliRunner()
    for words in (["serve"], ["issues"], ["user", "add"], ["user", "passwd"], ["user", "list"],
                  ["corrections", "export"], ["corrections", "apply"], ["corrections", "undo"]):
        result = runner.invoke(_cli(), [*words, "--help"])
        assert result.exit_code == 0 and "--db" in result.output, words


# --- the schema -----------------------------------------------------------------------------------


def test_downgrade_restores_the_views_of_0002_and_upgrade_redefines_them(db: Any) -> None:
    url, engine, seed, _ = db
    _fix_2026_seed(engine, seed)
    cfg = alembic_config(url)
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0003")
    names = set(inspect(engine).get_table_names())
    assert not names & {"corrections", "corrected_forms", "corrected_indicators", "resolved_issues", "users"}
    assert indicator(url, seed, 3, "产品软件购置完成率")[3] == ""  # the parse, as 0002's views read it
    engine.dispose()
    upgraded = connect(url)
    assert set(analysis.VIEWS) <= set(inspect(upgraded).get_view_names())
    assert {"corrections", "users"} <= set(inspect(upgraded).get_table_names())
    upgraded.dispose()



def test_postgresql_views_apply_corrections_as_sqlite_does(db: Any, pg_url: str) -> None:
    url, engine, seed, damaged = db
    _fix_2026_seed(engine, seed)
    record(engine, seed, 3, Change(ADD, corr.ROWS, {"level1": "产出指标", "level2": "时效指标", "level3": "上线及时率",
                                                      "raw": "=100%", "after": "indicators[1]"}),
           Change(MOVE, "indicators[2]", {"level1": "产出指标", "level2": "质量指标"}))
    record(engine, damaged, 3, *(Change(SET, field, value) for field, value in REPAIR_003.items()))
    pg_engine = connect(pg_url)
    reimport(pg_engine, [seed, damaged])
    with Session(engine) as session:
        exported = corr.export_corrections(session)
    sheet = Path(str(seed.parent / "all.json"))
    sheet.write_text(json.dumps(exported, ensure_ascii=False), encoding="utf-8")
    with Session(pg_engine) as session, session.begin():
        corr.apply_changes(session, corr.read_corrections_file(sheet), "alice")
    queries = {
        "v_indicators": "SELECT source_path, form_ordinal, position, dimension, level1, level2, level3, raw, kind, op, "
                        "value_num, unit FROM v_indicators ORDER BY 1, 2, 3",
        "v_forms": "SELECT source_path, form_ordinal, project_name, plan_end, gov_procurement, current_year_num, "
                   "indicator_count, open_issue_count FROM v_forms ORDER BY 1, 2",
        "v_issues": "SELECT source_path, form_ordinal, code, field, position, level3 FROM v_issues",
        "v_series": "SELECT COUNT(*), SUM(CASE WHEN to_raw = '=100.00(%)' THEN 1 ELSE 0 END) FROM v_series",
    }
    for name, sql in queries.items():
        # Sorted here: the databases order NULLs differently.
        assert sorted(tuple(str(v) for v in r) for r in rows(pg_url, sql)) == \
            sorted(tuple(str(v) for v in r) for r in rows(url, sql)), name
    pg_engine.dispose()


def test_models_and_migration_agree(db: Any) -> None:
    """The ORM's clerk tables have the migration's columns (a model change needs a migration)."""
    _, engine, _, _ = db
    from goalforms.schema import clerk_models

    inspector = inspect(engine)
    for model in (clerk_models.User, clerk_models.Correction, clerk_models.CorrectedForm,
                  clerk_models.CorrectedIndicator, clerk_models.ResolvedIssue):
        table = model.__table__
        assert {c["name"] for c in inspector.get_columns(table.name)} == set(table.columns.keys()), table.name
    assert models.Form.__tablename__ == "forms"


def test_stale_corrections_are_described_for_the_import_report(db: Any) -> None:
    url, engine, seed, _ = db
    record(engine, seed, 6, Change(SET, "budget.current_year", "54800"))
    seed.write_text(seed.read_text(encoding="utf-8").replace("54,700.00", "55,000.00", 1),
                    encoding="utf-8")
    stale = reimport(engine, [seed])
    assert corr.describe_stale(stale) == (
        "1 correction(s) no longer apply (goalforms corrections export --status stale): #1 form 6 "
        "budget.current_year: budget.current_year now reads '55000', not '54700' as when it was corrected")
    assert corr.describe_stale([]) == ""
