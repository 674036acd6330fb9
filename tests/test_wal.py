"""SQLite's log while an import's workers write: their commits never checkpoint, the importing
process does (schema/wal.py); and the workers take small files a few at a time (importer.chunks)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import text

from goalforms.pipeline import importer
from goalforms.pipeline.importer import LOADED, ImportOptions, import_paths
from goalforms.pipeline.outcome import Job
from goalforms.schema import wal
from goalforms.schema.db import connect, make_engine
from tests.conftest import SAMPLES


def _autocheckpoint(url: str, checkpoints: bool) -> int:
    engine = make_engine(url, checkpoints=checkpoints)
    try:
        with engine.connect() as connection:
            return int(connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one())
    finally:
        engine.dispose()


def test_worker_engines_leave_checkpoints_to_the_importing_process(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    assert _autocheckpoint(url, checkpoints=True) == 4000
    assert _autocheckpoint(url, checkpoints=False) == 0


def _write_rows(engine, rows: int) -> None:  # type: ignore[no-untyped-def]
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE IF NOT EXISTS t (x TEXT)"))
        connection.execute(text("INSERT INTO t VALUES (:x)"), [{"x": "值" * 200} for _ in range(rows)])


def test_pending_frames_and_the_checkpointer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    database = tmp_path / "log.db"
    assert wal.pending_frames(str(database)) is None  # no log yet
    writer = make_engine(f"sqlite:///{database}", checkpoints=False)
    checkpointer = wal.Checkpointer(make_engine(f"sqlite:///{database}"))
    try:
        _write_rows(writer, 500)  # ~300 KB: far over any log a commit would leave behind
        written = wal.pending_frames(str(database))
        assert written is not None and written > 50
        checkpointer()  # under EVERY_FRAMES: nothing to do yet
        assert (checkpointer.passive, wal.pending_frames(str(database))) == (0, written)

        monkeypatch.setattr(wal, "EVERY_FRAMES", 50)
        checkpointer()
        assert checkpointer.passive == 1 and checkpointer.restarts == 0
        assert wal.pending_frames(str(database)) == 0  # every frame copied; the writer did not wait

        # A long log (the workers never left a moment to reset it) is checkpointed and restarted
        # under the write lock: all of it copied, and the next commit writes from its start again.
        _write_rows(writer, 500)
        monkeypatch.setattr(wal, "RESTART_FRAMES", written // 2)
        checkpointer()
        assert (checkpointer.passive, checkpointer.restarts) == (2, 1)
        assert wal.pending_frames(str(database)) == 0
        _write_rows(writer, 1)
        assert wal.pending_frames(str(database)) < 10
    finally:
        writer.dispose()
        checkpointer.engine.dispose()


def _record_checkpointers(monkeypatch: pytest.MonkeyPatch) -> list[wal.Checkpointer]:
    """The importer's checkpointers, as it makes them."""
    made: list[wal.Checkpointer] = []

    class Recorded(wal.Checkpointer):
        def __init__(self, engine) -> None:  # type: ignore[no-untyped-def]
            super().__init__(engine)
            made.append(self)

    monkeypatch.setattr(importer, "Checkpointer", Recorded)
    return made


