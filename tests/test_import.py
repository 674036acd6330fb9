"""Import into SQLite: counts, exact rows, idempotence, replacement, failures that load nothing."""

from __future__ import annotations

import os
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, inspect, select
from sqlalchemy.orm import Session

from goalforms.pipeline.importer import (
    FAILED,
    LOADED,
    REPLACED,
    SKIPPED,
    ImportOptions,
    ImportReport,
    failed_paths,
    import_paths,
)
from goalforms.schema import models
from goalforms.schema.db import connect
from tests.conftest import SAMPLES

TEXT = SAMPLES / "text"


def _counts(engine) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return {
            model.__tablename__: s.scalar(select(func.count()).select_from(model)) or 0
            for model in (models.SourceDocument, models.Form, models.BudgetFigure, models.Indicator, models.ParseIssue)
        }


def _snapshot(engine) -> list[tuple]:  # type: ignore[no-untyped-def, type-arg]
    with Session(engine) as s:
        rows = s.execute(
            select(models.Form.project_name, models.Indicator.position, models.Indicator.level3,
                   models.Indicator.raw_target, models.Indicator.value)
            .join(models.Indicator).order_by(models.Form.id, models.Indicator.position)
        )
        return [tuple(r) for r in rows]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    target = tmp_path / "archive" / "nested"
    target.mkdir(parents=True)
    for sample in TEXT.glob("*.txt"):
        shutil.copy(sample, target / sample.name)
    (target / "notes.md").write_text("not a form file: ignored by the folder walk")
    return tmp_path / "archive"


def test_schema_comes_from_the_migrations(db_url: str) -> None:
    engine = connect(db_url)
    tables = set(inspect(engine).get_table_names())
    assert {"alembic_version", "source_documents", "forms", "budget_figures", "indicators", "parse_issues"} <= tables


def test_import_samples_counts_and_exact_rows(db_url: str, folder: Path) -> None:
    engine = connect(db_url)
    report = import_paths([folder], engine)
    assert [o.status for o in report.outcomes] == [LOADED] * 4
    # 8 forms of layout 2020 with 4 budget figures each, 20 of layout 2024 with 5 each.
    assert _counts(engine) == {"source_documents": 4, "forms": 28, "budget_figures": 8 * 4 + 20 * 5,
                               "indicators": 441, "parse_issues": 31}
    with Session(engine) as s:
        form = s.scalars(select(models.Form).where(models.Form.project_name == "征地养老费用",
                                                   models.Form.unit == "上海市普陀区社会保障管理服务中心")).one()
        assert (form.layout, form.year, form.plan_start.isoformat(), form.plan_end.isoformat()) == \
            ("2020", 2020, "2020-01-01", "2020-12-31")
        budget = {b.item: b.amount for b in form.budget_figures}
        assert budget["prior_year_spent"] == Decimal("145147721.65")
        assert budget["total"] == Decimal("147494700")
        first = form.indicators[0]
        assert (first.level1, first.level2, first.level3, first.raw_target, first.kind, first.op, first.value,
                first.unit, first.dimension, first.source_line) == \
            ("投入与管理", "投入管理", "预算执行率", ">90%", "numeric", ">", Decimal("90"), "%", "management.input", 68)
        missing = s.scalars(select(models.ParseIssue).where(models.ParseIssue.code == "missing_target")).all()
        assert sorted(i.location for i in missing) == ["line 121", "line 215"]
        big = s.scalars(select(models.BudgetFigure).where(models.BudgetFigure.amount == Decimal("1094910000"))).all()
        assert {b.item for b in big} == {"current_year", "fiscal_appropriation"}


def test_money_is_stored_exactly_not_as_float(db_url: str, folder: Path) -> None:
    engine = connect(db_url)
    import_paths([folder], engine)
    with engine.connect() as c:
        stored = c.exec_driver_sql(
            "SELECT amount, typeof(amount) FROM budget_figures WHERE amount LIKE '145147721%'").one()
    assert tuple(stored) == ("145147721.65", "text")


def test_importing_twice_changes_nothing(db_url: str, folder: Path) -> None:
    engine = connect(db_url)
    import_paths([folder], engine)
    before, rows = _counts(engine), _snapshot(engine)
    again = import_paths([folder], engine)
    assert [o.status for o in again.outcomes] == [SKIPPED] * 4
    assert _counts(engine) == before
    assert _snapshot(engine) == rows


