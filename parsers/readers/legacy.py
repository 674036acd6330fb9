"""Office formats python-docx cannot open (.doc, .wps, .rtf, .odt, Word templates): converted to
.docx with LibreOffice where it is installed, otherwise refused with a message that says how to
convert them.

Kinds (as ``sniff`` names them) and what they cover:

- ``doc``  Word 97–2003 binary (an OLE2 file with a WordDocument stream): .doc, .dot, and the
  .wps / .wpt that WPS Writer saves in the same format;
- ``wps``  Microsoft Works / old Kingsoft WPS text (OLE2 with a CONTENTS stream);
- ``rtf``  Rich Text Format;
- ``odt``  OpenDocument text (.odt, .ott), e.g. from LibreOffice or WPS;
- ``dotx`` Word templates and macro documents (.dotx, .docm, .dotm).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from functools import partial
from pathlib import Path

from goalforms.errors import UnreadableFile, UnsupportedFormat
from goalforms.parsers.grid import Grid
from goalforms.parsers.readers import docx
from goalforms.parsers.readers.sniff import sniff
from goalforms.parsers.readers.source import read_source
from goalforms.process import die_with_parent

# Kind -> the suffixes such files carry; the first is the name the copy given to LibreOffice
# gets, so that its filter is chosen by what the file is, not by what it was called.
SUFFIXES: dict[str, tuple[str, ...]] = {
    "doc": (".doc", ".dot", ".wps", ".wpt"),
    "wps": (".wps",),
    "rtf": (".rtf",),
    "odt": (".odt", ".ott"),
    "dotx": (".dotx", ".docm", ".dotm"),
}
KINDS = tuple(SUFFIXES)
# source.format: ODF keeps its own name; the Microsoft formats have always reported "docx".
_FORMATS = {"odt": "odt"}


def _soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def read(path: Path) -> Grid:
    """Convert to .docx in a scratch folder, read that, and keep the original's identity."""
    kind = sniff(path)
    if kind not in SUFFIXES:
        raise UnsupportedFormat(path, f"not a document LibreOffice converts for goalforms (it is {kind})")
    soffice = _soffice()
    if soffice is None:
        raise UnsupportedFormat(
            path,
            f"{path.suffix or kind} is a format goalforms converts with LibreOffice; convert it first, e.g. "
            f"`soffice --headless --convert-to docx {path.name}`, or install LibreOffice "
            "(apt-get install libreoffice-writer-nogui) and goalforms converts it itself",
        )
    data = read_source(path)
    with tempfile.TemporaryDirectory(prefix="goalforms-lo-") as scratch:
        # The copy is named for its kind: a .doc saved as .xls or without a suffix converts too.
        source = Path(scratch, "source" + SUFFIXES[kind][0])
        source.write_bytes(data)
        # A profile of its own: two soffice processes sharing one silently lose output.
        profile = Path(scratch, "profile").as_uri()
        try:
            result = subprocess.run(
                [soffice, f"-env:UserInstallation={profile}", "--headless", "--norestore",
                 "--convert-to", "docx:MS Word 2007 XML", "--outdir", str(Path(scratch, "out")), str(source)],
                capture_output=True, text=True, timeout=300,
                preexec_fn=partial(die_with_parent, os.getpid()),  # no orphaned soffice after a kill
            )
        except subprocess.TimeoutExpired:
            raise UnreadableFile(path, "LibreOffice took more than 300 s to convert it") from None
        converted = Path(scratch, "out", "source.docx")
        if result.returncode != 0 or not converted.exists():
            reason = result.stderr.strip() or result.stdout.strip() or f"exit code {result.returncode}, no output"
            raise UnreadableFile(path, f"LibreOffice could not convert it: {reason}")
        grid = docx.read(converted)
    grid.path, grid.format, grid.sha256 = str(path), _FORMATS.get(kind, "docx"), hashlib.sha256(data).hexdigest()
    return grid
