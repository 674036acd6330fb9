"""What a file is, from its bytes — never from its name.

Archives are full of misnamed files: budget systems export HTML tables as ``.xls``, websites
serve Word's "Save as Web Page" as ``.doc``, downloads lose their extension. :func:`sniff` looks
at magic bytes, then inside containers (zip entries, OLE2 stream names), then at the start of
the text, and returns a *kind* (a key of ``readers.KINDS``). A file that is none of the kinds
we read is refused with :class:`UnsupportedFormat` saying what it is.
"""

from __future__ import annotations

import codecs
import re
import zipfile
from pathlib import Path

from goalforms.errors import UnreadableFile, UnsupportedFormat
from goalforms.parsers.readers.html import is_mhtml


class Unidentified(UnreadableFile):
    """Content that is none of the kinds we read and that we cannot name precisely (an unknown
    zip, OLE2 or binary file): the caller may let the reader its name claims explain instead."""

HEAD_BYTES = 8192

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP = (b"PK\x03\x04", b"PK\x05\x06")  # a local file header; an empty archive
_IMAGES = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
)
# Other binary formats people drop into archives, named so the refusal says what the file is.
_KNOWN_BINARY = (
    (b"GIF8", "a GIF image (scans are read from PNG, JPEG, TIFF or PDF)"),
    (b"BM", "a BMP image (scans are read from PNG, JPEG, TIFF or PDF)"),
    (b"Rar!", "a RAR archive (unpack it first)"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive (unpack it first)"),
    (b"\x1f\x8b", "a gzip archive (unpack it first)"),
)

# ODF: the first entry `mimetype` names the document type.
_ODF_KINDS = {
    "application/vnd.oasis.opendocument.text": "odt",
    "application/vnd.oasis.opendocument.text-template": "odt",
    "application/vnd.oasis.opendocument.spreadsheet": "ods",
    "application/vnd.oasis.opendocument.spreadsheet-template": "ods",
}

# Main content types python-docx refuses (templates, macro documents): LibreOffice converts them.
_WORD_OTHER_MAINS = (b"wordprocessingml.template.main+xml", b"ms-word.document.macroEnabled.main+xml",
                     b"ms-word.template.macroEnabledTemplate.main+xml")

# How an HTML page starts once BOM, blanks, an XML declaration and comments are skipped.
_HTML_START = re.compile(rb"<(!doctype\s+html|html[\s>]|head[\s>]|body[\s>]|table[\s>]|meta\s)", re.I)
_FRAGMENT_START = re.compile(rb"<(p|div|h[1-6]|span|font|center|style|script|title|link|form|strong|b)[\s>/]", re.I)
_CELL = re.compile(rb"<t[dhr][\s>]", re.I)
_SKIPPABLE = re.compile(rb"\s+|<!--.*?-->|<\?xml[^>]*\?>", re.S)


def _zip_kind(path: Path) -> str:
    """docx / xlsx / odt / ods from a zip archive's entries."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            types = archive.read("[Content_Types].xml") if "[Content_Types].xml" in names else b""
            if "mimetype" in names:
                mimetype = archive.read("mimetype").decode("ascii", "replace").strip()
                if mimetype in _ODF_KINDS:
                    return _ODF_KINDS[mimetype]
                raise UnsupportedFormat(path, f"an OpenDocument file of type {mimetype!r}, not a text or spreadsheet document")
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise UnreadableFile(path, f"a broken zip archive (an Office file cut short?): {exc}") from None
    if "word/document.xml" in names:
        return "dotx" if any(main in types for main in _WORD_OTHER_MAINS) else "docx"
    if "xl/workbook.xml" in names or "xl/workbook.bin" in names:
        return "xlsx"
    if "ppt/presentation.xml" in names:
        raise UnsupportedFormat(path, "a PowerPoint presentation; goalforms reads forms in Word, PDF, HTML, text and spreadsheets")
    if "[Content_Types].xml" in names:
        raise Unidentified(path, "an Office Open XML package with no Word document (word/document.xml) or workbook in it")
    raise Unidentified(path, "a zip archive, not an Office document (no word/document.xml, xl/workbook.xml or "
                             "ODF mimetype; unpack it first)")


def _ole_kind(path: Path) -> str:
    """doc / xls from the stream names of an OLE2 compound file (Word 97–2003, Excel, WPS)."""
    import olefile

    try:
        with olefile.OleFileIO(str(path)) as ole:
            streams = {"/".join(entry).lower() for entry in ole.listdir(streams=True, storages=False)}
    except (OSError, ValueError) as exc:  # olefile raises OSError (its own) on broken files
        raise UnreadableFile(path, f"a broken OLE2 (old Office) file: {exc}") from None
    if "encryptedpackage" in streams:
        raise UnreadableFile(path, "a password-protected Office document (encrypted)")
    # WPS Writer saves .wps with a WordDocument stream; WPS Spreadsheets saves .et as BIFF (Workbook).
    if "worddocument" in streams:
        return "doc"
    if "workbook" in streams or "book" in streams:
        return "xls"
    if "contents" in streams:  # Microsoft Works / old Kingsoft WPS text: LibreOffice imports it
        return "wps"
    if "powerpoint document" in streams:
        raise UnsupportedFormat(path, "a PowerPoint presentation; goalforms reads forms in Word, PDF, HTML, text and spreadsheets")
    shown = ", ".join(sorted(streams)[:8]) or "none"
    raise Unidentified(path, f"an OLE2 compound file that is neither a Word nor an Excel document (streams: {shown})")


def _text_start(head: bytes) -> bytes:
    """The head of a text file as ASCII-compatible bytes with the BOM, blanks and comments gone."""
    for bom, codec in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if head.startswith(bom):
            # Word's "Save as Unicode web page": keep what decodes of the head.
            head = head[len(bom):len(bom) + (len(head) - len(bom)) // 2 * 2]
            head = head.decode(codec, "replace").encode("utf-8", "replace")
            break
    head = head.removeprefix(codecs.BOM_UTF8)
    position = 0
    while True:
        skipped = _SKIPPABLE.match(head, position)
        if not skipped:
            return head[position:]
        position = skipped.end()


def looks_like_html(head: bytes) -> bool:
    """An HTML page or fragment: <!DOCTYPE html>, <html>, <head>, <body>, <meta …> or <table>
    first, in any case, after BOM, blanks, an XML declaration and comments; or another common
    tag first (copied page source: <p>, <div>, <h2> …) with table cells further on."""
    start = _text_start(head)
    if _HTML_START.match(start):
        return True
    return bool(_FRAGMENT_START.match(start) and _CELL.search(start))


def sniff(path: Path) -> str:
    """The kind of file ``path`` holds, by its content.

    Kinds: pdf, docx, dotx, xlsx, odt, ods, doc, xls, wps, rtf, scan, html (MHTML too), txt. Raises UnreadableFile
    (missing, empty, broken container; :class:`Unidentified` for unknown zip, OLE2 or binary data)
    or UnsupportedFormat (a known format we do not read), each saying what the file is.
    """
    try:
        with path.open("rb") as handle:
            head = handle.read(HEAD_BYTES)
    except OSError as exc:
        raise UnreadableFile(path, f"cannot read file: {exc.strerror or exc}") from None
    if not head.strip():
        raise UnreadableFile(path, "empty file")
    if head.lstrip()[:5] == b"%PDF-":
        return "pdf"
    if head.startswith(_ZIP):
        return _zip_kind(path)
    if head.startswith(_OLE2):
        return _ole_kind(path)
    if head.startswith(b"{\\rtf"):
        return "rtf"
    for magic, _name in _IMAGES:
        if head.startswith(magic):
            return "scan"
    if looks_like_html(head):
        return "html"
    if is_mhtml(head):
        return "html"  # a web archive: the HTML reader takes the page out of it
    if b"\x00" in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # Binary (text never holds NUL): name what it is when we know, so nobody retries it.
        for magic, what in _KNOWN_BINARY:
            if head.startswith(magic):
                raise UnsupportedFormat(path, what)
        shown = head[:4].hex(" ")
        raise Unidentified(path, f"binary file of no format goalforms reads (starts with bytes {shown})")
    return "txt"