def _text_samples(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    for source in sorted((SAMPLES / "text").glob("*.txt")):
        shutil.copy(source, folder / source.name)
    return folder


@pytest.mark.workers
def test_an_import_with_workers_checkpoints_as_it_goes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    made = _record_checkpointers(monkeypatch)
    monkeypatch.setattr(wal, "EVERY_FRAMES", 20)
    folder = _text_samples(tmp_path)
    database = tmp_path / "w.db"
    report = import_paths([folder], connect(f"sqlite:///{database}"), options=ImportOptions(workers=2))
    assert report.count(LOADED) == len(list(folder.iterdir()))
    (checkpointer,) = made
    assert checkpointer.passive >= 1
    # At the end everything is copied (Checkpointer.finish): the file alone is complete.
    assert wal.pending_frames(str(database)) in (None, 0)


def _job(name: str, size: int) -> Job:
    return Job(Path(name), name, name, size)


def test_small_files_go_to_a_worker_a_few_at_a_time() -> None:
    kb = 1024
    jobs = [_job("pdf", 200 * kb), *(_job(f"t{n}", 20 * kb) for n in range(6)), _job("scan", 900 * kb),
            _job("d1", 60 * kb), _job("d2", 60 * kb), _job("d3", 60 * kb)]
    cut = [[job.key for job in chunk] for chunk in importer.chunks(jobs)]
    # In the order given; a big file alone; at most CHUNK_FILES small ones, CHUNK_BYTES in all.
    assert cut == [["pdf"], ["t0", "t1", "t2", "t3"], ["scan"], ["t4", "t5", "d1"], ["d2", "d3"]]
    assert importer.chunks([]) == []


def test_a_reader_puts_the_restart_off_without_holding_the_workers(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import sqlite3
    import time

    database = tmp_path / "read.db"
    writer = make_engine(f"sqlite:///{database}", checkpoints=False)
    checkpointer = wal.Checkpointer(make_engine(f"sqlite:///{database}"))
    reader = sqlite3.connect(database, isolation_level=None)
    try:
        _write_rows(writer, 10)
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM t").fetchone()  # a snapshot held open, as a long query
        _write_rows(writer, 500)
        monkeypatch.setattr(wal, "EVERY_FRAMES", 1)
        monkeypatch.setattr(wal, "RESTART_FRAMES", 1)
        started = time.monotonic()
        checkpointer()
        assert time.monotonic() - started < 5  # not the 30 s busy timeout
        assert (checkpointer.passive, checkpointer.restarts) == (1, 0)
        reader.execute("COMMIT")
        checkpointer()
        assert checkpointer.restarts == 1 and wal.pending_frames(str(database)) == 0
    finally:
        reader.close()
        writer.dispose()
        checkpointer.engine.dispose()


def test_the_command_leaves_every_committed_file_in_the_database_file(tmp_path: Path) -> None:
    """After `goalforms import`, the .db file alone holds everything: its log was copied in and
    removed when the command closed its connections (a database is copied, mailed, archived)."""
    import sqlite3
    import subprocess
    import sys

    folder = _text_samples(tmp_path)
    database = tmp_path / "cli.db"
    done = subprocess.run([sys.executable, "-m", "goalforms", "import", str(folder), "--db", str(database),
                           "--workers", "2"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert not Path(f"{database}-wal").exists()
    alone = tmp_path / "copied.db"
    shutil.copy(database, alone)  # without any -wal or -shm beside it
    with sqlite3.connect(alone) as copied:
        forms = copied.execute("SELECT count(*) FROM forms").fetchone()[0]
    reference = import_paths([folder], connect(f"sqlite:///{tmp_path / 'ref.db'}"))
    assert forms == reference.total("forms") > 0


@pytest.mark.workers
def test_the_end_of_an_import_copies_the_rest_of_the_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    made = _record_checkpointers(monkeypatch)
    monkeypatch.setattr(wal, "EVERY_FRAMES", 10**9)  # no checkpoint while the files go in
    folder = _text_samples(tmp_path)
    database = tmp_path / "end.db"
    import_paths([folder], connect(f"sqlite:///{database}"), options=ImportOptions(workers=2))
    assert made[0].passive == 1 and wal.pending_frames(str(database)) == 0


def test_the_log_index_is_beside_the_real_file(tmp_path: Path) -> None:
    real = tmp_path / "real" / "x.db"
    real.parent.mkdir()
    link = tmp_path / "link.db"
    link.symlink_to(real)
    assert wal.log_index(str(link)) == f"{real}-shm"  # where SQLite keeps it
    for unread in (None, "", ":memory:", "file:x.db?mode=memory&cache=shared"):
        assert wal.log_index(unread) is None and not wal.importer_checkpoints(unread)


def test_the_command_through_a_symlinked_database_leaves_every_file_in_the_real_file(tmp_path: Path) -> None:
    import sqlite3
    import subprocess
    import sys

    folder = _text_samples(tmp_path)
    real = tmp_path / "real" / "x.db"
    real.parent.mkdir()
    connect(f"sqlite:///{real}").dispose()
    link = tmp_path / "link.db"
    link.symlink_to(real)
    done = subprocess.run([sys.executable, "-m", "goalforms", "import", str(folder), "--db", str(link),
                           "--workers", "2"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert not Path(f"{real}-wal").exists()
    alone = tmp_path / "copied.db"
    shutil.copy(real, alone)
    with sqlite3.connect(alone) as copied:
        forms = copied.execute("SELECT count(*) FROM forms").fetchone()[0]
    assert forms == import_paths([folder], connect(f"sqlite:///{tmp_path / 'ref.db'}")).total("forms") > 0


def test_a_restart_never_waits_for_a_held_write_lock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker stuck while it holds the lock must not stop the importing process (its watchdog)."""
    import fcntl
    import os
    import time

    database = tmp_path / "held.db"
    writer = make_engine(f"sqlite:///{database}", checkpoints=False)
    checkpointer = wal.Checkpointer(make_engine(f"sqlite:///{database}"))
    holder = os.open(f"{database}.lock", os.O_RDWR | os.O_CREAT)
    try:
        _write_rows(writer, 500)
        monkeypatch.setattr(wal, "EVERY_FRAMES", 1)
        monkeypatch.setattr(wal, "RESTART_FRAMES", 1)
        fcntl.flock(holder, fcntl.LOCK_EX)  # as a stuck worker would hold it
        started = time.monotonic()
        checkpointer()
        assert time.monotonic() - started < 5
        assert (checkpointer.passive, checkpointer.restarts) == (1, 0)
        fcntl.flock(holder, fcntl.LOCK_UN)
        _write_rows(writer, 1)
        checkpointer()
        assert checkpointer.restarts == 1
        assert os.path.getsize(f"{database}-wal") == 0  # emptied (TRUNCATE)
    finally:
        os.close(holder)
        writer.dispose()
        checkpointer.engine.dispose()
