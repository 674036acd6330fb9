"""A form's origins as one JSON value (issue 16): the ``provenance`` table becomes a view.

Storing one ``provenance`` row per parsed value (~57 per form) cost more than every other row of a
form together (each row bound through the driver, two indexes). Now:

- new table ``form_origins(form_id PK → forms.id ON DELETE CASCADE, origins JSON)``: the form's
  origins as one JSON array, an array per value with the columns of the old table in this order:
  ``field, indicator_position, page, x0, top, x1, bottom, sheet, cell, line, paragraph,
  source_table, source_row, source_col, confidence, doubt`` (models.ORIGIN_COLUMNS);
- the existing rows are moved there, aggregated per form in SQL in the order of their ids (the
  order the loader wrote them); a form without provenance rows gets no ``form_origins`` row;
- table ``provenance`` dropped, and a VIEW ``provenance`` with the same columns (but ``id``)
  expands the JSON: analysts' queries keep working. Types: integers and floats as before; on
  PostgreSQL the texts are ``text`` (a cast to ``varchar(n)`` would cut a longer value silently);
  SQLite gives view columns no declared type, their values are INTEGER, REAL or TEXT as before.

Floats are moved exactly: PostgreSQL writes a float8 in JSON with the shortest exact digits;
SQLite 3.40's ``json_array`` writes only 15 digits, so its floats go through ``printf('%!.17g')``.

Downgrade: the table again, filled from the JSON in the same order (so the same ids), the index,
and ``form_origins`` dropped.

Revision ID: 0013_form_origins
Revises: 0010_source_grids
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_form_origins"
down_revision = "0010_source_grids"
branch_labels = None
depends_on = None

# (column, kind) in the order of the JSON arrays; kind: how the view casts the JSON value.
_COLUMNS = (("field", "text"), ("indicator_position", "int"), ("page", "int"), ("x0", "float"), ("top", "float"),
            ("x1", "float"), ("bottom", "float"), ("sheet", "text"), ("cell", "text"), ("line", "int"),
            ("paragraph", "int"), ("source_table", "int"), ("source_row", "int"), ("source_col", "int"),
            ("confidence", "float"), ("doubt", "text"))
_NAMES = ", ".join(name for name, _ in _COLUMNS)
_TYPES = {"sqlite": {"int": "INTEGER", "float": "REAL", "text": "TEXT"},
          "postgresql": {"int": "INTEGER", "float": "DOUBLE PRECISION", "text": "TEXT"}}


def _dialect() -> str:
    name = op.get_bind().dialect.name
    if name not in _TYPES:
        raise NotImplementedError(f"0013_form_origins: no SQL for {name}")
    return name


def _expanded(dialect: str, ordinal: bool = False) -> str:
    """SELECT of the provenance columns from the JSON (``n``: each value's place in its form)."""
    types = _TYPES[dialect]
    if dialect == "sqlite":
        values = [f"CAST(json_extract(e.value, '$[{i}]') AS {types[kind]}) AS {name}"
                  for i, (name, kind) in enumerate(_COLUMNS)]
        source = "form_origins o JOIN json_each(o.origins) e"
        n = "e.key"
    else:
        values = [f"CAST(e.value ->> {i} AS {types[kind]}) AS {name}" for i, (name, kind) in enumerate(_COLUMNS)]
        source = "form_origins o CROSS JOIN LATERAL json_array_elements(o.origins) WITH ORDINALITY AS e(value, n)"
        n = "e.n"
    return f"SELECT o.form_id AS form_id, {', '.join(values)}{f', {n} AS n' if ordinal else ''} FROM {source}"


def _view(dialect: str) -> str:
    return f"CREATE VIEW provenance AS {_expanded(dialect)}"


def _aggregated(dialect: str) -> str:
    """INSERT INTO form_origins the provenance rows, one JSON array per form, in the rows' order."""
    if dialect == "postgresql":
        return (f"INSERT INTO form_origins (form_id, origins) SELECT form_id, json_agg(json_build_array({_NAMES}) "
                f"ORDER BY id) FROM provenance GROUP BY form_id")
    # SQLite 3.40 has no ORDER BY inside an aggregate: a window in id order, one row kept per form.
    # Its json_array writes floats with 15 digits: they go in as 17 (json() keeps the digits).
    values = ", ".join(f"CASE WHEN {name} IS NULL THEN NULL ELSE json(printf('%!.17g', {name})) END"
                       if kind == "float" else name for name, kind in _COLUMNS)
    return ("INSERT INTO form_origins (form_id, origins) SELECT form_id, origins FROM ("
            f"SELECT form_id, json_group_array(json_array({values})) OVER (PARTITION BY form_id ORDER BY id "
            "ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS origins, "
            "row_number() OVER (PARTITION BY form_id ORDER BY id) AS n FROM provenance) WHERE n = 1")


def upgrade() -> None:
    dialect = _dialect()
    op.create_table(
        "form_origins",
        sa.Column("form_id", sa.Integer(), sa.ForeignKey("forms.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("origins", sa.JSON(), nullable=False),
    )
    op.execute(_aggregated(dialect))
    op.drop_index("ix_provenance_form_id", table_name="provenance")
    op.drop_table("provenance")
    op.execute(_view(dialect))


def downgrade() -> None:
    dialect = _dialect()
    op.execute("DROP VIEW provenance")
    op.create_table(
        "provenance",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("form_id", sa.Integer(), sa.ForeignKey("forms.id", ondelete="CASCADE"), nullable=False),
        sa.Column("field", sa.String(100), nullable=False),
        sa.Column("indicator_position", sa.Integer()),
        sa.Column("page", sa.Integer()),
        sa.Column("x0", sa.Float()),
        sa.Column("top", sa.Float()),
        sa.Column("x1", sa.Float()),
        sa.Column("bottom", sa.Float()),
        sa.Column("sheet", sa.String(200)),
        sa.Column("cell", sa.String(20)),
        sa.Column("line", sa.Integer()),
        sa.Column("paragraph", sa.Integer()),
        sa.Column("source_table", sa.Integer()),
        sa.Column("source_row", sa.Integer()),
        sa.Column("source_col", sa.Integer()),
        sa.Column("confidence", sa.Float()),
        sa.Column("doubt", sa.Text()),
        sa.UniqueConstraint("form_id", "field"),
    )
    op.create_index("ix_provenance_form_id", "provenance", ["form_id"])
    op.execute(f"INSERT INTO provenance (form_id, {_NAMES}) SELECT form_id, {_NAMES} "
               f"FROM ({_expanded(dialect, ordinal=True)}) x ORDER BY form_id, n")
    op.drop_table("form_origins")
