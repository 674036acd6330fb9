"""One small exception tree. Every error names the file and says why, so the CLI can print it as is."""

from __future__ import annotations

from pathlib import Path


class GoalformsError(Exception):
    """Base of every error goalforms raises on purpose."""

    def __init__(self, path: str | Path | None, reason: str) -> None:
        self.path = str(path) if path is not None else None
        self.reason = reason
        super().__init__(f"{self.path}: {reason}" if self.path else reason)


class UnreadableFile(GoalformsError):
    """The file could not be read as any supported format (empty, binary, undecodable, missing)."""


class UnsupportedFormat(GoalformsError):
    """No reader for the file's format."""


class NoKnownLayout(GoalformsError):
    """The file was read, but holds no form of a known layout."""
