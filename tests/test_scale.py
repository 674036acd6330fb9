"""Archive scale (issue 7): parallel parsing, resumable imports, reports, quarantine, Dask."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, select
from sqlalchemy.orm import Session

from goalforms.pipeline.importer import FAILED, LOADED, ImportOptions, failed_paths, import_paths
from goalforms.schema import models
from goalforms.schema.db import connect
from tests.conftest import REPO, SAMPLES

sys.path.insert(0, str(SAMPLES))
from make_archive import make_text_archive  # noqa: E402

# Worker processes, a killed import, a Dask cluster: the slowest tests; `make test-fast` leaves them out.
pytestmark = pytest.mark.workers



@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("archive")
    make_text_archive(out, 40)
    return out


def content(engine: Engine) -> list[tuple[Any, ...]]:
    """Everything loaded, independent of row ids and load order."""
    with Session(engine) as s:
        rows = s.execute(
            select(models.SourceDocument.path, models.SourceDocument.sha256, models.Form.ordinal,
                   models.Form.project_name, models.Indicator.position, models.Indicator.level1,
                   models.Indicator.level2, models.Indicator.level3, models.Indicator.raw_target,
                   models.Indicator.value)
            .join(models.Form, models.Form.document_id == models.SourceDocument.id)
            .join(models.Indicator, models.Indicator.form_id == models.Form.id)
        )
        return sorted(tuple(str(v) for v in r) for r in rows)


def goalforms(*args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "goalforms", *args], capture_output=True, text=True,
                          timeout=600, **kwargs)


def test_n_workers_give_the_same_database_as_one(archive: Path, tmp_path: Path) -> None:
    one = connect(f"sqlite:///{tmp_path / 'one.db'}")
    two = connect(f"sqlite:///{tmp_path / 'two.db'}")
    r1 = import_paths([archive], one, options=ImportOptions(workers=1))
    r2 = import_paths([archive], two, options=ImportOptions(workers=2))
    assert r1.count(LOADED) == r2.count(LOADED) == 40
    assert content(one) == content(two)
    assert len(content(one)) == sum(o.indicators for o in r1.outcomes)


def test_report_file_lists_every_outcome(archive: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("没有表格", encoding="utf-8")
    db = tmp_path / "x.db"
    result = goalforms("import", str(archive), str(bad), "--db", str(db), "--workers", "2",
                       "--report", str(tmp_path / "report.json"))
    assert result.returncode == 1
    rows = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert len(rows) == 41
    assert {r["status"] for r in rows} == {"loaded", "failed"}
    assert [r["path"] for r in rows if r["status"] == "failed"] == [str(bad)]
    goalforms("import", str(archive), "--db", str(db), "--report", str(tmp_path / "report.csv"))
    lines = (tmp_path / "report.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "path,status,forms,indicators,issues,reason,format" and len(lines) == 41
    assert all(",skipped," in line for line in lines[1:])


def test_failures_are_quarantined_and_retried(tmp_path: Path) -> None:
    db = tmp_path / "q.db"
    broken = tmp_path / "later.txt"
    broken.write_bytes(b"")
    assert goalforms("import", str(broken), "--db", str(db)).returncode == 1
    engine = connect(f"sqlite:///{db}")
    assert failed_paths(engine) == [broken.resolve()]
    broken.write_bytes((SAMPLES / "text" / "000_914c13d346301e8d.txt").read_bytes())  # fixed by a clerk
    retry = goalforms("import", "--retry-failed", "--db", str(db))
    assert retry.returncode == 0, retry.stderr
    assert "loaded 1" in retry.stdout
    assert failed_paths(engine) == []
    again = goalforms("import", "--retry-failed", "--db", str(db))
    assert again.returncode == 1 and "quarantine list is empty" in again.stderr


def _documents(db: Path) -> int:
    try:
        with sqlite3.connect(db, timeout=30) as c:
            return int(c.execute("SELECT count(*) FROM source_documents").fetchone()[0])
    except sqlite3.Error:
        return 0


def test_a_killed_import_resumes_to_the_same_database(tmp_path: Path) -> None:
    folder = tmp_path / "big"
    make_text_archive(folder, 120, seed=3)
    db = tmp_path / "killed.db"
    process = subprocess.Popen([sys.executable, "-m", "goalforms", "import", str(folder), "--db", str(db),
                                "--workers", "2"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while _documents(db) < 10 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    interrupted_at = _documents(db)
    assert 0 < interrupted_at < 120, "the import was not caught in the middle"
    resumed = goalforms("import", str(folder), "--db", str(db), "--report", str(tmp_path / "r.json"))
    assert resumed.returncode == 0, resumed.stderr
    outcomes = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert sum(o["status"] == "skipped" for o in outcomes) >= interrupted_at
    reference = connect(f"sqlite:///{tmp_path / 'straight.db'}")
    import_paths([folder], reference, options=ImportOptions(workers=1))
    assert content(connect(f"sqlite:///{db}")) == content(reference)


def test_a_failure_in_one_worker_does_not_stop_the_others(archive: Path, tmp_path: Path) -> None:
    bad = tmp_path / "in"
    bad.mkdir()
    for n in range(6):
        (bad / f"garbage{n}.txt").write_bytes(bytes(range(256)) * 4)
    engine = connect(f"sqlite:///{tmp_path / 'mixed.db'}")
    report = import_paths([archive, bad], engine, options=ImportOptions(workers=2))
    assert report.count(LOADED) == 40 and report.count(FAILED) == 6
    assert len(failed_paths(engine)) == 6


def test_two_imports_of_a_folder_at_once_with_workers_keep_one_copy(archive: Path, tmp_path: Path) -> None:
    """Two imports, two workers each, all four loading into one SQLite file at once: every file
    once, loaded by one import and skipped by the other, the same rows as one import."""
    db = tmp_path / "both.db"
    connect(f"sqlite:///{db}").dispose()  # the schema first: this test is about the loading
    runs = [subprocess.Popen([sys.executable, "-m", "goalforms", "import", str(archive), "--db", str(db), "--workers", "2",
                              "--report", str(tmp_path / f"r{n}.json")], stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True) for n in range(2)]
    for run in runs:
        _, err = run.communicate(timeout=600)
        assert run.returncode == 0, err
    statuses = [o["status"] for n in range(2) for o in json.loads((tmp_path / f"r{n}.json").read_text(encoding="utf-8"))]
    assert statuses.count("loaded") == 40 and statuses.count("skipped") == 40
    reference = connect(f"sqlite:///{tmp_path / 'straight.db'}")
    import_paths([archive], reference, options=ImportOptions(workers=1))
    assert _documents(db) == 40
    assert content(connect(f"sqlite:///{db}")) == content(reference)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def dask_cluster(tmp_path: Path) -> Iterator[str]:
    """A real scheduler and two workers, as separate processes on loopback."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = dict(os.environ, DASK_DISTRIBUTED__WORKER__DAEMON="False")
    log = (tmp_path / "dask.log").open("w")
    processes = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                                   "--port", str(port), "--no-dashboard"], stdout=log, stderr=log, env=env,
                                  cwd=REPO)]
    from distributed import Client

    deadline = time.monotonic() + 60
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError("dask scheduler did not start") from None
            time.sleep(0.2)
    for _ in range(2):
        processes.append(subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address,
                                           "--nthreads", "1", "--no-dashboard", "--host", "127.0.0.1"],
                                          stdout=log, stderr=log, env=env, cwd=REPO))
    with Client(address, timeout=60) as client:
        client.wait_for_workers(2, timeout=120)
    try:
        yield address
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        log.close()


