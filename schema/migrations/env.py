"""Alembic environment: run on the connection handed over by goalforms.schema.db (or a URL)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from goalforms.schema.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite:///goalforms.db")
        with engine.begin() as conn:
            _run(conn)
        return
    _run(connection)


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    # SQLite cannot ALTER most things in place: batch mode rebuilds tables for later migrations.
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("goalforms migrations run online only")
run_migrations()
