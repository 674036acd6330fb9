"""Findings in the store: computed on import, recomputed on correction and undo, accepted findings
kept across re-imports, the Python line-up of a project step equal to v_series, the views and the
command on SQLite and on PostgreSQL (tests/pg.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, inspect, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from goalforms.pipeline import corrections as corr
from goalforms.pipeline.cli import app
from goalforms.pipeline.corrections import SET, Change
from goalforms.pipeline.review.store import FindingFilter, accept, findings, form_of, review_pending
from goalforms.schema import models
from goalforms.schema.db import connect
from tests.conftest import SAMPLES
from tests.test_corrections import SEED_2026, copy_samples, record, reimport

SEED_2020 = "000_914c13d346301e8d.txt"  # 2020 forms of four projects the 2026 seed files again


def open_findings(engine: Engine, path: Path, ordinal: int) -> list[tuple[str, Any, str]]:
    with Session(engine) as session:
        return [(r["rule_id"], r["position"], r["status"]) for r in
                findings(session, FindingFilter(path=str(path.resolve()), ordinal=ordinal))]


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[tuple[str, Engine, Path, Path]]:
    url = f"sqlite:///{tmp_path / 'review.db'}"
    engine = connect(url)
    seed, old = copy_samples(tmp_path / "archive", SEED_2026, SEED_2020)
    reimport(engine, [seed, old])
    yield url, engine, seed, old
    engine.dispose()


def test_import_stores_the_findings_of_every_form(archive: Any) -> None:
    _url, engine, seed, old = archive
    # 004 form 3: 产品软件购置完成率 has no target (row 2); form 9: a floor on a cost (社保档案库房租用 ≥118万卷)
    assert ("measurability.placeholder", 2, "open") in open_findings(engine, seed, 3)
    assert ("direction.cost_lower_bound", 1, "open") in open_findings(engine, seed, 9)
    with Session(engine) as session:
        reviewed = session.execute(text("SELECT count(*) FROM form_reviews")).scalar()
        forms = session.execute(text("SELECT count(*) FROM forms")).scalar()
        assert reviewed == forms == 14
        assert review_pending(session) == 0  # nothing left to review


def test_across_years_whichever_year_is_imported_first(tmp_path: Path) -> None:
    seed, old = copy_samples(tmp_path / "archive", SEED_2026, SEED_2020)
    for order in ([seed, old], [old, seed]):
        engine = connect(f"sqlite:///{tmp_path / f'{order[0].name}.db'}")
        for path in order:  # one file at a time: the later form is reviewed again when its past arrives
            reimport(engine, [path])
        lowered = [(r, p) for r, p, _s in open_findings(engine, seed, 1) if r == "series.target_lowered"]
        assert lowered == [("series.target_lowered", 9)], order  # 各类业务通知书告知书打印、邮寄率 =100% → >95.00(%)
        engine.dispose()


def test_a_correction_is_reviewed_again_and_undo_brings_the_finding_back(archive: Any) -> None:
    _url, engine, seed, _old = archive
    made = record(engine, seed, 3, Change(SET, "indicators[1].raw", "=100%"))
    assert ("measurability.placeholder", 2, "open") not in open_findings(engine, seed, 3)
    with Session(engine) as session, session.begin():
        corr.undo(session, made[0].id, "alice")
    assert ("measurability.placeholder", 2, "open") in open_findings(engine, seed, 3)


def test_findings_are_computed_on_the_corrected_form(archive: Any) -> None:
    _url, engine, seed, _old = archive
    record(engine, seed, 3, Change(SET, "indicators[1].raw", "/"))
    with Session(engine) as session:
        form = session.get(models.Form, findings(session, FindingFilter(path=str(seed.resolve()), ordinal=3))[0]["form_id"])
        assert form is not None
        assert form_of(session, form).indicators[1].raw == "/"
    assert ("measurability.placeholder", 2, "open") in open_findings(engine, seed, 3)


def test_an_accepted_finding_stays_accepted_across_a_reimport(archive: Any) -> None:
    _url, engine, seed, _old = archive
    with Session(engine) as session, session.begin():
        row = next(r for r in findings(session, FindingFilter(path=str(seed.resolve()), ordinal=9))
                   if r["rule_id"] == "direction.cost_lower_bound")
        accept(session, row["finding_id"], "alice", "库房租用 is counted in 万卷 by the bureau's template")
        before = session.execute(text("SELECT sha256 FROM source_documents WHERE path = :p"),
                                 {"p": str(seed.resolve())}).scalar()
    seed.write_text(seed.read_text(encoding="utf-8") + "\n", encoding="utf-8")  # a changed file: rows replaced
    reimport(engine, [seed])
    with Session(engine) as session:
        again = [r for r in findings(session, FindingFilter(path=str(seed.resolve()), ordinal=9))
                 if r["rule_id"] == "direction.cost_lower_bound"]
    assert [(r["status"], r["accepted_by"], r["accepted_note"]) for r in again] == [
        ("accepted", "alice", "库房租用 is counted in 万卷 by the bureau's template")]
    with Session(engine) as session:  # the document's rows were replaced: the acceptance followed the finding
        assert session.execute(text("SELECT sha256 FROM source_documents WHERE path = :p"),
                               {"p": str(seed.resolve())}).scalar() != before


def test_accepting_needs_a_reason(archive: Any) -> None:
    _url, engine, seed, _old = archive
    with Session(engine) as session:
        row = findings(session, FindingFilter(path=str(seed.resolve())))[0]
        with pytest.raises(Exception, match="why"):
            accept(session, row["finding_id"], "alice", "  ")


def test_the_python_line_up_is_v_series(archive: Any) -> None:
    """The review lines a form up with its previous year in Python (the view would compute the
    whole archive on every import): both must say the same on the samples' four projects."""
    _url, engine, seed, _old = archive
    with Session(engine) as session:
        forms = session.execute(text(
            "SELECT form_id, project_name, org_unit, year FROM v_forms WHERE year = 2026 AND project_name IN "
            "(SELECT project_name FROM v_forms WHERE year = 2020)")).all()
        assert len(forms) == 4
        for form_id, project, unit, year in forms:
            view = session.execute(text(
                "SELECT dimension, match_kind, from_level3, to_level3, change FROM v_series "
                "WHERE project_name = :p AND org_unit = :u AND to_year = :y"), {"p": project, "u": unit, "y": year}).all()
            form = session.get(models.Form, form_id)
            assert form is not None
            mine = [(r["dimension"], r["match_kind"], r["from_level3"], r["to_level3"], r["change"])
                    for r in form_of(session, form).series or []]
            assert sorted(mine, key=repr) == sorted((tuple(v) for v in view), key=repr), project


