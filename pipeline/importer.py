"""Import: files and folders into the store, one transaction per file, idempotent by content.

- An unchanged file (same sha256 as an imported one) is skipped without parsing, so an
  interrupted import simply resumes: what was committed stays, the rest is done next time.
- Local worker processes parse a file AND load it, in one transaction of their own on their own
  connection (one engine per worker process, made on its first file), and send back only the
  file's outcome: this process walks, hashes, skips what is imported, hands out files, reports
  and quarantines. A file's rows are built before its transaction; what reads other files' rows
  is serialised: on SQLite the whole write (the writers take turns on ``DB.lock``, then
  ``BEGIN IMMEDIATE``), on PostgreSQL only between files that can see each other: from the links
  to the commit, a file holds an advisory lock per project it names (the key of each form's and
  report's project name), so that files of different projects load fully in parallel (see
  :func:`project_locks`; the file's own rows go in before, under locks of its path and content).
  A file's cross-file reads (links to the reports and forms already stored, the review's previous
  year of a project and next years reviewed again, corrections replayed) thus see every file of
  its projects committed before it, as in a one-worker run; the unique keys (content hash, path)
  keep concurrent imports of the same file to one copy.
- With one worker in this process (``workers=1``, not isolated), an in-memory SQLite database, or
  a Dask cluster (whose workers may not reach the database), the workers only parse and this
  process loads, one transaction per file, the same way.
- A changed file at an imported path replaces that path's rows, in the same transaction.
- A file that cannot be read or holds no form fails with its reason; nothing of it is loaded,
  it goes to the quarantine list (``import_failures``) and the other files go on.
- Every file is parsed under the limits per file (parsers/readers/limits.py, docs/limits.md): in
  a worker process, a wall-clock timeout and a memory ceiling too. A file over a limit fails
  alone; a worker that dies takes only its own file with it (the others are parsed again).
- Workers die with this process (PR_SET_PDEATHSIG): a killed import leaves no parser running.
"""

from __future__ import annotations

import csv
import datetime as dt
import errno
import hashlib
import json
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, delete, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from goalforms.errors import GoalformsError
from goalforms.parsers.readers import limits as limits_
from goalforms.parsers.readers import reader_for, worth_reading
from goalforms.parsers.readers.limits import Limits
from goalforms.parsers.reports.names import project_key
from goalforms.pipeline.corrections import describe_stale, reapply_corrections
from goalforms.pipeline.isolate import _DIED, ParseResult, _Pool, parse_job
from goalforms.pipeline.load import Rows, prepare_rows, store_document
from goalforms.pipeline.model import ParsedDocument
from goalforms.pipeline.review.batch import prepare_review, review_imported
from goalforms.pipeline.review.reads import fetch
from goalforms.schema import models
from goalforms.schema.clerk_models import UNDONE
from goalforms.schema.db import make_engine, sqlite_file_lock

LOADED, REPLACED, SKIPPED, FAILED = "loaded", "replaced", "skipped", "failed"


@dataclass
class FileOutcome:
    path: str
    status: str
    forms: int = 0
    indicators: int = 0
    issues: int = 0
    reason: str = ""
    # source.format of what was read (txt, docx, pdf, scan, html, xlsx …); "" when the file failed.
    format: str = ""


@dataclass
class ImportReport:
    outcomes: list[FileOutcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def failures(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status == FAILED]

    def formats(self) -> dict[str, int]:
        """Files loaded, replaced or skipped, counted by the format their content is."""
        counts: dict[str, int] = {}
        for outcome in self.outcomes:
            if outcome.format:
                counts[outcome.format] = counts.get(outcome.format, 0) + 1
        return dict(sorted(counts.items()))

    def total(self, attribute: str) -> int:
        return sum(getattr(o, attribute) for o in self.outcomes if o.status in (LOADED, REPLACED))

    def write(self, path: Path) -> None:
        """Every file's outcome as CSV or JSON (by the file's suffix)."""
        rows = [asdict(o) for o in self.outcomes]
        if path.suffix.lower() == ".json":
            path.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
            return
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(FileOutcome.__dataclass_fields__))
            writer.writeheader()
            writer.writerows(rows)


