"""The web app's skeleton: sessions, CSRF, who may do what, templates, security headers.

- The cookie is signed (Starlette's SessionMiddleware, itsdangerous) and holds a session token and
  a CSRF token; the signing secret is a file next to an SQLite database (or named by
  ``--secret-file``), never in the database, where analysts with read access could forge cookies.
  The login itself is a server-side session (``web_sessions``, goalforms.pipeline.web.sessions),
  looked up on every request: logout, a password change or a user's removal ends it at once, and
  it expires when idle and at an absolute age. The cookie is ``Secure`` when the app listens
  beyond loopback, and on requests that came over HTTPS (behind a proxy: X-Forwarded-Proto from
  the proxy's address).
- What a user may see is a :class:`~goalforms.pipeline.scope.Scope` made here for each request
  (``Scoped``) and handed to every query and change: a form outside it is a 404.
- Every request other than GET/HEAD must carry the session's CSRF token (``csrf_token`` form
  field): checked once, for all routes, by an app-wide dependency.
- Pages are rendered by Jinja2 with autoescape on: document text is always text. A strict
  Content-Security-Policy (no inline script or style) stops anything that got through anyway.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine, make_url
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Send
from starlette.types import Scope as AsgiScope

from goalforms.pipeline.archive import Archive
from goalforms.pipeline.web import auth, findings, forms, queue, source
from goalforms.pipeline.web.deps import HERE, LoginRequired, Settings, csrf_guard, templates
from goalforms.pipeline.web.deps import scope_of as scope_of  # where tests and callers found it
from goalforms.pipeline.web.throttle import Throttle

COOKIE = "goalforms_session"
LOOPBACK = ("127.0.0.1", "localhost", "::1")
_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def secret_path_for(url: str) -> Path:
    """Where the session secret lives by default: beside an SQLite file (``goalforms.db.secret``),
    else ``goalforms-web.secret`` in the working folder."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        return Path(f"{parsed.database}.secret")
    return Path("goalforms-web.secret")


def load_secret(path: Path) -> str:
    """The session-signing secret in ``path``, created (readable by its owner only) if missing."""
    if path.exists():
        value = path.read_text(encoding="utf-8").strip()
        if len(value) >= 32:
            return value
    value = secrets.token_urlsafe(48)
    # O_EXCL: two servers starting at once must not each write a different secret.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(value + "\n")
    return value



def is_loopback(host: str) -> bool:
    return host in LOOPBACK or host.startswith("127.")


class SecureCookie:
    """Adds ``Secure`` to the session cookie when the settings say so or the request came over
    HTTPS (Starlette's SessionMiddleware only has a fixed flag)."""

    def __init__(self, app: ASGIApp, always: bool) -> None:
        self.app, self.always = app, always

    async def __call__(self, scope: AsgiScope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not (self.always or scope.get("scheme") == "https"):
            await self.app(scope, receive, send)
            return

        async def send_secure(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = []
                for name, value in message.get("headers", []):
                    if (name.lower() == b"set-cookie" and value.startswith(COOKIE.encode() + b"=")
                            and b"; secure" not in value.lower()):
                        value += b"; secure"
                    headers.append((name, value))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_secure)


def create_app(engine: Engine, secret: str, config: Settings | None = None) -> FastAPI:
    """The app for a database engine (already migrated), a cookie-signing secret and settings."""
    config = config or Settings()
    app = FastAPI(title="goalforms", docs_url=None, redoc_url=None, openapi_url=None,
                  dependencies=[Depends(csrf_guard)])
    app.state.engine = engine
    app.state.archive = Archive.for_engine(engine)  # the library handle the routes' sessions come from
    app.state.settings = config
    app.state.throttle = Throttle(engine, config.clock, config.account_policy, config.address_policy)
    app.state.templates = templates()
    # The cookie outlives no session: the server-side record decides, the cookie's own age is a bound.
    app.add_middleware(SessionMiddleware, secret_key=secret, session_cookie=COOKIE,
                       max_age=int(config.lifetimes.absolute.total_seconds()), same_site="lax", https_only=False)
    app.add_middleware(SecureCookie, always=config.secure_cookies)
    if config.behind_proxy:
        from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(config.proxies))

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = _CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["X-Frame-Options"] = "DENY"
        if response.headers.get("content-type", "").startswith("text/html"):
            response.headers["Cache-Control"] = "no-store"  # pages hold what only a logged-in user may see
        return response

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, _exc: LoginRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(request.url_for("login_page").include_query_params(next=target), status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        response: Response = app.state.templates.TemplateResponse(
            request, "error.html", {"status": exc.status_code, "detail": exc.detail}, status_code=exc.status_code)
        return response

    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for module in (auth, queue, forms, source, findings):
        app.include_router(module.router)
    return app
