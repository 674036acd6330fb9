"""Analysis: the analyst views as pandas DataFrames, read-only SQL, exports and cross-year series.

The views (``v_indicators``, ``v_forms``, ``v_issues``, ``v_series``) are created by the migrations
and documented column by column in docs/views.md. Everything here reads through a connection the
database itself keeps read-only, so no SQL an analyst types can change the data:

- SQLite: the file is opened with ``mode=ro`` (and ``PRAGMA query_only``); Python's sqlite3 runs one
  statement per call.
- PostgreSQL: the session defaults to read-only transactions, the transaction is opened READ ONLY,
  the statement is sent as a prepared statement (the server accepts exactly one statement that
  way) and the transaction is rolled back, never committed.

Whether SQL writes is left to the database to decide: nothing here parses SQL for that.

Limits of ``query`` (docs/limits.md): a statement timeout (SQLite: a progress handler; PostgreSQL:
``statement_timeout``), a cap on the rows and on the bytes kept (the result says it was capped),
and private tables — clerks' accounts, sessions, logins — that analyst SQL cannot read (see
:func:`private_table`; SQLite: an authorizer denies every read of them; PostgreSQL: a restricted
role when the database has one, and statements naming them are refused).

For notebooks::

    from goalforms.pipeline.analysis import views
    frames = views("goalforms.db")            # or "postgresql://user@host/db"
    frames["v_indicators"].query("year == 2026 and dimension == 'satisfaction'")
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from rich.cells import cell_len
from sqlalchemy import URL, Engine, create_engine, make_url, text
from sqlalchemy.pool import NullPool

from goalforms.errors import GoalformsError
from goalforms.pipeline.terminal import safe
from goalforms.schema import report_models
from goalforms.schema.db import alembic_config, connect, database_url

if TYPE_CHECKING:  # pandas is imported where frames are made: every goalforms command loads this module
    import pandas as pd

# Column kinds: how a view column becomes a pandas column, identically on SQLite and PostgreSQL
# (SQLite returns exact decimals as text and booleans as 0/1; PostgreSQL as Decimal and bool).
TEXT, EXACT, NUMBER, INTEGER, DATE, BOOLEAN = "text", "exact", "number", "integer", "date", "boolean"

_BUDGET = ("total", "current_year", "prior_year_budget", "prior_year_spent", "fiscal_appropriation",
           "carryover", "other_funds")

# Every view's columns in order, with their kinds. docs/views.md documents the same columns and a
# test holds the three (migration, this table, the documentation) together.
VIEW_COLUMNS: dict[str, dict[str, str]] = {
    "v_indicators": {
        "indicator_id": INTEGER, "form_id": INTEGER, "source_path": TEXT, "form_ordinal": INTEGER,
        "project_name": TEXT, "org_unit": TEXT, "department": TEXT, "year": INTEGER, "layout": TEXT,
        "position": INTEGER, "dimension": TEXT, "level1": TEXT, "level2": TEXT, "level3": TEXT,
        "raw": TEXT, "kind": TEXT, "op": TEXT, "value": EXACT, "value_num": NUMBER, "unit": TEXT,
        "source_line": INTEGER, "source_location": TEXT,
    },
    "v_forms": {
        "form_id": INTEGER, "source_path": TEXT, "form_ordinal": INTEGER, "layout": TEXT, "year": INTEGER,
        "project_name": TEXT, "org_unit": TEXT, "department": TEXT, "project_category": TEXT,
        "project_nature": TEXT, "plan_start": DATE, "plan_end": DATE, "gov_procurement": BOOLEAN,
        "performance_type": TEXT, "goal": TEXT, "collection_title": TEXT, "source_location": TEXT,
        **{item: EXACT for item in _BUDGET},
        **{f"{item}_num": NUMBER for item in _BUDGET},
        "indicator_count": INTEGER, "open_issue_count": INTEGER,
    },
    "v_issues": {
        "issue_id": INTEGER, "form_id": INTEGER, "source_path": TEXT, "form_ordinal": INTEGER,
        "project_name": TEXT, "org_unit": TEXT, "year": INTEGER, "layout": TEXT, "code": TEXT,
        "severity": TEXT, "message": TEXT, "location": TEXT, "field": TEXT, "indicator_id": INTEGER,
        "position": INTEGER, "level3": TEXT,
    },
    "v_series": {
        "project_name": TEXT, "org_unit": TEXT, "dimension": TEXT, "from_year": INTEGER, "to_year": INTEGER,
        "match_kind": TEXT, "similarity": NUMBER, "from_level3": TEXT, "to_level3": TEXT,
        "from_raw": TEXT, "to_raw": TEXT, "from_kind": TEXT, "to_kind": TEXT, "from_op": TEXT,
        "to_op": TEXT, "from_value": EXACT, "to_value": EXACT, "from_value_num": NUMBER,
        "to_value_num": NUMBER, "from_unit": TEXT, "to_unit": TEXT, "change": TEXT,
        "from_indicator_id": INTEGER, "to_indicator_id": INTEGER, "from_form_id": INTEGER,
        "to_form_id": INTEGER, "from_position": INTEGER, "to_position": INTEGER,
    },
}
# Issue 12 (migration 0008_siblings): columns added at the end of v_indicators and v_forms, and the
# view v_target_vs_actual.
VIEW_COLUMNS["v_indicators"].update({
    "form_kind": TEXT, "project_key": TEXT, "period": TEXT, "actual_raw": TEXT, "actual_kind": TEXT,
    "actual_op": TEXT, "actual_value": EXACT, "actual_value_num": NUMBER, "actual_unit": TEXT, "weight": EXACT,
    "weight_num": NUMBER, "score": EXACT, "score_num": NUMBER, "note": TEXT, "prior_year_raw": TEXT,
    "prior_year_kind": TEXT, "prior_year_op": TEXT, "prior_year_value": EXACT, "prior_year_value_num": NUMBER,
    "prior_year_unit": TEXT,
})
VIEW_COLUMNS["v_forms"].update({
    "kind": TEXT, "project_key": TEXT, "outcome": TEXT, "total_score": EXACT, "total_score_num": NUMBER,
    "grade": TEXT,
})
VIEW_COLUMNS["v_target_vs_actual"] = {
    "project_name": TEXT, "project_key": TEXT, "org_unit": TEXT, "year": INTEGER, "dimension": TEXT,
    "match_kind": TEXT, "similarity": NUMBER, "target_from": TEXT, "target_level3": TEXT, "target_raw": TEXT,
    "target_kind": TEXT, "target_op": TEXT, "target_value": EXACT, "target_value_num": NUMBER,
    "target_unit": TEXT, "eval_level1": TEXT, "eval_level3": TEXT, "eval_target_raw": TEXT, "actual_raw": TEXT,
    "actual_kind": TEXT, "actual_op": TEXT, "actual_value": EXACT, "actual_value_num": NUMBER,
    "actual_unit": TEXT, "met": INTEGER, "shortfall": NUMBER, "reason": TEXT, "weight": EXACT,
    "weight_num": NUMBER, "score": EXACT, "score_num": NUMBER, "note": TEXT, "eval_grade": TEXT,
    "eval_total_score": EXACT, "eval_total_score_num": NUMBER, "target_form_id": INTEGER,
    "target_indicator_id": INTEGER, "target_source_path": TEXT, "eval_form_id": INTEGER,
    "eval_indicator_id": INTEGER, "eval_source_path": TEXT,
}

VIEWS: dict[str, str] = {
    "v_indicators": "one row per indicator, with its form's project, unit, year, layout and its target",
    "v_forms": "one row per form, with its budget figures as columns",
    "v_issues": "one row per open parse issue, with its form and the indicator it concerns",
    "v_series": "the same project across years: its indicators lined up by dimension and name",
}

# The evaluation-report views (migration 0003, documented in docs/reports.md).
FORM_VIEWS = tuple(VIEWS)
VIEWS.update(report_models.VIEWS)
VIEW_COLUMNS.update(report_models.VIEW_COLUMNS)
# Issue 12 (migration 0008_siblings, documented in docs/views.md); empty without self-evaluations.
VIEWS["v_target_vs_actual"] = "a project's targets beside its self-evaluation of the same year: met, shortfall, score"

QUERY_FORMATS = ("table", "csv", "json")
EXPORT_FORMATS = ("csv", "xlsx", "parquet")

# The columns `goalforms series` shows (the view has more: values, units, ids, positions).
SERIES_COLUMNS = ("dimension", "from_year", "to_year", "match_kind", "similarity", "from_level3", "from_raw",
                  "to_level3", "to_raw", "change")

_SQLITE_READONLY = 8  # SQLITE_READONLY: the primary result code of every refused write
_PG_READ_ONLY_TRANSACTION = "25006"  # SQLSTATE read_only_sql_transaction
_ONE_STATEMENT = "only one SQL statement per query"


class AnalysisError(GoalformsError):
    """A view, query, export or series could not be served (the reason says why)."""


class ReadOnlyViolation(AnalysisError):
    """The SQL tried to change the database; the read-only connection refused it."""


@dataclass(frozen=True)
class QueryResult:
    """Rows of one statement, as the database driver returned them (``columns`` empty when the
    statement returns no rows at all, e.g. ``PRAGMA``/``SET``)."""

    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    # Why the rows stop early ("" when every row is there): the row or size cap was reached.
    capped: str = ""


# --- limits of analyst SQL ------------------------------------------------------------------------


@dataclass(frozen=True)
class QueryLimits:
    """What one analyst statement may cost; 0 turns a limit off. Environment:
    GOALFORMS_QUERY_TIMEOUT_S, GOALFORMS_QUERY_MAX_ROWS, GOALFORMS_QUERY_MAX_MB."""

    timeout_s: float = 30.0
    max_rows: int = 100_000
    max_mb: float = 256.0  # text and bytes of the rows kept (a rough measure of their memory)

    @classmethod
    def from_env(cls) -> QueryLimits:
        values: dict[str, Any] = {}
        for name, kind in (("timeout_s", float), ("max_rows", int), ("max_mb", float)):
            raw = os.environ.get(f"GOALFORMS_QUERY_{name.upper()}", "").strip()
            if raw:
                try:
                    values[name] = kind(float(raw))
                except ValueError:
                    raise AnalysisError(None, f"GOALFORMS_QUERY_{name.upper()}={raw!r} is not a number") from None
        return cls(**values)


# Private tables: what clerks log in with. Analyst SQL can read none of them, nor any column whose
# name says it holds a secret, whatever table it is in. The rule is by name so that tables added
# later (sessions, login attempts, API tokens) are covered the day they are created.
_PRIVATE_TABLE = re.compile(r"^(users?|user_.*|auth_.*|.*session.*|.*login.*|.*password.*|.*secret.*|.*token.*)$",
                            re.IGNORECASE)
_PRIVATE_COLUMN = re.compile(r"password|secret|token|passwd", re.IGNORECASE)


def private_table(name: str) -> bool:
    """Is ``name`` (a table, any case, with or without a schema) one analyst SQL may not read?"""
    return bool(_PRIVATE_TABLE.match(name.rsplit(".", 1)[-1].strip('"')))


def private_column(name: str) -> bool:
    return bool(_PRIVATE_COLUMN.search(name))


def _private_message(what: str) -> str:
    return (f"refused: {what} is private (clerks' accounts and sessions); goalforms query reads the views "
            "and form tables only")


# --- read-only connections ------------------------------------------------------------------------


def _display(url: URL) -> str:
    if url.get_backend_name() == "sqlite":
        return url.database or ":memory:"
    return url.render_as_string(hide_password=True)


def read_only_engine(db: str | None = None) -> Engine:
    """An engine whose every connection is read-only, on a goalforms database at the newest schema.

    ``db`` is a SQLAlchemy URL or an SQLite file path (default goalforms.db). A database made by an
    older goalforms is first upgraded by its migrations (the schema only; never data)."""
    url = make_url(database_url(db))
    backend = url.get_backend_name()
    if backend == "sqlite":
        engine = _sqlite_read_only(url)
    elif backend == "postgresql":
        # psycopg 3 whatever driver the URL names: query() relies on its prepared statements.
        engine = create_engine(url.set(drivername="postgresql+psycopg"), poolclass=NullPool,
                               connect_args={"options": "-c default_transaction_read_only=on"})
    else:
        raise AnalysisError(_display(url), f"read-only access supports SQLite and PostgreSQL, not {backend}")
    try:
        _ensure_schema(engine, url)
    except BaseException:
        engine.dispose()
        raise
    return engine


def _sqlite_read_only(url: URL) -> Engine:
    path = url.database
    if not path or path == ":memory:" or url.query.get("uri") or path.startswith("file:"):
        raise AnalysisError(_display(url), "give the SQLite database as a file path or sqlite:///PATH "
                                           "(goalforms opens it read-only itself)")
    file = Path(path)
    if not file.is_file():
        raise AnalysisError(path, "no such SQLite database file (import forms into it with goalforms import, "
                                  "or name another with --db)")
    uri = f"file:{quote(str(file.resolve()))}?mode=ro"

    def open_read_only() -> sqlite3.Connection:
        connection = sqlite3.connect(uri, uri=True, timeout=30)
        # mode=ro refuses writes to the file; query_only also refuses them in the temp schema;
        # no ATTACH, which would create the file it names.
        connection.execute("PRAGMA query_only=ON")
        connection.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
        return connection

    # NullPool: a fresh connection per use, so no statement can leave a changed session behind.
    return create_engine("sqlite://", creator=open_read_only, poolclass=NullPool)


def _ensure_schema(engine: Engine, url: URL) -> None:
    from goalforms.schema import head as recorded

    where = _display(url)
    try:
        with engine.connect() as connection:
            heads = recorded.current_heads(connection)
    except Exception as exc:  # the driver's own message says what is wrong (refused, no such host…)
        raise AnalysisError(where, f"cannot open the database: {_first_line(exc)}") from None
    # At the recorded head (schema/head.py), the usual case: no need to load Alembic's scripts.
    recording = recorded.load(engine.dialect.name)
    if recording is not None and heads == tuple(sorted(recording.heads)):
        return
    from alembic.script import ScriptDirectory
    from alembic.util.exc import CommandError

    current = heads[0] if heads else None
    script = ScriptDirectory.from_config(alembic_config(url.render_as_string(hide_password=False)))
    head = script.get_current_head()
    if current == head:
        return
    if current is None:
        raise AnalysisError(where, "holds no goalforms data (no goalforms schema): import forms into it "
                                   "first with goalforms import")
    try:
        script.get_revision(current)
    except CommandError:
        raise AnalysisError(where, f"its schema revision {current} is newer than this goalforms knows "
                                   f"(newest: {head}); upgrade goalforms") from None
    # An older goalforms database (e.g. from before the views): bring the schema up to date.
    connect(url.render_as_string(hide_password=False)).dispose()


def _first_line(exc: BaseException) -> str:
    message = str(getattr(exc, "orig", None) or exc).strip()
    return message.splitlines()[0] if message else exc.__class__.__name__


# --- query ----------------------------------------------------------------------------------------


def query(db: str | None, sql: str, limits: QueryLimits | None = None) -> QueryResult:
    """Run one SQL statement over a read-only connection, within ``limits`` (default: from the
    environment). An attempt to change the database raises ReadOnlyViolation; reading a private
    table, a timeout or any other failure AnalysisError with the reason."""
    if not sql.strip():
        raise AnalysisError(None, "the query is empty")
    limits = limits or QueryLimits.from_env()
    engine = read_only_engine(db)
    try:
        raw = engine.raw_connection()
        try:
            if engine.dialect.name == "sqlite":
                return _query_sqlite(raw.driver_connection, sql, limits)
            return _query_postgresql(raw.driver_connection, sql, limits)
        finally:
            raw.close()
    finally:
        engine.dispose()


class _Collector:
    """Keeps rows until the row or size cap; says why it stopped."""

    def __init__(self, limits: QueryLimits) -> None:
        self.limits = limits
        self.rows: list[tuple[Any, ...]] = []
        self.size = 0
        self.capped = ""

    def add(self, row: Iterable[Any]) -> bool:
        """Keep ``row``; False when the cap is reached (the row is not kept)."""
        row = tuple(row)
        if self.limits.max_rows and len(self.rows) >= self.limits.max_rows:
            self.capped = (f"capped at max_rows={self.limits.max_rows}: the statement returns more rows "
                           "(narrow it, or raise --max-rows / GOALFORMS_QUERY_MAX_ROWS)")
            return False
        self.size += sum(len(v) if isinstance(v, str | bytes) else 8 for v in row) + 56
        if self.limits.max_mb and self.size > self.limits.max_mb * (1 << 20):
            self.capped = (f"capped at max_mb={self.limits.max_mb:g}: the rows kept reached {self.limits.max_mb:g} MiB "
                           "(narrow the statement, or raise --max-mb / GOALFORMS_QUERY_MAX_MB)")
            return False
        self.rows.append(row)
        return True


def _timed_out(limits: QueryLimits) -> str:
    return (f"the query was stopped after {limits.timeout_s:g} s (timeout_s={limits.timeout_s:g}; "
            "raise --timeout / GOALFORMS_QUERY_TIMEOUT_S for a longer one)")


# SQLite's authorizer action codes and answers (sqlite3.SQLITE_READ etc., spelled out for mypy).
_SQLITE_READ, _SQLITE_OK, _SQLITE_DENY = 20, 0, 1
_SQLITE_MAX_VALUE = 64 << 20  # bytes of one string or blob a statement may build (default 1 GB)


def _query_sqlite(connection: Any, sql: str, limits: QueryLimits) -> QueryResult:
    denied: list[str] = []

    def authorise(action: int, table: str | None, column: str | None, _db: str | None, _src: str | None) -> int:
        # Every read of a column (the view's underlying tables included) comes through here.
        if action == _SQLITE_READ and ((table and private_table(table)) or (column and private_column(column))):
            denied.append(f"the table {table}" if table and private_table(table) else f"the column {table}.{column}")
            return _SQLITE_DENY
        return _SQLITE_OK

    deadline = time.monotonic() + limits.timeout_s if limits.timeout_s else None
    stopped = [False]

    def progress() -> int:
        if deadline is not None and time.monotonic() > deadline:
            stopped[0] = True
            return 1  # non-zero: SQLite interrupts the statement
        return 0

    connection.set_authorizer(authorise)
    connection.set_progress_handler(progress, 10_000)
    connection.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, _SQLITE_MAX_VALUE)
    collector = _Collector(limits)
    try:
        cursor = connection.execute(sql)
        columns = tuple(d[0] for d in cursor.description or ())
        while True:
            batch = cursor.fetchmany(1000)
            if not batch or not all(collector.add(r) for r in batch):
                break
    except (sqlite3.Error, sqlite3.Warning) as exc:  # Python 3.11 reports several statements as a Warning
        message = str(exc)
        if stopped[0]:
            raise AnalysisError(None, _timed_out(limits)) from None
        if denied:
            raise AnalysisError(None, _private_message(denied[0])) from None
        if "one statement at a time" in message:
            raise AnalysisError(None, f"{_ONE_STATEMENT} ({message})") from None
        code = getattr(exc, "sqlite_errorcode", None)
        if (code is not None and code & 0xFF == _SQLITE_READONLY) or "readonly database" in message:
            raise ReadOnlyViolation(None, _refused(message)) from None
        raise AnalysisError(None, f"the query failed: {message}") from None
    finally:
        connection.rollback()
        connection.set_progress_handler(None, 0)
        connection.set_authorizer(None)
    return QueryResult(columns, collector.rows, collector.capped)


# Identifiers in a statement (unquoted words, "quoted names"), for the PostgreSQL private-table check.
_WORD = re.compile(r'"((?:[^"]|"")*)"|([A-Za-z_\u0080-\uffff][\w$]*)')
# Ways to read a table whose name is built at run time, or to read table statistics: refused.
_INDIRECT = {"query_to_xml", "query_to_xml_and_xmlschema", "query_to_xmlschema", "cursor_to_xml",
             "cursor_to_xmlschema", "table_to_xml", "table_to_xml_and_xmlschema", "table_to_xmlschema",
             "schema_to_xml", "schema_to_xml_and_xmlschema", "database_to_xml", "database_to_xml_and_xmlschema",
             "ts_stat", "dblink", "pg_stats", "pg_statistic", "pg_stats_ext", "pg_stats_ext_exprs", "do",
             "pg_read_file", "pg_read_binary_file", "lo_get", "lo_export", "pg_stat_statements"}


def _named_private(sql: str) -> str | None:
    """What a PostgreSQL statement names that it may not read (best effort, see docs/limits.md):
    a private table or column, or a function that reads a table named by a string."""
    if re.search(r"\bU&['\"]", sql, re.IGNORECASE):
        return "a Unicode-escaped name (U&\"…\")"
    for match in _WORD.finditer(sql):
        word = match.group(1).replace('""', '"') if match.group(1) is not None else match.group(2).lower()
        if private_table(word) or private_column(word):
            return f"the name {word!r}"
        if word.lower() in _INDIRECT:
            return f"{word!r} (it reads tables named at run time or their statistics)"
    return None


# The role analyst SQL runs as on PostgreSQL when the database has it (docs/limits.md shows how to
# create it with SELECT on the views and form tables only): the guarantee, where the name check is not.
ANALYST_ROLE = "goalforms_analyst"


def _pg_describe(connection: Any, sql: str) -> tuple[str, ...]:
    """The column names of a statement that returned no rows (stream() leaves no description
    then): the statement is prepared and described, not run again."""
    pgconn = connection.pgconn
    prepared = pgconn.prepare(b"goalforms_describe", sql.encode("utf-8"))
    if prepared.error_message:
        return ()
    described = pgconn.describe_prepared(b"goalforms_describe")
    return tuple((described.fname(i) or b"").decode("utf-8") for i in range(described.nfields))


def _query_postgresql(connection: Any, sql: str, limits: QueryLimits) -> QueryResult:
    import psycopg  # only needed, and only installed for, PostgreSQL

    named = _named_private(sql)
    if named is not None:
        raise AnalysisError(None, _private_message(named))
    if connection.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        connection.rollback()
    connection.read_only = True  # BEGIN READ ONLY, on top of the session default
    collector = _Collector(limits)
    role = os.environ.get("GOALFORMS_ANALYST_ROLE", ANALYST_ROLE)
    try:
        with connection.cursor() as cursor:
            # Both settings are LOCAL: they end with this transaction, which is rolled back.
            cursor.execute("SELECT set_config('statement_timeout', %s, true)",
                           (f"{int(limits.timeout_s * 1000)}ms" if limits.timeout_s else "0",))
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s AND pg_has_role(current_user, oid, 'MEMBER')",
                           (role,))
            if cursor.fetchone() is not None:
                cursor.execute(psycopg.sql.SQL("SET LOCAL ROLE {}").format(psycopg.sql.Identifier(role)))
            # stream: the extended protocol (the server accepts exactly one statement that way, so
            # "SELECT 1; DELETE …" is refused) and rows one at a time, so the cap bounds memory.
            try:
                for row in cursor.stream(sql):
                    if not collector.add(row):
                        break
            except psycopg.ProgrammingError as exc:
                if "didn't produce a result" not in str(exc):
                    raise
                # A statement that returns no rows at all (SET, SHOW-less utility commands).
            columns = tuple(d.name for d in cursor.description or ())
            if not columns and not collector.rows:
                columns = _pg_describe(connection, sql)
    except psycopg.Error as exc:
        message = (exc.diag.message_primary or str(exc)).strip()
        if exc.sqlstate == _PG_READ_ONLY_TRANSACTION:
            raise ReadOnlyViolation(None, _refused(message)) from None
        if exc.sqlstate == "57014":  # query_canceled: the statement timeout
            raise AnalysisError(None, _timed_out(limits)) from None
        if exc.sqlstate == "42501":  # insufficient_privilege: the analyst role's grants
            raise AnalysisError(None, _private_message(f"what the statement reads ({message})")) from None
        if "multiple commands" in message:
            raise AnalysisError(None, f"{_ONE_STATEMENT} ({message})") from None
        raise AnalysisError(None, f"the query failed: {message}") from None
    finally:
        try:
            connection.rollback()  # never commit: whatever ran is undone
        except psycopg.Error:
            pass
    return QueryResult(columns, collector.rows, collector.capped)


def _refused(message: str) -> str:
    return f"refused: goalforms query is read-only and cannot change the database (database said: {message})"


# --- rendering ------------------------------------------------------------------------------------


def _text(value: Any) -> str:
    """One cell as text: exact decimals as written (never via float), dates ISO, NULL empty."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    return str(value)


