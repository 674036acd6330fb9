"""Legacy .doc files: converted with LibreOffice where it is installed, else refused with advice."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from goalforms.errors import UnsupportedFormat
from goalforms.parsers.readers import legacy
from goalforms.pipeline import parse_file
from tests.cfb import compound_file
from tests.conftest import SAMPLES

DOCX = SAMPLES / "docx" / "000_914c13d346301e8d.docx"


def test_without_libreoffice_the_message_says_how_to_convert(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(legacy, "_soffice", lambda: None)
    path = tmp_path / "old.doc"
    path.write_bytes(compound_file("WordDocument"))  # files are read by content: a real OLE2 header
    with pytest.raises(UnsupportedFormat, match="soffice --headless --convert-to docx old.doc"):
        parse_file(path)


@pytest.mark.libreoffice
def test_a_doc_file_is_converted_and_parses_like_its_docx(tmp_path: Path) -> None:
    subprocess.run(
        ["soffice", f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless",
         "--convert-to", "doc", "--outdir", str(tmp_path), str(DOCX)],
        check=True, capture_output=True, timeout=300,
    )
    doc = tmp_path / (DOCX.stem + ".doc")
    parsed = parse_file(doc)
    assert parsed.source.format == "docx" and parsed.source.path == str(doc)
    assert [f.to_dict()["indicators"] for f in parsed.forms] == [f.to_dict()["indicators"] for f in parse_file(DOCX).forms]
