"""Many rows of one table through the database driver's own ``executemany``.

A Core ``connection.execute(insert(table), [dict, …])`` processes every parameter of every row in
Python (dict lookups, type processors, a positional tuple per row) before the driver sees it:
for the tens of rows per form of provenance and indicators, that was as much CPU as the driver's
own work. Here the statement is written once per table and dialect, only the columns whose type
has a bind processor (ExactDecimal's canonical text on SQLite, for instance) are converted — by
:func:`process`, before the file's transaction (``load.prepare_rows``), so not while the write
lock is held — and the driver gets plain tuples. The values stored are those a Core INSERT
stores: the same type processors run on them.

On PostgreSQL through psycopg the rows go in by ``COPY … FROM STDIN`` (psycopg's ``cursor.copy``):
one statement per table and file instead of one INSERT executed per row, in the rows' order (so the
serial ids are the same); the server parses each value from its text as it would the INSERT's
parameter. The server's own time per row was most of its part of loading, and it runs on the same
cores as the workers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Dialect, Table

_PLACEHOLDERS = {"qmark": "?", "format": "%s", "pyformat": "%s"}
_Processors = tuple[tuple[int, Callable[[Any], Any]], ...]
_PROCESSORS: dict[tuple[str, str, tuple[str, ...]], _Processors] = {}
_STATEMENTS: dict[tuple[str, str, tuple[str, ...]], str] = {}
_COPIES: dict[tuple[str, tuple[str, ...]], str] = {}


def _processors(dialect: Dialect, table: Table, columns: tuple[str, ...]) -> _Processors:
    """The columns whose type converts a value for this dialect, with the conversion (what a Core
    INSERT applies: the type's processor for the dialect)."""
    key = (dialect.name, table.name, columns)
    if key not in _PROCESSORS:
        _PROCESSORS[key] = tuple((index, processor) for index, name in enumerate(columns)
                                 if (processor := table.c[name].type.dialect_impl(dialect).bind_processor(dialect))
                                 is not None)
    return _PROCESSORS[key]


def process(dialect: Dialect, table: Table, columns: tuple[str, ...], rows: list[tuple[int, tuple[Any, ...]]]) -> None:
    """Convert, in place, rows ``(anything, values in the order of columns)`` for ``dialect``, as a
    Core INSERT would. A type processor turns None into None (SQLAlchemy's never process a NULL
    otherwise): a row is copied only when one of its processed columns holds a value."""
    processors = _processors(dialect, table, columns)
    if not processors:
        return
    for n, (tag, row) in enumerate(rows):
        values: list[Any] | None = None
        for index, processor in processors:
            value = row[index]
            if value is not None:
                if values is None:
                    values = list(row)
                values[index] = processor(value)
        if values is not None:
            rows[n] = (tag, tuple(values))


def _statement(dialect: Dialect, table: Table, columns: tuple[str, ...]) -> str:
    key = (dialect.name, table.name, columns)
    if key not in _STATEMENTS:
        style = dialect.paramstyle
        marks = [_PLACEHOLDERS[style]] * len(columns) if style in _PLACEHOLDERS else \
            [f":{n}" for n in range(1, len(columns) + 1)] if style == "numeric" else \
            [f"${n}" for n in range(1, len(columns) + 1)] if style == "numeric_dollar" else \
            [f":{c}" for c in columns]  # named
        preparer = dialect.identifier_preparer
        _STATEMENTS[key] = (f"INSERT INTO {preparer.format_table(table)} "
                            f"({', '.join(preparer.quote(c) for c in columns)}) VALUES ({', '.join(marks)})")
    return _STATEMENTS[key]


def insert_many(connection: Connection, table: Table, columns: tuple[str, ...], rows: Sequence[tuple[Any, ...]]) -> None:
    """INSERT ``rows`` (tuples in the order of ``columns``, converted by :func:`process` but for
    columns whose type has no processor) into ``table`` in the connection's transaction, in the
    driver's own parameter style."""
    if not rows:
        return
    if connection.dialect.driver == "psycopg":
        _copy(connection, table, columns, rows)
        return
    sql = _statement(connection.dialect, table, columns)
    params: Sequence[Any] = rows
    if connection.dialect.paramstyle == "named":
        params = [dict(zip(columns, row, strict=True)) for row in rows]
    cursor = connection.connection.cursor()
    try:
        cursor.executemany(sql, params)
    finally:
        cursor.close()


def insert_one(connection: Connection, table: Table, columns: tuple[str, ...], values: tuple[Any, ...]) -> int:
    """INSERT one row (``values`` in the order of ``columns``, type processors applied here) through
    the driver in a qmark or format style; its id (the cursor's ``lastrowid``: SQLite)."""
    rows = [(0, values)]
    process(connection.dialect, table, columns, rows)
    cursor = connection.connection.cursor()
    try:
        cursor.execute(_statement(connection.dialect, table, columns), rows[0][1])
        rowid = cursor.lastrowid
    finally:
        cursor.close()
    assert isinstance(rowid, int)
    return rowid


def _copy(connection: Connection, table: Table, columns: tuple[str, ...], rows: Sequence[tuple[Any, ...]]) -> None:
    """``COPY table (columns) FROM STDIN`` of ``rows`` (psycopg 3, text format: None is NULL)."""
    key = (table.name, columns)
    if key not in _COPIES:
        preparer = connection.dialect.identifier_preparer
        _COPIES[key] = (f"COPY {preparer.format_table(table)} ({', '.join(preparer.quote(c) for c in columns)}) "
                        "FROM STDIN")
    cursor = connection.connection.cursor()
    try:
        with cursor.copy(_COPIES[key]) as copy:  # type: ignore[attr-defined]
            for row in rows:
                copy.write_row(row)
    finally:
        cursor.close()
