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
import sqlite3
import sys
from typing import TYPE_CHECKING

from goalforms.schema.db import sqlite_file_lock

if TYPE_CHECKING:
    from sqlalchemy import Engine

# The same threshold SQLite's autocheckpoint had (schema/db.py): 4,000 pages of log.
EVERY_FRAMES = 4000
# A log this long was never reset (a writer restarts it only when a checkpoint caught up with
# every frame before its transaction): checkpoint and restart it under the write lock.
RESTART_FRAMES = 4 * EVERY_FRAMES

# The WAL-index header (the -shm file; sqlite.org/walformat.html), in the machine's byte order:
# mxFrame, the last valid frame of the log, at byte 16; nBackfill, the frames already copied into
# the database, at byte 96 (the first field after the header's two 48-byte copies).
_MX_FRAME = slice(16, 20)
_BACKFILL = slice(96, 100)


def pending_frames(database: str) -> int | None:
    """Frames of ``database``'s log not yet copied into it; None when there is no log to read."""
    try:
        with open(f"{database}-shm", "rb") as index:
            head = index.read(100)
    except OSError:
        return None
    if len(head) < _BACKFILL.stop:
        return None
    return int.from_bytes(head[_MX_FRAME], sys.byteorder) - int.from_bytes(head[_BACKFILL], sys.byteorder)


class Checkpointer:
    """Checkpoints ``engine``'s SQLite log when it holds ``EVERY_FRAMES`` pages not yet copied
    (call it after each file an import's workers loaded)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.database = engine.url.database or ""
        self.passive = self.restarts = 0  # how many of each were run

    def __call__(self) -> None:
        pending = pending_frames(self.database)
        if pending is None or pending < EVERY_FRAMES:
            return
        with self.engine.connect() as connection:
            _busy, log, _copied = connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").one()
        self.passive += 1
        if log >= RESTART_FRAMES and self._restart():
            self.restarts += 1

    def finish(self) -> None:
        """At the end of an import: copy what the log still holds into the database file, so that
        the file alone is complete once the last connection closes (which then removes the log)."""
        pending = pending_frames(self.database)
        if pending:
            with self.engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
            self.passive += 1

    def _restart(self) -> bool:
        """Copy the rest of the log and restart it, the workers held off by the write lock. A reader
        on an older snapshot (the web app, a query) makes the restart wait: a fifth of a second at
        most, not the 30 s of the store's connections (the workers wait meanwhile); the next call
        tries again."""
        with sqlite_file_lock(self.engine), contextlib.closing(sqlite3.connect(self.database, timeout=0.2)) as log:
            busy, _frames, _copied = log.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()
        return not busy
