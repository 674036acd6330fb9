"""Target review: findings about what each form says, and reviewers' acceptances (docs/review.md).

``findings`` and ``form_reviews`` are derived, like the corrected copy of a form: the rules run over
the *corrected* form, and both are rebuilt whenever the form is imported again or corrected. They
hang off ``forms`` with ON DELETE CASCADE, so replacing a document drops them in the same statement.

``finding_acceptances`` are records of their own, like corrections: keyed by what survives a
re-import (the document's path, the form's ordinal, the rule id and the finding's subject — a 三级
name, a budget item, a framework group), never by a row id, so an accepted finding stays accepted
when the file is imported again and the finding comes back.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from goalforms.schema.models import Base


class FindingRow(Base):
    __tablename__ = "findings"

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id", ondelete="CASCADE"), index=True)
    rule_id: Mapped[str] = mapped_column(String(100), index=True)
    rule_set: Mapped[str] = mapped_column(String(100))
    rule_set_version: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(16))  # error | warning | info
    message: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(String(500))
    field: Mapped[str] = mapped_column(String(100))  # indicators[3], budget.total, header.plan_end, form
    position: Mapped[int | None] = mapped_column(Integer)  # the indicator's position in the corrected form
    level3: Mapped[str | None] = mapped_column(Text)
    # indicators.id, or minus the correction that added the row (as v_indicators); no foreign key
    indicator_id: Mapped[int | None] = mapped_column(Integer)


class FormReview(Base):
    """One row per reviewed form: under which rule sets, and the figures of its scorecard."""

    __tablename__ = "form_reviews"

    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id", ondelete="CASCADE"), primary_key=True)
    rule_sets: Mapped[str] = mapped_column(String(300))  # name@version, comma-separated
    reviewed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    indicator_count: Mapped[int] = mapped_column(Integer)
    quantified_count: Mapped[int] = mapped_column(Integer)
    quantified_share: Mapped[float | None] = mapped_column(Float)
    groups_required: Mapped[int] = mapped_column(Integer)
    groups_covered: Mapped[int] = mapped_column(Integer)
    groups_missing: Mapped[str | None] = mapped_column(Text)  # 、-separated 一级 names


class FindingAcceptance(Base):
    """A reviewer's "accepted with reason" of a finding, kept across re-imports and re-reviews."""

    __tablename__ = "finding_acceptances"
    __table_args__ = (UniqueConstraint("document_path", "form_ordinal", "rule_id", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_path: Mapped[str] = mapped_column(String(1024), index=True)
    form_ordinal: Mapped[int] = mapped_column(Integer)
    rule_id: Mapped[str] = mapped_column(String(100))
    subject: Mapped[str] = mapped_column(String(500))
    message: Mapped[str] = mapped_column(Text)  # the finding as the reviewer saw it
    author: Mapped[str] = mapped_column(String(100))
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
