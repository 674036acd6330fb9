"""A throwaway PostgreSQL server for the tests.

One cluster per test session: ``initdb`` into a fresh temporary folder, started with ``pg_ctl`` on a
free loopback port (socket in the same folder, so it never meets a system server), stopped and
deleted when the last test that used it is done. Each test gets a database of its own.

PostgreSQL refuses to run as root, so as root the server runs as the ``postgres`` user (via
``runuser``) and the folder is handed to that user. ``GOALFORMS_TEST_PG_URL`` points the tests at
an existing server instead (a URL to an administrative database such as ``postgres``);
``GOALFORMS_TEST_PG_BIN`` names the folder of ``initdb``/``pg_ctl`` when they are elsewhere.

When no server can be started the PostgreSQL tests are skipped, unless ``CI`` is set: on CI a
missing server is a failure, never a silent skip.

The fixtures live in tests/conftest.py with these bodies (fixtures imported from another module
would be flagged by the linter as redefined wherever a test names them)::

    @pytest.fixture(scope="session")
    def pg_server() -> Iterator[pg.PgServer]:
        yield from pg.session_server()

    @pytest.fixture
    def pg_url(pg_server: pg.PgServer) -> Iterator[str]:
        yield from pg.fresh_database(pg_server)
"""

from __future__ import annotations

import atexit
import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.pool import NullPool

RUN_AS = "postgres"  # the user the server runs as when the tests run as root
START_ATTEMPTS = 3  # a free port can be taken between choosing it and starting the server


class PgUnavailable(Exception):
    """No PostgreSQL server could be started (the reason says why)."""


