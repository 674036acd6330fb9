"""PostgreSQL: the same migrations, imports and commands as on SQLite, and two imports at once.

Runs on the throwaway server of tests/pg.py (skipped without one, unless CI is set: then it fails).
The analyst views and commands are also tested on PostgreSQL by tests/test_analysis.py.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import Engine, func, inspect, make_url, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from goalforms.pipeline import analysis
from goalforms.pipeline.cli import app
from goalforms.pipeline.importer import LOADED, import_paths
from goalforms.schema import models
from goalforms.schema.db import connect
from tests import pg
from tests.conftest import REPO, SAMPLES

pytestmark = pytest.mark.pg

TEXT = SAMPLES / "text"
SINGLE_IMPORT = {"source_documents": 4, "forms": 28, "budget_figures": 8 * 4 + 20 * 5, "indicators": 441,
                 "parse_issues": 31}
MODELS = (models.SourceDocument, models.Form, models.BudgetFigure, models.Indicator, models.ParseIssue)



# A stable order for each view's rows (ids are not: they follow the order files were loaded in).
DOCUMENT_ORDER = {
    "v_indicators": ["source_path", "form_ordinal", "position"],
    "v_forms": ["source_path", "form_ordinal"],
    "v_issues": ["source_path", "form_ordinal", "location", "field", "code", "message"],
    "v_series": ["project_name", "org_unit", "from_year", "from_position", "to_position"],
}


def _counts(engine: Engine) -> dict[str, int]:
    with Session(engine) as s:
        return {m.__tablename__: s.scalar(select(func.count()).select_from(m)) or 0 for m in MODELS}


def _content(engine: Engine) -> list[tuple[Any, ...]]:
    """Every stored fact without ids or import times, in a fixed order: what an import produced."""
    with Session(engine) as s:
        rows: list[tuple[Any, ...]] = []
        for doc in s.scalars(select(models.SourceDocument).order_by(models.SourceDocument.path)):
            rows.append((doc.path, doc.sha256, doc.format, doc.size_bytes, doc.collection_title))
            for form in doc.forms:
                rows.append((form.ordinal, form.layout, form.year, form.project_name, form.unit, form.department,
                             form.plan_start, form.plan_end, form.gov_procurement, form.goal, form.header_extra,
                             form.source_location))
                rows += sorted((b.item, b.amount, b.source_location) for b in form.budget_figures)
                rows += [(i.position, i.level1, i.level2, i.level3, i.dimension, i.raw_target, i.kind, i.op, i.value,
                          i.unit, i.source_line, i.source_location) for i in form.indicators]
                rows += sorted((p.code, p.severity, p.message, p.location or "", p.field or "") for p in form.issues)
        return rows


def _plain_url(url: str) -> str:
    """The URL as a user types it: postgresql://… without naming the driver."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _goalforms(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "goalforms", *args], capture_output=True, text=True, timeout=300)


def test_migrations_on_postgresql(pg_url: str) -> None:
    engine = connect(pg_url)
    inspector = inspect(engine)
    assert {"alembic_version", "source_documents", "forms", "budget_figures", "indicators", "parse_issues"} \
        <= set(inspector.get_table_names())
    assert set(analysis.VIEWS) <= set(inspector.get_view_names())
    types = {c["name"]: str(c["type"]) for c in inspector.get_columns("indicators")}
    assert types["value"] == "NUMERIC"
    engine.dispose()
    connect(pg_url).dispose()  # connecting again finds the schema at head and changes nothing


def test_money_is_numeric_and_exact_on_postgresql(pg_url: str) -> None:
    engine = connect(pg_url)
    import_paths([TEXT], engine)
    with engine.connect() as c:
        stored = c.exec_driver_sql(
            "SELECT amount, pg_typeof(amount)::text FROM budget_figures WHERE amount = 145147721.65").one()
    assert tuple(stored) == (Decimal("145147721.65"), "numeric")
    engine.dispose()


