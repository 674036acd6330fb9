"""Many rows of one table through the database driver's own ``executemany``.

A Core ``connection.execute(insert(table), [dict, …])`` processes every parameter of every row in
Python (dict lookups, type processors, a positional tuple per row) before the driver sees it:
for the tens of rows per form of provenance and indicators, that was as much CPU as the driver's
own work. Here the statement is written once per table and dialect, only the columns whose type
has a bind processor (ExactDecimal's canonical text on SQLite, for instance) are converted, and the
driver gets plain tuples. The values stored are those a Core INSERT stores: the same type
processors run on them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Table, insert

_PLACEHOLDERS = {"qmark": "?", "format": "%s", "pyformat": "%s"}
_Statement = tuple[str, tuple[tuple[int, Callable[[Any], Any]], ...]]
_STATEMENTS: dict[tuple[str, str, tuple[str, ...]], _Statement] = {}


def _statement(connection: Connection, table: Table, columns: tuple[str, ...]) -> _Statement | None:
    dialect = connection.dialect
    key = (dialect.name, table.name, columns)
    if key not in _STATEMENTS:
        placeholder = _PLACEHOLDERS.get(dialect.paramstyle)
        if placeholder is None:
            return None
        preparer = dialect.identifier_preparer
        sql = (f"INSERT INTO {preparer.format_table(table)} ({', '.join(preparer.quote(c) for c in columns)}) "
               f"VALUES ({', '.join([placeholder] * len(columns))})")
        processors = tuple((index, processor) for index, name in enumerate(columns)
                           if (processor := table.c[name].type.dialect_impl(dialect).bind_processor(dialect)) is not None)
        _STATEMENTS[key] = (sql, processors)
    return _STATEMENTS[key]


def insert_many(connection: Connection, table: Table, columns: tuple[str, ...], rows: Sequence[tuple[Any, ...]]) -> None:
    """INSERT ``rows`` (tuples in the order of ``columns``) into ``table`` in the connection's
    transaction. A driver of another parameter style gets a Core INSERT (same rows)."""
    if not rows:
        return
    statement = _statement(connection, table, columns)
    if statement is None:
        connection.execute(insert(table), [dict(zip(columns, row, strict=True)) for row in rows])
        return
    sql, processors = statement
    params: Sequence[Sequence[Any]] = rows
    if processors:
        # A type processor turns None into None (SQLAlchemy's never process a NULL otherwise): a
        # row copied only when one of its processed columns holds a value (most are NULL).
        converted: list[Sequence[Any]] = []
        for row in rows:
            values: list[Any] | None = None
            for index, processor in processors:
                value = row[index]
                if value is not None:
                    if values is None:
                        values = list(row)
                    values[index] = processor(value)
            converted.append(row if values is None else values)
        params = converted
    cursor = connection.connection.cursor()
    try:
        cursor.executemany(sql, params)
    finally:
        cursor.close()
