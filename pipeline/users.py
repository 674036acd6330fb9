"""Users of the clerks' web app: a name, a role (clerk: may correct; analyst: may only read), an
argon2id password hash (argon2-cffi: salted, memory-hard, parameters kept in the hash so they
can be raised later) and optionally the units they are limited to (goalforms.pipeline.scope).
Passwords themselves are never stored or logged.

Changing a password or removing a user ends every web session of that user at once (their rows
in ``web_sessions`` are deleted; the app looks the session up on every request)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from goalforms.errors import GoalformsError
from goalforms.schema.clerk_models import ROLES, User, UserUnit, WebSession

MIN_PASSWORD_LENGTH = 8
_HASHER = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Verified when the name is unknown, so that a wrong name takes as long as a wrong password
    and login timing does not tell which names exist (made on first use: hashing takes a while,
    and every goalforms command imports this module)."""
    return _HASHER.hash("goalforms: no such user")


class UserError(GoalformsError):
    """A user could not be created or changed (the reason says why)."""

    def __init__(self, reason: str) -> None:
        super().__init__(None, reason)


def _check(name: str, role: str, password: str) -> None:
    if not name or not name.strip() or len(name) > 100 or name != name.strip():
        raise UserError("a user name is 1 to 100 characters, without leading or trailing spaces")
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}: one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"the password is too short: at least {MIN_PASSWORD_LENGTH} characters")


def add_user(session: Session, name: str, role: str, password: str, units: Iterable[str] = ()) -> User:
    """Create a user (not committed), limited to ``units`` if any are given. UserError if the name
    is taken or a value is refused."""
    _check(name, role, password)
    wanted = [_unit(u) for u in units]
    if find_user(session, name) is not None:
        raise UserError(f"user {name!r} exists already")
    user = User(name=name, role=role, password_hash=_HASHER.hash(password), created_at=dt.datetime.now(dt.UTC))
    session.add(user)
    session.flush()
    session.add_all(UserUnit(user_id=user.id, unit=u) for u in dict.fromkeys(wanted))
    session.flush()
    return user


def _existing(session: Session, name: str) -> User:
    user = find_user(session, name)
    if user is None:
        raise UserError(f"no user {name!r}")
    return user


def set_password(session: Session, name: str, password: str) -> User:
    """Set a user's password and end all of that user's web sessions."""
    user = _existing(session, name)
    _check(name, user.role, password)
    user.password_hash = _HASHER.hash(password)
    end_sessions(session, user.id)
    return user


def remove_user(session: Session, name: str) -> None:
    """Remove a user: their sessions end, their units go; the corrections they made stay (by name)."""
    user = _existing(session, name)
    end_sessions(session, user.id)
    session.execute(delete(UserUnit).where(UserUnit.user_id == user.id))
    session.delete(user)
    session.flush()


def end_sessions(session: Session, user_id: int) -> int:
    """End every web session of a user (at their next request); returns how many there were."""
    result = session.execute(delete(WebSession).where(WebSession.user_id == user_id))
    return int(getattr(result, "rowcount", 0) or 0)


def _unit(value: str) -> str:
    unit = value.strip()
    if not unit or len(unit) > 500:
        raise UserError("a unit is its name as forms give it (header.unit), 1 to 500 characters")
    return unit


def units_of(session: Session, user: User) -> list[str]:
    """The units a user is limited to (empty: not limited, every form)."""
    return sorted(session.scalars(select(UserUnit.unit).where(UserUnit.user_id == user.id)))


def change_units(session: Session, name: str, add: Iterable[str] = (), remove: Iterable[str] = (),
                 unlimited: bool = False) -> list[str]:
    """Add and remove units of a user; returns the units after the change. A user without units
    sees every form, so removing the last unit is refused unless ``unlimited`` says that is meant
    (``unlimited`` removes every unit)."""
    user = _existing(session, name)
    current = set(units_of(session, user))
    if unlimited:
        session.execute(delete(UserUnit).where(UserUnit.user_id == user.id))
        return []
    to_add = [_unit(u) for u in add]
    to_remove = [_unit(u) for u in remove]
    missing = [u for u in to_remove if u not in current]
    if missing:
        raise UserError(f"{name} is not limited to {', '.join(missing)}")
    if current and current <= set(to_remove) and not to_add:
        raise UserError(f"removing the last unit of {name} would let them see every unit's forms: "
                        "pass --all-units if that is meant")
    session.execute(delete(UserUnit).where(UserUnit.user_id == user.id, UserUnit.unit.in_(to_remove)))
    session.add_all(UserUnit(user_id=user.id, unit=u) for u in dict.fromkeys(to_add) if u not in current)
    session.flush()
    # What a user may see changed: sessions carry no copy of it (the app reads it on every request).
    return units_of(session, user)


def find_user(session: Session, name: str) -> User | None:
    return session.scalar(select(User).where(User.name == name))


def authenticate(session: Session, name: str, password: str) -> User | None:
    """The user if the password is right, else None (same work whether or not the name exists)."""
    user = find_user(session, name)
    try:
        _HASHER.verify(user.password_hash if user is not None else _dummy_hash(), password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if user is None:
        return None
    if _HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = _HASHER.hash(password)  # stronger parameters since it was set
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.name)))