def test_import_into_postgresql_equals_import_into_sqlite(pg_url: str, tmp_path: Path) -> None:
    sqlite_url = f"sqlite:///{tmp_path / 'same.db'}"
    engines = [connect(pg_url), connect(sqlite_url)]
    for engine in engines:
        report = import_paths([TEXT], engine)
        assert [o.status for o in report.outcomes] == [LOADED] * 4
    assert _counts(engines[0]) == _counts(engines[1]) == SINGLE_IMPORT
    assert _content(engines[0]) == _content(engines[1])
    for engine in engines:
        engine.dispose()
    # The analyst views give the same frames (same columns, dtypes and values) on both databases,
    # ids aside: they follow the order the files happened to be loaded in.
    on_pg, on_sqlite = analysis.views(pg_url), analysis.views(sqlite_url)
    for name, order in DOCUMENT_ORDER.items():
        frames = [frame[name].drop(columns=[c for c in frame[name].columns if c.endswith("_id")])
                  .sort_values(order).reset_index(drop=True) for frame in (on_pg, on_sqlite)]
        pd.testing.assert_frame_equal(*frames, obj=name)


def test_every_command_works_with_a_postgresql_url(pg_url: str, tmp_path: Path) -> None:
    url = _plain_url(pg_url)
    # As a user runs it: a process of its own, the URL as typed.
    first = _goalforms("import", str(TEXT), "--db", url)
    assert first.returncode == 0, first.stderr
    assert "loaded 4" in first.stdout and "forms: 28 · indicators: 441 · issues: 31" in first.stdout
    again = _goalforms("import", str(TEXT), "--db", url)
    assert again.returncode == 0 and "skipped 4" in again.stdout
    refused = _goalforms("query", "DELETE FROM indicators", "--db", url)
    assert refused.returncode == 1
    assert "error: refused: goalforms query is read-only" in refused.stderr and refused.stdout == ""

    # Every analyst command prints the same on PostgreSQL as on SQLite (in-process: quicker).
    sqlite_db = str(tmp_path / "same.db")
    engine = connect(sqlite_db)
    import_paths([TEXT], engine)
    engine.dispose()
    sql = ("SELECT project_name, level3, raw, value, value_num FROM v_indicators WHERE year = 2026 "
           "AND dimension = 'satisfaction' AND unit = '%' AND value_num >= 95 "
           "ORDER BY source_path, form_ordinal, position")
    forms = ("SELECT source_path, form_ordinal, project_name, plan_start, gov_procurement, total, total_num, "
             "open_issue_count FROM v_forms ORDER BY source_path, form_ordinal")
    runner = CliRunner()
    for args in (["query", sql, "--format", "csv"], ["query", sql, "--format", "json"], ["query", sql],
                 ["query", forms, "--format", "json"],
                 ["series", "社会保险服务费", "--format", "json"], ["series", "征地养老人员费用"]):
        on_pg, on_sqlite = runner.invoke(app, [*args, "--db", url]), runner.invoke(app, [*args, "--db", sqlite_db])
        assert on_pg.exit_code == on_sqlite.exit_code == 0, on_pg.output + on_sqlite.output
        assert on_pg.output == on_sqlite.output, args
    out = tmp_path / "indicators.parquet"
    exported = runner.invoke(app, ["export", "--format", "parquet", "--out", str(out), "--db", url])
    assert exported.exit_code == 0, exported.output
    assert len(pd.read_parquet(out)) == 441


