"""Import: files and folders into the store, one transaction per file, idempotent by content.

- An unchanged file (same sha256 as an imported one) is skipped without parsing.
- A changed file at an imported path replaces that path's rows, in the same transaction.
- A file that cannot be read or holds no form fails with its reason; nothing of it is loaded
  and the other files go on.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from goalforms.errors import GoalformsError
from goalforms.parsers.readers import READERS, reader_for
from goalforms.pipeline.load import find_by_path, find_by_sha, remove_document, store_document
from goalforms.pipeline.parse import parse_grid

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


def import_file(path: Path, engine: Engine) -> FileOutcome:
    """Import one file in one transaction; never raises for bad input."""
    key = str(path.resolve())
    try:
        if not path.is_file():
            raise GoalformsError(path, "no such file" if not path.exists() else "not a regular file")
        reader = reader_for(path)
        sha256, size = _sha256(path)
        with Session(engine) as session, session.begin():
            same = find_by_sha(session, sha256)
            if same is not None:
                where = "" if same.path == key else f" (same content as {same.path})"
                return FileOutcome(str(path), SKIPPED, reason=f"already imported{where}")
        grid = reader(path)
        if grid.sha256 != sha256:
            raise GoalformsError(path, "file changed while it was being imported")
        doc = parse_grid(grid)
        try:
            with Session(engine) as session, session.begin():
                previous = find_by_path(session, key)
                if previous is not None:
                    remove_document(session, previous)
                store_document(session, doc, key, size)
        except IntegrityError:
            # Another import (a second process, a Dask worker) loaded the same content or path
            # between our check and our commit: the unique keys kept it to one copy.
            with Session(engine) as session:
                if find_by_sha(session, sha256) is None:
                    raise
            return FileOutcome(str(path), SKIPPED, reason="imported at the same time by another import")
        return FileOutcome(
            str(path),
            REPLACED if previous is not None else LOADED,
            forms=len(doc.forms),
            indicators=sum(len(f.indicators) for f in doc.forms),
            issues=sum(len(f.issues) for f in doc.forms),
        )
    except GoalformsError as exc:
        return FileOutcome(str(path), FAILED, reason=exc.reason)
    except OSError as exc:
        return FileOutcome(str(path), FAILED, reason=f"cannot read file: {exc.strerror or exc}")
    except SQLAlchemyError as exc:
        return FileOutcome(str(path), FAILED, reason=f"database error: {exc.__class__.__name__}: {exc}")
    except Exception as exc:  # a parser bug must not stop a batch of thousands of files
        return FileOutcome(str(path), FAILED, reason=f"internal error (please report): {exc.__class__.__name__}: {exc}")


def import_paths(
    paths: Iterable[str | Path],
    engine: Engine,
    on_file: Callable[[FileOutcome], None] | None = None,
) -> ImportReport:
    """Import every file under ``paths``; ``on_file`` sees each outcome as it happens."""
    report = ImportReport()
    for path in discover(paths):
        outcome = import_file(path, engine)
        report.outcomes.append(outcome)
        if on_file is not None:
            on_file(outcome)
    return report
