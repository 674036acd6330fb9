"""Accounts and sessions of the web app (docs/security.md): a session ends at logout, at a password
change (web or CLI) and at the user's removal, whatever copy of its cookie is kept; it expires when
idle and at an absolute age; logins are throttled per account and per client address, in the
database; the cookie is Secure beyond loopback and behind an HTTPS proxy. The clock is injected:
nothing here waits."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import Engine, inspect, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from goalforms.pipeline import cli_clerk, users
from goalforms.pipeline.web import create_app
from goalforms.pipeline.web.app import Settings
from goalforms.pipeline.web.sessions import Lifetimes
from goalforms.pipeline.web.throttle import ACCOUNT_POLICY, ADDRESS_POLICY, Refused, Throttle
from goalforms.schema.clerk_models import LoginThrottle, WebSession
from goalforms.schema.db import connect
from tests.test_web import token

START = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@dataclass
class Site:
    url: str
    engine: Engine
    clock: Clock
    app: Any

    def client(self, address: str = "192.0.2.10", app: Any = None) -> TestClient:
        return TestClient(app or self.app, base_url="http://127.0.0.1", client=(address, 40000))


@pytest.fixture(autouse=True)
def quick_hashes(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Cheap argon2 parameters: these tests log in hundreds of times (what is tested is how often a
    password is checked, not how hard; the real parameters are argon2-cffi's defaults)."""
    monkeypatch.setattr(users, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    users._dummy_hash.cache_clear()
    yield
    users._dummy_hash.cache_clear()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    url = f"sqlite:///{tmp_path / 'web.db'}"
    engine = connect(url)
    with Session(engine) as session, session.begin():
        users.add_user(session, "alice", "clerk", "alice's password")
        users.add_user(session, "bob", "analyst", "bob's password")
    clock = Clock()
    yield Site(url, engine, clock, create_app(engine, "s" * 48, Settings(clock=clock)))
    engine.dispose()


def attempt(client: TestClient, name: str = "alice", password: str | None = None) -> Any:
    page = client.get("/login")
    return client.post("/login", data={"name": name, "password": password or f"{name}'s password",
                                       "csrf_token": token(page.text), "next": "/"}, follow_redirects=False)


def login(client: TestClient, name: str = "alice", password: str | None = None) -> str:
    """Log in; returns the page's CSRF token."""
    response = attempt(client, name, password)
    assert response.status_code == 303, response.text[:300]
    return token(client.get("/account").text)


def logged_in(client: TestClient) -> bool:
    response = client.get("/", follow_redirects=False)
    assert response.status_code in (200, 303)
    return response.status_code == 200


def copy_of(client: TestClient, site: Site) -> TestClient:
    """Another client holding a copy of ``client``'s cookie (a saved, stolen or backed-up cookie)."""
    other = site.client()
    other.cookies.update(dict(client.cookies))
    return other


def cli() -> typer.Typer:
    app = typer.Typer()
    cli_clerk.register(app)
    return app


def session_rows(site: Site) -> int:
    with Session(site.engine) as session:
        return len(list(session.scalars(select(WebSession.id))))


# --- a session ends when it should ----------------------------------------------------------------


def test_logout_ends_the_session_on_the_server_a_saved_cookie_is_refused(site: Site) -> None:
    client = site.client()
    csrf = login(client)
    saved = copy_of(client, site)
    assert logged_in(saved)
    client.post("/logout", data={"csrf_token": csrf})
    assert not logged_in(client)
    assert not logged_in(saved)  # the cookie is still validly signed, but its session is gone
    # Nor can it change anything: a state-changing request is sent to the login page.
    response = saved.post("/account/password", data={"csrf_token": csrf, "current": "alice's password",
                                                     "new": "changed password", "repeat": "changed password"},
                          follow_redirects=False)
    assert response.status_code == 303 and "/login" in response.headers["location"]
    assert attempt(site.client(), "alice").status_code == 303  # the password was not changed
    assert session_rows(site) == 1


def test_logout_ends_only_this_session_unless_everywhere(site: Site) -> None:
    first, second, third = site.client(), site.client(), site.client()
    csrf = login(first)
    login(second)
    login(third)
    first.post("/logout", data={"csrf_token": csrf})
    assert not logged_in(first) and logged_in(second) and logged_in(third)
    csrf = token(second.get("/account").text)
    second.post("/logout", data={"csrf_token": csrf, "everywhere": "1"})
    assert not logged_in(second) and not logged_in(third)


def test_a_password_changed_on_the_command_line_ends_every_session(site: Site) -> None:
    clients = [site.client(), site.client()]
    for client in clients:
        login(client)
    saved = copy_of(clients[0], site)
    other_user = site.client()
    login(other_user, "bob")
    result = CliRunner().invoke(cli(), ["user", "passwd", "alice", "--db", site.url], input="a new password\n")
    assert result.exit_code == 0, result.output
    assert not any(logged_in(c) for c in [*clients, saved])
    assert logged_in(other_user)  # only alice's sessions ended
    assert attempt(site.client(), "alice").status_code == 401
    assert attempt(site.client(), "alice", "a new password").status_code == 303


def test_changing_ones_own_password_needs_the_old_one_and_ends_the_other_sessions(site: Site) -> None:
    here, elsewhere = site.client(), site.client()
    csrf = login(here)
    login(elsewhere)
    saved = copy_of(here, site)

    def change(current: str, new: str, repeat: str | None = None, csrf_token: str | None = None) -> Any:
        return here.post("/account/password", data={"csrf_token": csrf_token or csrf, "current": current, "new": new,
                                                    "repeat": new if repeat is None else repeat})

    assert change("alice's password", "newer password", "other password").status_code == 400
    wrong = change("not her password", "newer password")
    assert wrong.status_code == 400 and "current password is wrong" in wrong.text
    short = change("alice's password", "short")
    assert short.status_code == 400 and "too short" in short.text
    assert change("alice's password", "newer password", csrf_token="forged").status_code == 403  # CSRF as everywhere
    assert logged_in(elsewhere)  # nothing changed yet
    done = change("alice's password", "newer password")
    assert done.status_code == 200 and "password changed" in done.text
    assert logged_in(here)  # this browser got a new session...
    assert not logged_in(elsewhere) and not logged_in(saved)  # ...every other one ended, a copy of this one too
    assert attempt(site.client(), "alice").status_code == 401
    assert attempt(site.client(), "alice", "newer password").status_code == 303


def test_removing_a_user_ends_their_sessions(site: Site) -> None:
    client = site.client()
    login(client)
    result = CliRunner().invoke(cli(), ["user", "remove", "alice", "--db", site.url])
    assert result.exit_code == 0 and "removed alice" in result.output
    assert not logged_in(client) and session_rows(site) == 0
    assert attempt(site.client(), "alice").status_code == 401
    result = CliRunner().invoke(cli(), ["user", "remove", "alice", "--db", site.url])
    assert result.exit_code == 1 and "error: no user 'alice'" in result.output


def test_the_database_holds_no_usable_session_token(site: Site) -> None:
    client = site.client()
    login(client)
    with Session(site.engine) as session:
        stored = session.scalars(select(WebSession.id)).one()
    assert stored not in str(client.cookies.get("goalforms_session"))
    assert len(stored) == 64  # the token's SHA-256


# --- expiry ---------------------------------------------------------------------------------------


def test_a_session_ends_after_an_hour_unused_and_lasts_while_used(site: Site) -> None:
    client = site.client()
    login(client)
    for _ in range(3):
        site.clock.advance(minutes=59)
        assert logged_in(client)  # each use restarts the idle time
    site.clock.advance(minutes=61)
    assert not logged_in(client)
    assert session_rows(site) == 0  # an expired session is deleted when met
    login(client)
    assert logged_in(client)


def test_a_session_ends_ten_hours_after_login_however_much_it_is_used(site: Site) -> None:
    client = site.client()
    login(client)
    for _ in range(19):  # 9 h 30 min of steady use
        site.clock.advance(minutes=30)
        assert logged_in(client)
    site.clock.advance(minutes=31)
    assert not logged_in(client)


def test_lifetimes_are_settable(site: Site) -> None:
    app = create_app(site.engine, "s" * 48, Settings(Lifetimes(dt.timedelta(minutes=5), dt.timedelta(minutes=20)),
                                                      clock=site.clock))
    client = site.client(app=app)
    login(client)
    site.clock.advance(minutes=4)
    assert logged_in(client)
    site.clock.advance(minutes=6)
    assert not logged_in(client)
    login(client)
    for _ in range(4):
        site.clock.advance(minutes=4, seconds=59)
        assert logged_in(client)
    site.clock.advance(minutes=1)
    assert not logged_in(client)
    result = CliRunner().invoke(cli(), ["serve", "--help"])
    assert "--idle-minutes" in result.output and "--session-hours" in result.output


# --- login throttling -----------------------------------------------------------------------------


def test_the_fifth_wrong_password_slows_the_account_and_the_tenth_locks_it(
        site: Site, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="goalforms.web.login")
    client = site.client()
    for _ in range(4):
        assert attempt(client, "alice", "guess").status_code == 401  # free
    assert attempt(client, "alice", "guess").status_code == 401  # the 5th is checked, and starts the back-off
    refused = attempt(client, "alice")  # the right password, at once: not even checked
    assert refused.status_code == 429 and "try again in 2 s" in refused.text and refused.headers["retry-after"] == "2"
    waits = []
    for _ in range(5):  # failures 6 to 10, each after waiting out the one before
        site.clock.advance(seconds=2 ** (len(waits) + 1))
        assert attempt(client, "alice", "guess").status_code == 401
        waits.append(int(attempt(client, "alice", "guess").headers["retry-after"]))
    assert waits == [4, 8, 16, 32, 900]  # exponential back-off, then locked for 15 minutes
    site.clock.advance(minutes=14)
    locked = attempt(site.client("198.51.100.7"), "alice")  # the right password, from elsewhere too
    assert locked.status_code == 429 and "locked for 1 more minute" in locked.text
    site.clock.advance(minutes=1, seconds=1)
    assert attempt(client, "alice").status_code == 303
    fresh = site.client("198.51.100.8")  # this address has 10 failures of its own: not its test
    assert attempt(fresh, "alice", "guess").status_code == 401  # a success cleared the account's count
    assert attempt(fresh, "alice").status_code == 303
    logged = [r.getMessage() for r in caplog.records]
    assert any("account:alice" in m and "locked for 900 s" in m for m in logged)
    assert any("login refused without checking: account:alice is blocked" in m for m in logged)
    assert not any("guess" in m or "alice's password" in m for m in logged)  # passwords are never logged


def test_an_address_trying_many_accounts_is_slowed_whatever_the_names(site: Site) -> None:
    sprayer = site.client("203.0.113.5")
    for n in range(11):  # 10 free failures for an address, the 11th starts the back-off
        assert attempt(sprayer, f"user{n}", "password1").status_code == 401
    assert attempt(sprayer, "alice").status_code == 429  # even a right password, for another account
    assert attempt(site.client("203.0.113.6"), "alice").status_code == 303  # another address is not concerned
    for n in range(11, 30):  # wait out each back-off, up to the 30th failure, which locks the address
        site.clock.advance(seconds=ADDRESS_POLICY.lock_seconds)
        assert attempt(sprayer, f"user{n}", "password1").status_code == 401
    site.clock.advance(minutes=14)
    assert attempt(sprayer, "bob").status_code == 429
    site.clock.advance(minutes=1, seconds=1)
    assert attempt(sprayer, "bob").status_code == 303


def test_throttling_is_kept_in_the_database_for_every_server_process(site: Site) -> None:
    other_worker = create_app(site.engine, "s" * 48, Settings(clock=site.clock))
    for n in range(5):
        app = site.app if n % 2 else other_worker
        assert attempt(site.client(app=app), "alice", "guess").status_code == 401
    assert attempt(site.client(app=site.app), "alice").status_code == 429
    assert attempt(site.client(app=other_worker), "alice").status_code == 429
    with Session(site.engine) as session:
        assert session.get(LoginThrottle, "account:alice").failures == 5  # type: ignore[union-attr]
    attempt(site.client("198.51.100.1"), "mallory", "guess")
    site.clock.advance(hours=2)  # failures are forgotten an hour after the last one, and their rows go
    assert attempt(site.client("198.51.100.2"), "bob").status_code == 303
    with Session(site.engine) as session:
        assert set(session.scalars(select(LoginThrottle.key))) == {"address:198.51.100.2"}


def test_concurrent_guesses_gain_nothing(site: Site) -> None:
    """Eight threads guess at once: the attempts are counted before the password is checked, so no
    more than the free ones plus one are ever checked."""
    throttle = Throttle(site.engine, site.clock)
    checked: list[int] = []
    start = threading.Barrier(8)

    def guess(n: int) -> None:
        start.wait()
        try:
            made = throttle.begin("alice", f"192.0.2.{n}")
        except Refused:
            return
        checked.append(n)
        throttle.failed(made)

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(checked) == ACCOUNT_POLICY.free + 1


def test_the_current_password_check_is_throttled_too(site: Site) -> None:
    client = site.client()
    csrf = login(client)
    data = {"csrf_token": csrf, "current": "guess", "new": "newer password", "repeat": "newer password"}
    for _ in range(5):
        assert client.post("/account/password", data=data).status_code == 400
    refused = client.post("/account/password", data={**data, "current": "alice's password"})
    assert refused.status_code == 429 and "too many failed logins" in refused.text
    assert attempt(site.client(), "alice").status_code == 429


# --- the cookie -----------------------------------------------------------------------------------


def _served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *options: str) -> tuple[Any, dict[str, Any]]:
    import uvicorn

    started: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: started.update(kw, app=app))
    result = CliRunner().invoke(cli(), ["serve", "--db", str(tmp_path / "served.db"), *options])
    assert result.exit_code == 0, result.output
    return started.pop("app"), started


