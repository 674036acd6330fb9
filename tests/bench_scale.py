"""`make bench` (scale part): a synthetic archive imported by the ``goalforms import`` command with
1 worker and N workers, into SQLite and into PostgreSQL (a throwaway server, as the tests start
one), and on a local Dask cluster; forms per second, CPU seconds of the importing process and of
its workers apart, peak memory of the whole process tree (parent + workers). Asserts nothing.

Environment:
- ``BENCH_TEXT_FILES`` (default 2000 text files ≈ 14,000 forms), ``BENCH_PDF_FILES`` (default 0;
  PDFs are made by LibreOffice, which takes minutes for hundreds);
- ``BENCH_DASK=0`` skips the Dask run; ``BENCH_SQLITE=0`` skips SQLite; ``BENCH_PG=0`` skips
  PostgreSQL (skipped anyway, with a line saying why, when no server can be started);
- ``BENCH_BASELINE``: another checkout's ``goalforms`` executable (e.g.
  ``/work/main/.venv/bin/goalforms``) run on the same archive, alternately, for a before/after in
  the same conditions.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.benchkit import GOALFORMS, PeakMemory, machine, mib
from tests.conftest import SAMPLES

sys.path.insert(0, str(SAMPLES))
from make_archive import make_pdf_archive, make_text_archive  # noqa: E402

# The command run by the Python of its checkout, writing its own CPU time and that of the
# processes it waited for (its workers) when it exits.
_WRAPPER = """
import atexit, json, os, resource, sys
def _write():
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(os.environ["BENCH_RUSAGE"], "w") as out:
        json.dump([own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime], out)
