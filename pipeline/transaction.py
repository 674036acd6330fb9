"""One file into the store in one transaction, and a worker's job of a few files.

A file's rows and its own review are built first (``_stage``, no database); then, in one
transaction: its path's and content's locks, what the store already holds of it (``_stored``),
the rows replacing the previous version's, the clerk corrections replayed, the review that needs
other files (``_write``). On SQLite the writers take turns on the file lock ``DB.lock``; on
PostgreSQL what reads other files' rows is serialised per project (:func:`project_locks`).
Local workers run ``load_jobs``; the importing process runs ``load_parsed`` when it loads itself.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Dialect, Engine, delete, make_url
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from goalforms.parsers.readers.limits import Limits
from goalforms.parsers.reports.names import project_key
from goalforms.pipeline.corrections import describe_stale, reapply_corrections
from goalforms.pipeline.isolate import ParseResult, parse_job
from goalforms.pipeline.load import Rows, prepare_rows, store_document
from goalforms.pipeline.model import ParsedDocument
from goalforms.pipeline.outcome import FAILED, LOADED, REPLACED, SKIPPED, FileOutcome, Job
from goalforms.pipeline.review.batch import PreparedReview, prepare_review, review_imported
from goalforms.pipeline.review.reads import fetch
from goalforms.schema import models
from goalforms.schema.clerk_models import UNDONE
from goalforms.schema.db import make_engine, sqlite_file_lock
from goalforms.schema.wal import importer_checkpoints

# PostgreSQL advisory locks (any numbers, the same in every process; Alembic's upgrade uses
# 7142093551 in the one-number space):
# - _WRITE_LOCK, one number: every file holds it SHARED from its links to its commit; a file that
#   replaces a stored one or has clerk corrections takes it EXCLUSIVE before it deletes or reads
#   anything (rare: those change or read rows under project names the parse does not name);
# - (_PROJECT_LOCKS, hash of a project key), two numbers (a lock space of its own): one per project
#   a file names, exclusive, from its links to its commit.
# Each transaction takes them in one order: path and content (sorted), then _WRITE_LOCK, then the
# projects (sorted) — so no two imports can wait for each other in a cycle.
_WRITE_LOCK = 7142093552
_PROJECT_LOCKS = 71420935


def _lock_key(text: str) -> int:
    """A PostgreSQL advisory lock key (a signed 64-bit number) for a path or a content hash."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big", signed=True)


def _project_lock(name: str) -> int:
    """The second number (a signed 32-bit one) of a project's advisory lock. Two projects sharing
    a number only wait for each other, which changes nothing of what they store."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big", signed=True)


def _names(name: Any) -> list[str]:
    """The keys under which other files' reads can meet a project name: its project key, or the
    name itself when it has none (a name of spaces, which the review still compares)."""
    if not isinstance(name, str) or not name:
        return []
    return [project_key(name) or name]


def project_locks(rows: Rows, doc: ParsedDocument) -> list[int]:
    """The project locks a file takes (sorted): one for each project its forms or reports name.

    Every read of other files' rows while a file is imported is within its projects:
    - links (load_reports.link): its new forms to stored reports of the same project key, its new
      reports to stored forms whose name has the report's key (the link needs equal keys);
    - the review (review/batch.py, store.py): the other years of each form's project (its name and
      unit, as corrected), the previous year's indicators, the next year's forms reviewed again;
    - corrections replayed: those of its own path (its path lock).
    Equal names have equal keys, so two files that can read each other's rows share a lock. A name
    a clerk corrected is not in the parse: such a file takes the write lock exclusive instead."""
    names = [n for form in rows.forms for n in _names(form.get("project_name"))]
    names += [n for report in doc.reports for n in _names((report.get("metadata") or {}).get("project_name"))]
    return sorted({_project_lock(n) for n in names})


def _lock_projects(connection: Connection, locks: list[int]) -> None:
    """Take the write lock shared, then the project locks in sorted order: one statement (a target
    list is evaluated in order), held to the commit."""
    calls = [f"pg_advisory_xact_lock_shared({_WRITE_LOCK})",
             *(f"pg_advisory_xact_lock({_PROJECT_LOCKS}, {lock})" for lock in locks)]
    connection.exec_driver_sql(f"SELECT {', '.join(calls)}")


@dataclass
class _Stored:
    """What the store holds of a job when its transaction starts."""

    previous: int | None  # the id of the document stored at the job's path
    same: bool  # its content is stored (at any path)
    corrected: bool  # its path has clerk corrections (not undone)
    failed: bool  # its path is in the quarantine list


# One statement, through the driver (review/reads.py): its rows are the documents at the path or of
# the content, then a row (NULL, name, NULL) for each flag that holds.
_STORED = f"""
    SELECT id, path, sha256 FROM source_documents WHERE path = ? OR sha256 = ?
    UNION ALL SELECT NULL, 'corrected', NULL WHERE EXISTS (
        SELECT 1 FROM corrections WHERE document_path = ? AND status <> '{UNDONE}')
    UNION ALL SELECT NULL, 'failed', NULL WHERE EXISTS (SELECT 1 FROM import_failures WHERE path = ?)