def test_changed_file_replaces_its_rows(db_url: str, folder: Path) -> None:
    engine = connect(db_url)
    import_paths([folder], engine)
    before = _counts(engine)
    path = folder / "nested" / "000_914c13d346301e8d.txt"
    text = path.read_text(encoding="utf-8")
    changed = text.count("预算编制合理性\t合理")
    path.write_text(text.replace("预算编制合理性\t合理", "预算编制合理性\t较合理"), encoding="utf-8")
    report = import_paths([path], engine)
    assert report.outcomes[0].status == REPLACED
    assert _counts(engine) == before
    with Session(engine) as s:
        assert s.scalar(select(func.count()).where(models.Indicator.raw_target == "较合理")) == changed > 0
        assert s.scalar(select(func.count()).select_from(models.SourceDocument)) == 4


def test_bad_files_fail_alone_and_load_nothing(db_url: str, folder: Path) -> None:
    engine = connect(db_url)
    bad = folder / "bad"
    bad.mkdir()
    (bad / "empty.txt").write_bytes(b"")
    (bad / "garbage.txt").write_bytes(bytes(range(256)) * 8)
    (bad / "noform.txt").write_text("一份没有表格的通知。\n", encoding="utf-8")
    (bad / "undecodable.txt").write_bytes("项目名称\n".encode() + b"\xff\xfe\x80")
    report = import_paths([folder], engine)
    failed = {Path(o.path).name: o.reason for o in report.outcomes if o.status == FAILED}
    assert set(failed) == {"empty.txt", "garbage.txt", "noform.txt", "undecodable.txt"}
    assert "empty file" in failed["empty.txt"] and "no form of a known layout" in failed["noform.txt"]
    assert report.count(LOADED) == 4
    assert _counts(engine)["source_documents"] == 4


