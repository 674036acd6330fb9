"""The throwaway PostgreSQL server of the tests dies with the process that started it, however that
process dies: a test run killed by a timeout (SIGTERM, SIGKILL: no atexit) once left its server
running after the run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.pg

_STARTER = """
import sys, time
sys.path.insert(0, sys.argv[1])
import pg
try:
    server = pg.start_server()
except pg.PgUnavailable as exc:
    print("UNAVAILABLE", exc, flush=True)
    raise SystemExit(0)
print(server.folder, flush=True)
time.sleep(600)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_server_stops_when_its_starter_is_killed(how: signal.Signals) -> None:
    starter = subprocess.Popen([sys.executable, "-c", _STARTER, str(Path(__file__).parent)],
                               stdout=subprocess.PIPE, text=True)
    try:
        assert starter.stdout is not None
        line = starter.stdout.readline().strip()
        if line.startswith("UNAVAILABLE") or not line:
            message = f"PostgreSQL server not available: {line}"
            if os.environ.get("CI"):
                pytest.fail(message)
            pytest.skip(message)
        folder = Path(line)
        postmaster = int((folder / "data" / "postmaster.pid").read_text().split()[0])
        assert _alive(postmaster)
        starter.send_signal(how)
        starter.wait(timeout=60)
        # The watchdog needs a moment to see the pipe close and run pg_ctl stop: wait for the
        # outcome (a deadline for a condition, not a timing measured).
        deadline = time.monotonic() + 120
        while (folder.exists() or _alive(postmaster)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _alive(postmaster), "the server outlived the process that started it"
        assert not folder.exists(), f"the server's folder {folder} is still there"
    finally:
        if starter.poll() is None:
            starter.kill()
            starter.wait()