"""


def _stored(connection: Connection, job: Job) -> _Stored:
    """All of :class:`_Stored` in one query (each answer one more round trip per file otherwise)."""
    rows = fetch(connection, _STORED, (job.key, job.sha256, job.key, job.key))
    documents = [r for r in rows if r[0] is not None]
    flags = {r[1] for r in rows if r[0] is None}
    return _Stored(next((r[0] for r in documents if r[1] == job.key), None),
                   any(r[2] == job.sha256 for r in documents), "corrected" in flags, "failed" in flags)


@dataclass
class _Staged:
    """A parsed file ready to write: its rows and its own review, made outside the transaction."""

    doc: ParsedDocument
    rows: Rows
    review: PreparedReview


def _stage(job: Job, result: ParseResult, dialect: Dialect) -> _Staged | FileOutcome:
    """A parse's rows and the review's part that needs no other file (docs/review.md), or why the
    file failed. Built before the transaction: in the workers, at the same time as another worker
    holds the write lock; only the writing is serialised."""
    doc = result.doc
    if doc is None:
        return FileOutcome(str(job.path), FAILED, reason=result.reason)
    if doc.source.sha256 != job.sha256:
        return FileOutcome(str(job.path), FAILED, reason="file changed while it was being imported")
    try:
        return _Staged(doc, prepare_rows(doc, dialect), prepare_review(doc))
    except Exception as exc:  # e.g. a bug in building the rows: the file fails, the batch goes on
        return FileOutcome(str(job.path), FAILED, reason=f"internal error (please report): {exc.__class__.__name__}: {exc}")


def load_parsed(job: Job, result: ParseResult, engine: Engine) -> FileOutcome:
    """Store one parsed file in one transaction (or record why it failed)."""
    staged = _stage(job, result, engine.dialect)
    if isinstance(staged, FileOutcome):
        return staged
    # SQLite: the writers of this database take turns on a file lock (woken at once, where
    # SQLite's busy handler sleeps in steps); the transaction stays the one that counts.
    with sqlite_file_lock(engine):
        return _write(job, staged, engine)


def _write(job: Job, staged: _Staged, engine: Engine) -> FileOutcome:
    """Store a staged file in one transaction (or record why it failed). On SQLite the caller holds
    the file lock (:func:`sqlite_file_lock`)."""
    doc, rows, prepared = staged.doc, staged.rows, staged.review
    stale = ""
    try:
        with Session(engine) as session, session.begin():
            connection = session.connection()
            serialise: Callable[[], None] | None = None
            postgres = engine.dialect.name == "postgresql"
            if engine.dialect.name == "sqlite":
                # Take the write lock first: a transaction that reads and then writes can meet
                # another import's writer and fail at once with "database is locked" (no wait).
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            elif postgres:
                # First this path's and this content's own locks (in a fixed order, one statement):
                # a second import of the same file waits here, then finds it stored. In the same
                # statement, this transaction's commit made asynchronous (SET LOCAL
                # synchronous_commit): the commit returns without waiting for the WAL flush. A
                # server crash may then lose the last files' commits, never corrupt nor half-load
                # one, and the next import loads them again (they are not stored by their hash):
                # SQLite's synchronous=NORMAL, the same trade (schema/db.py).
                own = sorted({_lock_key(job.key), _lock_key(job.sha256)})
                connection.exec_driver_sql(f"SELECT set_config('synchronous_commit', 'off', true), "
                                           f"{', '.join(f'pg_advisory_xact_lock({k})' for k in own)}")
            found = _stored(connection, job)
            previous = found.previous
            if found.same:
                # Another import loaded this very content while we parsed it: nothing to replace.
                return FileOutcome(str(job.path), SKIPPED, reason="imported at the same time by another import")
            if postgres:
                if previous is not None or found.corrected:
                    # The rows replaced (and a corrected name) may be of other projects than the
                    # parse names: this file waits for every other file's links and review, and
                    # they for it, before it deletes or reads anything.
                    connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_WRITE_LOCK})")
                else:
                    # Its own rows go in while other files' do; from the links on (the first read
                    # of other files' rows) to the commit, its projects' locks: files of the same
                    # project one at a time, each reading what a one-worker run reads.
                    locks = project_locks(rows, doc)

                    def serialise() -> None:
                        _lock_projects(connection, locks)
            if previous is not None:
                # Its rows go by cascade; nothing of it is in the session yet (it never loaded it).
                connection.execute(delete(models.SourceDocument).where(models.SourceDocument.id == previous))
            stored = store_document(session, doc, job.key, job.size, before_links=serialise, rows=rows)
            # Clerk corrections of this path replayed over the new parse, in the same transaction;
            # those that no longer apply are named in the report (docs/clerks.md). A path without
            # any (the usual case) has nothing to replay: _stored said so in its query.
            if found.corrected:
                stale = describe_stale(reapply_corrections(session, stored))
            review_imported(session, stored, doc, prepared)  # the rest: other years, the writing
            if found.failed:  # off the quarantine list
                session.execute(delete(models.ImportFailure).where(models.ImportFailure.path == job.key))
    except IntegrityError:
        # Another import (a second process, a Dask client) loaded the same content or path
        # between our check and our commit: the unique keys kept it to one copy.
        with engine.connect() as connection:
            if not _stored(connection, job).same:
                return FileOutcome(str(job.path), FAILED, reason="database refused the rows (integrity error)")
        return FileOutcome(str(job.path), SKIPPED, reason="imported at the same time by another import")
    except SQLAlchemyError as exc:
        return FileOutcome(str(job.path), FAILED, reason=f"database error: {exc.__class__.__name__}: {exc}")
    except Exception as exc:  # e.g. a bug in storing: the file fails, the batch goes on
        return FileOutcome(str(job.path), FAILED, reason=f"internal error (please report): {exc.__class__.__name__}: {exc}")
    return FileOutcome(
        str(job.path),
        REPLACED if previous is not None else LOADED,
        forms=len(doc.forms),
        indicators=sum(len(f.indicators) for f in doc.forms),
        issues=sum(len(f.issues) for f in doc.forms),
        reason=stale,
        format=doc.source.format,
    )


# A worker process's engines, by database URL (made on the worker's first file, kept for its
# life). The process id is part of the key: an engine must never cross a fork (its pooled
# connections belong to the process that opened them).
_ENGINES: dict[tuple[int, str], Engine] = {}


def _worker_engine(url: str) -> Engine:
    key = (os.getpid(), url)
    if key not in _ENGINES:
        # The schema is at head (the importing process upgraded it); on an SQLite file the
        # importing process checkpoints the log for the workers, outside the write lock (schema/wal.py).
        _ENGINES[key] = make_engine(url, checkpoints=not importer_checkpoints(make_url(url).database))
    return _ENGINES[key]


def load_jobs(jobs: list[Job], url: str, limits: Limits | None = None) -> list[FileOutcome]:
    """A worker's job: a few files, each parsed under the limits (the timeout covers one parse),
    then each loaded in its own transaction on this process's engine for ``url``. Returns only the
    outcomes (small to send back), in the jobs' order.

    Every file is parsed before any is written: a worker that dies in a parse (killed, out of
    memory in native code) has committed nothing of its job, so its files can run again one by
    one (_Drain._broken). On SQLite the files are then written one after the other in one turn of
    the write lock: a worker waits for the other workers' turns once a job, not once a file."""
    engine = _worker_engine(url)
    staged = [_stage(job, parse_job(str(job.path), limits), engine.dialect) for job in jobs]
    if not any(isinstance(each, _Staged) for each in staged):  # all failed: no turn of the lock
        return [each for each in staged if isinstance(each, FileOutcome)]
    with sqlite_file_lock(engine):
        return [each if isinstance(each, FileOutcome) else _write(job, each, engine)
                for job, each in zip(jobs, staged, strict=True)]


