"""Files are read by what they are, not by their name: sniffing every kind, misnamed files,
and clear refusals of what cannot be read."""

from __future__ import annotations

import codecs
import io
import subprocess
import zipfile
from pathlib import Path

import pytest

from goalforms.errors import UnreadableFile, UnsupportedFormat
from goalforms.parsers import readers
from goalforms.parsers.readers import docx, html, legacy, pdf, scan, spreadsheet, text
from goalforms.parsers.readers.sniff import Unidentified, looks_like_html, sniff
from goalforms.pipeline import parse_file
from tests.cfb import compound_file
from tests.conftest import SAMPLES

DOCX = SAMPLES / "docx" / "000_914c13d346301e8d.docx"
PDF = SAMPLES / "pdf" / "000_914c13d346301e8d.pdf"
ODT = SAMPLES / "odt" / "000_914c13d346301e8d.odt"
TEXT = SAMPLES / "text" / "000_914c13d346301e8d.txt"
WORD_TEMPLATE = "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml"


def _zip(entries: dict[str, str], mimetype: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        if mimetype is not None:
            archive.writestr("mimetype", mimetype)
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


KINDS = [
    ("pdf", lambda: PDF.read_bytes()),
    ("docx", lambda: DOCX.read_bytes()),
    ("odt", lambda: ODT.read_bytes()),
    ("dotx", lambda: _zip({"[Content_Types].xml": f'<Types><Override ContentType="{WORD_TEMPLATE}"/></Types>',
                           "word/document.xml": "<w:document/>"})),
    ("xlsx", lambda: _zip({"[Content_Types].xml": "<Types/>", "xl/workbook.xml": "<workbook/>"})),
    ("ods", lambda: _zip({"content.xml": "<office:document-content/>"}, "application/vnd.oasis.opendocument.spreadsheet")),
    ("doc", lambda: compound_file("WordDocument", "1Table", "\x05SummaryInformation")),
    ("xls", lambda: compound_file("Workbook", "\x05SummaryInformation")),
    ("xls", lambda: compound_file("Book")),  # Excel 5 / 95
    ("wps", lambda: compound_file("CONTENTS", "SPELLING")),  # Microsoft Works / old WPS text
    ("rtf", lambda: b"{\\rtf1\\ansi\\ansicpg936 {\\fonttbl}}"),
    ("scan", lambda: b"\x89PNG\r\n\x1a\n" + b"\x00" * 40),
    ("scan", lambda: b"\xff\xd8\xff\xe0" + b"\x00" * 40),
    ("scan", lambda: b"II*\x00" + b"\x00" * 40),
    ("scan", lambda: b"MM\x00*" + b"\x00" * 40),
    ("html", lambda: b"<!DOCTYPE html><html><body><table></table></body></html>"),
    ("html", lambda: b"<!doctype HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\">\n<HTML>"),
    ("html", lambda: codecs.BOM_UTF8 + b"\r\n  <!-- saved from url=(0044)http://example.org/ -->\n<HTML><HEAD>"),
    ("html", lambda: b'<?xml version="1.0" encoding="utf-8"?>\n<html xmlns="http://www.w3.org/1999/xhtml">'),
    ("html", lambda: b"<TABLE border=1><TR><TD>a</TD></TR></TABLE>"),
    ("html", lambda: b"<meta http-equiv=Content-Type content=\"text/html; charset=gb2312\">"),
    ("html", lambda: codecs.BOM_UTF16_LE + "<html><body>".encode("utf-16-le")),
    ("html", lambda: "<p>项目</p>\n<table><tr><td>a</td></tr></table>".encode()),
    ("html", lambda: b"MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary=\"b\"\r\n\r\n--b\r\n"),
    ("txt", lambda: TEXT.read_bytes()),
    ("txt", lambda: "<p>一段</p> <p>没有表格的文字</p>".encode()),  # a dump with tags, no cells
    ("txt", lambda: "BMW\t宝马".encode()),
]


@pytest.mark.parametrize(("kind", "make"), KINDS, ids=[f"{n}-{k}" for n, (k, _) in enumerate(KINDS)])
def test_every_kind_is_known_by_its_content(tmp_path: Path, kind: str, make) -> None:  # type: ignore[no-untyped-def]
    # No suffix at all: only the bytes can tell.
    assert sniff(_write(tmp_path, "file", make())) == kind


REFUSED = [
    ("encrypted", lambda: compound_file("EncryptionInfo", "EncryptedPackage"), UnreadableFile, "password-protected"),
    ("ppt", lambda: compound_file("PowerPoint Document", "Current User"), UnsupportedFormat, "PowerPoint"),
    ("pptx", lambda: _zip({"[Content_Types].xml": "<Types/>", "ppt/presentation.xml": "<p/>"}), UnsupportedFormat,
     "PowerPoint"),
    ("odp", lambda: _zip({}, "application/vnd.oasis.opendocument.presentation"), UnsupportedFormat, "OpenDocument"),
    ("other-ole", lambda: compound_file("Foo"), Unidentified, "neither a Word nor an Excel document (streams: foo)"),
    ("plain-zip", lambda: _zip({"a.txt": "x"}), Unidentified, "a zip archive, not an Office document"),
    ("broken-zip", lambda: b"PK\x03\x04" + b"\x00" * 30, UnreadableFile, "broken zip archive"),
    ("broken-ole", lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, UnreadableFile, "broken OLE2"),
    ("garbage", lambda: bytes(range(256)) * 4, Unidentified, "binary file of no format goalforms reads (starts with bytes 00 01 02 03)"),
    ("gif", lambda: b"GIF89a\x01\x00\x01\x00\x00\x00", UnsupportedFormat, "a GIF image"),
    ("rar", lambda: b"Rar!\x1a\x07\x00" + b"\x00" * 10, UnsupportedFormat, "a RAR archive"),
    ("mhtml-without-page", lambda: b"MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary=x\r\n\r\n--x\r\n"
     b"Content-Type: image/png\r\n\r\nxx\r\n--x--\r\n", UnreadableFile, "MHTML web archive (.mht) with no HTML page"),
    ("empty", lambda: b"", UnreadableFile, "empty file"),
    ("blank", lambda: b" \n\t", UnreadableFile, "empty file"),
]


@pytest.mark.parametrize(("name", "make", "error", "reason"), REFUSED, ids=[r[0] for r in REFUSED])
def test_what_cannot_be_read_is_refused_saying_what_it_is(tmp_path: Path, name: str, make, error: type,  # type: ignore[no-untyped-def]
                                                         reason: str) -> None:
    path = _write(tmp_path, name, make())
    with pytest.raises(error) as info:
        parse_file(path)
    assert str(path) in str(info.value) and reason in str(info.value)


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFile, match="cannot read file"):
        sniff(tmp_path / "nowhere.html")


