"""Logging in and out. A new session (and CSRF token) on every login, so that a session id or
token seen before login is worth nothing after it."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from goalforms.pipeline.users import authenticate
from goalforms.pipeline.web.app import DbSession

router = APIRouter()


def _safe_next(target: str | None) -> str:
    """Only a path on this site: a login link must not send the user elsewhere."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


@router.get("/login", name="login_page")
def login_page(request: Request, next_page: Annotated[str | None, Query(alias="next")] = None) -> Response:
    response: Response = request.app.state.templates.TemplateResponse(
        request, "login.html", {"next": _safe_next(next_page), "error": None, "name": ""})
    return response


@router.post("/login")
def login(request: Request, session: DbSession, name: Annotated[str, Form()] = "",
          password: Annotated[str, Form()] = "", next_page: Annotated[str, Form(alias="next")] = "/") -> Response:
    user = authenticate(session, name, password)
    if user is None:
        response: Response = request.app.state.templates.TemplateResponse(
            request, "login.html", {"next": _safe_next(next_page), "error": "wrong name or password", "name": name},
            status_code=401)
        return response
    session.commit()  # a password hash upgraded to stronger parameters
    request.session.clear()
    request.session["uid"] = user.id
    request.session["csrf"] = secrets.token_urlsafe(32)
    return RedirectResponse(_safe_next(next_page), status_code=303)


@router.post("/logout")
def logout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse(request.url_for("login_page"), status_code=303)
