"""The test suite's own rules: under CI a skip is a failure, and the markers `make test-fast`
deselects are on the tests that need them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

PROBE = """
import pytest


def test_needs_something_missing() -> None:
    pytest.skip("no such program here")
"""


@pytest.mark.parametrize(("ci", "outcome"), [(None, "1 skipped"), ("true", "1 failed")])
def test_a_skip_fails_under_ci(ci: str | None, outcome: str, tmp_path: Path) -> None:
    (tmp_path / "test_probe.py").write_text(PROBE, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "CI"} | {"PYTHONPATH": str(REPO)}
    if ci is not None:
        env["CI"] = ci
    result = subprocess.run([sys.executable, "-m", "pytest", "-p", "tests.conftest", "-q", "-p", "no:cacheprovider",
                             str(tmp_path / "test_probe.py")], capture_output=True, text=True, env=env,
                            cwd=tmp_path, timeout=300)
    assert outcome in result.stdout, result.stdout + result.stderr


def _collected(*args: str) -> list[str]:
    result = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *args],
                            capture_output=True, text=True, cwd=REPO, timeout=300)
    return [line for line in result.stdout.splitlines() if "::" in line]


def test_postgresql_backends_are_marked_pg_and_sqlite_ones_are_not() -> None:
    marked = _collected("-m", "pg", "tests/test_reports.py", "tests/test_analysis.py")
    assert marked and all("postgresql" in test or "pg" in test for test in marked)
    fast = _collected("-m", "not pg", "tests/test_reports.py")
    assert fast and not any("[postgresql" in test for test in fast)