def _import_twice_at_once(url: str) -> list[subprocess.CompletedProcess[str]]:
    runs = [subprocess.Popen([sys.executable, "-m", "goalforms", "import", str(TEXT), "--db", url],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = []
    for run in runs:
        stdout, stderr = run.communicate(timeout=300)
        results.append(subprocess.CompletedProcess(run.args, run.returncode, stdout, stderr))
    return results


def _reference_content(tmp_path: Path) -> list[tuple[Any, ...]]:
    engine = connect(f"sqlite:///{tmp_path / 'reference.db'}")
    import_paths([TEXT], engine)
    content = _content(engine)
    engine.dispose()
    return content


def test_two_imports_at_once_neither_duplicate_nor_lose_anything(pg_url: str, tmp_path: Path) -> None:
    connect(pg_url).dispose()  # the schema exists: this test is about the imports (the next about a new database)
    results = _import_twice_at_once(pg_url)
    for result in results:
        assert result.returncode == 0, result.stderr
        assert "failed 0" in result.stdout
    engine = connect(pg_url)
    assert _counts(engine) == SINGLE_IMPORT
    assert _content(engine) == _reference_content(tmp_path)
    engine.dispose()


def _summary(result: subprocess.CompletedProcess[str]) -> dict[str, int]:
    line = next(line for line in result.stdout.splitlines() if line.startswith("files: "))
    return {word: int(n) for word, n in re.findall(r"(loaded|replaced|skipped|failed) (\d+)", line)}


def test_two_imports_at_once_report_each_file_loaded_once(pg_url: str) -> None:
    connect(pg_url).dispose()
    summaries = [_summary(result) for result in _import_twice_at_once(pg_url)]
    assert {word: sum(s[word] for s in summaries) for word in ("loaded", "replaced", "skipped", "failed")} == \
        {"loaded": 4, "replaced": 0, "skipped": 4, "failed": 0}


def test_two_imports_at_once_into_a_new_database(pg_url: str, tmp_path: Path) -> None:
    results = _import_twice_at_once(pg_url)
    for result in results:
        assert result.returncode == 0, result.stderr
    engine = connect(pg_url)
    assert _counts(engine) == SINGLE_IMPORT
    assert _content(engine) == _reference_content(tmp_path)
    engine.dispose()


PROBE = """
from collections.abc import Iterator

import pytest

from tests import pg


@pytest.fixture(scope="session")
def pg_server() -> Iterator[pg.PgServer]:
    yield from pg.session_server()


def test_needs_postgresql(pg_server: pg.PgServer) -> None:
    pass
"""


@pytest.mark.parametrize(("ci", "outcome"), [(None, "1 skipped"), ("1", "1 error")])
def test_no_server_skips_except_under_ci(ci: str | None, outcome: str, tmp_path: Path) -> None:
    (tmp_path / "test_probe.py").write_text(PROBE, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "GOALFORMS_TEST_PG_URL")}
    env |= {"GOALFORMS_TEST_PG_BIN": str(tmp_path / "nowhere"), "PYTHONPATH": str(REPO)}
    if ci is not None:
        env["CI"] = ci
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs",
                             str(tmp_path / "test_probe.py")], capture_output=True, text=True, env=env,
                            cwd=tmp_path, timeout=300)
    assert outcome in result.stdout, result.stdout
    assert "PostgreSQL server not available: GOALFORMS_TEST_PG_BIN=" in result.stdout
    assert (result.returncode == 0) == (ci is None)


# --- loading in the workers (issue 16) -------------------------------------------------------------


def test_two_workers_store_the_same_rows_as_one_on_postgresql(pg_server: pg.PgServer, tmp_path: Path) -> None:
    from goalforms.pipeline.importer import ImportOptions
    from tests.test_import import table_content

    contents = []
    for workers in (1, 2):
        url = pg_server.create_database("workers")
        try:
            engine = connect(url)
            report = import_paths([TEXT], engine, options=ImportOptions(workers=workers, isolate=True))
            assert report.count(LOADED) == 4
            contents.append(table_content(engine))
            engine.dispose()
        finally:
            pg_server.drop_database(url)
    assert contents[0]["indicators"] and contents[0]["form_reviews"]
    assert contents[0] == contents[1]


