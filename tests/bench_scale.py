"""`make bench` (scale part): a synthetic archive imported by the ``goalforms import`` command with
1 worker, N workers and a local Dask cluster; forms per second, CPU seconds, peak memory of the
whole process tree (parent + workers), and the database written. Asserts nothing.

Environment:
- ``BENCH_TEXT_FILES`` (default 2000 text files ≈ 14,000 forms), ``BENCH_PDF_FILES`` (default 0;
  PDFs are made by LibreOffice, which takes minutes for hundreds);
- ``BENCH_DASK=0`` skips the Dask run; ``BENCH_BASELINE``: another checkout's ``goalforms``
  executable (e.g. ``/work/main/.venv/bin/goalforms``) run on the same archive, alternately, for a
  before/after in the same conditions.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from tests.benchkit import GOALFORMS, machine, mib, run
from tests.conftest import SAMPLES

sys.path.insert(0, str(SAMPLES))
from make_archive import make_pdf_archive, make_text_archive  # noqa: E402


def _forms(db: Path) -> int:
    import sqlite3

    with sqlite3.connect(db) as connection:
        return int(connection.execute("SELECT count(*) FROM forms").fetchone()[0])


def main() -> None:
    text_files = int(os.environ.get("BENCH_TEXT_FILES", "2000"))
    pdf_files = int(os.environ.get("BENCH_PDF_FILES", "0"))
    cores = os.cpu_count() or 1
    builds = [("this build", GOALFORMS)]
    if os.environ.get("BENCH_BASELINE"):
        builds.append(("baseline", os.environ["BENCH_BASELINE"]))
    runs: list[tuple[str, list[str]]] = [("1 worker", ["--workers", "1"]), (f"--workers {cores}", ["--workers", str(cores)])]
    if os.environ.get("BENCH_DASK", "1") != "0":
        runs.append((f"--dask local ({cores} workers)", ["--workers", str(cores), "--dask", "local"]))
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory(prefix="goalforms-bench-") as tmp:
        root = Path(tmp)
        start = time.perf_counter()
        make_text_archive(root / "archive" / "text", text_files)
        if pdf_files:
            make_pdf_archive(root / "archive" / "pdf", pdf_files)
        print(f"archive: {text_files} text files, {pdf_files} PDFs, made in {time.perf_counter() - start:.0f} s; "
              f"imported into a new SQLite database by the goalforms command")
        one: dict[str, float] = {}
        for label, options in runs:
            for build, exe in builds:  # alternately, so both see the same load of the machine
                db = root / f"{build.split()[0]}-{label.split()[0].strip('-')}.db"
                try:
                    result = run([exe, "import", str(root / "archive"), "--db", str(db), *options])
                except RuntimeError as exc:  # a baseline checkout in the middle of a change, say
                    print(f"  {build:>10} {label:>26}: {exc}")
                    continue
                forms = _forms(db)
                one.setdefault(build, result.wall)
                print(f"  {build:>10} {label:>26}: {forms} forms in {result.wall:5.1f} s = {forms / result.wall:5.0f} forms/s; "
                      f"{result.cpu:5.1f} CPU-s ({1000 * result.cpu / forms:.2f} ms/form); peak memory {mib(result.peak)} "
                      f"(all processes); speed-up {one[build] / result.wall:.2f}x")
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{db}{suffix}").unlink(missing_ok=True)
    print(f"machine at the end: {machine()}")


if __name__ == "__main__":
    main()
