"""Clerks: users, their corrections, and the corrected copy of every corrected form (docs/clerks.md).

The parse stays in the base tables (``forms``, ``budget_figures``, ``indicators``, ``parse_issues``)
exactly as the importer stored it. A clerk's change is a :class:`Correction` row of its own, keyed
by what survives a re-import — the document's path, the form's ordinal in the file and a field
path — never by the id of a parsed row, because the importer deletes and re-inserts those rows
when a file changes.

``corrected_forms`` / ``corrected_indicators`` / ``resolved_issues`` are derived: the parse of a
form with its active corrections replayed over it (``goalforms.pipeline.corrections``), rebuilt
whenever a correction is recorded or undone and whenever its document is re-imported. They hang off
the parsed rows with ON DELETE CASCADE, so replacing a document drops the stale copy in the same
statement; the analyst views read the copy for corrected forms and the parse for the others.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from goalforms.schema.models import Base
from goalforms.schema.types import ExactDecimal

CLERK, ANALYST = "clerk", "analyst"
ROLES = (CLERK, ANALYST)

# Correction.status: replaying decides active/stale every time; only undo sets undone.
ACTIVE, STALE, UNDONE = "active", "stale", "undone"


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(16))  # clerk | analyst
    password_hash: Mapped[str] = mapped_column(String(255))  # argon2id, with its own salt and parameters
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class UserUnit(Base):
    """A unit (编制单位, as forms name it in ``header.unit``) whose forms a user may see and change.
    A user with no row here is not limited: every form (docs/security.md)."""

    __tablename__ = "user_units"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    unit: Mapped[str] = mapped_column(String(500), primary_key=True)


class WebSession(Base):
    """A logged-in session of the web app. The cookie holds a random token; the table holds only its
    SHA-256 (``id``), so that reading the database (analysts may) gives no usable session. Deleting
    the row ends the session at its next request: logout, password change, user removal."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 hex of the cookie's token
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))  # absolute expiry counts from it
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))  # idle expiry counts from it
    address: Mapped[str | None] = mapped_column(String(100))  # client address at login, for the record


class LoginThrottle(Base):
    """Failed logins for one account name (``account:NAME``) or one client address (``address:IP``),
    shared by every server process through the database (goalforms.pipeline.web.throttle)."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_failure_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    blocked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class Correction(Base):
    """One change a clerk made, applied over the parse of one form.

    ``field`` is a path in the parse contract: ``year``, ``header.unit``, ``header_extra.overview``,
    ``budget.total``, ``indicators[3].raw`` (3: the row's 0-based index in the parse, as issues
    name it; a row a clerk added is ``indicators[c17]``, 17 being the correction that added it),
    ``indicators[3]`` for row operations, ``indicators`` for an added row, and for a resolved issue
    the issue's own field (``form`` when it has none). ``old_value`` is what the clerk saw: the
    correction still applies while the parse (with the corrections before it) still shows it.
    """

    __tablename__ = "corrections"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_path: Mapped[str] = mapped_column(String(1024), index=True)  # source_documents.path
    form_ordinal: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))  # set | add | delete | move | reorder | resolve
    field: Mapped[str] = mapped_column(String(200))
    # The row's 三级 name when the correction was made: with the position, what tells whether a
    # row correction still finds its row after the file changed.
    row_level3: Mapped[str | None] = mapped_column(Text)
    old_value: Mapped[Any] = mapped_column(JSON(none_as_null=True), nullable=True)
    new_value: Mapped[Any] = mapped_column(JSON(none_as_null=True), nullable=True)
    note: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16), index=True, default=ACTIVE)
    status_reason: Mapped[str | None] = mapped_column(Text)  # why a stale correction no longer applies
    undone_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    undone_by: Mapped[str | None] = mapped_column(String(100))


class CorrectedForm(Base):
    """A corrected form's header and budget (the parse with its corrections applied)."""

    __tablename__ = "corrected_forms"

    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id", ondelete="CASCADE"), primary_key=True)
    year: Mapped[int | None] = mapped_column(Integer)
    project_name: Mapped[str | None] = mapped_column(Text)
    unit: Mapped[str | None] = mapped_column(Text)
    department: Mapped[str | None] = mapped_column(Text)
    project_category: Mapped[str | None] = mapped_column(Text)
    project_nature: Mapped[str | None] = mapped_column(Text)
    plan_start: Mapped[dt.date | None] = mapped_column(Date)
    plan_end: Mapped[dt.date | None] = mapped_column(Date)
    gov_procurement: Mapped[bool | None] = mapped_column(Boolean)
    performance_type: Mapped[str | None] = mapped_column(Text)
    goal: Mapped[str | None] = mapped_column(Text)
    header_extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    total: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    current_year: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    prior_year_budget: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    prior_year_spent: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    fiscal_appropriation: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    carryover: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    other_funds: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    applied: Mapped[int] = mapped_column(Integer)  # how many corrections made this copy
    # Issue 12 (migration 0008_siblings): carried from the parse (project_key from the corrected name).
    project_key: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(Text)
    total_score: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    grade: Mapped[str | None] = mapped_column(String(40))


class CorrectedIndicator(Base):
    """A corrected form's indicator rows, in their corrected order."""

    __tablename__ = "corrected_indicators"
    __table_args__ = (UniqueConstraint("form_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("corrected_forms.form_id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # 1-based, after adds, deletes and reorders
    # indicators.id of the parsed row; for a row a clerk added, minus the id of that correction
    # (so that v_indicators.indicator_id stays unique and says where the row came from).
    indicator_id: Mapped[int] = mapped_column(Integer)
    parse_index: Mapped[int | None] = mapped_column(Integer)  # 0-based index in the parse; NULL if added
    level1: Mapped[str | None] = mapped_column(Text)
    level2: Mapped[str | None] = mapped_column(Text)
    level3: Mapped[str] = mapped_column(Text)
    dimension: Mapped[str | None] = mapped_column(String(40))
    raw_target: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    op: Mapped[str | None] = mapped_column(String(2))
    value: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    unit: Mapped[str | None] = mapped_column(String(100))
    source_line: Mapped[int | None] = mapped_column(Integer)
    source_location: Mapped[str | None] = mapped_column(String(200))
    # Issue 12 (migration 0008_siblings): carried from the parsed row (clerks do not correct them yet).
    actual_raw: Mapped[str | None] = mapped_column(Text)
    actual_kind: Mapped[str | None] = mapped_column(String(16))
    actual_op: Mapped[str | None] = mapped_column(String(2))
    actual_value: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    actual_unit: Mapped[str | None] = mapped_column(String(100))
    weight: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    score: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    note: Mapped[str | None] = mapped_column(Text)
    prior_year_raw: Mapped[str | None] = mapped_column(Text)
    prior_year_kind: Mapped[str | None] = mapped_column(String(16))
    prior_year_op: Mapped[str | None] = mapped_column(String(2))
    prior_year_value: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    prior_year_unit: Mapped[str | None] = mapped_column(String(100))
    period: Mapped[str | None] = mapped_column(String(16))


class ResolvedIssue(Base):
    """A parse issue a clerk marked resolved (by the correction ``correction_id``)."""

    __tablename__ = "resolved_issues"

    issue_id: Mapped[int] = mapped_column(ForeignKey("parse_issues.id", ondelete="CASCADE"), primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id", ondelete="CASCADE"), index=True)
    correction_id: Mapped[int] = mapped_column(ForeignKey("corrections.id"))
