"""Login throttling, per account name and per client address, kept in the database
(``login_throttle``) so that every server process shares it (docs/security.md).

Each key (``account:NAME``, ``address:IP``) counts failed logins. The first ``free`` failures cost
nothing; from the next one on, every failure blocks the key for ``base_seconds`` doubled at each
further failure (exponential back-off), and ``lock_after`` failures lock it for ``lock_seconds``.
While a key is blocked every attempt is refused *before* the password is checked — the right
password too — and the refusal itself is not counted (so waiting it out is enough). A key forgets
its failures ``forget_seconds`` after the last one, and a successful login clears its account.

An attempt is counted as a failure before the password is verified, in its own committed
transaction, and taken back if the password was right: concurrent attempts (several clients,
several workers) all see each other's counts, so parallel guessing gains nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from goalforms.schema.clerk_models import LoginThrottle

log = logging.getLogger("goalforms.web.login")
Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def as_utc(value: dt.datetime) -> dt.datetime:
    """SQLite gives back naive datetimes (stored in UTC): make them comparable."""
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class Policy:
    free: int  # failures that cost nothing
    base_seconds: float  # the wait after failure free + 1; doubled at each further failure
    lock_after: int  # failures that lock the key for lock_seconds
    lock_seconds: float
    forget_seconds: float  # failures older than this (counted from the last one) are forgotten

    def __post_init__(self) -> None:
        if not 0 <= self.free < self.lock_after or self.base_seconds <= 0 or self.lock_seconds <= 0:
            raise ValueError(f"inconsistent login throttling policy: {self}")

    def wait(self, failures: int) -> float:
        """Seconds a key is blocked after its ``failures``-th failure."""
        if failures <= self.free:
            return 0.0
        if failures >= self.lock_after:
            return self.lock_seconds
        return min(self.base_seconds * 2 ** (failures - self.free - 1), self.lock_seconds)


# An account: 4 free failures, then 2 s, 4 s, 8 s, 16 s, 32 s, and the 10th locks it for 15 minutes.
ACCOUNT_POLICY = Policy(free=4, base_seconds=2, lock_after=10, lock_seconds=15 * 60, forget_seconds=60 * 60)
# An address (offices share one behind NAT): 10 free failures, then back-off, the 30th locks it.
ADDRESS_POLICY = Policy(free=10, base_seconds=2, lock_after=30, lock_seconds=15 * 60, forget_seconds=60 * 60)
MAX_NAME = 150  # longer names are cut for the key (a name is at most 100 characters anyway)


class Refused(Exception):
    """Too many failures: the attempt was not even checked. ``seconds``: how long to wait."""

    def __init__(self, seconds: int) -> None:
        super().__init__(seconds)
        self.seconds = seconds


@dataclass
class Attempt:
    """An attempt counted as a failure until :meth:`Throttle.succeeded` takes it back."""

    keys: list[str]


class Throttle:
    def __init__(self, engine: Engine, clock: Clock = utc_now, account: Policy = ACCOUNT_POLICY,
                 address: Policy = ADDRESS_POLICY) -> None:
        self.engine, self.clock, self.account, self.address = engine, clock, account, address

    def _keys(self, name: str, address: str | None) -> list[tuple[str, Policy]]:
        return [(f"account:{name[:MAX_NAME]}", self.account), (f"address:{address or 'unknown'}", self.address)]

    def begin(self, name: str, address: str | None) -> Attempt:
        """Count an attempt as a failure (committed at once), or raise :class:`Refused` while the
        account or the address is blocked."""
        now = self.clock()
        with Session(self.engine) as session, session.begin():
            rows: list[tuple[LoginThrottle, Policy]] = []
            keys = self._keys(name, address)
            # Write before reading: the insert takes SQLite's write lock, and on PostgreSQL makes the
            # row exist so that FOR UPDATE locks it; concurrent attempts then queue here one by one
            # instead of all reading the same count.
            insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
            session.execute(insert(LoginThrottle).values(
                [{"key": key, "failures": 0, "last_failure_at": now} for key, _ in keys]).on_conflict_do_nothing())
            for key, policy in keys:
                row = session.scalar(select(LoginThrottle).where(LoginThrottle.key == key).with_for_update())
                if row is not None and now - as_utc(row.last_failure_at) > dt.timedelta(seconds=policy.forget_seconds):
                    row.failures, row.blocked_until = 0, None
                if row is not None and row.blocked_until is not None and as_utc(row.blocked_until) > now:
                    wait = math.ceil((as_utc(row.blocked_until) - now).total_seconds())
                    log.warning("login refused without checking: %s is blocked for %d more s", key, wait)
                    raise Refused(wait)
                if row is not None:
                    rows.append((row, policy))
            for row, policy in rows:
                row.failures += 1
                row.last_failure_at = now
                blocked = policy.wait(row.failures)
                row.blocked_until = now + dt.timedelta(seconds=blocked) if blocked else None
        return Attempt([key for key, _ in self._keys(name, address)])

    def failed(self, attempt: Attempt) -> None:
        """The password was wrong: the attempt stays counted; log what it did."""
        with Session(self.engine) as session:
            for key in attempt.keys:
                row = session.get(LoginThrottle, key)
                if row is None:
                    continue
                policy = self.account if key.startswith("account:") else self.address
                if row.failures >= policy.lock_after:
                    log.warning("failed login %d for %s: locked for %d s", row.failures, key, policy.lock_seconds)
                elif row.failures > policy.free:
                    log.warning("failed login %d for %s: next attempt in %d s", row.failures, key,
                                policy.wait(row.failures))
                else:
                    log.info("failed login %d for %s", row.failures, key)

    def succeeded(self, attempt: Attempt) -> None:
        """The password was right: the account's failures are cleared, the address's attempt is
        taken back (its other failures stay: one good account must not launder guesses at others)."""
        with Session(self.engine) as session, session.begin():
            account, address = attempt.keys
            session.execute(delete(LoginThrottle).where(LoginThrottle.key == account))
            row = session.scalar(select(LoginThrottle).where(LoginThrottle.key == address).with_for_update())
            if row is not None:
                row.failures = max(0, row.failures - 1)
                if self.address.wait(row.failures) == 0:
                    row.blocked_until = None
            # Keys whose failures are all forgotten go (keeps the table small).
            oldest = self.clock() - dt.timedelta(seconds=max(self.account.forget_seconds,
                                                             self.address.forget_seconds))
            session.execute(delete(LoginThrottle).where(LoginThrottle.last_failure_at < oldest)
                            .execution_options(synchronize_session=False))  # SQLite's naive datetimes
