"""Import: files and folders into the store, one transaction per file, idempotent by content.

- An unchanged file (same sha256 as an imported one) is skipped without parsing, so an
  interrupted import simply resumes: what was committed stays, the rest is done next time.
- Local worker processes parse files AND load them, each in one transaction of its own on the
  worker's connection (one engine per worker process, made on its first file), and send back only
  the outcomes: this process walks, hashes, skips what is imported, hands out files (small ones a
  few to a job: :func:`chunks`), reports, quarantines and, on SQLite, checkpoints the log
  (schema/wal.py). The transaction and its locks are in transaction.py: a file's rows are built
  before it; what reads other files' rows is serialised — on SQLite the whole write (the writers
  take turns on ``DB.lock``, then ``BEGIN IMMEDIATE``), on PostgreSQL only between files of one
  project (advisory locks), so that files of different projects load fully in parallel. A file's
  cross-file reads (links to the reports and forms already stored, the review's previous year of
  a project and next years reviewed again, corrections replayed) thus see every file of its
  projects committed before it, as in a one-worker run; the unique keys (content hash, path) keep
  concurrent imports of the same file to one copy.
- A Dask LocalCluster's workers (``--dask local``) parse and load as the pool's do. With one worker
  in this process (``workers=1``, not isolated), an in-memory SQLite database, or a remote Dask
  cluster (whose workers may not reach the database), the workers only parse and this process
  loads, one transaction per file, the same way.
- A changed file at an imported path replaces that path's rows, in the same transaction.
- A file that cannot be read or holds no form fails with its reason; nothing of it is loaded,
  it goes to the quarantine list (``import_failures``) and the other files go on.
- Every file is parsed under the limits per file (parsers/readers/limits.py, docs/limits.md): in
  a worker process, a wall-clock timeout and a memory ceiling too. A file over a limit fails
  alone; a worker that dies takes only the file that killed it (its job's files run again one
  at a time to find it).
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

from sqlalchemy import Engine, delete, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from goalforms.errors import GoalformsError
from goalforms.parsers.readers import limits as limits_
from goalforms.parsers.readers import reader_for, worth_reading
from goalforms.parsers.readers.limits import Limits
from goalforms.pipeline.isolate import _DIED, ParseResult, _Pool, parse_job
from goalforms.pipeline.outcome import FAILED, LOADED, REPLACED, SKIPPED, FileOutcome, Job
from goalforms.pipeline.transaction import load_jobs, load_parsed, worker_url, written_before
from goalforms.schema import models
from goalforms.schema.wal import Checkpointer, importer_checkpoints

__all__ = ["FAILED", "LOADED", "REPLACED", "SKIPPED", "FileOutcome", "ImportOptions", "ImportReport", "discover",
           "failed_paths", "import_file", "import_paths"]


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


# Small files go to a worker a few at a time: fewer round trips through the pool for this process,
# and a worker writes its job's files in one turn of the SQLite write lock (load_jobs), so the
# workers wait for each other's turns a quarter as often (2,000 text files, 2 workers: the import
# ~25 % faster). Bigger files (PDFs, scans) go one a job, so that the workers stay balanced.
CHUNK_FILES = 4
SMALL_FILE = 64 * 1024  # bytes: text, Word, spreadsheets and HTML pages of a few forms
CHUNK_BYTES = 2 * SMALL_FILE


def _alone(job: Job) -> bool:
    """A file big enough to be a worker's job on its own."""
    return job.size > SMALL_FILE


def chunks(jobs: list[Job]) -> list[list[Job]]:
    """``jobs`` in their order, cut into the workers' jobs: a big file alone, small files together
    (at most CHUNK_FILES of them, CHUNK_BYTES in all)."""
    out: list[list[Job]] = []
    current: list[Job] = []
    for job in jobs:
        if _alone(job):
            out.append([job])
            continue
        if len(current) == CHUNK_FILES or sum(j.size for j in current) + job.size > CHUNK_BYTES:
            out.append(current)
            current = []
        current.append(job)
    if current:
        out.append(current)
    return out


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


def _check(path: Path) -> Job | FileOutcome:
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
    return Job(path, _key(path), sha256, size)


