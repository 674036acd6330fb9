"""`make bench`: start-up, parse speed, PDF import against pdfplumber, OCR, memory. Prints figures,
asserts nothing.

Environment:
- ``BENCH_BASELINE``: another checkout's ``goalforms`` executable (e.g. ``/work/main/.venv/bin/goalforms``)
  measured side by side with this one, in the same run and the same conditions.
- ``BENCH_RUNS`` (default 7): runs per start-up figure; ``BENCH_SCAN`` (default 2): scanned pages
  read by OCR for its figure (0 skips it).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.benchkit import GOALFORMS, machine, median_wall, mib, run
from tests.conftest import SAMPLES

# Parse speed on one core, as a program any checkout's interpreter can run (so a baseline is
# measured the same way): forms per CPU second over the samples of a folder, repeated.
_PARSE = """
import json, sys, time
from pathlib import Path
from goalforms.pipeline.parse import parse_file
files = [f for f in sorted(Path(sys.argv[1]).glob("*.*")) if not f.name.endswith(".json")]
rounds = int(sys.argv[2])
parse_file(files[0])  # warm: imports, compiled patterns
start, cpu = time.perf_counter(), time.process_time()
forms = sum(len(parse_file(f).forms) for _ in range(rounds) for f in files)
print(json.dumps({"forms": forms, "wall": time.perf_counter() - start, "cpu": time.process_time() - cpu}))
"""

# pdfplumber's own table extraction over the same files: the reference for the PDF reader.
_PDFPLUMBER = """
import sys, time
import pdfplumber
for path in sys.argv[1:]:
    with pdfplumber.open(path) as pdf:
        for page in pdf.pages:
            page.extract_tables()
"""


def _python_of(goalforms: str) -> str:
    return str(Path(goalforms).with_name("python"))


def _parse_rate(goalforms: str, folder: Path, rounds: int) -> str:
    out = subprocess.run([_python_of(goalforms), "-c", _PARSE, str(folder), str(rounds)], check=True,
                         capture_output=True, text=True).stdout
    figures = json.loads(out.strip().splitlines()[-1])
    return f"{figures['forms'] / figures['cpu']:.0f} forms/CPU-s ({figures['forms'] / figures['wall']:.0f} forms/s wall)"


def _builds() -> list[tuple[str, str]]:
    builds = [("this build", GOALFORMS)]
    if os.environ.get("BENCH_BASELINE"):
        builds.append(("baseline", os.environ["BENCH_BASELINE"]))
    return builds


def startup(runs: int) -> None:
    print(f"\n# start-up: median (min) wall time of {runs} runs")
    text = SAMPLES / "text" / "000_914c13d346301e8d.txt"
    median, low = median_wall([sys.executable, "-c", "pass"], runs)
    print(f"  {'python -c pass (the floor)':<44} {median:.3f} s ({low:.3f})")
    for label, exe in _builds():
        for args in (["--help"], ["parse", str(text)]):
            median, low = median_wall([exe, *args], runs)
            shown = " ".join(a if a.startswith("-") or a == "parse" else Path(a).name for a in args)
            print(f"  {label + ': goalforms ' + shown:<44} {median:.3f} s ({low:.3f})")


def parse_speed() -> None:
    print("\n# parse, one core (samples repeated)")
    for folder, rounds in (("text", 20), ("layout", 10), ("docx", 10)):
        for label, exe in _builds():
            print(f"  {folder:>6} ({label}): {_parse_rate(exe, SAMPLES / folder, rounds)}")


def pdf_import(rounds: int = 3) -> None:
    """The whole ``goalforms import`` (start-up, a new database, parsing, loading) against
    pdfplumber's extract_tables() over the same files (a fresh interpreter too), alternately."""
    pdfs = [str(p) for p in sorted((SAMPLES / "pdf").glob("*.pdf"))]
    workers = os.cpu_count() or 1
    print(f"\n# text-layer PDF: {len(pdfs)} files; best of {rounds} alternate runs")
    for label, exe in _builds():
        references, imports = [], []
        with tempfile.TemporaryDirectory() as tmp:
            try:
                for n in range(rounds):
                    references.append(run([sys.executable, "-c", _PDFPLUMBER, *pdfs]))
                    imports.append(run([exe, "import", *pdfs, "--db", str(Path(tmp) / f"{n}.db"),
                                        "--workers", str(workers)]))
            except RuntimeError as exc:  # a baseline checkout in the middle of a change, say
                print(f"  {label}: {exc}")
                continue
        best = min(imports, key=lambda r: r.wall)
        reference = min(references, key=lambda r: r.wall)
        pure = min(_extract_in_process(pdfs) for _ in range(rounds))
        # CPU seconds compare the work done whatever else runs on the machine; wall time is what
        # a user waits for (with idle cores the workers parse in parallel).
        print(f"  {label}: goalforms import --workers {workers} (new database) {best.wall:.2f} s "
              f"({best.cpu:.2f} CPU-s, all processes), peak {mib(best.peak)}\n"
              f"    pdfplumber extract_tables() in a fresh interpreter {reference.wall:.2f} s ({reference.cpu:.2f} CPU-s): "
              f"ratio {reference.wall / best.wall:.2f}\n"
              f"    pdfplumber extract_tables() alone, in this process (no start-up) {pure:.2f} s: "
              f"ratio {pure / best.wall:.2f}   (ratio = pdfplumber / goalforms; ≥ 1: the whole import is faster)")


