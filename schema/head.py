"""A new database at the newest schema in one step: the statements the migrations run, recorded.

Running every Alembic migration on a new database costs about a third of a CPU-second (importing
Alembic, loading the scripts, rendering each operation); it is most of the start-up of a first
import. The migrations, run on an empty database, always emit the same statements (there are no
rows for their data steps to depend on). So they are run once, with the statements recorded, into
``migrations/head/<dialect>.json``; a new, empty database then gets exactly those statements, in
one transaction, without Alembic: the same schema as the migrations by construction
(tests/test_head_schema.py compares the two).

The recording names a digest of the migration scripts. When a script is added or changed and the
recording was not made again, the digest differs and every database goes through Alembic as
before (slower, never a different schema); the test says to record again::

    python -m goalforms.schema.head                  # SQLite
    python -m goalforms.schema.head postgresql://…   # PostgreSQL (an empty database)

A database that is not empty is never touched here: it is upgraded through the migrations
(``db.upgrade``), unless it is already at the recorded head (then there is nothing to do, and
Alembic is not even imported).
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Connection

MIGRATIONS = Path(__file__).with_name("migrations")
RECORDINGS = MIGRATIONS / "head"


def digest() -> str:
    """The migration scripts (env.py and every version), by content: a recording is valid only
    for the scripts it was made from."""
    h = hashlib.sha256()
    for path in [MIGRATIONS / "env.py", *sorted((MIGRATIONS / "versions").glob("*.py"))]:
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


@dataclass(frozen=True)
class Recording:
    dialect: str
    digest: str
    heads: tuple[str, ...]  # alembic_version's rows at the end
    statements: tuple[tuple[str, Any], ...]  # (SQL, DBAPI parameters), in order

    def to_json(self) -> str:
        """One statement a line (a new migration shows as the lines it adds)."""
        head = json.dumps({"dialect": self.dialect, "digest": self.digest, "heads": list(self.heads)})
        lines = ",\n".join(json.dumps([sql, params], ensure_ascii=False) for sql, params in self.statements)
        return f'{head[:-1]}, "statements": [\n{lines}\n]}}\n'


def path_for(dialect: str) -> Path:
    return RECORDINGS / f"{dialect}.json"


def load(dialect: str) -> Recording | None:
    """The recording for ``dialect`` if there is one and it was made from the scripts as they are."""
    try:
        data = json.loads(path_for(dialect).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if data.get("digest") != digest() or data.get("dialect") != dialect:
        return None
    # JSON has no tuples: SQLite's positional parameters come back as lists.
    return Recording(dialect, data["digest"], tuple(data["heads"]),
                     tuple((sql, tuple(p) if isinstance(p, list) else p) for sql, p in data["statements"]))


def is_empty(connection: Connection) -> bool:
    """No table, view, index, sequence or type of ours in the database (the schema in use)."""
    if connection.dialect.name == "sqlite":
        return connection.exec_driver_sql("SELECT count(*) FROM sqlite_master").scalar() == 0
    if connection.dialect.name == "postgresql":
        return connection.exec_driver_sql(
            "SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            "        WHERE n.nspname = current_schema())"
            "     + (SELECT count(*) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace"
            "        WHERE n.nspname = current_schema() AND t.typtype IN ('e', 'd', 'r', 'm'))").scalar() == 0
    return False


def current_heads(connection: Connection) -> tuple[str, ...] | None:
    """alembic_version's rows, or None when the table is not there."""
    from sqlalchemy import inspect

    if not inspect(connection).has_table("alembic_version"):
        return None
    return tuple(sorted(r[0] for r in connection.exec_driver_sql("SELECT version_num FROM alembic_version")))


def ensure(connection: Connection) -> bool:
    """Bring an empty database to the head schema from the recording, or see that the database is
    already at the recorded head. False when the migrations must run (no valid recording for this
    dialect, or a database at an older revision)."""
    recording = load(connection.dialect.name)
    if recording is None:
        return False
    if is_empty(connection):
        for sql, params in recording.statements:
            connection.exec_driver_sql(sql, params)
        return True
    return current_heads(connection) == tuple(sorted(recording.heads))


# --- recording ------------------------------------------------------------------------------------

# Statements that only read (Alembic's look at alembic_version, reflection, the advisory lock):
# not part of what makes the schema.
_READS = ("SELECT", "PRAGMA", "SHOW", "WITH")


def _reads(sql: str) -> bool:
    words = sql.lstrip().split(None, 1)
    if not words:
        return True
    head = words[0].upper()
    if head == "PRAGMA":
        return "=" not in sql  # PRAGMA x = y changes something; PRAGMA table_info(…) reads
    return head in _READS


def record(url: str) -> Recording:
    """Run every migration on the empty database at ``url`` and record what they executed."""
    from alembic import command
    from sqlalchemy import event

    from goalforms.schema.db import alembic_config, make_engine

    engine = make_engine(url)
    statements: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, sql: str, params: Any, _context: Any, executemany: bool) -> None:
        if executemany:
            raise RuntimeError(f"a migration ran executemany on an empty database: {sql[:200]}")
        if not _reads(sql):
            statements.append((sql, list(params) if isinstance(params, tuple | list) else params))

    try:
        with engine.begin() as connection:
            if not is_empty(connection):
                raise SystemExit(f"{url}: not an empty database")
            cfg = alembic_config(engine.url.render_as_string(hide_password=False))
            cfg.attributes["connection"] = connection
            event.listen(engine, "before_cursor_execute", capture)
            try:
                command.upgrade(cfg, "head")
            finally:
                event.remove(engine, "before_cursor_execute", capture)
            heads = current_heads(connection) or ()
        json.dumps(statements)  # parameters a JSON file cannot hold fail here, not when read
        return Recording(engine.dialect.name, digest(), heads, tuple((s, p) for s, p in statements))
    finally:
        engine.dispose()


def write(recording: Recording) -> Path:
    path = path_for(recording.dialect)
    path.parent.mkdir(exist_ok=True)
    path.write_text(recording.to_json(), encoding="utf-8")
    return path


def main(argv: list[str]) -> None:
    """``python -m goalforms.schema.head [URL]``: record the migrations (default: a new SQLite file)."""
    if argv:
        path = write(record(argv[0]))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            path = write(record(f"sqlite:///{Path(tmp) / 'new.db'}"))
    print(f"recorded {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
