"""The bytes of a source file, with the errors every reader reports the same way."""

from __future__ import annotations

from pathlib import Path

from goalforms.errors import UnreadableFile


def read_source(path: Path) -> bytes:
    """The file's bytes; UnreadableFile naming it when it cannot be read or is empty."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableFile(path, f"cannot read file: {exc.strerror or exc}") from None
    if not data:
        raise UnreadableFile(path, "empty file")
    return data
