"""What an import says of each file, and a file on its way to a worker."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

LOADED, REPLACED, SKIPPED, FAILED = "loaded", "replaced", "skipped", "failed"


@dataclass
class FileOutcome:
    path: str
    status: str
    forms: int = 0
    indicators: int = 0
    issues: int = 0
    reason: str = ""
    # source.format of what was read (txt, docx, pdf, scan, html, xlsx …); "" when the file failed.
    format: str = ""


@dataclass
class Job:
    """A file that passed the importing process's checks, to parse and load."""

    path: Path
    key: str  # absolute path: the document's identity in the store
    sha256: str
    size: int