def _not_imported(jobs: list[Job], engine: Engine) -> list[Job | FileOutcome]:
    """Each job as it is, or skipped when its content is already imported: one query for them all
    (a query per file was most of this process's own time per file)."""
    if not jobs:
        return []
    with engine.connect() as connection:
        same = {row.sha256: row for row in connection.execute(
            select(_DOCUMENTS.c.sha256, _DOCUMENTS.c.path, _DOCUMENTS.c.format)
            .where(_DOCUMENTS.c.sha256.in_(sorted({job.sha256 for job in jobs}))))}
    out: list[Job | FileOutcome] = []
    for job in jobs:
        found = same.get(job.sha256)
        if found is None:
            out.append(job)
            continue
        where = "" if found.path == job.key else f" (same content as {found.path})"
        out.append(FileOutcome(str(job.path), SKIPPED, reason=f"already imported{where}", format=found.format))
    return out


def _prepare(path: Path, engine: Engine) -> Job | FileOutcome:
    """Cheap checks in this process: readable, supported, not already imported."""
    checked = _check(path)
    return _not_imported([checked], engine)[0] if isinstance(checked, Job) else checked


_DOCUMENTS = models.SourceDocument.__table__
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
        outcome = load_parsed(prepared, parse_job(str(path)), engine)
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


