from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import pg

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "samples"


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'test.db'}"


# -- PostgreSQL: one throwaway server per test session, a fresh database per test (tests/pg.py) ----
@pytest.fixture(scope="session")
def pg_server() -> Iterator[pg.PgServer]:
    yield from pg.session_server()


@pytest.fixture
def pg_url(pg_server: pg.PgServer) -> Iterator[str]:
    yield from pg.fresh_database(pg_server)


# -- markers: one per slow or external dependency (registered in pyproject.toml) -------------------
# `make test-fast` deselects them. Whole modules say so with ``pytestmark``; tests that reach
# PostgreSQL through a fixture or a backend parameter are marked here, so a new one cannot be missed.
PG_FIXTURES = {"pg_server", "pg_url"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        params = callspec.params.values() if callspec is not None else ()
        if PG_FIXTURES & set(getattr(item, "fixturenames", ())) or any(
            isinstance(value, str) and value == "postgresql" for value in params
        ):
            item.add_marker(pytest.mark.pg)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """Under ``CI`` a skipped test is a failed one: a missing server, browser or program must not
    let a regression through unseen (locally a skip says what is missing and how to get it)."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped under CI (a missing dependency fails on CI): {report.longrepr}"
