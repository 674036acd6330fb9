"""Logging in and out, and changing one's own password.

A new cookie session (and CSRF token) and a new server-side session on every login, so that a
session id or token seen before login is worth nothing after it. Logins are throttled per account
name and per client address (goalforms.pipeline.web.throttle); so is the current-password check
of a password change, which a stolen session could otherwise use to guess the password.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from goalforms.pipeline import users
from goalforms.pipeline.web import sessions
from goalforms.pipeline.web.deps import DbSession, Viewer, flash, settings
from goalforms.pipeline.web.throttle import Refused, Throttle
from goalforms.schema.clerk_models import User, WebSession

router = APIRouter()


def _safe_next(target: str | None) -> str:
    """Only a path on this site: a login link must not send the user elsewhere."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def _address(request: Request) -> str | None:
    return request.client.host if request.client is not None else None


def _refused(seconds: int) -> str:
    why = "too many failed logins for this name or from this address"
    if seconds < 60:
        return f"{why}: try again in {seconds} s"
    minutes = -(-seconds // 60)
    return f"{why}: locked for {minutes} more minute{'s' if minutes != 1 else ''}"


@router.get("/login", name="login_page")
def login_page(request: Request, next_page: Annotated[str | None, Query(alias="next")] = None) -> Response:
    response: Response = request.app.state.templates.TemplateResponse(
        request, "login.html", {"next": _safe_next(next_page), "error": None, "name": ""})
    return response


def _check_password(request: Request, session: DbSession, name: str, password: str) -> User | None:
    """The user if the password is right; Refused while the account or address is blocked."""
    throttle: Throttle = request.app.state.throttle
    attempt = throttle.begin(name, _address(request))
    user = users.authenticate(session, name, password)
    if user is None:
        throttle.failed(attempt)
    else:
        throttle.succeeded(attempt)
    return user


@router.post("/login")
async def login(request: Request, session: DbSession, name: Annotated[str, Form()] = "",
                password: Annotated[str, Form()] = "", next_page: Annotated[str, Form(alias="next")] = "/") -> Response:
    def page(error: str, status: int, headers: dict[str, str] | None = None) -> Response:
        response: Response = request.app.state.templates.TemplateResponse(
            request, "login.html", {"next": _safe_next(next_page), "error": error, "name": name},
            status_code=status, headers=headers)
        return response

    try:
        # In a thread: hashing takes a while and the throttle's transactions may wait for a lock.
        user = await run_in_threadpool(_check_password, request, session, name, password)
    except Refused as exc:
        return page(_refused(exc.seconds), 429, {"Retry-After": str(exc.seconds)})
    if user is None:
        return page("wrong name or password", 401)
    config = settings(request)
    now = config.clock()
    sessions.purge_expired(session, config.lifetimes, now)
    token = sessions.start(session, user, now, _address(request))
    session.commit()  # the session, and a password hash upgraded to stronger parameters
    request.session.clear()
    request.session["sid"] = token
    request.session["csrf"] = secrets.token_urlsafe(32)
    return RedirectResponse(_safe_next(next_page), status_code=303)


@router.post("/logout")
def logout(request: Request, session: DbSession, everywhere: Annotated[str, Form()] = "") -> Response:
    """End this session (the server forgets it: a copy of the cookie is worth nothing), or with
    ``everywhere`` every session of the user."""
    user = sessions.find(session, request.session.get("sid"), settings(request).lifetimes, settings(request).clock)
    if everywhere and user is not None:
        users.end_sessions(session, user.id)
    sessions.end(session, request.session.get("sid"))
    session.commit()
    request.session.clear()
    return RedirectResponse(request.url_for("login_page"), status_code=303)


def _account(request: Request, session: DbSession, user: User, error: str | None = None,
             status: int = 200) -> Response:
    count = len(list(session.scalars(select(WebSession.id).where(WebSession.user_id == user.id))))
    response: Response = request.app.state.templates.TemplateResponse(
        request, "account.html", {"error": error, "units": users.units_of(session, user), "sessions": count},
        status_code=status)
    return response


@router.get("/account", name="account_page")
def account_page(request: Request, user: Viewer, session: DbSession) -> Response:
    return _account(request, session, user)


@router.post("/account/password", name="change_password")
async def change_password(request: Request, user: Viewer, session: DbSession,
                          current: Annotated[str, Form()] = "", new: Annotated[str, Form()] = "",
                          repeat: Annotated[str, Form()] = "") -> Response:
    """Change one's own password (the current one required). Every session of the user ends,
    this one included; this browser gets a new session, so the user stays logged in here only."""
    if new != repeat:
        return _account(request, session, user, "not changed: the new password and its repetition differ", 400)
    name = user.name
    try:
        right = await run_in_threadpool(_check_password, request, session, name, current)
    except Refused as exc:
        return _account(request, session, user, "not changed: " + _refused(exc.seconds), 429)
    if right is None:
        return _account(request, session, user, "not changed: the current password is wrong", 400)
    try:
        changed = users.set_password(session, name, new)
    except users.UserError as exc:
        session.rollback()
        return _account(request, session, user, f"not changed: {exc.reason}", 400)
    config = settings(request)
    token = sessions.start(session, changed, config.clock(), _address(request))
    session.commit()
    request.session.clear()
    request.session["sid"] = token
    request.session["csrf"] = secrets.token_urlsafe(32)
    flash(request, "ok", "password changed: every other session of yours has ended")
    return RedirectResponse(request.url_for("account_page"), status_code=303)
