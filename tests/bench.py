"""`make bench`: throughput and memory of the pure parse stages and of an import. Prints, asserts nothing."""

from __future__ import annotations

import platform
import resource
import tempfile
import time
from pathlib import Path

from goalforms.pipeline import parse_file
from goalforms.pipeline.importer import import_paths
from goalforms.schema.db import connect
from tests.conftest import SAMPLES


def main() -> None:
    files = sorted((SAMPLES / "text").glob("*.txt"))
    rounds = 20
    start = time.perf_counter()
    forms = 0
    for _ in range(rounds):
        for path in files:
            forms += len(parse_file(path).forms)
    parse_seconds = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        engine = connect(f"sqlite:///{Path(tmp) / 'bench.db'}")
        start = time.perf_counter()
        report = import_paths(files, engine)
        import_seconds = time.perf_counter() - start
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}")
    print(f"text parse: {forms} forms in {parse_seconds:.2f} s = {forms / parse_seconds:.0f} forms/s")
    print(f"import to SQLite: {report.total('forms')} forms in {import_seconds:.2f} s"
          f" = {report.total('forms') / import_seconds:.0f} forms/s")
    print(f"peak memory (max RSS): {peak_mib:.0f} MiB")


if __name__ == "__main__":
    main()
