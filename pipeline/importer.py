"""Import: files and folders into the store, one transaction per file, idempotent by content.

- An unchanged file (same sha256 as an imported one) is skipped without parsing, so an
  interrupted import simply resumes: what was committed stays, the rest is done next time.
- Parsing (the slow, pure stage) runs in worker processes, or on a Dask cluster; loading stays
  in this process, one transaction per file, so the result is the same as a one-worker run.
- A changed file at an imported path replaces that path's rows, in the same transaction.
- A file that cannot be read or holds no form fails with its reason; nothing of it is loaded,
  it goes to the quarantine list (``import_failures``) and the other files go on.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, delete, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from goalforms.errors import GoalformsError
from goalforms.parsers.readers import READERS, reader_for
from goalforms.pipeline.corrections import describe_stale, reapply_corrections
from goalforms.pipeline.load import find_by_path, find_by_sha, remove_document, store_document
from goalforms.pipeline.model import ParsedDocument
from goalforms.pipeline.parse import parse_file
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


@dataclass
class ImportReport:
    outcomes: list[FileOutcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def failures(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status == FAILED]

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


def discover(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Files to import: named files as given; folders walked recursively (sorted, streaming) for
    the suffixes a reader exists for. A named path that does not exist is yielded so that it
    fails with its reason."""
    for given in paths:
        path = Path(given)
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs.sort()
                for name in sorted(files):
                    if Path(name).suffix.lower() in READERS:
                        yield Path(root) / name
        else:
            yield path


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


@dataclass
class ParseResult:
    """What a worker sends back: the parse, or why there is none."""

    doc: ParsedDocument | None
    reason: str = ""


def parse_job(path: str) -> ParseResult:
    """Parse one file (runs in a worker process or on a Dask worker; never raises)."""
    try:
        return ParseResult(parse_file(path))
    except GoalformsError as exc:
        return ParseResult(None, exc.reason)
    except OSError as exc:
        return ParseResult(None, f"cannot read file: {exc.strerror or exc}")
    except Exception as exc:  # a parser bug must not stop a batch of thousands of files
        return ParseResult(None, f"internal error (please report): {exc.__class__.__name__}: {exc}")


def _prepare(path: Path, engine: Engine) -> _Job | FileOutcome:
    """Cheap checks in this process: readable, supported, not already imported."""
    try:
        if not path.is_file():
            raise GoalformsError(path, "no such file" if not path.exists() else "not a regular file")
        reader_for(path)
        sha256, size = _sha256(path)
    except GoalformsError as exc:
        return FileOutcome(str(path), FAILED, reason=exc.reason)
    except OSError as exc:
        return FileOutcome(str(path), FAILED, reason=f"cannot read file: {exc.strerror or exc}")
    key = str(path.resolve())
    with Session(engine) as session:
        same = find_by_sha(session, sha256)
        if same is not None:
            where = "" if same.path == key else f" (same content as {same.path})"
            return FileOutcome(str(path), SKIPPED, reason=f"already imported{where}")
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
            review_document(session, stored)  # findings of the corrected forms (docs/review.md)
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
    )


def _quarantine(outcome: FileOutcome, engine: Engine) -> None:
    """Remember a failed file so that ``--retry-failed`` can run it again."""
    key = str(Path(outcome.path).resolve())
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


def _executor(options: ImportOptions) -> tuple[Any, Callable[[], None]]:
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
    if options.workers <= 1:
        return _Inline(), lambda: None
    pool = ProcessPoolExecutor(max_workers=options.workers)
    return pool, lambda: pool.shutdown(cancel_futures=True)


def import_paths(
    paths: Iterable[str | Path],
    engine: Engine,
    on_file: Callable[[FileOutcome], None] | None = None,
    options: ImportOptions | None = None,
) -> ImportReport:
    """Import every file under ``paths``; ``on_file`` sees each outcome as it happens.

    At most a few parse jobs per worker are in flight, so memory stays flat however many files.
    """
    options = options or ImportOptions(workers=1)
    report = ImportReport()

    def finish(outcome: FileOutcome) -> None:
        if outcome.status == FAILED:
            _quarantine(outcome, engine)
        report.outcomes.append(outcome)
        if on_file is not None:
            on_file(outcome)

    executor, close = _executor(options)
    window = max(2, 4 * max(1, options.workers))
    pending: dict[Any, _Job] = {}
    try:
        for path in discover(paths):
            prepared = _prepare(path, engine)
            if isinstance(prepared, FileOutcome):
                finish(prepared)
                continue
            pending[executor.submit(parse_job, str(prepared.path))] = prepared
            if len(pending) >= window:
                _drain(pending, engine, finish, options, until=window // 2)
        _drain(pending, engine, finish, options, until=0)
    finally:
        close()
    return report


def _drain(pending: dict[Any, _Job], engine: Engine, finish: Callable[[FileOutcome], None],
           options: ImportOptions, until: int) -> None:
    """Load finished parses (in the order they finish) until at most ``until`` are in flight."""
    if options.dask is not None:
        from distributed import as_completed as completed
    else:
        from concurrent.futures import as_completed as completed  # type: ignore[assignment]
    for future in completed(list(pending)):
        job = pending.pop(future)
        finish(_load(job, future.result(), engine))
        if len(pending) <= until:
            return