def _json_value(value: Any) -> Any:
    # Decimals stay strings, as in the parse contract: a JSON number would be read as a float.
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dict | list):
        return value
    return _text(value)


def _is_number(value: Any) -> bool:
    # Decimal stays left-aligned: SQLite returns the same exact values as text, and a table should
    # look the same whichever database it came from.
    return isinstance(value, int | float) and not isinstance(value, bool)


def render(result: QueryResult, fmt: str = "table") -> str:
    """The rows as an aligned table, CSV (with a header) or JSON (a list of objects)."""
    if fmt == "json":
        records = [{c: _json_value(v) for c, v in zip(result.columns, row, strict=True)} for row in result.rows]
        return json.dumps(records, ensure_ascii=False, indent=2) + "\n"
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        if result.columns:
            writer.writerow(result.columns)
        writer.writerows([_text(v) for v in row] for row in result.rows)
        return buffer.getvalue()
    if fmt == "table":
        return _table(result)
    raise AnalysisError(None, f"unknown format {fmt!r}; choose one of {', '.join(QUERY_FORMATS)}")


def _table(result: QueryResult) -> str:
    if not result.columns:
        return "(the statement returned no rows)\n"
    # A table row is one line: line breaks inside a cell (goals, messages) are shown as ↵.
    # Other control characters (ESC, tabs, bidi overrides) are shown escaped: data is not to drive the terminal.
    cells = [[safe(_text(v).replace("\r\n", "↵").replace("\n", "↵")) for v in row] for row in result.rows]
    header = [safe(c) for c in result.columns]
    widths = [max([cell_len(h)] + [cell_len(row[i]) for row in cells]) for i, h in enumerate(header)]
    numeric = [bool(result.rows) and all(v is None or _is_number(v) for v in (r[i] for r in result.rows))
               for i in range(len(header))]

    def line(values: Sequence[str]) -> str:
        padded = []
        for i, value in enumerate(values):
            gap = " " * (widths[i] - cell_len(value))
            padded.append(gap + value if numeric[i] else value + gap)
        return "  ".join(padded).rstrip()

    lines = [line(header), "  ".join("-" * w for w in widths)]
    lines += [line(row) for row in cells]
    count = len(result.rows)
    lines.append(f"({count} row{'' if count == 1 else 's'}{'; ' + result.capped if result.capped else ''})")
    return "\n".join(lines) + "\n"