@dataclass
class PgServer:
    """A running server: ``admin_url`` reaches its ``postgres`` database as a superuser."""

    admin_url: str
    folder: Path | None = None  # None: an outside server we did not start and must not stop
    bin_dir: Path | None = None
    _names: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    watchdog_pipe: int | None = None  # closed when stopped (or by the kernel when this process dies)

    def create_database(self, prefix: str = "t") -> str:
        """A new empty database; returns its URL."""
        name = f"goalforms_{prefix}_{os.getpid()}_{next(self._names)}"
        self._admin(f'CREATE DATABASE "{name}" TEMPLATE template0 ENCODING \'UTF8\'')
        return make_url(self.admin_url).set(database=name).render_as_string(hide_password=False)

    def drop_database(self, url: str) -> None:
        name = make_url(url).database
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _admin(self, statement: str) -> None:
        engine = create_engine(self.admin_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                connection.execute(text(statement))
        finally:
            engine.dispose()

    def stop(self) -> None:
        if self.folder is None or not self.folder.exists():
            return
        assert self.bin_dir is not None
        data = self.folder / "data"
        if (data / "postmaster.pid").exists():
            _run([str(self.bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"], check=False)
        shutil.rmtree(self.folder, ignore_errors=True)
        if self.watchdog_pipe is not None:  # the watchdog wakes, finds nothing to stop, and exits
            os.close(self.watchdog_pipe)
            self.watchdog_pipe = None


def find_bin_dir() -> Path:
    """The folder of ``initdb``/``pg_ctl``: ``GOALFORMS_TEST_PG_BIN`` if set, else PATH, else the
    newest Debian versioned folder."""
    chosen = os.environ.get("GOALFORMS_TEST_PG_BIN")
    if chosen:
        if not (Path(chosen) / "pg_ctl").is_file():
            raise PgUnavailable(f"GOALFORMS_TEST_PG_BIN={chosen} holds no pg_ctl")
        return Path(chosen)
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(on_path).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    if not candidates:
        raise PgUnavailable("no PostgreSQL server binaries (pg_ctl) on PATH or in /usr/lib/postgresql/*/bin")
    return Path(candidates[-1]).parent


def _as_server_user(argv: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return argv
    try:
        pwd.getpwnam(RUN_AS)
    except KeyError:
        raise PgUnavailable(f"running as root and there is no '{RUN_AS}' user to run the server as") from None
    return ["runuser", "-u", RUN_AS, "--", *argv]


def _run(argv: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(_as_server_user(argv), capture_output=True, text=True, timeout=120)
    if check and result.returncode != 0:
        raise PgUnavailable(f"{Path(argv[0]).name} failed ({result.returncode}): {result.stderr.strip()[-800:]}")
    return result


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server() -> PgServer:
    """initdb + pg_ctl start in a new temporary folder; raises PgUnavailable with the reason."""
    bin_dir = find_bin_dir()
    # A folder of its own directly under the temp dir: pytest's tmp folders are private to root,
    # and the server user must be able to reach its data directory.
    folder = Path(tempfile.mkdtemp(prefix="goalforms-pg-"))
    server = PgServer(admin_url="", folder=folder, bin_dir=bin_dir)
    try:
        if os.geteuid() == 0:
            shutil.chown(folder, user=RUN_AS, group=None)
        data = folder / "data"
        # --no-sync and fsync=off: a throwaway cluster need not survive a power cut; much faster.
        _run([str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
              "--locale=C", "--no-sync"])
        last_error = ""
        for _ in range(START_ATTEMPTS):
            port = _free_port()
            options = (f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off "
                       "-c synchronous_commit=off -c full_page_writes=off")
            result = _run([str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(folder / "server.log"),
                           "-o", options, "-w", "-t", "60", "start"], check=False)
            if result.returncode == 0:
                server.admin_url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
                _stop_when_this_process_dies(server)
                return server
            log = folder / "server.log"
            last_error = (log.read_text(errors="replace") if log.exists() else result.stderr).strip()[-800:]
        raise PgUnavailable(f"pg_ctl start failed {START_ATTEMPTS} times; last log: {last_error}")
    except BaseException:
        server.stop()
        raise


# The watchdog: blocks on a pipe whose only writer is the process that started the server; the
# pipe ends when that process ends, however it ends (SIGKILL and SIGTERM included, where atexit
# never runs — a test run killed by a timeout left its server running), and the server goes with it.
_WATCHDOG = """
import os, shutil, subprocess, sys
sys.stdin.buffer.read()
data, folder, *pg_ctl = sys.argv[1:]
if os.path.exists(os.path.join(data, "postmaster.pid")):
    subprocess.run([*pg_ctl, "-D", data, "-m", "immediate", "-w", "stop"], capture_output=True, timeout=120)
shutil.rmtree(folder, ignore_errors=True)
"""


def _stop_when_this_process_dies(server: PgServer) -> None:
    assert server.folder is not None and server.bin_dir is not None
    reading, writing = os.pipe()  # both close on exec; a forked child (a worker) dies with us anyway
    # A session of its own: a signal to this process group (Ctrl-C, a harness killing the group)
    # must not take the watchdog before it has stopped the server.
    pg_ctl = _as_server_user([str(server.bin_dir / "pg_ctl")])
    subprocess.Popen([sys.executable, "-c", _WATCHDOG, str(server.folder / "data"), str(server.folder), *pg_ctl],
                     stdin=reading, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    os.close(reading)
    server.watchdog_pipe = writing


def _outside_server(url: str) -> PgServer:
    server = PgServer(admin_url=url)
    try:
        server._admin("SELECT 1")
    except Exception as exc:  # whatever the driver says: the server is not usable
        raise PgUnavailable(f"GOALFORMS_TEST_PG_URL does not answer: {exc}") from None
    return server


# One server per session, shared by every module that imports the fixtures, stopped when the
# last of them is torn down (and at exit, should the session be interrupted).
@dataclass
class _Session:
    server: PgServer | None = None
    error: str | None = None  # why the server could not be started: not retried per module
    users: int = 0


_session = _Session()


def _acquire() -> PgServer:
    if _session.error is not None:
        raise PgUnavailable(_session.error)
    if _session.server is None:
        outside = os.environ.get("GOALFORMS_TEST_PG_URL")
        try:
            server = _outside_server(outside) if outside else start_server()
        except (PgUnavailable, OSError, subprocess.SubprocessError) as exc:
            _session.error = str(exc)
            raise PgUnavailable(str(exc)) from None
        _session.server = server
        atexit.register(server.stop)
    _session.users += 1
    return _session.server


def _release() -> None:
    _session.users -= 1
    if _session.users == 0 and _session.server is not None:
        _session.server.stop()
        _session.server = None


def _unavailable(reason: str) -> NoReturn:
    message = f"PostgreSQL server not available: {reason}"
    if os.environ.get("CI"):
        pytest.fail(f"{message} (CI is set, so this fails instead of skipping)", pytrace=False)
    pytest.skip(message)


def session_server() -> Iterator[PgServer]:
    """Body of a session-scoped fixture: the shared server (skips the test, or fails it under CI,
    when there is none), released when the fixture is torn down."""
    try:
        server = _acquire()
    except PgUnavailable as exc:
        _unavailable(str(exc))
    try:
        yield server
    finally:
        _release()


def fresh_database(server: PgServer) -> Iterator[str]:
    """Body of a fixture giving one test a new, empty database of ``server``; dropped afterwards."""
    url = server.create_database()
    try:
        yield url
    finally:
        server.drop_database(url)