atexit.register(_write)
sys.argv = ["goalforms", *sys.argv[1:]]
from goalforms.pipeline.cli import main
main()
"""


@dataclass
class Result:
    wall: float
    parent_cpu: float  # the importing process itself
    workers_cpu: float  # its worker processes (or Dask's)
    peak: int  # bytes, the whole process tree


def _run(exe: str, args: Sequence[str], tmp: Path) -> Result:
    python = str(Path(exe).with_name("python"))
    usage = tmp / "rusage.json"
    usage.unlink(missing_ok=True)
    start = time.perf_counter()
    process = subprocess.Popen([python, "-c", _WRAPPER, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               env={**os.environ, "BENCH_RUSAGE": str(usage)})
    with PeakMemory(process.pid) as memory:
        _, err = process.communicate()
    wall = time.perf_counter() - start
    if process.returncode != 0:
        raise RuntimeError(f"goalforms {' '.join(args[:1])} failed ({process.returncode}): "
                           f"{err.decode(errors='replace')[-500:]}")
    own, children = json.loads(usage.read_text())
    return Result(wall, own, children, memory.peak)


def _sqlite_forms(url: str) -> int:
    import sqlite3

    with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
        return int(connection.execute("SELECT count(*) FROM forms").fetchone()[0])


def _pg_forms(url: str) -> int:
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT count(*) FROM forms")).scalar_one())
    finally:
        engine.dispose()


@dataclass
class Backend:
    name: str
    new_database: Callable[[str], str]  # label -> URL of a new, empty database
    forms: Callable[[str], int]
    drop: Callable[[str], None]
    server_cpu: Callable[[], float] | None = None  # CPU seconds of a database server so far


def _tree_cpu(root: int) -> float:
    """CPU seconds of process ``root``, its live descendants, and its children that ended (a
    PostgreSQL server: the postmaster, its auxiliary processes, and the backends of the connections
    closed since, which the postmaster reaped)."""
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    times: dict[int, tuple[int, int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        # After the name: state ppid … utime(12) stime(13) cutime(14) cstime(15), 0-based here.
        parents[int(entry.name)] = int(fields[1])
        times[int(entry.name)] = (int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14]))
    tree, grown = {root}, True
    while grown:
        more = {pid for pid, parent in parents.items() if parent in tree} - tree
        grown, tree = bool(more), tree | more
    total = sum(times[pid][0] for pid in tree if pid in times) + times.get(root, (0, 0))[1]
    return total / tick


def _sqlite(root: Path) -> Backend:
    def drop(url: str) -> None:
        for suffix in ("", "-wal", "-shm", ".lock"):
            Path(f"{url.removeprefix('sqlite:///')}{suffix}").unlink(missing_ok=True)

    return Backend("SQLite", lambda label: f"sqlite:///{root / label}.db", _sqlite_forms, drop)


def _runs(cores: int) -> list[tuple[str, list[str]]]:
    return [("1 worker", ["--workers", "1"]), (f"--workers {cores}", ["--workers", str(cores)])]


def _bench(backend: Backend, runs: list[tuple[str, list[str]]], builds: list[tuple[str, str]], archive: Path,
           tmp: Path) -> None:
    print(f"{backend.name}:")
    one: dict[str, float] = {}
    for label, options in runs:
        for build, exe in builds:  # alternately, so both see the same load of the machine
            url = backend.new_database(f"{build.split()[0]}_{'_'.join(options).strip('-')}")
            server_before = backend.server_cpu() if backend.server_cpu else 0.0
            try:
                result = _run(exe, ["import", str(archive), "--db", url, *options], tmp)
                server = backend.server_cpu() - server_before if backend.server_cpu else 0.0
                forms = backend.forms(url)
            except RuntimeError as exc:  # a baseline checkout in the middle of a change, say
                print(f"  {build:>10} {label:>26}: {exc}")
                continue
            finally:
                backend.drop(url)
            one.setdefault(build, result.wall)
            cpu = result.parent_cpu + result.workers_cpu + server
            on_server = f", server {1000 * server / forms:.2f}" if backend.server_cpu else ""
            print(f"  {build:>10} {label:>26}: {forms} forms in {result.wall:5.1f} s = {forms / result.wall:5.0f} "
                  f"forms/s; {cpu:5.1f} CPU-s ({1000 * cpu / forms:.2f} ms/form: importer "
                  f"{1000 * result.parent_cpu / forms:.2f}, workers {1000 * result.workers_cpu / forms:.2f}"
                  f"{on_server}); "
                  f"peak memory {mib(result.peak)} (all processes); speed-up {one[build] / result.wall:.2f}x")


def _postgres(builds: list[tuple[str, str]], runs: list[tuple[str, list[str]]], archive: Path, tmp: Path) -> None:
    from tests import pg

    try:
        server = pg.start_server()
    except pg.PgUnavailable as exc:
        print(f"PostgreSQL: skipped ({exc})")
        return
    try:
        assert server.folder is not None
        postmaster = int((server.folder / "data" / "postmaster.pid").read_text().split()[0])
        backend = Backend("PostgreSQL (a throwaway local server; CPU includes the server's)",
                          lambda label: server.create_database("bench"), _pg_forms, server.drop_database,
                          lambda: _tree_cpu(postmaster))
        _bench(backend, runs, builds, archive, tmp)
    finally:
        server.stop()


def main() -> None:
    text_files = int(os.environ.get("BENCH_TEXT_FILES", "2000"))
    pdf_files = int(os.environ.get("BENCH_PDF_FILES", "0"))
    cores = os.cpu_count() or 1
    builds = [("this build", GOALFORMS)]
    if os.environ.get("BENCH_BASELINE"):
        builds.append(("baseline", os.environ["BENCH_BASELINE"]))
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory(prefix="goalforms-bench-") as tmp:
        root = Path(tmp)
        start = time.perf_counter()
        make_text_archive(root / "archive" / "text", text_files)
        if pdf_files:
            make_pdf_archive(root / "archive" / "pdf", pdf_files)
        print(f"archive: {text_files} text files, {pdf_files} PDFs, made in {time.perf_counter() - start:.0f} s; "
              "imported into a new database by the goalforms command (CPU: the importing process and its "
              "workers apart)")
        sqlite_runs = _runs(cores)
        if os.environ.get("BENCH_DASK", "1") != "0":
            sqlite_runs.append((f"--dask local ({cores} workers)", ["--workers", str(cores), "--dask", "local"]))
        if os.environ.get("BENCH_SQLITE", "1") != "0":
            _bench(_sqlite(root), sqlite_runs, builds, root / "archive", root)
        else:
            print("SQLite: skipped (BENCH_SQLITE=0)")
        if os.environ.get("BENCH_PG", "1") != "0":
            _postgres(builds, _runs(cores), root / "archive", root)
        else:
            print("PostgreSQL: skipped (BENCH_PG=0)")
    print(f"machine at the end: {machine()}")


if __name__ == "__main__":
    main()
