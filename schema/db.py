"""Connecting to the store: an engine for a URL, with the schema upgraded to the newest migration."""

from __future__ import annotations

import contextlib
import fcntl
import os
import weakref
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

# SQLAlchemy and Alembic are imported when a command connects, not when the CLI starts
# (``goalforms --help`` and ``goalforms parse`` need neither).
if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy import Engine

DEFAULT_DB = "sqlite:///goalforms.db"


def database_url(value: str | None) -> str:
    """A SQLAlchemy URL; a plain path means an SQLite file."""
    if not value:
        return DEFAULT_DB
    if "://" in value:
        return value
    return f"sqlite:///{Path(value)}"


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("goalforms.schema").joinpath("migrations")))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def on_disk(database: str | None) -> bool:
    """Is an SQLite URL's database a file of its own (not in memory, not a ``file:`` URI)? Only such
    a file has a lock file and a log index beside it that goalforms reads."""
    return bool(database) and database != ":memory:" and not str(database).startswith("file:")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any, autocheckpoint: int = 4000) -> None:
    cursor = dbapi_connection.cursor()
    # First: switching to WAL may wait for another process. 30 s: an import's workers write one
    # file at a time each (BEGIN IMMEDIATE), so a worker waits at most for the other workers' current
    # files (tens of milliseconds each; seconds for a huge one), far below this.
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")  # cascades from documents to their rows
    # WAL: readers (the web app, query) never block the importer nor it them, and a commit appends
    # to the log instead of rewriting pages and syncing twice. synchronous=NORMAL is safe under WAL:
    # a power cut may lose the last commits, never corrupt the file (the importer resumes by hash).
    # An in-memory database answers "memory" and stays as it is.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # A checkpoint (copying the log's pages into the database) every 4,000 pages (16 MiB of log)
    # instead of 1,000: a file's commit rewrites the same hot pages (index interiors, the tables'
    # last leaves) that the files before it did, and a checkpoint writes each page once however
    # many commits changed it — fewer, larger checkpoints write ~15 % fewer bytes per file
    # imported. The log file stays at most ~16 MiB (it is reused, not grown, after a checkpoint).
    # 0 for an import's workers: their importing process checkpoints for them (schema/wal.py; the
    # log then grows to ~64 MiB at most before it is emptied).
    cursor.execute(f"PRAGMA wal_autocheckpoint={int(autocheckpoint)}")
    # 16 MiB of page cache instead of 2 MiB (per connection: one per worker): the indexes of the
    # big tables (provenance, indicators by form_id) stay cached while a million rows go in.
    cursor.execute("PRAGMA cache_size=-16000")
    # Temporary b-trees (sorting for an index, a view's ORDER BY) in memory, not in temporary files.
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()


# Every engine made here, weakly: the CLI disposes them before it exits (cli.main), so that SQLite's
# last connection closes, copies its log into the database file and removes it (the CLI no longer
# runs the collector at exit, which used to close them): a database file copied alone must hold
# every file committed.
_MADE: weakref.WeakSet[Engine] = weakref.WeakSet()


def dispose_engines() -> None:
    """Close the pooled connections of every engine :func:`make_engine` made in this process."""
    for engine in list(_MADE):
        engine.dispose()


def make_engine(url: str, checkpoints: bool = True) -> Engine:
    """An engine for ``url``. ``checkpoints=False`` (SQLite): its commits never copy the log into
    the database — an import's workers, whose importing process does it outside the write lock
    (schema/wal.py)."""
    from sqlalchemy import create_engine, event

    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        autocheckpoint = 4000 if checkpoints else 0

        def pragmas(dbapi_connection: Any, record: Any) -> None:
            _sqlite_pragmas(dbapi_connection, record, autocheckpoint)

        event.listen(engine, "connect", pragmas)
    _MADE.add(engine)
    return engine


@contextlib.contextmanager
def sqlite_file_lock(engine: Engine, wait: bool = True) -> Iterator[bool]:
    """On an SQLite file, one goalforms writer at a time: an exclusive ``flock`` on ``DBFILE.lock``.
    Yields whether this process holds it: True with ``wait`` (and where there is no file to
    lock); with ``wait=False``, False at once when another process holds it.

    - Schema creation and migration take it: SQLite's own locks do not cover Alembic's
      check-then-create, so two first imports into a new file would both create ``alembic_version``.
    - An import's workers take it around each job's transactions: a blocked ``flock`` wakes the
      moment the holder lets go, where SQLite's busy handler sleeps in steps of up to 100 ms and
      left the write lock idle most of the time between two workers' files.
    Other SQLite clients still wait on SQLite's own lock (busy_timeout). The lock file is left in
    place (removing it would let a third process lock a different file)."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not on_disk(database):
        yield True
        return
    try:
        handle = os.open(f"{database}.lock", os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
    except OSError:  # a read-only folder: nobody can write there anyway
        yield True
        return
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(handle)  # releases the lock


def upgrade(engine: Engine) -> None:
    """Create or evolve the schema through the Alembic migrations (one process at a time). A new,
    empty database gets the recorded statements of the migrations instead (``head.py``: the same
    schema in one step, without Alembic); one already at the head is left as it is."""
    from goalforms.schema import head

    with sqlite_file_lock(engine), engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Two processes connecting to a new database at once would both create the tables and one
            # would fail: the lock (held until this transaction ends) makes the second wait, then find
            # the schema at head.
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(7142093551)")
        if head.ensure(connection):
            return
        from alembic import command

        cfg = alembic_config(engine.url.render_as_string(hide_password=False))
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")


def connect(url: str | None = None) -> Engine:
    """An engine for ``url`` (default: SQLite goalforms.db) with the schema at the newest revision."""
    engine = make_engine(database_url(url))
    upgrade(engine)
    return engine
