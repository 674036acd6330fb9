"""Parsing one file under the limits per file, in a worker process (docs/limits.md): the parse an
import's workers run (``parse_job``; ``transaction.load_jobs`` then stores the files from the same
worker), their pool, and ``goalforms parse``'s single isolated parse.

No database code here: ``goalforms parse`` starts without SQLAlchemy (the importer imports this).
"""

from __future__ import annotations

import gc
import os
import signal
import threading
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from goalforms.errors import GoalformsError
from goalforms.parsers.readers import limits as limits_
from goalforms.parsers.readers.limits import Limits
from goalforms.pipeline.model import ParsedDocument
from goalforms.pipeline.parse import parse_file
from goalforms.process import die_with_parent


@dataclass
class ParseResult:
    """A parse, or why there is none (what a parse-only worker sends back: ``goalforms parse``, a
    Dask worker; an import's local workers load it themselves and send back only the outcome)."""

    doc: ParsedDocument | None
    reason: str = ""


class FileTimeout(BaseException):
    """The file's wall-clock time is up. A BaseException, so that no parser's ``except Exception``
    (which turns errors into "broken file") can swallow it."""


def _on_alarm(_signum: int, _frame: Any) -> None:
    raise FileTimeout


def parse_job(path: str, limits: Limits | None = None) -> ParseResult:
    """Parse one file under the limits (runs in a worker process or on a Dask worker; never raises).

    The wall-clock limit is a timer signal, so it needs the main thread of its process (a worker
    process, or the CLI's single-process mode); elsewhere (Dask threads) it is not applied."""
    limits = limits or limits_.current()
    timer = bool(limits.timeout_s) and threading.current_thread() is threading.main_thread()
    previous: Any = None
    try:
        with limits_.use(limits):
            if timer:
                previous = signal.signal(signal.SIGALRM, _on_alarm)
                signal.setitimer(signal.ITIMER_REAL, limits.timeout_s)
            try:
                # Before the reader, and before the content sniffing that picks it, opens the file.
                limits_.check_file(Path(path), limits)
                return ParseResult(parse_file(path))
            finally:
                if timer:
                    signal.setitimer(signal.ITIMER_REAL, 0)
                    signal.signal(signal.SIGALRM, previous)
    except FileTimeout:
        return ParseResult(None, limits_.over(path, "parse time", f"over {limits.timeout_s:g} s", "timeout_s",
                                              f"{limits.timeout_s:g} s").reason)
    except MemoryError:
        return ParseResult(None, f"out of memory while parsing (a worker may use at most max_memory_mb="
                                 f"{limits.max_memory_mb:g} MiB; set {limits_.setting('max_memory_mb')} "
                                 "or --limit max_memory_mb=N to change it)")
    except GoalformsError as exc:
        return ParseResult(None, exc.reason)
    except OSError as exc:
        return ParseResult(None, f"cannot read file: {exc.strerror or exc}")
    except Exception as exc:  # a parser bug must not stop a batch of thousands of files
        return ParseResult(None, f"internal error (please report): {exc.__class__.__name__}: {exc}")


def _init_worker(limits: Limits, parent: int) -> None:
    """Worker process set-up: die with the import, the limits of this import, a memory ceiling."""
    die_with_parent(parent)
    limits_.set_current(limits)
    if limits.max_memory_mb:
        import resource

        ceiling = int(limits.max_memory_mb * limits_.MB)
        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            ceiling = min(ceiling, hard)
        resource.setrlimit(resource.RLIMIT_AS, (ceiling, hard))
    # What the fork inherited (modules, compiled patterns, layouts) is never garbage: out of the
    # collector's sight, and fewer collections while a parse allocates its many small objects.
    gc.freeze()
    gc.set_threshold(10000, 50, 100)


class _Pool:
    """Local worker processes that can be replaced when one dies (out of memory, killed, stuck)."""

    def __init__(self, workers: int, limits: Limits) -> None:
        self.workers, self.limits = workers, limits
        self.executor = self._start()

    def _start(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=self.workers, initializer=_init_worker,
                                   initargs=(self.limits, os.getpid()))

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> Future[Any]:
        return self.executor.submit(fn, *args)

    def kill(self) -> None:
        """Kill every worker now (a stuck one cannot be asked to stop): their futures break."""
        for process in list(getattr(self.executor, "_processes", {}).values()):
            try:
                process.kill()
            except (OSError, ValueError):
                pass

    def restart(self) -> None:
        self.kill()
        self.executor.shutdown(wait=True, cancel_futures=True)
        self.executor = self._start()

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)


def parse_isolated(path: str, limits: Limits) -> ParseResult:
    """Parse one file in a worker process under every limit, the memory ceiling and the kill of a
    stuck parse included (``goalforms parse``)."""
    pool = _Pool(1, limits)
    try:
        future = pool.submit(parse_job, path, limits)
        if not wait([future], timeout=(limits.timeout_s * 2 + 30) if limits.timeout_s else None).done:
            pool.kill()
        try:
            return future.result()
        except BrokenProcessPool:
            return ParseResult(None, _DIED_ALONE.format(limits.max_memory_mb))
    finally:
        pool.close()


_DIED_ALONE = ("the parse worker died (killed, out of memory or crashed). Its memory ceiling is max_memory_mb="
               "{:g} MiB (set GOALFORMS_MAX_MEMORY_MB or --limit max_memory_mb=N to change it)")
_DIED = ("the parse worker died ({}), again when this file was parsed alone. Its memory ceiling is max_memory_mb="
         "{:g} MiB (set GOALFORMS_MAX_MEMORY_MB or --limit max_memory_mb=N to change it)")