def test_review_command_prints_findings_and_a_summary(archive: Any, tmp_path: Path) -> None:
    url, _engine, _seed, _old = archive
    runner = CliRunner()
    result = runner.invoke(app, ["review", "--db", url, "--year", "2026", "--rule", "measurability.placeholder"])
    assert result.exit_code == 0, result.output
    assert "产品软件购置完成率" in result.output and "户外招牌检测完成率" in result.output
    assert "summary by unit and rule" in result.output
    data = json.loads(runner.invoke(app, ["review", "--db", url, "--format", "json", "--rule", "series."]).output)
    assert {f["rule_id"] for f in data["findings"]} == {"series.target_lowered"}
    assert data["summary"][0]["open"] == len(data["findings"])
    listed = runner.invoke(app, ["review", "--list"])
    assert listed.exit_code == 0 and "coverage.dimensions" in listed.output and "self_evaluation.total" in listed.output
    rules = tmp_path / "mine.toml"
    rules.write_text('[ruleset]\nname = "mine"\nversion = "1"\n[[rule]]\nid = "mine.sat"\napplies_to = "indicator"\n'
                     'check = "target_below"\ndimensions = ["satisfaction"]\nseverity = "info"\n'
                     'message = "{level3} {raw}"\nsource = "test"\n[rule.params]\nminimum = 99\n', encoding="utf-8")
    mine = runner.invoke(app, ["review", "--db", url, "--rules", str(rules), "--rule", "mine.sat", "--format", "csv"])
    assert mine.exit_code == 0 and "mine.sat" in mine.output, mine.output
    bad = runner.invoke(app, ["review", "--db", url, "--rules", str(tmp_path / "none.toml")])
    assert bad.exit_code == 1 and "cannot read the rule file" in bad.output
    out = tmp_path / "review.xlsx"
    assert runner.invoke(app, ["review", "--db", url, "--format", "xlsx", "--out", str(out)]).exit_code == 0
    assert out.stat().st_size > 0


def test_a_database_made_before_the_review_is_reviewed_by_the_command(archive: Any) -> None:
    url, engine, _seed, _old = archive
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM findings"))
        connection.execute(text("DELETE FROM form_reviews"))
    result = CliRunner().invoke(app, ["review", "--db", url, "--format", "json"])
    assert result.exit_code == 0
    assert json.loads(result.output)["findings"]


def test_the_views_exist_with_their_documented_columns(archive: Any) -> None:
    _url, engine, _seed, _old = archive
    assert {"v_findings", "v_scorecard"} <= set(inspect(engine).get_view_names())
    docs = (Path(__file__).parent.parent / "docs" / "review.md").read_text(encoding="utf-8")
    with Session(engine) as session:
        for name in ("v_findings", "v_scorecard"):
            columns = list(session.execute(text(f"SELECT * FROM {name}")).keys())
            for c in columns:
                assert f"| `{c}` |" in docs, (name, c)
        card = session.execute(text(
            "SELECT indicator_count, quantified_count, groups_required, groups_covered, errors FROM v_scorecard "
            "WHERE project_name = '信息化建设项目'")).one()
        assert card[0] >= card[1] and card[2] == 4 and card[4] >= 1