def _cookie(app: Any, address: str = "127.0.0.1", **headers: str) -> str:
    client = TestClient(app, base_url="http://127.0.0.1", client=(address, 50000))
    return client.get("/login", headers=headers).headers["set-cookie"].lower()


def test_the_cookie_is_secure_when_served_beyond_loopback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    local, options = _served(tmp_path, monkeypatch)
    assert "secure" not in _cookie(local) and options["proxy_headers"] is False
    assert "httponly" in _cookie(local) and "samesite=lax" in _cookie(local)
    for host in ("0.0.0.0", "192.0.2.1", "::"):
        public, _ = _served(tmp_path, monkeypatch, "--host", host)
        assert "; secure" in _cookie(public), host
    # Spoofed forwarding headers are ignored without --behind-proxy.
    assert "secure" not in _cookie(local, **{"X-Forwarded-Proto": "https"})


def test_behind_a_proxy_the_cookie_follows_x_forwarded_proto_from_the_proxy_only(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app, _ = _served(tmp_path, monkeypatch, "--behind-proxy")
    assert "; secure" in _cookie(app, **{"X-Forwarded-Proto": "https"})
    assert "secure" not in _cookie(app)
    assert "secure" not in _cookie(app, "198.51.100.4", **{"X-Forwarded-Proto": "https"})  # not the proxy
    other, _ = _served(tmp_path, monkeypatch, "--behind-proxy", "--proxy-address", "10.0.0.2")
    assert "; secure" in _cookie(other, "10.0.0.2", **{"X-Forwarded-Proto": "https"})
    assert "secure" not in _cookie(other, **{"X-Forwarded-Proto": "https"})


def test_behind_a_proxy_the_forwarded_address_is_throttled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app, _ = _served(tmp_path, monkeypatch, "--behind-proxy")
    # https: the cookie is Secure (X-Forwarded-Proto says so), and the test client must send it back.
    proxy = TestClient(app, base_url="https://127.0.0.1", client=("127.0.0.1", 50000))
    for n in range(11):
        assert attempt_via(proxy, f"u{n}", "203.0.113.9").status_code == 401
    assert attempt_via(proxy, "u99", "203.0.113.9").status_code == 429
    assert attempt_via(proxy, "u99", "203.0.113.10").status_code == 401  # another client behind the same proxy


def attempt_via(client: TestClient, name: str, forwarded_for: str) -> Any:
    headers = {"X-Forwarded-For": forwarded_for, "X-Forwarded-Proto": "https"}
    page = client.get("/login", headers=headers)
    return client.post("/login", data={"name": name, "password": "password1", "csrf_token": token(page.text)},
                       headers=headers, follow_redirects=False)


# --- the schema ------------------------------------------------------------------------------------


def test_the_migration_adds_and_removes_its_tables(site: Site) -> None:
    from alembic import command

    from goalforms.schema.db import alembic_config

    tables = {"web_sessions", "login_throttle", "user_units"}
    cfg = alembic_config(site.url)
    with site.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0004")
    names = set(inspect(site.engine).get_table_names())
    assert not tables & names and "users" in names
    site.engine.dispose()
    upgraded = connect(site.url)
    assert tables <= set(inspect(upgraded).get_table_names())
    upgraded.dispose()


# --- the schema on PostgreSQL ---------------------------------------------------------------------



def test_sessions_and_throttling_on_postgresql(pg_url: str) -> None:
    engine = connect(pg_url)
    try:
        assert {"web_sessions", "login_throttle", "user_units"} <= set(inspect(engine).get_table_names())
        with Session(engine) as session, session.begin():
            users.add_user(session, "alice", "clerk", "alice's password", ["上海市社会保险事业管理中心"])
        clock = Clock()
        site = Site(pg_url, engine, clock, create_app(engine, "s" * 48, Settings(clock=clock)))
        client = site.client()
        login(client)
        site.clock.advance(minutes=61)
        assert not logged_in(client)
        for _ in range(5):
            assert attempt(client, "alice", "guess").status_code == 401
        assert attempt(client, "alice").status_code == 429
        result = CliRunner().invoke(cli(), ["user", "list", "--db", pg_url])
        assert "alice\tclerk" in result.output and "units: 上海市社会保险事业管理中心" in result.output
    finally:
        engine.dispose()
