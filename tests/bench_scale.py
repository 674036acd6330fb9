"""`make bench` (scale part): a synthetic archive imported with 1 worker, N workers and a local
Dask cluster; prints forms per second, peak memory and the speed-up. Asserts nothing.

Sizes: BENCH_TEXT_FILES (default 1500 text files ≈ 10,000 forms), BENCH_PDF_FILES (default 100;
the issue's 1,000 takes LibreOffice several minutes to make and minutes per run to read).
"""

from __future__ import annotations

import os
import platform
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

from goalforms.pipeline.importer import ImportOptions, import_paths
from goalforms.schema.db import connect
from tests.conftest import SAMPLES

sys.path.insert(0, str(SAMPLES))
from make_archive import make_pdf_archive, make_text_archive  # noqa: E402


class PeakMemory:
    """Peak RSS of this process and its children (workers), sampled every 50 ms."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.wait(0.05):
            try:
                total = me.memory_info().rss + sum(c.memory_info().rss for c in me.children(recursive=True))
            except psutil.Error:
                continue
            self.peak = max(self.peak, total)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def main() -> None:
    text_files = int(os.environ.get("BENCH_TEXT_FILES", "1500"))
    pdf_files = int(os.environ.get("BENCH_PDF_FILES", "100"))
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="goalforms-bench-") as tmp:
        root = Path(tmp)
        start = time.perf_counter()
        make_text_archive(root / "archive" / "text", text_files)
        if pdf_files:
            make_pdf_archive(root / "archive" / "pdf", pdf_files)
        print(f"archive: {text_files} text files, {pdf_files} PDFs, made in {time.perf_counter() - start:.0f} s")
        results = {}
        for label, options in (("1 worker", ImportOptions(workers=1)),
                               (f"{cores} workers", ImportOptions(workers=cores)),
                               (f"Dask LocalCluster ({cores} workers)", ImportOptions(workers=cores, dask="local"))):
            engine = connect(f"sqlite:///{root / (label.split()[0] + '.db')}")
            with PeakMemory() as memory:
                start = time.perf_counter()
                report = import_paths([root / "archive"], engine, options=options)
                seconds = time.perf_counter() - start
            forms = report.total("forms")
            results[label] = seconds
            print(f"{label:>32}: {forms} forms in {seconds:.1f} s = {forms / seconds:.0f} forms/s, "
                  f"peak memory {memory.peak / 2**20:.0f} MiB, failed {len(report.failures)}")
        base = results["1 worker"]
        for label, seconds in results.items():
            print(f"speed-up of {label}: {base / seconds:.2f}x")
    print(f"machine: {platform.machine()}, {cores} cores, Python {platform.python_version()}; "
          f"parent max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