# A stored document's outcome as its worker would have sent it (the counts its transaction stored).
_WRITTEN = """
    SELECT d.sha256, d.format,
           (SELECT count(*) FROM forms f WHERE f.document_id = d.id),
           (SELECT count(*) FROM indicators i JOIN forms f ON f.id = i.form_id WHERE f.document_id = d.id),
           (SELECT count(*) FROM parse_issues p JOIN forms f ON f.id = p.form_id WHERE f.document_id = d.id)
    FROM source_documents d WHERE d.path = ?
"""


def written_before(engine: Engine, jobs: list[Job]) -> dict[str, FileOutcome]:
    """Of ``jobs`` whose worker died, those it had committed (stored at their path with their
    content), by key, with the outcome it would have sent (loaded; one that replaced an older
    version is reported loaded too: which it was died with the worker)."""
    found: dict[str, FileOutcome] = {}
    with engine.connect() as connection:
        for job in jobs:
            for sha256, fmt, forms, indicators, issues in fetch(connection, _WRITTEN, (job.key,)):
                if sha256 == job.sha256:
                    found[job.key] = FileOutcome(str(job.path), LOADED, forms=forms, indicators=indicators,
                                                 issues=issues, reason="written before its worker died", format=fmt)
    return found


def worker_url(engine: Engine) -> str | None:
    """The URL workers load into, or None when they cannot share the database (in-memory SQLite)."""
    database = engine.url.database
    if engine.dialect.name == "sqlite" and (not database or database == ":memory:" or "mode=memory" in str(engine.url)):
        return None
    return engine.url.render_as_string(hide_password=False)