@dataclass
class ImportOptions:
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    # None: local processes; "local": a Dask LocalCluster; otherwise a scheduler address.
    dask: str | None = None
    # Limits per file (None: from the environment, GOALFORMS_MAX_…; see docs/limits.md).
    limits: Limits | None = None
    # Parse (and load) even a single worker's files in a child process (the CLI does): the memory
    # ceiling and the kill of a stuck parse need one. False with workers=1: parsed and loaded in this
    # process, easiest to debug.
    isolate: bool = False


def importable_name(name: str) -> bool:
    """Is a file met in a folder walk one to import? THE filter of folder walks (named files are
    always tried): the readers' own rule (a known suffix, or none: the content says what it is)."""
    return worth_reading(Path(name))


@dataclass(frozen=True)
class Unreachable:
    """A path met while walking folders that cannot be walked or read (a symlink loop, a folder
    that cannot be listed or vanished): reported as its own outcome, the walk goes on."""

    path: Path
    reason: str
    status: str = FAILED


def discover(paths: Iterable[str | Path | Unreachable]) -> Iterator[Path | Unreachable]:
    """Files to import: named files as given; folders walked recursively (sorted, streaming) for
    the files :func:`importable_name` accepts, following symlinked folders but never in a loop.
    A named path that does not exist is yielded so that it fails with its reason; what cannot be
    walked is yielded as :class:`Unreachable`."""
    for given in paths:
        if isinstance(given, Unreachable):
            yield given
            continue
        path = Path(given)
        try:
            is_dir = path.is_dir()
        except OSError:  # ELOOP and the like: the file's own checks say why
            is_dir = False
        if is_dir:
            yield from _walk(path, {}, {})
        else:
            yield path


def _identity(path: str | Path) -> tuple[int, int]:
    info = os.stat(path)
    return info.st_dev, info.st_ino


def _walk(folder: Path, ancestors: dict[tuple[int, int], Path],
          seen: dict[tuple[int, int], Path]) -> Iterator[Path | Unreachable]:
    """One folder: its files (sorted), then its subfolders (sorted), depth first."""
    try:
        here = _identity(folder)
        with os.scandir(folder) as listing:
            entries = sorted(listing, key=lambda e: e.name)
    except OSError as exc:
        yield Unreachable(folder, f"cannot list folder: {exc.strerror or exc}")
        return
    seen[here] = folder
    ancestors = {**ancestors, here: folder}
    subfolders: list[Path] = []
    for entry in entries:
        try:
            is_dir = entry.is_dir()  # follows a symlink
        except OSError:
            is_dir = False  # a symlink loop or a vanished entry: as a file, it fails with its reason
        if not is_dir:
            if importable_name(entry.name):
                yield Path(entry.path)
            continue
        try:
            target = _identity(entry.path)
        except OSError as exc:
            yield Unreachable(Path(entry.path), f"cannot open folder: {exc.strerror or exc}")
            continue
        if target in ancestors:
            yield Unreachable(Path(entry.path), f"symlink loop: leads back to {ancestors[target]}; not walked")
        elif target in seen:  # a second way into a folder already walked: its files once only
            yield Unreachable(Path(entry.path), f"same folder as {seen[target]}, walked once", SKIPPED)
        else:
            seen[target] = Path(entry.path)  # now: a sibling link to the same folder is a revisit
            subfolders.append(Path(entry.path))
    for sub in subfolders:
        yield from _walk(sub, ancestors, seen)


