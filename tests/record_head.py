"""Record the head schema again for SQLite and PostgreSQL (``schema/head.py``) after a migration was
added or changed: ``python -m tests.record_head``. PostgreSQL is the tests' throwaway server
(tests/pg.py), or the server of ``GOALFORMS_TEST_PG_URL``."""

from __future__ import annotations

import tempfile
from pathlib import Path

from goalforms.schema import head
from tests import pg


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'new.db'}"
        print(f"recorded {head.write(head.record(url))}")
    servers = pg.session_server()
    server = next(servers)
    url = server.create_database()
    try:
        print(f"recorded {head.write(head.record(url))}")
    finally:
        server.drop_database(url)
        servers.close()  # stops a server it started


if __name__ == "__main__":
    main()
