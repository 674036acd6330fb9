"""Small reads of the importer's transaction through the database driver's own cursor.

The importer asks a few questions of the database for every file while it holds the write lock
(the ids of the rows it just stored, whether the path has clerk corrections, the other years of
its projects). Through SQLAlchemy each costs its statement's cache look-up, a result object and
its row processing — several times the driver's own work for a handful of integers and names.
Here the statement is plain SQL with ``?`` marks, rewritten once per parameter style, and the
driver's rows come back as they are: only for columns whose values need no conversion (integers,
text, a boolean the caller tests).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from functools import cache
from typing import Any

from sqlalchemy import Connection, text


@cache
def _in_style(sql: str, style: str) -> str:
    if style == "qmark":
        return sql
    if style in ("format", "pyformat"):  # psycopg: %s, and a literal % doubled (there is none here)
        return sql.replace("%", "%%").replace("?", "%s")
    raise ValueError(style)


def fetch(connection: Connection, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """The rows of ``sql`` (``?`` marks, no ``?`` elsewhere) in the connection's transaction. A
    driver of another parameter style is asked through SQLAlchemy (the same rows)."""
    style = connection.dialect.paramstyle
    if style not in ("qmark", "format", "pyformat"):
        numbered = itertools.count()
        named = re.sub(r"\?", lambda _m: f":p{next(numbered)}", sql)
        return [tuple(r) for r in connection.execute(text(named), {f"p{k}": v for k, v in enumerate(params)})]
    cursor = connection.connection.cursor()
    try:
        cursor.execute(_in_style(sql, style), tuple(params))
        return list(cursor.fetchall())
    finally:
        cursor.close()


def marks(count: int) -> str:
    """``?, ?, ?`` for an IN list of ``count`` values."""
    return ", ".join("?" * count)
