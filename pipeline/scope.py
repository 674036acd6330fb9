"""Which forms a user may see and change: the one place where unit limits are enforced
(docs/security.md).

A :class:`Scope` is made once per request (web app) or per command (``--user`` of the clerk
commands) from the user's units, and handed to every query and change of
goalforms.pipeline.corrections and of the web app's queue. A user limited to units sees only the
forms whose unit — ``org_unit`` of ``v_forms``, i.e. ``header.unit`` as corrected — is one of
them; a user with no unit is not limited. A form outside the scope is answered exactly as a form
that does not exist (:class:`goalforms.pipeline.corrections.NotFound`, 404 in the app), so that
a limited user cannot even learn which forms exist elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Integer, column, exists, false, select, table
from sqlalchemy.orm import Session

from goalforms.schema import models
from goalforms.schema.clerk_models import Correction, User, UserUnit

# v_forms as the scope reads it (the corrected unit of every form).
_V_FORMS = table("v_forms", column("form_id", Integer), column("source_path"), column("form_ordinal", Integer),
                 column("org_unit"))


@dataclass(frozen=True)
class Scope:
    """The forms a user may see: those of ``units``, or every form when ``units`` is None."""

    units: frozenset[str] | None = None
    who: str = ""  # for messages and logs

    @classmethod
    def everything(cls, who: str = "") -> Scope:
        return cls(None, who)

    @classmethod
    def of_units(cls, units: Iterable[str], who: str = "") -> Scope:
        """Limited to ``units`` (an empty list: no form at all, never every form)."""
        return cls(frozenset(units), who)

    @classmethod
    def for_user(cls, session: Session, user: User) -> Scope:
        """The scope of a user: the units stored for them, or every form if none is."""
        units = list(session.scalars(select(UserUnit.unit).where(UserUnit.user_id == user.id)))
        return cls(frozenset(units), user.name) if units else cls(None, user.name)

    @property
    def limited(self) -> bool:
        return self.units is not None

    def allows_unit(self, unit: str | None) -> bool:
        return self.units is None or (unit is not None and unit in self.units)

    def terms(self, columns: Any) -> list[ColumnElement[bool]]:
        """WHERE terms for a view with an ``org_unit`` column (v_forms, v_issues, v_indicators)."""
        if self.units is None:
            return []
        if not self.units:
            return [false()]
        return [columns.org_unit.in_(sorted(self.units))]

    def correction_terms(self) -> list[ColumnElement[bool]]:
        """WHERE terms for ``corrections``: those of a form in scope (a limited user does not see
        the corrections of a form that is gone from the database)."""
        if self.units is None:
            return []
        v = _V_FORMS.c
        return [exists(select(v.form_id).where(v.source_path == Correction.document_path,
                                               v.form_ordinal == Correction.form_ordinal, *self.terms(v)))]

    def allows_form(self, session: Session, form: models.Form) -> bool:
        if self.units is None:
            return True
        unit = session.scalar(select(_V_FORMS.c.org_unit).where(_V_FORMS.c.form_id == form.id))
        return self.allows_unit(unit)