def test_a_failing_load_leaves_no_partial_file(db_url: str, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = connect(db_url)
    from goalforms.pipeline import load

    real = load.store_document

    def store_then_fail(session, doc, path, size, **kwargs):  # type: ignore[no-untyped-def]
        real(session, doc, path, size, **kwargs)
        session.flush()  # rows are written inside the transaction…
        raise RuntimeError("disk full")  # …and then the load fails

    monkeypatch.setattr("goalforms.pipeline.transaction.store_document", store_then_fail)
    report = import_paths([folder / "nested" / "002_24ec7dd97fefd2fa.txt"], engine)
    assert report.outcomes[0].status == FAILED and "disk full" in report.outcomes[0].reason
    assert set(_counts(engine).values()) == {0}


# --- loading in the workers (issue 16): the same rows as loading in one process -------------------


def table_content(engine) -> dict[str, list[tuple[str, ...]]]:  # type: ignore[no-untyped-def]
    """Every table's rows, without ids, foreign ids and timestamps (they follow the order files were
    loaded in), sorted: the content of the database, comparable across runs."""
    from sqlalchemy import text

    found = inspect(engine)
    out: dict[str, list[tuple[str, ...]]] = {}
    with engine.connect() as connection:
        for table in sorted(found.get_table_names()):
            if table == "alembic_version":
                continue
            names = [c["name"] for c in found.get_columns(table)
                     if c["name"] != "id" and not c["name"].endswith(("_id", "_at"))]
            quoted = ", ".join(f'"{n}"' for n in names) or "1"  # a table of ids only: its row count
            out[table] = sorted(tuple(str(v) for v in row) for row in connection.execute(text(f'SELECT {quoted} FROM "{table}"')))
    return out


def _import(url: str, paths: list[Path], workers: int) -> tuple[ImportReport, Engine]:
    engine = connect(url)
    return import_paths(paths, engine, options=ImportOptions(workers=workers, isolate=True)), engine


def test_two_workers_store_the_same_rows_as_one(tmp_path: Path, folder: Path) -> None:
    one, one_engine = _import(f"sqlite:///{tmp_path / 'one.db'}", [folder], 1)
    two, two_engine = _import(f"sqlite:///{tmp_path / 'two.db'}", [folder], 2)
    assert one.count(LOADED) == two.count(LOADED) == 4
    expected = table_content(one_engine)
    assert expected["indicators"] and expected["form_origins"] and expected["form_reviews"]
    assert table_content(two_engine) == expected


def store_then_fail_in_a_worker(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Make storing the file ``name`` fail after its rows were written, in a worker process only:
    the worker processes are forked from this one, so they run the patched function."""
    from goalforms.pipeline import load

    real, parent = load.store_document, os.getpid()

    def store_then_fail(session, doc, path, size, **kwargs):  # type: ignore[no-untyped-def]
        stored = real(session, doc, path, size, **kwargs)
        session.flush()
        if Path(path).name == name:
            raise RuntimeError(f"disk full in {'a worker' if os.getpid() != parent else 'the importer'}")
        return stored

    monkeypatch.setattr("goalforms.pipeline.transaction.store_document", store_then_fail)


def test_a_file_failing_in_a_worker_mid_store_leaves_nothing(db_url: str, folder: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    store_then_fail_in_a_worker(monkeypatch, "002_24ec7dd97fefd2fa.txt")
    report, engine = _import(db_url, [folder], 2)
    failed = report.failures
    assert [Path(o.path).name for o in failed] == ["002_24ec7dd97fefd2fa.txt"]
    assert "disk full in a worker" in failed[0].reason  # loaded (and failed) in the worker
    assert report.count(LOADED) == 3
    with Session(engine) as s:
        paths = set(s.scalars(select(models.SourceDocument.path)))
        assert not any(p.endswith("002_24ec7dd97fefd2fa.txt") for p in paths) and len(paths) == 3
    assert [p.name for p in failed_paths(engine)] == ["002_24ec7dd97fefd2fa.txt"]
    monkeypatch.undo()
    again, _ = _import(db_url, [folder], 2)  # fixed: loaded, and off the quarantine list
    assert again.count(LOADED) == 1 and again.count(SKIPPED) == 3
    assert failed_paths(engine) == []


def test_corrections_replay_and_findings_are_the_same_with_workers(tmp_path: Path) -> None:
    from tests.test_corrections import SEED_003, SEED_2026, _fix_2026_seed, copy_samples

    results = []
    for workers in (1, 2):
        url = f"sqlite:///{tmp_path / f'w{workers}.db'}"
        seed, damaged = copy_samples(tmp_path / f"archive{workers}", SEED_2026, SEED_003)
        _, engine = _import(url, [seed, damaged], workers)
        _fix_2026_seed(engine, seed)
        lines = seed.read_text(encoding="utf-8").split("\n")
        lines[206] = lines[206].replace("54,700.00", "55,000.00")  # a changed file: replaced, corrections replayed
        lines.insert(120, "\t成本指标\t经济成本指标\t软件许可费用控制率\t≤100.00(%)\t")
        seed.write_text("\n".join(lines), encoding="utf-8")
        report, _ = _import(url, [seed.parent], workers)
        assert report.count(REPLACED) == 1 and "budget.current_year" in report.outcomes[0].reason + \
            report.outcomes[1].reason
        folder = str(seed.parent.resolve())  # the two copies' paths differ
        results.append({table: [tuple(v.replace(folder, "ARCHIVE") for v in row) for row in rows]
                        for table, rows in table_content(engine).items()})
    assert results[0]["corrections"] and results[0]["findings"]
    assert results[0] == results[1]


@pytest.mark.workers
def test_workers_start_the_biggest_ready_file_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With several workers, the files ready to go are handed out biggest first (a big file started
    last would run alone at the end); one worker keeps the order of discovery."""
    from goalforms.pipeline import importer

    folder = tmp_path / "in"
    folder.mkdir()
    texts = sorted((SAMPLES / "text").glob("*.txt"), key=lambda p: p.stat().st_size)
    assert len({p.stat().st_size for p in texts[:3]}) == 3
    for index, source in enumerate(texts[:3]):  # discovered smallest first: a_, b_, c_
        shutil.copy(source, folder / f"{'abc'[index]}_{source.name}")
    submitted: list[str] = []
    real = importer._Drain.submit

    def record(self, jobs):  # type: ignore[no-untyped-def]
        submitted.extend(job.path.name[0] for job in jobs)
        real(self, jobs)

    monkeypatch.setattr(importer._Drain, "submit", record)
    two = import_paths([folder], connect(f"sqlite:///{tmp_path / 'two.db'}"), options=ImportOptions(workers=2))
    assert two.count(LOADED) == 3 and submitted == ["c", "b", "a"]
    submitted.clear()
    one = import_paths([folder], connect(f"sqlite:///{tmp_path / 'one.db'}"), options=ImportOptions(workers=1))
    assert one.count(LOADED) == 3 and submitted == ["a", "b", "c"]