def _sha256(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


@dataclass
class _Job:
    path: Path
    key: str  # absolute path: the document's identity in the store
    sha256: str
    size: int


def _key(path: Path) -> str:
    """A file's identity in the store: its absolute path with symlinks resolved (as given when
    that is impossible, e.g. a symlink loop)."""
    try:
        return str(path.resolve())
    except (OSError, RuntimeError):  # Python 3.11 raises RuntimeError on a symlink loop
        return os.path.abspath(path)


def _why_not_a_file(path: Path) -> str:
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symlink loop (the link leads back to itself)"
        if exc.errno == errno.ENOENT:
            return "no such file" if not os.path.islink(path) else "no such file (a dangling symlink)"
        return f"cannot read file: {exc.strerror or exc}"
    return "not a regular file (a folder, FIFO, socket or device)"


def _check(path: Path) -> _Job | FileOutcome:
    """Cheap checks in this process, without the database: readable, supported; its hash."""
    try:
        try:
            regular = path.is_file()
        except OSError:
            regular = False
        if not regular:
            raise GoalformsError(path, _why_not_a_file(path))
        reader_for(path)
        sha256, size = _sha256(path)
    except GoalformsError as exc:
        return FileOutcome(str(path), FAILED, reason=exc.reason)
    except OSError as exc:
        return FileOutcome(str(path), FAILED, reason=f"cannot read file: {exc.strerror or exc}")
    return _Job(path, _key(path), sha256, size)


def _not_imported(jobs: list[_Job], engine: Engine) -> list[_Job | FileOutcome]:
    """Each job as it is, or skipped when its content is already imported: one query for them all
    (a query per file was most of this process's own time per file)."""
    if not jobs:
        return []
    with engine.connect() as connection:
        same = {row.sha256: row for row in connection.execute(
            select(_DOCUMENTS.c.sha256, _DOCUMENTS.c.path, _DOCUMENTS.c.format)
            .where(_DOCUMENTS.c.sha256.in_(sorted({job.sha256 for job in jobs}))))}
    out: list[_Job | FileOutcome] = []
    for job in jobs:
        found = same.get(job.sha256)
        if found is None:
            out.append(job)
            continue
        where = "" if found.path == job.key else f" (same content as {found.path})"
        out.append(FileOutcome(str(job.path), SKIPPED, reason=f"already imported{where}", format=found.format))
    return out


def _prepare(path: Path, engine: Engine) -> _Job | FileOutcome:
    """Cheap checks in this process: readable, supported, not already imported."""
    checked = _check(path)
    return _not_imported([checked], engine)[0] if isinstance(checked, _Job) else checked


_DOCUMENTS = models.SourceDocument.__table__
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


def _stored(connection: Connection, job: _Job) -> _Stored:
    """All of :class:`_Stored` in one query (each answer one more round trip per file otherwise)."""
    rows = fetch(connection, _STORED, (job.key, job.sha256, job.key, job.key))
    documents = [r for r in rows if r[0] is not None]
    flags = {r[1] for r in rows if r[0] is None}
    return _Stored(next((r[0] for r in documents if r[1] == job.key), None),
                   any(r[2] == job.sha256 for r in documents), "corrected" in flags, "failed" in flags)


def _load(job: _Job, result: ParseResult, engine: Engine) -> FileOutcome:
    """Store one parsed file in one transaction (or record why it failed)."""
    doc = result.doc
    if doc is None:
        return FileOutcome(str(job.path), FAILED, reason=result.reason)
    if doc.source.sha256 != job.sha256:
        return FileOutcome(str(job.path), FAILED, reason="file changed while it was being imported")
    stale = ""
    try:
        # The rows are built before the transaction: in the workers, at the same time as another
        # worker holds the write lock; only the writing is serialised.
        rows = prepare_rows(doc, engine.dialect)
        prepared = prepare_review(doc)  # the review's part that needs no other file (docs/review.md)
        # SQLite: the writers of this database take turns on a file lock (woken at once, where
        # SQLite's busy handler sleeps in steps); the transaction below stays the one that counts.
        with sqlite_file_lock(engine), Session(engine) as session, session.begin():
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
        _ENGINES[key] = make_engine(url)  # the schema is at head: the importing process upgraded it
    return _ENGINES[key]


def load_job(job: _Job, url: str, limits: Limits | None = None) -> FileOutcome:
    """A worker's job: parse one file under the limits (the timeout covers the parse), then load it
    in its own transaction on this process's engine for ``url``. Returns only the outcome (small to
    send back). A worker killed in the middle of the transaction leaves nothing committed."""
    return _load(job, parse_job(str(job.path), limits), _worker_engine(url))


def worker_url(engine: Engine) -> str | None:
    """The URL workers load into, or None when they cannot share the database (in-memory SQLite)."""
    database = engine.url.database
    if engine.dialect.name == "sqlite" and (not database or database == ":memory:" or "mode=memory" in str(engine.url)):
        return None
    return engine.url.render_as_string(hide_password=False)


def _quarantine(outcome: FileOutcome, engine: Engine) -> None:
    """Remember a failed file so that ``--retry-failed`` can run it again."""
    key = _key(Path(outcome.path))
    try:
        with Session(engine) as session, session.begin():
            session.execute(delete(models.ImportFailure).where(models.ImportFailure.path == key))
            session.add(models.ImportFailure(path=key, reason=outcome.reason, failed_at=dt.datetime.now(dt.UTC)))
    except SQLAlchemyError:
        pass  # the report still names the failure; the quarantine list is a convenience


def import_file(path: Path, engine: Engine) -> FileOutcome:
    """Import one file in this process (no workers)."""
    prepared = _prepare(path, engine)
    if isinstance(prepared, FileOutcome):
        outcome = prepared
    else:
        outcome = _load(prepared, parse_job(str(path)), engine)
    if outcome.status == FAILED:
        _quarantine(outcome, engine)
    return outcome


def failed_paths(engine: Engine) -> list[Path]:
    """The quarantine list: files whose last import failed."""
    with Session(engine) as session:
        return [Path(p) for p in session.scalars(select(models.ImportFailure.path).order_by(models.ImportFailure.path))]


class _Inline(Executor):
    """Run jobs in this process: one worker, no pickling, the simplest to debug."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        future.set_result(fn(*args, **kwargs))
        return future


def _executor(options: ImportOptions, limits: Limits) -> tuple[Any, Callable[[], None]]:
    """A concurrent.futures-like executor for the parse jobs, and how to close it."""
    if options.dask is not None:
        from distributed import Client, LocalCluster

        if options.dask == "local":
            cluster = LocalCluster(n_workers=max(1, options.workers), threads_per_worker=1, processes=True,
                                   dashboard_address=None)
            client = Client(cluster)

            def close_both() -> None:
                client.close()
                cluster.close()

            return client, close_both
        client = Client(options.dask)
        return client, client.close
    if options.workers <= 1 and not options.isolate:
        return _Inline(), lambda: None
    pool = _Pool(max(1, options.workers), limits)
    return pool, pool.close


def import_paths(
    paths: Iterable[str | Path | Unreachable],
    engine: Engine,
    on_file: Callable[[FileOutcome], None] | None = None,
    options: ImportOptions | None = None,
) -> ImportReport:
    """Import every file under ``paths``; ``on_file`` sees each outcome as it happens.

    At most a few parse jobs per worker are in flight, so memory stays flat however many files.
    """
    options = options or ImportOptions(workers=1)
    limits = options.limits or limits_.current()
    report = ImportReport()

    def finish(outcome: FileOutcome, quarantine: bool = True) -> None:
        if outcome.status == FAILED and quarantine:
            _quarantine(outcome, engine)
        report.outcomes.append(outcome)
        if on_file is not None:
            on_file(outcome)

    executor, close = _executor(options, limits)
    window = max(2, 4 * max(1, options.workers))
    pending: dict[Any, _Job] = {}
    # Local worker processes load what they parse; Dask workers and the inline mode only parse.
    url = worker_url(engine) if isinstance(executor, _Pool) else None
    drain = _Drain(executor, engine, finish, options, limits, pending, url)
    ready: list[_Job] = []
    checking: list[_Job] = []  # hashed, not yet looked up in the database

    def check() -> None:
        for prepared in _not_imported(checking, engine):
            if isinstance(prepared, FileOutcome):
                finish(prepared)
            else:
                ready.append(prepared)
        checking.clear()

    def dispatch() -> None:
        # The biggest of the files ready first: a big file started last runs alone at the end
        # while the other workers wait (four PDFs of 13, 11, 8 and 3 pages: 19 pages on the
        # busier worker instead of 24).
        # One worker (or none) keeps the order of discovery.
        if isinstance(executor, _Pool) and options.workers > 1:
            ready.sort(key=lambda job: job.size, reverse=True)
        for job in ready:
            drain.submit(job)
        ready.clear()

    try:
        for found in discover(paths):
            if isinstance(found, Unreachable):  # a folder problem: reported, never quarantined
                finish(FileOutcome(str(found.path), found.status, reason=found.reason), quarantine=False)
                continue
            prepared = _check(found)
            if isinstance(prepared, FileOutcome):
                finish(prepared)
                continue
            checking.append(prepared)
            if len(checking) + len(ready) + len(pending) >= window:
                check()
                if len(ready) + len(pending) >= window:
                    dispatch()
                    drain.run(until=window // 2)
        check()
        dispatch()
        drain.run(until=0)
    except BaseException:
        # Ctrl-C, SIGTERM, a database gone: stop the workers now rather than wait for their files.
        if isinstance(executor, _Pool):
            executor.kill()
        raise
    finally:
        close()
    return report


@dataclass
class _Drain:
    """Submits jobs and finishes their files as they finish (in the order they finish): a worker's
    outcome as it is, or (``url`` None) a parse loaded here.

    A local worker that dies (killed by the kernel, over its memory ceiling in native code) breaks
    the pool and every job in flight with it: the pool is replaced and those jobs run again, one
    at a time; one that kills its worker again fails with the reason. A worker stuck in native
    code far past the timeout (the timer cannot interrupt it) is killed the same way."""

    executor: Any
    engine: Engine
    finish: Callable[[FileOutcome], None]
    options: ImportOptions
    limits: Limits
    pending: dict[Any, _Job]
    url: str | None = None  # the workers load into this database; None: they parse, this process loads
    forked: bool = False  # the pool's workers are started (a new pool starts them again)

    def _submit(self, job: _Job) -> Any:
        if isinstance(self.executor, _Pool) and not self.forked:
            # The pool forks its workers at its first job: no connection of this process may be
            # open then (a child must never touch, nor close, a connection of its parent: on
            # SQLite, closing a copy of the file would drop the child's own locks).
            self.engine.dispose()
            self.forked = True
        if self.url is not None:
            return self.executor.submit(load_job, job, self.url, self.limits)
        return self.executor.submit(parse_job, str(job.path), self.limits)

    def _outcome(self, job: _Job, result: ParseResult | FileOutcome) -> FileOutcome:
        if isinstance(result, FileOutcome):  # loaded (or failed) by the worker
            return result
        return _load(job, result, self.engine)

    def submit(self, job: _Job) -> None:
        try:
            self.pending[self._submit(job)] = job
        except BrokenProcessPool:  # a worker died since the last look: recover, this job included
            self._broken(job)

    def run(self, until: int) -> None:
        """Load finished parses until at most ``until`` are in flight."""
        if self.options.dask is not None:
            from distributed import as_completed

            for future in as_completed(list(self.pending)):
                job = self.pending.pop(future)
                self.finish(self._outcome(job, future.result()))
                if len(self.pending) <= until:
                    return
            return
        # Long enough for a worker's own timer to fire on every job in flight before it.
        stuck_after = (self.limits.timeout_s * 2 + 30) if self.limits.timeout_s else None
        while len(self.pending) > until:
            done, _ = wait(list(self.pending), timeout=stuck_after, return_when=FIRST_COMPLETED)
            if not done:  # nothing finished for far longer than the timeout: a worker is stuck
                assert isinstance(self.executor, _Pool)
                self.executor.kill()
                continue
            for future in done:
                if future not in self.pending:  # already handled with a broken pool
                    continue
                job = self.pending.pop(future)
                try:
                    result = future.result()
                except BrokenProcessPool:
                    self._broken(job)
                    continue
                self.finish(self._outcome(job, result))

    def _broken(self, job: _Job) -> None:
        """A worker died: the pool fails every job in flight at once, and which one killed it is
        unknown. Those that had finished are loaded; the others run again ONE AT A TIME in a new
        pool, so that a file that kills its worker again is known and fails alone."""
        wait(list(self.pending))
        suspects = [job]
        for future, each in list(self.pending.items()):
            del self.pending[future]
            try:
                result = future.result()
            except BrokenProcessPool:
                suspects.append(each)
                continue
            self.finish(self._outcome(each, result))
        assert isinstance(self.executor, _Pool)
        self.executor.restart()
        self.forked = False
        for each in suspects:
            future = self._submit(each)
            stuck_after = (self.limits.timeout_s * 2 + 30) if self.limits.timeout_s else None
            if not wait([future], timeout=stuck_after).done:
                self.executor.kill()  # stuck in native code past its own timer
            try:
                result = future.result()
            except BrokenProcessPool:
                self.executor.restart()
                self.forked = False
                reason = _DIED.format("killed, out of memory or crashed", self.limits.max_memory_mb)
                self.finish(FileOutcome(str(each.path), FAILED, reason=reason))
                continue
            self.finish(self._outcome(each, result))
