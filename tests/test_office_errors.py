"""Broken Word and PDF files: a clear error naming the file, and nothing loaded."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from pypdf import PdfWriter

from goalforms.errors import UnreadableFile
from goalforms.pipeline import parse_file
from goalforms.pipeline.importer import FAILED, import_paths
from goalforms.schema.db import connect
from tests.cfb import compound_file


def _zero_page_pdf() -> bytes:
    buffer = io.BytesIO()
    PdfWriter().write(buffer)
    return buffer.getvalue()


def _encrypted_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.encrypt(user_password="secret", owner_password="owner")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _blank_page_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _zip_without_document() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "not a word file")
    return buffer.getvalue()


def _zip_with_broken_document() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document><unclosed>")
    return buffer.getvalue()


CASES = [
    ("empty.pdf", lambda: b"", "empty file"),
    ("garbage.pdf", lambda: b"%PDF-1.7\n" + bytes(range(256)) * 20, "broken PDF"),
    ("not-a-pdf.pdf", lambda: b"just some text", "not a PDF file"),
    ("zero-pages.pdf", _zero_page_pdf, "PDF has no pages"),
    ("encrypted.pdf", _encrypted_pdf, "encrypted PDF"),
    ("blank.pdf", _blank_page_pdf, "no text layer"),
    ("empty.docx", lambda: b"", "empty file"),
    ("not-a-zip.docx", lambda: b"plain text, not a zip", "not a zip archive"),
    ("no-document.docx", _zip_without_document, "no word/document.xml"),
    ("broken.docx", _zip_with_broken_document, "broken .docx file"),
]


@pytest.mark.parametrize(("name", "make", "reason"), CASES, ids=[c[0] for c in CASES])
def test_broken_files_give_a_clear_error(tmp_path: Path, name: str, make, reason: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / name
    path.write_bytes(make())
    with pytest.raises(UnreadableFile) as info:
        parse_file(path)
    assert str(path) in str(info.value) and reason in str(info.value)


def test_broken_files_load_nothing(tmp_path: Path, db_url: str) -> None:
    for name, make, _ in CASES:
        (tmp_path / name).write_bytes(make())
    engine = connect(db_url)
    report = import_paths([tmp_path], engine)
    assert len(report.outcomes) == len(CASES)
    assert all(o.status == FAILED for o in report.outcomes)
    with engine.connect() as c:
        assert c.exec_driver_sql("SELECT count(*) FROM source_documents").scalar() == 0


def test_a_broken_spreadsheet_is_unreadable_and_named(tmp_path: Path) -> None:
    path = tmp_path / "form.xls"
    path.write_bytes(compound_file("Workbook"))  # read by content: an OLE2 file with Excel's stream
    with pytest.raises(UnreadableFile) as info:
        parse_file(path)
    assert str(path) in str(info.value)