def workers_load(executor: Any, options: ImportOptions) -> bool:
    """Do the workers load what they parse? Local worker processes do (a pool's, a Dask
    LocalCluster's: they reach the database as this process does); a remote Dask cluster's workers,
    which may not reach it, and the inline mode only parse, and this process loads."""
    return isinstance(executor, _Pool) or options.dask == "local"


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

    executor, close = _executor(options, limits)
    url = worker_url(engine) if workers_load(executor, options) else None
    checkpoint = Checkpointer(engine) if url is not None and engine.dialect.name == "sqlite" and \
        importer_checkpoints(engine.url.database) else None

    def finish(outcome: FileOutcome, quarantine: bool = True) -> None:
        if outcome.status == FAILED and quarantine:
            _quarantine(outcome, engine)
        if checkpoint is not None and outcome.forms:
            checkpoint()
        report.outcomes.append(outcome)
        if on_file is not None:
            on_file(outcome)

    # Files in flight: four jobs a worker, a job being a chunk of small files (see chunks()).
    window = max(2, 4 * max(1, options.workers)) * (CHUNK_FILES if url is not None else 1)
    pending: dict[Any, list[Job]] = {}
    drain = _Drain(executor, engine, finish, options, limits, pending, url)
    ready: list[Job] = []
    checking: list[Job] = []  # hashed, not yet looked up in the database

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
        for chunk in (chunks(ready) if url is not None else [[job] for job in ready]):
            drain.submit(chunk)
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
            if len(checking) + len(ready) + drain.in_flight >= window:
                check()
                if len(ready) + drain.in_flight >= window:
                    dispatch()
                    drain.run(until=window // 2)
        check()
        dispatch()
        drain.run(until=0)
        if checkpoint is not None:
            checkpoint.finish()
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
    """Submits jobs (each a list of files: a chunk of small ones, or one) and finishes their files as
    they finish (in the order they finish): a worker's outcomes as they are, or (``url`` None) a
    parse loaded here.

    A local worker that dies (killed by the kernel, over its memory ceiling in native code) breaks
    the pool and every job in flight with it: the pool is replaced and the files of those jobs run
    again, one at a time; one that kills its worker again fails with the reason. A worker stuck in
    native code far past the timeout (the timer cannot interrupt it) is killed the same way."""

    executor: Any
    engine: Engine
    finish: Callable[[FileOutcome], None]
    options: ImportOptions
    limits: Limits
    pending: dict[Any, list[Job]]
    url: str | None = None  # the workers load into this database; None: they parse, this process loads
    forked: bool = False  # the pool's workers are started (a new pool starts them again)

    @property
    def in_flight(self) -> int:
        """Files submitted and not finished; where small files go a few to a job, a big file's job
        counts as a full one (the window is four jobs a worker, whatever their files)."""
        if self.url is None:
            return len(self.pending)
        return sum(CHUNK_FILES if len(jobs) == 1 and _alone(jobs[0]) else len(jobs)
                   for jobs in self.pending.values())

    def _stuck_after(self, files: int) -> float | None:
        """Long enough for a worker's own timer to fire on every file of a job of ``files``."""
        return self.limits.timeout_s * (files + 1) + 30 if self.limits.timeout_s else None

    def _submit(self, jobs: list[Job]) -> Any:
        if isinstance(self.executor, _Pool) and not self.forked:
            # The pool forks its workers at its first job: no connection of this process may be
            # open then (a child must never touch, nor close, a connection of its parent: on
            # SQLite, closing a copy of the file would drop the child's own locks).
            self.engine.dispose()
            self.forked = True
        if self.url is not None:
            if self.options.dask is not None:  # it writes: a task of its own, however alike its arguments
                return self.executor.submit(load_jobs, jobs, self.url, self.limits, pure=False)
            return self.executor.submit(load_jobs, jobs, self.url, self.limits)
        (job,) = jobs  # parse-only workers (a remote Dask cluster, inline) take one file at a time
        return self.executor.submit(parse_job, str(job.path), self.limits)

    def _finish(self, jobs: list[Job], result: ParseResult | list[FileOutcome]) -> None:
        if isinstance(result, list):  # loaded (or failed) by the worker
            for outcome in result:
                self.finish(outcome)
            return
        self.finish(load_parsed(jobs[0], result, self.engine))

    def submit(self, jobs: list[Job]) -> None:
        try:
            self.pending[self._submit(jobs)] = jobs
        except BrokenProcessPool:  # a worker died since the last look: recover, these jobs included
            self._broken(jobs)

    def run(self, until: int) -> None:
        """Load finished parses until at most ``until`` files are in flight."""
        if self.options.dask is not None:
            from distributed import as_completed

            for future in as_completed(list(self.pending)):
                jobs = self.pending.pop(future)
                self._finish(jobs, future.result())
                if self.in_flight <= until:
                    return
            return
        while self.in_flight > until:
            stuck_after = self._stuck_after(max(len(jobs) for jobs in self.pending.values()))
            done, _ = wait(list(self.pending), timeout=stuck_after, return_when=FIRST_COMPLETED)
            if not done:  # nothing finished for far longer than the timeout: a worker is stuck
                assert isinstance(self.executor, _Pool)
                self.executor.kill()
                continue
            for future in done:
                if future not in self.pending:  # already handled with a broken pool
                    continue
                jobs = self.pending.pop(future)
                try:
                    result = future.result()
                except BrokenProcessPool:
                    self._broken(jobs)
                    continue
                self._finish(jobs, result)

    def _broken(self, jobs: list[Job]) -> None:
        """A worker died: the pool fails every job in flight at once, and which file killed it is
        unknown. Those that had finished are loaded; the files of the others run again ONE AT A
        TIME in a new pool, so that a file that kills its worker again is known and fails alone.
        A worker killed while it wrote its job (the watchdog kills every worker, the kernel's
        OOM killer any) had committed some of its files: those are found stored, with their
        content, and reported loaded as they are stored instead of run again."""
        wait(list(self.pending))
        suspects = list(jobs)
        for future, each in list(self.pending.items()):
            del self.pending[future]
            try:
                result = future.result()
            except BrokenProcessPool:
                suspects += each
                continue
            self._finish(each, result)
        assert isinstance(self.executor, _Pool)
        self.executor.restart()
        self.forked = False
        written = written_before(self.engine, suspects) if self.url is not None else {}
        for suspect in suspects:
            if suspect.key in written:
                self.finish(written[suspect.key])
                continue
            future = self._submit([suspect])
            if not wait([future], timeout=self._stuck_after(1)).done:
                self.executor.kill()  # stuck in native code past its own timer
            try:
                result = future.result()
            except BrokenProcessPool:
                self.executor.restart()
                self.forked = False
                reason = _DIED.format("killed, out of memory or crashed", self.limits.max_memory_mb)
                self.finish(FileOutcome(str(suspect.path), FAILED, reason=reason))
                continue
            self._finish([suspect], result)
