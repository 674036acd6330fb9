"""`make bench`: throughput and memory of the readers and of an import. Prints figures, asserts nothing."""

from __future__ import annotations

import platform
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pdfplumber

from goalforms.parsers.readers.scan import recogniser
from goalforms.pipeline import parse_file
from goalforms.pipeline.importer import import_paths
from goalforms.schema.db import connect
from tests.conftest import SAMPLES


def _timed(work: Callable[[], int], rounds: int) -> tuple[int, float]:
    start = time.perf_counter()
    done = sum(work() for _ in range(rounds))
    return done, time.perf_counter() - start


def _forms(folder: str) -> Callable[[], int]:
    files = sorted((SAMPLES / folder).glob("*.*"))
    files = [f for f in files if not f.name.endswith(".json")]
    return lambda: sum(len(parse_file(f).forms) for f in files)


def _pdfplumber_pages(files: list[Path]) -> int:
    pages = 0
    for path in files:
        with pdfplumber.open(path) as pdf:
            for page in pdf.pages:
                page.extract_tables()
                pages += 1
    return pages


def main() -> None:
    print(f"machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}")
    for folder, rounds in (("text", 20), ("layout", 10), ("docx", 10)):
        forms, seconds = _timed(_forms(folder), rounds)
        print(f"{folder:>6}: {forms} forms in {seconds:.2f} s = {forms / seconds:.0f} forms/s")
    pdfs = sorted((SAMPLES / "pdf").glob("*.pdf"))
    pages = sum(len(pdfplumber.open(p).pages) for p in pdfs)
    _, ours = _timed(lambda: sum(len(parse_file(p).forms) for p in pdfs), 2)
    _, theirs = _timed(lambda: _pdfplumber_pages(pdfs), 2)
    print(f"   pdf: goalforms {2 * pages / ours:.1f} pages/s; pdfplumber extract_tables() alone "
          f"{2 * pages / theirs:.1f} pages/s; ratio goalforms/pdfplumber = {theirs / ours:.2f}")
    # OCR is the slow stage: seconds per scanned page, over every scanned sample.
    scans = sorted(p for p in (SAMPLES / "scan").iterdir() if p.suffix in {".pdf", ".png"})
    scan_pages = sum(len(pdfplumber.open(p).pages) if p.suffix == ".pdf" else 1 for p in scans)
    recogniser()  # the model loads once per process (about a second), not per page
    _, seconds = _timed(lambda: sum(len(parse_file(p).forms) for p in scans), 1)
    print(f"  scan: {seconds / scan_pages:.2f} s per scanned page (OCR; {scan_pages} pages in {seconds:.0f} s),"
          f" next to {ours / (2 * pages):.2f} s per text-layer PDF page")
    with tempfile.TemporaryDirectory() as tmp:
        engine = connect(f"sqlite:///{Path(tmp) / 'bench.db'}")
        start = time.perf_counter()
        report = import_paths([SAMPLES / "text", SAMPLES / "docx", SAMPLES / "pdf", SAMPLES / "layout"], engine)
        seconds = time.perf_counter() - start
    print(f"import of all samples into SQLite: {report.total('forms')} forms in {seconds:.2f} s"
          f" = {report.total('forms') / seconds:.0f} forms/s")
    print(f"peak memory (max RSS of this process): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
