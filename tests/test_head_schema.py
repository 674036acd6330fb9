"""A new database gets the head schema in one step (schema/head.py: the recorded statements of the
migrations): it must be exactly the schema that running every migration gives, on SQLite and on
PostgreSQL; a database that is not new still goes through the migrations."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.pool import NullPool

from goalforms.schema import head
from goalforms.schema.db import alembic_config, connect, make_engine


def _migrated(url: str, revision: str = "head") -> None:
    """The migrations up to ``revision`` through Alembic, as before the recording existed."""
    from alembic import command

    engine = make_engine(url)
    with engine.begin() as connection:
        cfg = alembic_config(url)
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)
    engine.dispose()


def schema(engine: Engine) -> dict[str, Any]:
    """Tables with their columns (type, nullability, default), keys, indexes, constraints; views
    with their definitions; and alembic_version."""
    found: dict[str, Any] = {}
    with engine.connect() as connection:
        insp = inspect(connection)
        for table in sorted(insp.get_table_names()):
            found[f"table {table}"] = {
                "columns": [(c["name"], str(c["type"]), c["nullable"], str(c.get("default")))
                            for c in insp.get_columns(table)],
                "pk": insp.get_pk_constraint(table),
                "fks": sorted(insp.get_foreign_keys(table), key=repr),
                "indexes": sorted(insp.get_indexes(table), key=repr),
                "uniques": sorted(insp.get_unique_constraints(table), key=repr),
                "checks": sorted(insp.get_check_constraints(table), key=repr),
            }
        for view in sorted(insp.get_view_names()):
            found[f"view {view}"] = insp.get_view_definition(view)
        found["alembic_version"] = sorted(connection.execute(text("SELECT version_num FROM alembic_version")))
        if connection.dialect.name == "postgresql":
            found["sequences"] = sorted(insp.get_sequence_names())
            found["types"] = sorted(connection.execute(text(
                "SELECT t.typname, t.typtype FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
                "WHERE n.nspname = current_schema()")).all())
    return found


def _sqlite_master(path: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as connection:
        return sorted(connection.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall(),
                      key=repr)


def test_the_recording_is_of_the_migrations_as_they_are() -> None:
    # Fails when a migration was added or changed without recording again (then every new database
    # goes through Alembic: slower, never wrong). Record: python -m goalforms.schema.head
    assert head.load("sqlite") is not None, "record again: python -m goalforms.schema.head"


def test_a_new_sqlite_database_has_exactly_the_migrated_schema(tmp_path: Path) -> None:
    _migrated(f"sqlite:///{tmp_path / 'migrated.db'}")
    fresh = connect(str(tmp_path / "fresh.db"))
    migrated = create_engine(f"sqlite:///{tmp_path / 'migrated.db'}")
    try:
        assert schema(fresh) == schema(migrated)
    finally:
        fresh.dispose()
        migrated.dispose()
    # SQLite keeps each object's CREATE statement: the same text, object by object.
    assert _sqlite_master(tmp_path / "fresh.db") == _sqlite_master(tmp_path / "migrated.db")


def test_a_new_database_gets_the_schema_without_alembic(tmp_path: Path) -> None:
    import subprocess
    import sys

    program = ("import sys\nfrom goalforms.schema.db import connect\n"
               f"connect({str(tmp_path / 'new.db')!r}).dispose()\n"
               "print(sorted(m for m in sys.modules if m.split('.')[0] == 'alembic'))")
    out = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    assert schema(create_engine(f"sqlite:///{tmp_path / 'new.db'}"))["alembic_version"] == [(head.load("sqlite").heads[0],)]  # type: ignore[union-attr]


def test_an_older_database_still_goes_through_the_migrations(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    _migrated(url, "0004")
    upgraded = connect(url)
    _migrated(f"sqlite:///{tmp_path / 'migrated.db'}")
    migrated = create_engine(f"sqlite:///{tmp_path / 'migrated.db'}")
    try:
        assert schema(upgraded) == schema(migrated)
    finally:
        upgraded.dispose()
        migrated.dispose()


def test_a_stale_recording_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A migration added after the recording: the digest differs, so the migrations run.
    monkeypatch.setattr(head, "digest", lambda: "another set of migrations")
    assert head.load("sqlite") is None
    engine = make_engine(f"sqlite:///{tmp_path / 'new.db'}")
    with engine.begin() as connection:
        assert head.ensure(connection) is False
        assert head.is_empty(connection)
    engine.dispose()
    _migrated(f"sqlite:///{tmp_path / 'migrated.db'}")
    upgraded, migrated = connect(str(tmp_path / "new.db")), create_engine(f"sqlite:///{tmp_path / 'migrated.db'}")
    try:
        assert schema(upgraded) == schema(migrated)
    finally:
        upgraded.dispose()
        migrated.dispose()


def test_a_database_with_other_tables_is_not_treated_as_new(tmp_path: Path) -> None:
    # Someone's own table in the file: not empty, so the migrations (which leave it alone) run.
    with sqlite3.connect(tmp_path / "mine.db") as connection:
        connection.execute("CREATE TABLE notes (x TEXT)")
    engine = make_engine(f"sqlite:///{tmp_path / 'mine.db'}")
    with engine.connect() as connection:
        assert not head.is_empty(connection)
    engine.dispose()
    connect(str(tmp_path / "mine.db")).dispose()
    assert "notes" in {row[1] for row in _sqlite_master(tmp_path / "mine.db")}


@pytest.mark.pg
def test_a_new_postgresql_database_has_exactly_the_migrated_schema(pg_url: str, pg_server: Any) -> None:
    assert head.load("postgresql") is not None, "record again: python -m goalforms.schema.head postgresql://…"
    other = pg_server.create_database()
    try:
        _migrated(other)
        fresh = connect(pg_url)
        migrated = create_engine(other, poolclass=NullPool)
        try:
            assert schema(fresh) == schema(migrated)
        finally:
            fresh.dispose()
            migrated.dispose()
    finally:
        pg_server.drop_database(other)
