"""`make bench`: every figure of issue 16 in one report, each beside its reference or target, with
the machine (cores, load average at the start and at the end of each part) and peak memory.
Prints figures, asserts nothing (tests never assert timings).

Parts, in order (``BENCH_PARTS``, comma-separated, default all):

- ``startup``: ``goalforms --help`` and ``goalforms parse <a text sample>``, CPU seconds (the
  command and its parse worker) and wall time, median and best of ``BENCH_RUNS`` (default 7) runs;
- ``parse``: text, layout-text and Word samples parsed on one core, forms per CPU second;
- ``pdf``: the whole ``goalforms import`` of the PDF samples into a new database (start-up, schema,
  parsing, loading) against pdfplumber's ``extract_tables()`` over the same files, each in a fresh
  interpreter, alternately; CPU and wall ratios; then parsing alone against extract_tables() alone;
- ``samples``: the text, Word, PDF and layout samples imported in process;
- ``scale``: the 2,000-file archive into SQLite (``tests/bench_scale.py``, its own knobs);
- ``ocr``: scans against raw RapidOCR, accuracy and flags (``tests/bench_ocr.py``, its own knobs).

Other knobs: ``BENCH_BASELINE``: another checkout's ``goalforms`` executable (e.g.
``/work/main/.venv/bin/goalforms``) measured side by side in the same run; ``BENCH_PDF_ROUNDS``
(default 5).

Bytecode: the sources of each measured checkout are compiled first (``compileall``), as an
installed package has them; without it a shell with ``PYTHONDONTWRITEBYTECODE`` set would time the
compilation of every module on every start.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.benchkit import GOALFORMS, Run, load_average, machine, median_run, mib, run
from tests.conftest import SAMPLES

ROOT = Path(__file__).resolve().parents[1]
TEXT_SAMPLE = SAMPLES / "text" / "000_914c13d346301e8d.txt"

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
import sys
import pdfplumber
for path in sys.argv[1:]:
    with pdfplumber.open(path) as pdf:
        for page in pdf.pages:
            page.extract_tables()
"""


def _python_of(goalforms: str) -> str:
    return str(Path(goalforms).with_name("python"))


def _builds() -> list[tuple[str, str]]:
    builds = [("this build", GOALFORMS)]
    if os.environ.get("BENCH_BASELINE"):
        builds.append(("baseline", os.environ["BENCH_BASELINE"]))
    return builds


