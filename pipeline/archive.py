"""One archive, one handle: the library calls the CLI and the web app make (library first).

``Archive(url)`` names a database (an SQLAlchemy URL or an SQLite file path) and offers what can be
done with it — import files (:mod:`.importer`), read views and run queries (:mod:`.analysis`),
review (:mod:`.review.store`), record, undo, export and apply corrections and list open issues
(:mod:`.corrections`). The CLI commands translate their arguments into one call each and the
errors (:class:`~goalforms.errors.GoalformsError`) into ``error: …``; the web app opens its
sessions through the same handle.

Methods that read or change forms on a user's behalf take ``user`` (a web-app user's name): the
call then sees only the forms of that user's units (a :class:`~goalforms.pipeline.scope.Scope`);
an unknown name is refused. Each method that changes something runs in its own transaction,
committed when it returns and rolled back when it raises.

Nothing heavy is imported here at module level: ``goalforms --help`` and the commands that do not
touch a database must not pay for SQLAlchemy, pandas, FastAPI or the parsers (tests/test_startup.py);
each method imports what it uses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session

    from goalforms.pipeline.analysis import QueryLimits, QueryResult
    from goalforms.pipeline.corrections import Change, OpenIssue
    from goalforms.pipeline.importer import FileOutcome, ImportOptions, ImportReport
    from goalforms.pipeline.review.rules import RuleSet
    from goalforms.pipeline.review.store import FindingFilter
    from goalforms.pipeline.scope import Scope
    from goalforms.schema.clerk_models import Correction


class Archive:
    """A goalforms database and what can be done with it."""

    def __init__(self, url: str | None = None, engine: Engine | None = None) -> None:
        # As given (None: the default SQLite file): the read-only analysis resolves it itself.
        self.url = url if engine is None else engine.url.render_as_string(hide_password=False)
        self._engine = engine

    @classmethod
    def for_engine(cls, engine: Engine) -> Archive:
        """A handle on an engine already open (and migrated), e.g. the web app's."""
        return cls(engine=engine)

    # --- the database ------------------------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        """The engine, opened on first use with the schema brought to the newest revision."""
        if self._engine is None:
            from goalforms.schema.db import connect

            self._engine = connect(self.url)
        return self._engine

    def open(self) -> Engine:
        """Open the database now (a bad URL or a server that refuses raises here)."""
        return self.engine

    def session(self) -> Session:
        """A new ORM session (the caller commits)."""
        from sqlalchemy.orm import Session

        return Session(self.engine)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in a transaction: committed at the end of the block, rolled back if it raises.
        What it loaded stays readable after the block (the records a method returns)."""
        from sqlalchemy.orm import Session

        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield session

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def scope(self, session: Session, user: str | None) -> Scope | None:
        """The units ``user`` is limited to (UserError if there is no such user); None: every form."""
        from goalforms.pipeline import users
        from goalforms.pipeline.scope import Scope

        if user is None:
            return None
        found = users.find_user(session, user)
        if found is None:
            raise users.UserError(f"no user {user!r}")
        return Scope.for_user(session, found)

    # --- import ------------------------------------------------------------------------------------

    def failed_paths(self) -> list[Path]:
        """The files whose last import failed (the quarantine list)."""
        from goalforms.pipeline.importer import failed_paths

        return failed_paths(self.engine)

    def import_paths(self, paths: Iterable[Path], options: ImportOptions | None = None,
                     on_file: Callable[[FileOutcome], None] | None = None) -> ImportReport:
        """Import files (as :func:`goalforms.pipeline.importer.discover` lists them): one transaction
        per file, unchanged files skipped."""
        from goalforms.pipeline.importer import import_paths

        return import_paths(list(paths), self.engine, on_file=on_file, options=options)

    # --- analysis: read-only, through the views ----------------------------------------------------

    def query(self, sql: str, limits: QueryLimits | None = None) -> QueryResult:
        """One SQL statement over a read-only connection, within limits."""
        from goalforms.pipeline import analysis

        return analysis.query(self.url, sql, limits)

    def view(self, name: str) -> pd.DataFrame:
        """An analyst view as a typed DataFrame."""
        from goalforms.pipeline import analysis

        return analysis.view(self.url, name)

    def views(self, names: Iterable[str] | None = None) -> dict[str, pd.DataFrame]:
        from goalforms.pipeline import analysis

        return analysis.views(self.url, names)

    def export(self, fmt: str, view: str = "v_indicators", out: str | Path | None = None) -> Path:
        """Write a view to a CSV, Excel or Parquet file; returns the file written."""
        from goalforms.pipeline import analysis

        return analysis.export(self.url, fmt, view, out)

    def series(self, project: str, unit: str | None = None) -> QueryResult:
        """One project's targets across years, lined up by dimension and name."""
        from goalforms.pipeline import analysis

        return analysis.series(self.url, project, unit)

    # --- review ------------------------------------------------------------------------------------

    def review_pending(self) -> int:
        """Review the forms never reviewed, or reviewed under older rules; returns how many."""
        from goalforms.pipeline.review.rules import default_rule_sets
        from goalforms.pipeline.review.store import review_pending

        with self.transaction() as session:
            return review_pending(session, list(default_rule_sets()))

    def findings(self, filters: FindingFilter | None = None,
                 rule_sets: Sequence[RuleSet] = ()) -> list[dict[str, Any]]:
        """The review's findings, the pending forms reviewed first. With ``rule_sets`` (rules of the
        caller's own), their findings are computed now and not stored."""
        from goalforms.pipeline.review.rules import combine
        from goalforms.pipeline.review.store import FindingFilter, findings, live_findings

        self.review_pending()
        filters = filters or FindingFilter()
        with self.session() as session:
            return live_findings(session, combine(list(rule_sets)), filters) if rule_sets else findings(session, filters)

    # --- corrections and issues --------------------------------------------------------------------

    def issues(self, path: str | None = None, unit: str | None = None, year: int | None = None,
               code: str | None = None, project: str | None = None, user: str | None = None) -> list[OpenIssue]:
        """Open issues (resolved ones left out), in document order."""
        from goalforms.pipeline import corrections

        with self.session() as session:
            return corrections.open_issues(session, path, unit, year, code, project, scope=self.scope(session, user))

    def record(self, path: str, ordinal: int, changes: Sequence[Change], author: str, note: str | None = None,
               user: str | None = None) -> list[Correction]:
        """Record changes to one form (all or nothing; CorrectionError lists every refusal)."""
        from goalforms.pipeline import corrections

        with self.transaction() as session:
            return corrections.record(session, path, ordinal, changes, author, note, scope=self.scope(session, user))

    def undo(self, correction_id: int, author: str, user: str | None = None) -> list[Correction]:
        """Undo a correction; returns the later ones that no longer apply without it."""
        from goalforms.pipeline import corrections

        with self.transaction() as session:
            return corrections.undo(session, correction_id, author, scope=self.scope(session, user))

    def export_corrections(self, path: str | None = None, status: str | None = None,
                           user: str | None = None) -> list[dict[str, Any]]:
        """Every correction (of one document, of one status) as a plain dict, in the order made."""
        from goalforms.pipeline import corrections

        with self.session() as session:
            return corrections.export_corrections(session, path, status, scope=self.scope(session, user))

    def apply_corrections(self, file: Path, author: str, user: str | None = None) -> tuple[int, list[Correction]]:
        """Record the changes of a CSV or JSON corrections file, all or none; returns (changes in
        the file, corrections made)."""
        from goalforms.pipeline import corrections

        planned = corrections.read_corrections_file(file)
        with self.transaction() as session:
            return len(planned), corrections.apply_changes(session, planned, author, scope=self.scope(session, user))

    def refresh_corrections(self) -> int:
        """Rebuild the corrected copy of every corrected form; returns how many."""
        from goalforms.pipeline import corrections

        with self.transaction() as session:
            return corrections.refresh_all(session)
