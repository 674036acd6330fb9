"""Legacy Office formats (.doc, .wps, .rtf): converted to .docx with LibreOffice where it is
installed, otherwise refused with a message that says how to convert them."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from pathlib import Path

from goalforms.errors import UnreadableFile, UnsupportedFormat
from goalforms.parsers.grid import Grid
from goalforms.parsers.readers import docx


def _soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def read(path: Path) -> Grid:
    """Convert to .docx in a scratch folder, read that, and keep the original's identity."""
    soffice = _soffice()
    if soffice is None:
        raise UnsupportedFormat(
            path,
            f"{path.suffix} is a legacy format; convert it first, e.g. "
            f"`soffice --headless --convert-to docx {path.name}`, or install LibreOffice "
            "(apt-get install libreoffice-writer-nogui) and goalforms converts it itself",
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableFile(path, f"cannot read file: {exc.strerror or exc}") from None
    with tempfile.TemporaryDirectory(prefix="goalforms-lo-") as scratch:
        # A profile of its own: two soffice processes sharing one silently lose output.
        profile = Path(scratch, "profile").as_uri()
        result = subprocess.run(
            [soffice, f"-env:UserInstallation={profile}", "--headless", "--convert-to", "docx",
             "--outdir", scratch, str(path.resolve())],
            capture_output=True, text=True, timeout=300,
        )
        converted = Path(scratch, path.stem + ".docx")
        if result.returncode != 0 or not converted.exists():
            raise UnreadableFile(path, f"LibreOffice could not convert it: {result.stderr.strip() or result.stdout.strip()}")
        grid = docx.read(converted)
    grid.path, grid.format, grid.sha256 = str(path), "docx", hashlib.sha256(data).hexdigest()
    return grid