def test_html_sniffing_skips_bom_blanks_and_comments_in_any_case() -> None:
    assert looks_like_html(b"\xef\xbb\xbf \n<!-- a -->\n<!--b--><TaBlE>")
    assert not looks_like_html(b"<!-- only a comment -->")
    assert not looks_like_html("项目名称\t<p>某项目</p>".encode())


# ---------------------------------------------------------------- misnamed files


MISNAMED = [
    ("budget-export.xls", lambda: b"<html xmlns:x=\"urn:schemas-microsoft-com:office:excel\"><table x:str>", html.read),
    ("page.txt", lambda: b"<html><body><table>", html.read),
    ("web-page.doc", lambda: b"<html xmlns:w=\"urn:schemas-microsoft-com:office:word\">", html.read),
    ("form", lambda: DOCX.read_bytes(), docx.read),
    ("form.xls", lambda: DOCX.read_bytes(), docx.read),
    ("scan.pdf", lambda: b"\x89PNG\r\n\x1a\n" + b"\x00" * 8, scan.read),
    ("report.docx", lambda: PDF.read_bytes(), pdf.read),
    ("old.xls", lambda: compound_file("WordDocument"), legacy.read),
    ("doc.txt", lambda: compound_file("WordDocument"), legacy.read),
    ("sheet.doc", lambda: compound_file("Workbook"), readers.SPREADSHEET),
    ("sheet.xls", lambda: _zip({"xl/workbook.xml": "<workbook/>"}), readers.SPREADSHEET),
    ("export.xls", lambda: "项目名称\t某项目\n".encode(), text.read),  # tab-separated "Excel" exports
    ("notes.html", lambda: "项目名称\t某项目\n".encode(), text.read),
    ("form.odt", lambda: ODT.read_bytes(), legacy.read),
    ("template.dotx", lambda: _zip({"[Content_Types].xml": f'<Types><Override ContentType="{WORD_TEMPLATE}"/></Types>',
                                    "word/document.xml": "<w:document/>"}), legacy.read),
    # The name claims a kind that is never plain text: that kind's reader says what is wrong.
    ("cut.pdf", lambda: b"just some text", pdf.read),
    ("cut.docx", lambda: b"plain text, not a zip", docx.read),
    ("empty-zip.docx", lambda: _zip({"a.txt": "x"}), docx.read),
]


@pytest.mark.parametrize(("name", "make", "reader"), MISNAMED, ids=[m[0] for m in MISNAMED])
def test_misnamed_files_go_to_the_reader_of_what_they_are(tmp_path: Path, name: str, make, reader) -> None:  # type: ignore[no-untyped-def]
    assert readers.reader_for(_write(tmp_path, name, make())) is reader


def test_spreadsheets_go_to_the_spreadsheet_reader(tmp_path: Path) -> None:
    assert readers.reader_for(_write(tmp_path, "form.et", compound_file("Workbook"))) is spreadsheet.read
    with pytest.raises(UnreadableFile):  # an OLE2 file with an empty Workbook stream
        parse_file(_write(tmp_path, "form.et", compound_file("Workbook")))


@pytest.mark.parametrize("name", ["000_914c13d346301e8d", "003_cca29bee0b231de8.xls", "002_24ec7dd97fefd2fa.txt",
                                  "004_dca627b1a6ea1aa7.doc"])
def test_misnamed_samples_parse_by_content(name: str) -> None:
    parsed = parse_file(SAMPLES / "misnamed" / name)
    assert parsed.source.format == ("docx" if "." not in name else "html") and parsed.forms


def test_folder_import_looks_at_files_without_a_suffix() -> None:
    assert readers.worth_reading(Path("download"))
    assert readers.worth_reading(Path("form.XLS")) and readers.worth_reading(Path("form.htm"))
    assert readers.worth_reading(Path("form.odt")) and readers.worth_reading(Path("form.wpt"))
    assert not readers.worth_reading(Path("setup.exe")) and not readers.worth_reading(Path("notes.md"))


@pytest.mark.libreoffice
def test_a_word_97_file_without_its_name_converts(tmp_path: Path) -> None:
    subprocess.run(["soffice", f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless",
                    "--convert-to", "doc", "--outdir", str(tmp_path), str(DOCX)], check=True, capture_output=True, timeout=300)
    misnamed = tmp_path / "form.xls"
    (tmp_path / f"{DOCX.stem}.doc").rename(misnamed)
    parsed = parse_file(misnamed)
    assert parsed.source.format == "docx" and parsed.source.path == str(misnamed)
    assert [f.to_dict()["indicators"] for f in parsed.forms] == [f.to_dict()["indicators"] for f in parse_file(DOCX).forms]