# --- views as DataFrames --------------------------------------------------------------------------


def _check_view(name: str) -> None:
    if name not in VIEWS:
        raise AnalysisError(None, f"unknown view {name!r}; the views are {', '.join(VIEWS)}")


def _exact(value: Any) -> Decimal | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    return value if isinstance(value, Decimal) else Decimal(str(value))


def typed_frame(view: str, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with each column of ``view`` as its kind: exact decimals as Decimal objects, *_num
    as float64, ids and counts as Int64, dates as datetime64, booleans as boolean, text as str."""
    import pandas as pd

    _check_view(view)
    converters: dict[str, Callable[[pd.Series], pd.Series]] = {
        TEXT: lambda s: s.astype("str"),
        EXACT: lambda s: s.map(_exact).astype(object),
        NUMBER: lambda s: pd.to_numeric(s).astype("float64"),
        INTEGER: lambda s: pd.to_numeric(s).astype("Int64"),
        DATE: lambda s: pd.to_datetime(s).astype("datetime64[ns]"),
        BOOLEAN: lambda s: s.map(lambda v: None if v is None or v != v else bool(int(v))).astype("boolean"),
    }
    typed = frame.copy()
    for column, kind in VIEW_COLUMNS[view].items():
        if column in typed.columns:
            typed[column] = converters[kind](typed[column])
    return typed


def view(db: str | None, name: str) -> pd.DataFrame:
    """One view as a DataFrame with the same columns and dtypes on SQLite and PostgreSQL."""
    return views(db, [name])[name]


def views(db: str | None = None, names: Iterable[str] | None = None) -> dict[str, pd.DataFrame]:
    """The analyst views (all, or ``names``) of the database ``db`` as DataFrames."""
    wanted = list(names) if names is not None else list(VIEWS)
    for name in wanted:
        _check_view(name)
    import pandas as pd

    engine = read_only_engine(db)
    frames: dict[str, pd.DataFrame] = {}
    try:
        with engine.connect() as connection:
            for name in wanted:
                result = connection.execute(text(f"SELECT * FROM {name}"))  # name is one of VIEWS
                frame = pd.DataFrame.from_records(result.fetchall(), columns=list(result.keys()))
                frames[name] = typed_frame(name, frame)
    finally:
        engine.dispose()
    return frames


# --- export ---------------------------------------------------------------------------------------

# Characters an xlsx cell cannot hold (openpyxl refuses them); PDF extraction can leave some behind.
_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def export(db: str | None, fmt: str, view_name: str = "v_indicators", out: str | Path | None = None) -> Path:
    """Write one view to ``out`` (default ``VIEW.FORMAT`` in the working folder) as csv, xlsx or
    parquet, through pandas. Returns the path written."""
    if fmt not in EXPORT_FORMATS:
        raise AnalysisError(None, f"unknown export format {fmt!r}; choose one of {', '.join(EXPORT_FORMATS)}")
    _check_view(view_name)
    target = Path(out) if out is not None else Path(f"{view_name}.{fmt}")
    if target.is_dir():
        target = target / f"{view_name}.{fmt}"
    if not target.parent.is_dir():
        raise AnalysisError(target, "its folder does not exist")
    frame = view(db, view_name)
    import pandas as pd

    try:
        if fmt == "csv":
            frame.to_csv(target, index=False)
        elif fmt == "xlsx":
            for column, kind in VIEW_COLUMNS[view_name].items():
                if kind == TEXT:
                    frame[column] = frame[column].str.replace(_XLSX_ILLEGAL, "", regex=True)
            with pd.ExcelWriter(target, engine="openpyxl") as writer:
                frame.to_excel(writer, index=False, sheet_name=view_name)
                # Targets such as "=100%" would be stored as formulas (Excel evaluates a text that
                # starts with "="): the frame holds data only, so every formula cell is text.
                for row in writer.sheets[view_name].iter_rows():
                    for cell in row:
                        if cell.data_type == "f":
                            cell.data_type = "s"
        else:
            frame.to_parquet(target, index=False)
    except OSError as exc:
        raise AnalysisError(target, f"cannot write: {exc.strerror or exc}") from None
    return target


# --- cross-year series ----------------------------------------------------------------------------


def series(db: str | None, project: str, unit: str | None = None) -> QueryResult:
    """How one project's targets changed from each year it appears in to the next (v_series),
    ordered like a diff: dimensions in the order of the later form, matched and added indicators
    in that form's order, then the dropped ones in the earlier form's order."""
    engine = read_only_engine(db)
    try:
        with engine.connect() as connection:
            where = "project_name = :project" + (" AND org_unit = :unit" if unit is not None else "")
            params = {"project": project, "unit": unit}
            result = connection.execute(text(f"SELECT * FROM v_series WHERE {where}"), params)
            records = [dict(r._mapping) for r in result]
            if not records:
                raise AnalysisError(None, _no_series(connection, project, unit))
    finally:
        engine.dispose()
    units = sorted({str(r["org_unit"]) for r in records})
    if len(units) > 1:
        raise AnalysisError(None, f"project {project!r} is filed by {len(units)} units ({', '.join(units)}); "
                                  "choose one with --unit")
    return QueryResult(SERIES_COLUMNS, [
        tuple(round(r[c], 2) if c == "similarity" and r[c] is not None else r[c] for c in SERIES_COLUMNS)
        for r in _diff_order(records)
    ])


def _diff_order(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    late = 1_000_000  # after every position of the later form

    def within(r: dict[str, Any]) -> int:
        return r["to_position"] if r["to_position"] is not None else late + r["from_position"]

    first: dict[tuple[Any, ...], int] = {}
    for r in records:
        key = (r["from_year"], r["to_year"], r["dimension"])
        first[key] = min(first.get(key, within(r)), within(r))
    return sorted(records, key=lambda r: (r["from_year"], first[(r["from_year"], r["to_year"], r["dimension"])],
                                          within(r)))


def _no_series(connection: Any, project: str, unit: str | None) -> str:
    """Why a project has no series: unknown (with close names), or found in one year only."""
    years = connection.execute(
        text("SELECT DISTINCT year FROM v_forms WHERE project_name = :p" + (" AND org_unit = :u" if unit else "")
             + " ORDER BY year"), {"p": project, "u": unit}).scalars().all()
    of_unit = f" of unit {unit!r}" if unit else ""
    if len(years) == 1:
        return f"project {project!r}{of_unit} appears only in {years[0]}: there is no other year to compare"
    if len(years) > 1:
        return f"project {project!r}{of_unit} has forms in {years} but none with indicators to line up"
    close = connection.execute(
        text("SELECT DISTINCT project_name FROM v_forms WHERE project_name LIKE :p ORDER BY project_name"),
        {"p": f"%{project}%"}).scalars().all()
    hint = f"; similar names: {', '.join(close[:10])}" if close else ""
    return f"no form has the project name {project!r}{of_unit}{hint}"
