"""SQLite's write-ahead log while an import's workers write: their commits only append to the log,
and the importing process copies the log into the database (a checkpoint) while they go on.

A commit that crosses SQLite's autocheckpoint threshold copies every page of the log into the
database before it returns: ~20 ms every ~100 files, inside the write lock that the other workers
wait on (a fifth of the time a worker held it, and the other worker idle meanwhile). A PASSIVE
checkpoint by another connection waits for no writer nor reader, so the workers' engines are made
with ``checkpoints=False`` and the importing process, idle between outcomes, checkpoints instead.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import sys
from typing import TYPE_CHECKING

from goalforms.schema.db import on_disk, sqlite_file_lock

if TYPE_CHECKING:
    from sqlalchemy import Engine

# The same threshold SQLite's autocheckpoint had (schema/db.py): 4,000 pages of log.
EVERY_FRAMES = 4000
# A log this long was never reset (a writer restarts it only when a checkpoint caught up with
# every frame before its transaction, which two busy workers rarely leave time for): checkpoint it
# and empty it under the write lock. The log file thus stays under ~64 MiB during an import.
RESTART_FRAMES = 4 * EVERY_FRAMES

# The WAL-index header (the -shm file; sqlite.org/walformat.html), in the machine's byte order:
# mxFrame, the last valid frame of the log, at byte 16; nBackfill, the frames already copied into
# the database, at byte 96 (the first field after the header's two 48-byte copies).
_MX_FRAME = slice(16, 20)
_BACKFILL = slice(96, 100)


def log_index(database: str | None) -> str | None:
    """The WAL-index file (``-shm``) of an SQLite file database — beside the real file, as SQLite
    resolves a symlink — or None when there is no such file to read (in memory, a ``file:`` URI):
    then the workers checkpoint their own commits as SQLite does by default."""
    return f"{os.path.realpath(database)}-shm" if database and on_disk(database) else None


def importer_checkpoints(database: str | None) -> bool:
    """Does the importing process checkpoint this database for its workers (whose engines then never
    checkpoint)? Only where it can read the log's index."""
    return log_index(database) is not None


def pending_frames(database: str) -> int | None:
    """Frames of ``database``'s log not yet copied into it; None when there is no log to read."""
    index_path = log_index(database)
    if index_path is None:
        return None
    try:
        with open(index_path, "rb") as index:
            head = index.read(100)
    except OSError:
        return None
    if len(head) < _BACKFILL.stop:
        return None
    return int.from_bytes(head[_MX_FRAME], sys.byteorder) - int.from_bytes(head[_BACKFILL], sys.byteorder)


class Checkpointer:
    """Checkpoints ``engine``'s SQLite log when it holds ``EVERY_FRAMES`` pages not yet copied
    (call it after each file an import's workers loaded, and :meth:`finish` at the end)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.database = engine.url.database or ""
        self.passive = self.restarts = 0  # how many of each were run

    def __call__(self) -> None:
        pending = pending_frames(self.database)
        if pending is None or pending < EVERY_FRAMES:
            return
        log = self._passive()
        if log >= RESTART_FRAMES and self._restart():
            self.restarts += 1

    def finish(self) -> None:
        """At the end of an import: copy what the log still holds into the database file, so that
        the file alone is complete once the last connection closes (which then removes the log)."""
        if pending_frames(self.database) != 0:
            self._passive()

    def _passive(self) -> int:
        """A PASSIVE checkpoint (it waits for no writer nor reader); the log's length in frames."""
        with self.engine.connect() as connection:
            _busy, log, _copied = connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").one()
        self.passive += 1
        return int(log)

    def _restart(self) -> bool:
        """Copy the rest of the log and empty it (TRUNCATE: the file shrinks to nothing), the workers
        held off by the write lock. Never waits for the lock (a worker stuck while holding it must
        not stop this process, whose watchdog kills stuck workers) nor long for a reader on an older
        snapshot (the web app, a query: a fifth of a second, not the store's 30 s): the next call
        tries again."""
        with sqlite_file_lock(self.engine, wait=False) as held:
            if not held:
                return False
            with contextlib.closing(sqlite3.connect(self.database, timeout=0.2)) as log:
                busy, _frames, _copied = log.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        return not busy
