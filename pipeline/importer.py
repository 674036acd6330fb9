"""Import: files and folders into the store, one transaction per file, idempotent by content.

- An unchanged file (same sha256 as an imported one) is skipped without parsing, so an
  interrupted import simply resumes: what was committed stays, the rest is done next time.
- Parsing (the slow, pure stage) runs in worker processes, or on a Dask cluster; loading stays
  in this process, one transaction per file, so the result is the same as a one-worker run.
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

from sqlalchemy import Engine, delete, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from goalforms.errors import GoalformsError
from goalforms.parsers.readers import limits as limits_
from goalforms.parsers.readers import reader_for, worth_reading
from goalforms.parsers.readers.limits import Limits
from goalforms.pipeline.corrections import describe_stale, reapply_corrections
from goalforms.pipeline.isolate import _DIED, ParseResult, _Pool, parse_job
from goalforms.pipeline.load import find_by_path, find_by_sha, remove_document, store_document
from goalforms.pipeline.review.store import review_document
from goalforms.schema import models

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
    # Parse even a single worker's files in a child process (the CLI does): the memory ceiling and
    # the kill of a stuck parse need one. False with workers=1: in this process, easiest to debug.
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


def _prepare(path: Path, engine: Engine) -> _Job | FileOutcome:
    """Cheap checks in this process: readable, supported, not already imported."""
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
    key = _key(path)
    with Session(engine) as session:
        same = find_by_sha(session, sha256)
        if same is not None:
            where = "" if same.path == key else f" (same content as {same.path})"
            return FileOutcome(str(path), SKIPPED, reason=f"already imported{where}", format=same.format)
    return _Job(path, key, sha256, size)


def _load(job: _Job, result: ParseResult, engine: Engine) -> FileOutcome:
    """Store one parsed file in one transaction (or record why it failed)."""
    doc = result.doc
    if doc is None:
        return FileOutcome(str(job.path), FAILED, reason=result.reason)
    if doc.source.sha256 != job.sha256:
        return FileOutcome(str(job.path), FAILED, reason="file changed while it was being imported")
    stale = ""
    try:
        with Session(engine) as session, session.begin():
            if engine.dialect.name == "sqlite":
                # Take the write lock first: a transaction that reads and then writes can meet
                # another import's writer and fail at once with "database is locked" (no wait).
                session.connection().exec_driver_sql("BEGIN IMMEDIATE")
            previous = find_by_path(session, job.key)
            if find_by_sha(session, job.sha256) is not None:
                # Another import loaded this very content while we parsed it: nothing to replace.
                return FileOutcome(str(job.path), SKIPPED, reason="imported at the same time by another import")
            if previous is not None:
                remove_document(session, previous)
            stored = store_document(session, doc, job.key, job.size)
            # Clerk corrections of this path replayed over the new parse, in the same transaction;
            # those that no longer apply are named in the report (docs/clerks.md).
            stale = describe_stale(reapply_corrections(session, stored))
            review_document(session, stored, parsed=doc)  # findings of the corrected forms (docs/review.md)
            session.execute(delete(models.ImportFailure).where(models.ImportFailure.path == job.key))
    except IntegrityError:
        # Another import (a second process, a Dask client) loaded the same content or path
        # between our check and our commit: the unique keys kept it to one copy.
        with Session(engine) as session:
            if find_by_sha(session, job.sha256) is None:
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
    drain = _Drain(executor, engine, finish, options, limits, pending)
    try:
        for found in discover(paths):
            if isinstance(found, Unreachable):  # a folder problem: reported, never quarantined
                finish(FileOutcome(str(found.path), found.status, reason=found.reason), quarantine=False)
                continue
            prepared = _prepare(found, engine)
            if isinstance(prepared, FileOutcome):
                finish(prepared)
                continue
            drain.submit(prepared)
            if len(pending) >= window:
                drain.run(until=window // 2)
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
    """Submits parse jobs and loads their results as they finish (in the order they finish).

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

    def submit(self, job: _Job) -> None:
        try:
            self.pending[self.executor.submit(parse_job, str(job.path), self.limits)] = job
        except BrokenProcessPool:  # a worker died since the last look: recover, this job included
            self._broken(job)

    def run(self, until: int) -> None:
        """Load finished parses until at most ``until`` are in flight."""
        if self.options.dask is not None:
            from distributed import as_completed

            for future in as_completed(list(self.pending)):
                job = self.pending.pop(future)
                self.finish(_load(job, future.result(), self.engine))
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
                self.finish(_load(job, result, self.engine))

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
            self.finish(_load(each, result, self.engine))
        assert isinstance(self.executor, _Pool)
        self.executor.restart()
        for each in suspects:
            future = self.executor.submit(parse_job, str(each.path), self.limits)
            stuck_after = (self.limits.timeout_s * 2 + 30) if self.limits.timeout_s else None
            if not wait([future], timeout=stuck_after).done:
                self.executor.kill()  # stuck in native code past its own timer
            try:
                result = future.result()
            except BrokenProcessPool:
                self.executor.restart()
                reason = _DIED.format("killed, out of memory or crashed", self.limits.max_memory_mb)
                self.finish(FileOutcome(str(each.path), FAILED, reason=reason))
                continue
            self.finish(_load(each, result, self.engine))
