"""Users of the clerks' web app: a name, a role (clerk: may correct; analyst: may only read) and
an argon2id password hash (argon2-cffi: salted, memory-hard, parameters kept in the hash so they
can be raised later). Passwords themselves are never stored or logged."""

from __future__ import annotations

import datetime as dt
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from goalforms.errors import GoalformsError
from goalforms.schema.clerk_models import ROLES, User

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


def add_user(session: Session, name: str, role: str, password: str) -> User:
    """Create a user (not committed). UserError if the name is taken or a value is refused."""
    _check(name, role, password)
    if find_user(session, name) is not None:
        raise UserError(f"user {name!r} exists already")
    user = User(name=name, role=role, password_hash=_HASHER.hash(password), created_at=dt.datetime.now(dt.UTC))
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, name: str, password: str) -> User:
    user = find_user(session, name)
    if user is None:
        raise UserError(f"no user {name!r}")
    _check(name, user.role, password)
    user.password_hash = _HASHER.hash(password)
    return user


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