def test_dask_cluster_import_into_postgresql_equals_a_local_import(
    archive: Path, dask_cluster: str, pg_url: str, tmp_path: Path
) -> None:
    result = goalforms("import", str(archive), "--db", pg_url, "--dask", dask_cluster)
    assert result.returncode == 0, result.stderr
    assert "loaded 40" in result.stdout
    local = connect(f"sqlite:///{tmp_path / 'local.db'}")
    import_paths([archive], local, options=ImportOptions(workers=1))
    engine = create_engine(pg_url)
    assert content(engine) == content(local)


def test_who_loads() -> None:
    """A LocalCluster's workers load what they parse, like the pool's; a remote cluster's only parse."""
    from goalforms.pipeline.importer import _Inline, workers_load

    assert workers_load(object(), ImportOptions(workers=2, dask="local"))
    assert not workers_load(object(), ImportOptions(workers=2, dask="tcp://scheduler:8786"))
    assert not workers_load(_Inline(), ImportOptions(workers=1))


def test_dask_local_cluster(archive: Path, tmp_path: Path) -> None:
    db = tmp_path / "local-dask.db"
    result = goalforms("import", str(archive), "--db", str(db), "--dask", "local", "--workers", "2")
    assert result.returncode == 0, result.stderr
    reference = connect(f"sqlite:///{tmp_path / 'ref.db'}")
    import_paths([archive], reference, options=ImportOptions(workers=1))
    assert content(connect(f"sqlite:///{db}")) == content(reference)