def _extract_in_process(pdfs: list[str]) -> float:
    import pdfplumber

    start = time.perf_counter()
    for path in pdfs:
        with pdfplumber.open(path) as pdf:
            for page in pdf.pages:
                page.extract_tables()
    return time.perf_counter() - start


def pdf_parse() -> None:
    """Parsing alone, in this process, against extract_tables() alone (no start-up on either side)."""
    import pdfplumber

    from goalforms.pipeline.parse import parse_file

    pdfs = sorted((SAMPLES / "pdf").glob("*.pdf"))
    pages = 0
    for p in pdfs:
        with pdfplumber.open(p) as pdf:
            pages += len(pdf.pages)
    start = time.perf_counter()
    for _ in range(2):
        for p in pdfs:
            parse_file(p)
    ours = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(2):
        for p in pdfs:
            with pdfplumber.open(p) as pdf:
                for page in pdf.pages:
                    page.extract_tables()
    theirs = time.perf_counter() - start
    print(f"  in-process parse: goalforms {2 * pages / ours:.1f} pages/s; pdfplumber extract_tables() "
          f"{2 * pages / theirs:.1f} pages/s; ratio pdfplumber/goalforms = {theirs / ours:.2f}")


def scans() -> None:
    from goalforms.parsers.readers.scan import recogniser
    from goalforms.pipeline.parse import parse_file

    # Scanned page images, one page each; OCR takes seconds per page, so only a few by default.
    files = sorted(p for p in (SAMPLES / "scan").iterdir() if p.suffix == ".png")
    files = files[: int(os.environ.get("BENCH_SCAN", "2"))]
    recogniser()  # the model loads once per process (about a second), not per page
    start, cpu = time.perf_counter(), time.process_time()
    for p in files:
        parse_file(p)
    wall, used = time.perf_counter() - start, time.process_time() - cpu
    print(f"\n# scans (OCR): {wall / len(files):.2f} s per page wall, {used / len(files):.2f} CPU-s per page "
          f"({len(files)} pages)")


def samples_import() -> None:
    from goalforms.pipeline.importer import import_paths
    from goalforms.schema.db import connect

    with tempfile.TemporaryDirectory() as tmp:
        engine = connect(f"sqlite:///{Path(tmp) / 'bench.db'}")
        start = time.perf_counter()
        report = import_paths([SAMPLES / "text", SAMPLES / "docx", SAMPLES / "pdf", SAMPLES / "layout"], engine)
        seconds = time.perf_counter() - start
        engine.dispose()
    print(f"\n# import of the text, Word, PDF and layout samples into SQLite, 1 worker, in process: "
          f"{report.total('forms')} forms in {seconds:.2f} s = {report.total('forms') / seconds:.0f} forms/s")


def main() -> None:
    print(f"machine: {machine()}")
    startup(int(os.environ.get("BENCH_RUNS", "7")))
    parse_speed()
    pdf_import()
    pdf_parse()
    if os.environ.get("BENCH_SCAN", "2") != "0":
        scans()
    samples_import()
    print(f"\npeak memory of this process (max RSS): {mib(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)}")
    print(f"machine at the end: {machine()}")


if __name__ == "__main__":
    main()
