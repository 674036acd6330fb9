"""What every route depends on: the database session, the logged-in user and what they may see,
CSRF, flash messages, templates and the app's settings (FastAPI dependencies).

Kept apart from :mod:`.app`, which assembles the app from the routers: the routers import these,
and the app imports the routers, without either importing the other back.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import jinja2
from fastapi import Depends, HTTPException, Request
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from goalforms.pipeline.corrections.model import as_text
from goalforms.pipeline.scope import Scope
from goalforms.pipeline.web import sessions
from goalforms.pipeline.web.throttle import ACCOUNT_POLICY, ADDRESS_POLICY, Clock, Policy, utc_now
from goalforms.schema.clerk_models import CLERK, User

HERE = Path(__file__).resolve().parent
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class LoginRequired(Exception):
    """The page needs a logged-in user: answered with a redirect to the login page."""


def templates() -> Jinja2Templates:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    env.filters["shown"] = _shown
    return Jinja2Templates(env=env, context_processors=[_page_context])


def _shown(value: Any) -> str:
    """A correction's old or new value as a clerk reads it (Chinese as Chinese; escaped by Jinja)."""
    return as_text(value) or "(empty)"


def _page_context(request: Request) -> dict[str, Any]:
    return {"csrf_token": csrf_token(request), "me": getattr(request.state, "user", None),
            "flashes": pop_flashes(request)}


def csrf_token(request: Request) -> str:
    """The session's CSRF token (made on first use: the login form needs one too)."""
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


async def csrf_guard(request: Request) -> None:
    """Refuse any state-changing request without the session's CSRF token (runs for every route)."""
    if request.method in SAFE_METHODS:
        return
    expected = request.session.get("csrf")
    sent: Any = request.headers.get("x-csrf-token")
    if sent is None:
        form = await request.form()  # cached by Starlette: the route reads the same parsed form
        sent = form.get("csrf_token")
    if not isinstance(expected, str) or not isinstance(sent, str) or not hmac.compare_digest(sent, expected):
        raise HTTPException(status_code=403, detail="refused: the form's security token is missing or out of "
                                                     "date; reload the page and try again")


FLASH_CHARACTERS = 400  # the session is a cookie: browsers drop cookies over 4 KB (and the login with it)


def flash(request: Request, kind: str, text: str) -> None:
    """A message shown once on the next page (kind: ok, error, warning)."""
    if len(text) > FLASH_CHARACTERS:
        text = text[:FLASH_CHARACTERS] + " … (see the form's corrections)"
    request.session["flash"] = [*request.session.get("flash", [])[-2:], [kind, text]]


def pop_flashes(request: Request) -> list[list[str]]:
    return list(request.session.pop("flash", []))


def db(request: Request) -> Iterator[Session]:
    """One session per request; the route commits what it changed, anything else is rolled back."""
    with request.app.state.archive.session() as session:
        yield session


DbSession = Annotated[Session, Depends(db)]


def settings(request: Request) -> Settings:
    found: Settings = request.app.state.settings
    return found


def viewer(request: Request, session: DbSession) -> User:
    """The logged-in user (clerk or analyst) of a live server-side session."""
    config = settings(request)
    user = sessions.find(session, request.session.get("sid"), config.lifetimes, config.clock)
    if user is None:
        request.session.pop("sid", None)
        raise LoginRequired
    request.state.user = user
    return user


def scope_of(request: Request, session: DbSession, user: Annotated[User, Depends(viewer)]) -> Scope:
    """What the logged-in user may see: every query and change of a route goes through it."""
    found = Scope.for_user(session, user)
    request.state.scope = found
    return found


def clerk(user: Annotated[User, Depends(viewer)]) -> User:
    """The logged-in user, who must be a clerk: analysts may only read."""
    if user.role != CLERK:
        raise HTTPException(status_code=403, detail="refused: analysts may read but not change anything")
    return user


Viewer = Annotated[User, Depends(viewer)]
Clerk = Annotated[User, Depends(clerk)]
Scoped = Annotated[Scope, Depends(scope_of)]


@dataclass(frozen=True)
class Settings:
    """How the app guards sessions and logins (``goalforms serve`` options; docs/security.md).

    ``secure_cookies``: always mark the cookie Secure (the app listens beyond loopback);
    ``behind_proxy``: trust X-Forwarded-Proto and X-Forwarded-For from ``proxies`` (addresses);
    ``clock``: the time, injectable so that tests of expiry and throttling need not wait."""

    lifetimes: sessions.Lifetimes = field(default_factory=sessions.Lifetimes)
    secure_cookies: bool = False
    behind_proxy: bool = False
    proxies: Sequence[str] = ("127.0.0.1", "::1")
    clock: Clock = utc_now
    account_policy: Policy = ACCOUNT_POLICY
    address_policy: Policy = ADDRESS_POLICY

