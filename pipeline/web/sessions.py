"""Server-side login sessions (``web_sessions``; docs/security.md).

The signed cookie carries a random token; the table holds its SHA-256 with the user, when the
session began and when it was last used. Every request looks the session up, so that deleting its
row ends it at once: logout (this session), password change and user removal (every session of
the user, goalforms.pipeline.users.end_sessions). A session also ends when it has been idle longer
than ``idle`` or is older than ``absolute``, whatever its use.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, or_
from sqlalchemy.orm import Session

from goalforms.pipeline.web.throttle import Clock, as_utc, utc_now
from goalforms.schema.clerk_models import User, WebSession

TOUCH_EVERY = dt.timedelta(seconds=60)  # last_seen_at is written at most once a minute per session


@dataclass(frozen=True)
class Lifetimes:
    idle: dt.timedelta = dt.timedelta(minutes=60)
    absolute: dt.timedelta = dt.timedelta(hours=10)

    def __post_init__(self) -> None:
        if self.idle <= dt.timedelta(0) or self.absolute <= dt.timedelta(0):
            raise ValueError("session lifetimes must be positive")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start(session: Session, user: User, now: dt.datetime, address: str | None) -> str:
    """A new session for ``user``; returns the token for the cookie (not committed)."""
    token = secrets.token_urlsafe(32)
    session.add(WebSession(id=_digest(token), user_id=user.id, created_at=now, last_seen_at=now,
                           address=(address or "")[:100] or None))
    session.flush()
    return token


def find(session: Session, token: object, lifetimes: Lifetimes, clock: Clock = utc_now) -> User | None:
    """The user of a live session (its last use recorded), or None: no such session, ended, or
    expired (an expired session's row is deleted)."""
    if not isinstance(token, str) or not token:
        return None
    row = session.get(WebSession, _digest(token))
    if row is None:
        return None
    now = clock()
    if now - as_utc(row.last_seen_at) > lifetimes.idle or now - as_utc(row.created_at) > lifetimes.absolute:
        session.delete(row)
        session.commit()
        return None
    if now - as_utc(row.last_seen_at) >= TOUCH_EVERY:
        row.last_seen_at = now
        session.commit()
    return session.get(User, row.user_id)


def end(session: Session, token: object) -> None:
    """End one session (logout); not committed."""
    if isinstance(token, str) and token:
        session.execute(delete(WebSession).where(WebSession.id == _digest(token)))


def purge_expired(session: Session, lifetimes: Lifetimes, now: dt.datetime) -> None:
    """Delete expired sessions (at login: keeps the table small); not committed."""
    session.execute(delete(WebSession).where(or_(WebSession.last_seen_at < now - lifetimes.idle,
                                                 WebSession.created_at < now - lifetimes.absolute))
                    .execution_options(synchronize_session=False))  # SQLite gives back naive datetimes
