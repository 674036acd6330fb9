"""What both `make bench` scripts share: the machine, timing a command, peak memory of a process
tree. Prints figures; asserts nothing (timings depend on the machine and on what else runs)."""

from __future__ import annotations

import os
import platform
import resource
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

GOALFORMS = str(Path(sys.executable).with_name("goalforms"))


def cpu_model() -> str:
    """The CPU's model name (from /proc/cpuinfo where there is one)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> str:
    """Cores, CPU model, Python, and how busy the machine was (figures from a shared machine are
    lower than on an idle one)."""
    model = cpu_model()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    memory = psutil.virtual_memory().total / 2**30
    return (f"{os.cpu_count()} cores ({model}), {memory:.0f} GiB, {platform.python_implementation()} "
            f"{platform.python_version()}, load average {load}")


class PeakMemory:
    """Peak RSS of a process and its children (workers), sampled every 20 ms."""

    def __init__(self, pid: int | None = None) -> None:
        self.peak = 0
        self._pid = pid or os.getpid()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            root = psutil.Process(self._pid)
        except psutil.Error:
            return
        while not self._stop.wait(0.02):
            try:
                tree = [root, *root.children(recursive=True)]
                total = sum(p.memory_info().rss for p in tree)
            except psutil.Error:
                continue
            self.peak = max(self.peak, total)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class Run:
    wall: float  # seconds
    cpu: float  # user + system seconds of the command and every process it waited for
    peak: int  # bytes, the command's process tree


def run(command: Sequence[str], env: dict[str, str] | None = None) -> Run:
    """Run a command to its end (output discarded; a failure raises)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    process = subprocess.Popen(list(command), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    with PeakMemory(process.pid) as memory:
        _, err = process.communicate()
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if process.returncode not in (0,):
        raise RuntimeError(f"{' '.join(command)} failed ({process.returncode}): {err.decode(errors='replace')[-500:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Run(wall, cpu, memory.peak)


def median_run(command: Sequence[str], runs: int) -> tuple[Run, Run]:
    """The median and the best of ``runs`` runs after one warm-up run, each figure on its own
    (CPU seconds, wall seconds, peak memory): the median says what to expect, the best what the
    code costs when nothing else gets in the way."""
    run(command)
    results = [run(command) for _ in range(runs)]
    median = Run(statistics.median(r.wall for r in results), statistics.median(r.cpu for r in results),
                 int(statistics.median(r.peak for r in results)))
    best = Run(min(r.wall for r in results), min(r.cpu for r in results), min(r.peak for r in results))
    return median, best


def load_average() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def median_wall(command: Sequence[str], runs: int) -> tuple[float, float]:
    """Median and minimum wall time of ``runs`` runs (hyperfine-style, after one warm-up run)."""
    run(command)
    walls = [run(command).wall for _ in range(runs)]
    return statistics.median(walls), min(walls)


def mib(size: float) -> str:
    return f"{size / 2**20:.0f} MiB"