def _compile(goalforms: str) -> None:
    """Bytecode for the checkout of ``goalforms`` (its venv's parent folder), as an install has."""
    root = Path(goalforms).resolve().parents[2]
    folders = [str(root / name) for name in ("goalforms", "pipeline", "parsers", "schema") if (root / name).is_dir()]
    subprocess.run([_python_of(goalforms), "-m", "compileall", "-q", *folders], check=False,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _part(title: str) -> None:
    print(f"\n## {title}\nload average at the start: {load_average()}", flush=True)


def _figures(r: Run) -> str:
    return f"{r.cpu:.3f} CPU-s, {r.wall:.3f} s wall, peak {mib(r.peak)}"


def startup(runs: int) -> None:
    _part(f"start-up: median (best) of {runs} runs; CPU = the command and its parse worker "
          "(issue: well under half a second; aims ≤0.25 CPU-s --help, ≤0.35 CPU-s parse)")
    median, best = median_run([sys.executable, "-c", "pass"], runs)
    print(f"  {'python -c pass (the floor)':<44} {_figures(median)}  (best {best.cpu:.3f} CPU-s, {best.wall:.3f} s)")
    for label, exe in _builds():
        for args in (["--help"], ["parse", str(TEXT_SAMPLE)]):
            median, best = median_run([exe, *args], runs)
            shown = " ".join(a if a.startswith("-") or a == "parse" else Path(a).name for a in args)
            print(f"  {label + ': goalforms ' + shown:<44} {_figures(median)}  "
                  f"(best {best.cpu:.3f} CPU-s, {best.wall:.3f} s)", flush=True)


def _parse_rate(goalforms: str, folder: Path, rounds: int) -> tuple[float, str]:
    out = subprocess.run([_python_of(goalforms), "-c", _PARSE, str(folder), str(rounds)], check=True,
                         capture_output=True, text=True).stdout
    figures = json.loads(out.strip().splitlines()[-1])
    rate = figures["forms"] / figures["cpu"]
    return rate, f"{rate:.0f} forms/CPU-s ({figures['forms'] / figures['wall']:.0f} forms/s wall)"


def parse_speed() -> None:
    _part("parse on one core, samples repeated (issue: text ≥1,000 forms/s)")
    for folder, rounds in (("text", 20), ("layout", 10), ("docx", 10)):
        for label, exe in _builds():
            print(f"  {folder:>6} ({label}): {_parse_rate(exe, SAMPLES / folder, rounds)[1]}", flush=True)


def pdf_import(rounds: int) -> None:
    """The whole ``goalforms import`` (start-up, a new database, parsing, loading) against
    pdfplumber's extract_tables() over the same files (a fresh interpreter too), alternately."""
    pdfs = [str(p) for p in sorted((SAMPLES / "pdf").glob("*.pdf"))]
    workers = os.cpu_count() or 1
    _part(f"text-layer PDF: {len(pdfs)} files, {rounds} alternate runs, median (best); ratio = "
          "pdfplumber / goalforms, ≥1: the whole import is faster (issue: ≥1.0)")
    for label, exe in _builds():
        references: list[Run] = []
        imports: list[Run] = []
        with tempfile.TemporaryDirectory() as tmp:
            try:
                for n in range(rounds):
                    references.append(run([sys.executable, "-c", _PDFPLUMBER, *pdfs]))
                    imports.append(run([exe, "import", *pdfs, "--db", str(Path(tmp) / f"{n}.db"),
                                        "--workers", str(workers)]))
            except RuntimeError as exc:  # a baseline checkout in the middle of a change, say
                print(f"  {label}: {exc}")
                continue
        # CPU seconds compare the work done whatever else runs on the machine; wall time is what
        # a user waits for (with idle cores the workers parse in parallel).
        for what, pick in (("median", statistics.median), ("best", min)):
            ours_cpu, ours_wall = pick(r.cpu for r in imports), pick(r.wall for r in imports)
            ref_cpu, ref_wall = pick(r.cpu for r in references), pick(r.wall for r in references)
            print(f"  {label}, {what}: goalforms import --workers {workers} (new database) {ours_cpu:.2f} CPU-s, "
                  f"{ours_wall:.2f} s | pdfplumber extract_tables() {ref_cpu:.2f} CPU-s, {ref_wall:.2f} s | "
                  f"ratio CPU {ref_cpu / ours_cpu:.2f}, wall {ref_wall / ours_wall:.2f}")
        print(f"  {label}: peak memory goalforms {mib(max(r.peak for r in imports))} (all processes), "
              f"pdfplumber {mib(max(r.peak for r in references))}", flush=True)
    pdf_parse()


def pdf_parse() -> None:
    """Parsing alone, in this process, against extract_tables() alone (no start-up on either side)."""
    import pdfplumber

    from goalforms.pipeline.parse import parse_file

    pdfs = sorted((SAMPLES / "pdf").glob("*.pdf"))
    pages = 0
    for p in pdfs:
        with pdfplumber.open(p) as pdf:
            pages += len(pdf.pages)
    start = time.process_time()
    for _ in range(2):
        for p in pdfs:
            parse_file(p)
    ours = time.process_time() - start
    start = time.process_time()
    for _ in range(2):
        for p in pdfs:
            with pdfplumber.open(p) as pdf:
                for page in pdf.pages:
                    page.extract_tables()
    theirs = time.process_time() - start
    print(f"  parsing alone, in process: goalforms {2 * pages / ours:.1f} pages/CPU-s; pdfplumber extract_tables() "
          f"{2 * pages / theirs:.1f} pages/CPU-s; ratio {theirs / ours:.2f}", flush=True)


def samples_import() -> None:
    from goalforms.pipeline.importer import import_paths
    from goalforms.schema.db import connect

    _part("the text, Word, PDF and layout samples into SQLite, 1 worker, in process")
    with tempfile.TemporaryDirectory() as tmp:
        engine = connect(f"sqlite:///{Path(tmp) / 'bench.db'}")
        start, cpu = time.perf_counter(), time.process_time()
        report = import_paths([SAMPLES / "text", SAMPLES / "docx", SAMPLES / "pdf", SAMPLES / "layout"], engine)
        seconds, used = time.perf_counter() - start, time.process_time() - cpu
        engine.dispose()
    forms = report.total("forms")
    print(f"  {forms} forms in {seconds:.2f} s = {forms / seconds:.0f} forms/s ({forms / used:.0f} forms/CPU-s)",
          flush=True)


def _script(title: str, module: str) -> None:
    """Another part's script (its own knobs and lines), in this report."""
    _part(title)
    # Unbuffered: a script that forks (the OCR bench's pool) would otherwise print its buffered
    # lines twice when the output is a file.
    result = subprocess.run([sys.executable, "-m", module], cwd=ROOT, check=False,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    if result.returncode:
        print(f"  {module} failed (exit {result.returncode})")


PARTS = {
    "startup": lambda: startup(int(os.environ.get("BENCH_RUNS", "7"))),
    "parse": parse_speed,
    "pdf": lambda: pdf_import(int(os.environ.get("BENCH_PDF_ROUNDS", "5"))),
    "samples": samples_import,
    "scale": lambda: _script("loading at archive scale (tests/bench_scale.py; issue: ≥1,000 forms/s, 2 workers, "
                             "SQLite, <300 MB)", "tests.bench_scale"),
    "ocr": lambda: _script("scans (tests/bench_ocr.py; issue: ≤2 CPU-s/page at 200 dpi beside raw RapidOCR, "
                           "≤1 flag per 10 clean forms, no wrong value unflagged)", "tests.bench_ocr"),
}


def main() -> None:
    wanted = [p.strip() for p in os.environ.get("BENCH_PARTS", ",".join(PARTS)).split(",") if p.strip()]
    unknown = set(wanted) - set(PARTS)
    if unknown:
        raise SystemExit(f"BENCH_PARTS: unknown {', '.join(sorted(unknown))} (known: {', '.join(PARTS)})")
    started = time.perf_counter()
    print(f"# goalforms bench (issue 16)\nmachine: {machine()}", flush=True)
    for _label, exe in _builds():
        _compile(exe)
    for name in wanted:
        PARTS[name]()
    print(f"\n## end\nmachine at the end: {machine()}\n"
          f"peak memory of the bench process itself (max RSS): "
          f"{mib(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)}; "
          f"{time.perf_counter() - started:.0f} s in all")


if __name__ == "__main__":
    main()
