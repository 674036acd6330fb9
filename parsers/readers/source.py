"""The bytes of a source file, with the errors every reader reports the same way.

Before reading, the file's size is checked against the limits (parsers/readers/limits.py): a text
file (anything that does not start like a binary format we read) against ``max_text_mb``, others
against ``max_file_mb``; a zip's directory against the zip limits (``check_zip``). A FIFO, socket
or device is refused instead of read (reading a FIFO would wait forever).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from goalforms.errors import UnreadableFile
from goalforms.parsers.readers import limits as limits_


def read_source(path: Path) -> bytes:
    """The file's bytes; UnreadableFile naming it when it cannot be read, is empty, is not a
    regular file, or is over the size limits (LimitExceeded)."""
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused just below.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise UnreadableFile(path, f"cannot read file: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise UnreadableFile(path, "cannot read file: Is a directory")
        if not stat.S_ISREG(info.st_mode):
            raise UnreadableFile(path, "not a regular file (a FIFO, socket or device)")
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", closefd=False) as handle:
            head = handle.read(16)
            limits_.check_size(path, info.st_size, text=not limits_.looks_binary(head))
            data = head + handle.read()
    except OSError as exc:
        raise UnreadableFile(path, f"cannot read file: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if not data:
        raise UnreadableFile(path, "empty file")
    if data.startswith(limits_.ZIP_MAGIC):
        # Every reader of a zip-based format (docx, xlsx, odt, ods) comes through here first.
        limits_.check_zip(path)
    return data