def test_a_file_failing_in_a_worker_mid_store_leaves_nothing_on_postgresql(
        pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from goalforms.pipeline.importer import ImportOptions, failed_paths
    from tests.test_import import store_then_fail_in_a_worker

    store_then_fail_in_a_worker(monkeypatch, "002_24ec7dd97fefd2fa.txt")
    engine = connect(pg_url)
    report = import_paths([TEXT], engine, options=ImportOptions(workers=2, isolate=True))
    assert [(Path(o.path).name, "disk full in a worker" in o.reason) for o in report.failures] == \
        [("002_24ec7dd97fefd2fa.txt", True)]
    with Session(engine) as s:
        assert len(s.scalars(select(models.SourceDocument.path)).all()) == 3
        assert s.scalar(select(func.count()).select_from(models.Form)) == sum(o.forms for o in report.outcomes) < \
            SINGLE_IMPORT["forms"]
    assert [p.name for p in failed_paths(engine)] == ["002_24ec7dd97fefd2fa.txt"]
    engine.dispose()


# --- per-project locks (issue 16): files of one project one at a time, other projects in parallel --

REPORT = SAMPLES / "reports" / "001_1026302de9d69c2f.txt"  # 2018年社会保险经办业务费: links to 000's and 004's forms
YEAR_2020 = TEXT / "000_914c13d346301e8d.txt"  # 社会保险服务费, 征地养老人员费用 … of 2020
YEAR_2026 = TEXT / "004_dca627b1a6ea1aa7.txt"  # the same projects in 2026 (a series with 2020)
OTHER = TEXT / "002_24ec7dd97fefd2fa.txt"  # 2024, none of their projects
THIRD = TEXT / "003_cca29bee0b231de8.txt"  # 2020, none of their projects either


def test_a_report_and_forms_of_one_project_share_a_lock_and_other_projects_do_not() -> None:
    from sqlalchemy import create_engine

    from goalforms.pipeline.load import prepare_rows
    from goalforms.pipeline.parse import parse_file
    from goalforms.pipeline.transaction import project_locks

    dialect = create_engine("postgresql+psycopg://").dialect  # no connection made
    locks = {path.name: set(project_locks(prepare_rows(doc := parse_file(path), dialect), doc))
             for path in (REPORT, YEAR_2020, YEAR_2026, OTHER)}
    assert len(locks[REPORT.name]) == 1 and locks[REPORT.name] < locks[YEAR_2020.name]
    assert locks[REPORT.name] < locks[YEAR_2026.name]
    assert not locks[OTHER.name] & (locks[YEAR_2020.name] | locks[YEAR_2026.name])


class _Held:
    """Imports in threads (each its own connection, as two workers), the one named ``holder``
    stopped right after it took its project locks, until :meth:`release`."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, holder: str) -> None:
        import threading

        from goalforms.pipeline import transaction

        self.taken, self.go = threading.Event(), threading.Event()
        self.outcomes: dict[str, Any] = {}
        self.threads: list[threading.Thread] = []
        real = transaction._lock_projects

        def lock_then_hold(connection: Any, locks: list[int]) -> None:
            real(connection, locks)
            if threading.current_thread().name == holder:
                self.pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
                self.synchronous_commit = connection.exec_driver_sql("SHOW synchronous_commit").scalar()
                self.taken.set()
                assert self.go.wait(300)

        monkeypatch.setattr(transaction, "_lock_projects", lock_then_hold)

    def start(self, path: Path, engine: Engine) -> None:
        import threading

        from goalforms.pipeline.importer import import_file

        def run() -> None:
            try:
                self.outcomes[path.name] = import_file(path, engine)
            except BaseException as exc:  # the test reads it
                self.outcomes[path.name] = exc

        thread = threading.Thread(target=run, name=path.name)
        self.threads.append(thread)
        thread.start()

    def release(self) -> None:
        self.go.set()
        for thread in self.threads:
            thread.join(300)
        assert not any(thread.is_alive() for thread in self.threads)

    def statuses(self) -> dict[str, Any]:
        return {name: getattr(o, "status", o) for name, o in self.outcomes.items()}


def _advisory(engine: Engine) -> list[tuple[int, int, int, int, bool]]:
    """(backend pid, objsubid, first number, second number, granted) of every advisory lock of the
    database in pg_locks: objsubid 2 for a two-number key, 1 for a one-number key (then the numbers
    are its high and low 32 bits); numbers as oids, i.e. modulo 2**32."""
    with engine.connect() as connection:
        return [tuple(row) for row in connection.exec_driver_sql(  # type: ignore[misc]
            "SELECT pid, objsubid, classid::bigint, objid::bigint, granted FROM pg_locks "
            "WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")]


def _waiting(engine: Engine, count: int) -> list[tuple[int, int, int, int, bool]]:
    """The advisory locks waited for, once ``count`` imports wait for one (looked at until then)."""
    import time

    for _ in range(3000):
        waiting = [row for row in _advisory(engine) if not row[4]]
        if len(waiting) >= count:
            return waiting
        time.sleep(0.1)
    raise AssertionError(f"not {count} imports waiting for an advisory lock: {_advisory(engine)}")


def test_files_of_one_project_loaded_at_once_store_what_one_by_one_stores(
        pg_server: pg.PgServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from goalforms.pipeline.importer import import_file
    from goalforms.pipeline.transaction import _PROJECT_LOCKS
    from tests.test_import import table_content

    urls = [pg_server.create_database("serial"), pg_server.create_database("parallel")]
    try:
        serial = connect(urls[0])
        for path in (YEAR_2020, YEAR_2026, REPORT):
            assert import_file(path, serial).status == LOADED
        expected = table_content(serial)
        serial.dispose()
        assert expected["report_form_links"] and expected["findings"] and expected["form_reviews"]

        parallel = connect(urls[1])
        held = _Held(monkeypatch, YEAR_2020.name)
        held.start(YEAR_2020, parallel)
        assert held.taken.wait(300)
        held.start(YEAR_2026, parallel)
        held.start(REPORT, parallel)
        # Both others wait for a project lock the first holds (their own rows are in, uncommitted).
        waiting = _waiting(parallel, 2)
        holding = {row[1:4] for row in _advisory(parallel) if row[0] == held.pid and row[4]}
        assert {row[1:4] for row in waiting} <= holding
        assert {first for kind, first, _second in holding if kind == 2} == {_PROJECT_LOCKS}
        held.release()
        assert held.statuses() == dict.fromkeys((YEAR_2020.name, YEAR_2026.name, REPORT.name), LOADED)
        assert table_content(parallel) == expected
        parallel.dispose()
    finally:
        for url in urls:
            pg_server.drop_database(url)


def test_files_of_other_projects_do_not_wait_for_each_other(
        pg_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from goalforms.pipeline.importer import import_file
    from goalforms.pipeline.transaction import _WRITE_LOCK

    engine = connect(pg_url)
    with engine.connect() as connection:  # durable commits by default (the test server's are not)
        connection.exec_driver_sql(f'ALTER DATABASE "{make_url(pg_url).database}" SET synchronous_commit = on')
        connection.commit()
    engine.dispose()
    changing = tmp_path / "changing.txt"
    changing.write_text(THIRD.read_text(encoding="utf-8"), encoding="utf-8")
    assert import_file(changing, engine).status == LOADED
    held = _Held(monkeypatch, YEAR_2020.name)
    held.start(YEAR_2020, engine)
    assert held.taken.wait(300)
    # Another project's file is loaded and committed while the first holds its project locks (and
    # the write lock, shared): nothing of it waited.
    held.start(OTHER, engine)
    held.threads[-1].join(300)
    assert not held.threads[-1].is_alive() and held.outcomes[OTHER.name].status == LOADED
    assert {row[0] for row in _advisory(engine)} == {held.pid}
    # An import's transactions commit without waiting for the WAL flush (a crash loses at most the
    # last files, which the next import loads again); other sessions keep the database's setting.
    assert held.synchronous_commit == "off"
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SHOW synchronous_commit").scalar() == "on"
    with Session(engine) as s:
        assert str(OTHER) in s.scalars(select(models.SourceDocument.path)).all()
    # A file replacing a stored one takes the write lock exclusive before it deletes anything (the
    # rows it deletes may be of any project): it waits for the first one's links and review.
    changing.write_text(THIRD.read_text(encoding="utf-8").replace("报销管理系统", "报销系统"), encoding="utf-8")
    held.start(changing, engine)
    [(_pid, kind, high, low, _granted)] = _waiting(engine, 1)
    assert (kind, high << 32 | low) == (1, _WRITE_LOCK)
    held.release()
    assert held.statuses() == {YEAR_2020.name: LOADED, OTHER.name: LOADED, changing.name: "replaced"}
    with Session(engine) as s:
        names = s.scalars(select(models.Form.project_name)).all()
    assert "征地养老医药费报销系统" in names and "征地养老医药费报销管理系统" not in names
    engine.dispose()