def test_postgresql_has_the_same_findings_as_sqlite(archive: Any, pg_url: str) -> None:
    url, engine, seed, old = archive
    other = connect(pg_url)
    try:
        reimport(other, [seed, old])
        shown = "SELECT source_path, form_ordinal, rule_id, severity, message, status FROM v_findings"
        with Session(engine) as a, Session(other) as b:
            lite = sorted(tuple(r) for r in a.execute(text(shown)))
            post = sorted(tuple(r) for r in b.execute(text(shown)))
            assert lite == post and lite
            card = "SELECT project_name, year, errors, warnings, groups_covered FROM v_scorecard"
            assert sorted(tuple(r) for r in a.execute(text(card))) == sorted(tuple(r) for r in b.execute(text(card)))
    finally:
        other.dispose()


def test_a_year_imported_twice_is_compared_once(tmp_path: Path) -> None:
    """The same 2020 form in two files: the 2026 form is compared with one of them (the first
    imported), not with both pooled, and importing the second changes nothing."""
    seed, old = copy_samples(tmp_path / "archive", SEED_2026, SEED_2020)
    twin = tmp_path / "archive" / "twin" / SEED_2020
    twin.parent.mkdir()
    twin.write_text(old.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    engine = connect(f"sqlite:///{tmp_path / 'twins.db'}")
    reimport(engine, [old, seed])
    first = open_findings(engine, seed, 1)
    reimport(engine, [twin])
    assert open_findings(engine, seed, 1) == first
    assert [r for r, _p, _s in first].count("series.target_lowered") == 1
    engine.dispose()


def test_the_migration_matches_the_models_and_downgrades(tmp_path: Path) -> None:
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from goalforms.schema.db import alembic_config
    from goalforms.schema.review_models import FindingRow

    url = f"sqlite:///{tmp_path / 'm.db'}"
    engine = connect(url)
    mine = {"findings", "form_reviews", "finding_acceptances"}
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), FindingRow.metadata)
    assert [d for d in diff if any(t in repr(d) for t in mine)] == []
    cfg = alembic_config(url)
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0006_sessions_units")
    assert not mine & set(inspect(engine).get_table_names())
    assert not {"v_findings", "v_scorecard"} & set(inspect(engine).get_view_names())
    engine.dispose()
    again = connect(url)
    assert {"v_findings", "v_scorecard"} <= set(inspect(again).get_view_names())
    again.dispose()


def test_findings_say_when_their_form_has_open_parse_errors(archive: Any) -> None:
    _url, engine, seed, _old = archive
    shown = ("SELECT open_parse_errors, (SELECT COUNT(*) FROM v_issues i WHERE i.form_id = f.form_id "
             "AND i.severity = 'error') FROM v_findings f WHERE rule_id = 'measurability.placeholder'")
    with Session(engine) as session:
        pairs = session.execute(text(shown)).all()
    assert pairs and all(a == b for a, b in pairs), pairs
    assert any(a > 0 for a, _b in pairs)  # missing_target is an error of 004's forms 3 and 6
    # resolving the issue takes the form off the list; the finding stays (the form sets no target)
    with Session(engine) as session, session.begin():
        form = corr.find_form(session, str(seed.resolve()), 3)
        assert form is not None
        issues = [i for i in corr.replay(session, form, str(seed.resolve())).state.issues if i.resolved_by is None]
        corr.record(session, str(seed.resolve()), 3,
                    [Change(corr.RESOLVE, i.target, {"code": i.code, "message": i.message}) for i in issues],
                    "alice", note="printed so")
    with Session(engine) as session:
        row = session.execute(text("SELECT open_parse_errors, status FROM v_findings WHERE form_ordinal = 3 "
                                   "AND source_path = :p AND rule_id = 'measurability.placeholder'"),
                              {"p": str(seed.resolve())}).one()
    assert tuple(row) == (0, "open")


def test_self_evaluation_samples_break_only_the_rule_they_were_written_to_break(tmp_path: Path) -> None:
    """samples/siblings: the 2024 self-evaluation of 外省市差旅费 prints 总分 98.2 while its scores and
    the money block's 得分 add up to 96.2; every other self-evaluation adds up."""
    from tests.test_cli import run

    db = tmp_path / "se.db"
    assert run("import", str(SAMPLES / "siblings" / "text"), "--db", str(db)).returncode == 0
    result = run("review", "--db", str(db), "--rule", "self_evaluation.", "--format", "json")
    assert result.returncode == 0, result.stderr
    findings = json.loads(result.stdout)["findings"]
    assert [(f["project_name"], f["rule_id"]) for f in findings] == [("外省市差旅费", "self_evaluation.total")]
    assert "96.2" in findings[0]["message"] and "98.2" in findings[0]["message"]
