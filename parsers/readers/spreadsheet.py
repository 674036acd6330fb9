"""Spreadsheets (.xlsx/.xlsm, .xls, WPS .et, .ods) into the grid, one sheet after another.

The kind is decided by the file's bytes, not its name: an OOXML zip (``xl/workbook.xml``) is read
with openpyxl, an OLE2 compound file (Excel 97–2003 BIFF, and WPS .et, which is the same BIFF8
workbook) with xlrd, an OpenDocument zip by reading its ``content.xml``. python-calamine would be
faster but gives no number formats, and a form cannot be read without them: a target stored as
0.95 with the format ``0%`` prints ``95%``, and money is printed to its format's decimals.

What the grid gets, as the docx reader does it:

- A merged range is one cell at its top-left, with its row and column spans; the rows below it
  get a blank cell at its column (with its column span), the columns to its right nothing.
- Values are the text the sheet prints: numbers through their number format (decimals, thousands
  separators, percent), without binary float artefacts (the value is first rounded to Excel's
  15 significant digits); a number that holds more than it prints (1094910000.0001 shown as
  1,094,910,000.00) prints as shown, and the cell carries a ``doubt`` and the grid a note.
  Real dates become ISO text (``2026-01-01``); formulas give their cached values.
- Sheets are read in workbook order; hidden sheets, rows and columns (what the sheet does not
  print) are skipped, and named in ``Grid.notes`` when they hold text.
- A row whose only text is one cell at the sheet's left edge (a title, a caption line) is a free
  row, as a paragraph of a Word file is, unless a blank merged cell (an empty value box) or a
  merged cell from above shares the row; every other row is a table row.
- Provenance: ``Location(sheet, cell)``, printed ``表1!C7`` (the row's first filled cell).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import zipfile
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from goalforms.errors import UnreadableFile
from goalforms.parsers.grid import Cell, Grid, Location, Note, Row, column_letters
from goalforms.parsers.readers.source import read_source

# The source.format of the spreadsheets this reader reads.
FORMATS = ("xlsx", "xls", "ods")

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# An encrypted .xlsx is an OLE2 file holding these streams instead of a zip.
_ENCRYPTED_OOXML = ("EncryptionInfo".encode("utf-16-le"), "EncryptedPackage".encode("utf-16-le"))
_ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"


# ---------------------------------------------------------------- one sheet, whatever the format


@dataclass
class _Value:
    text: str
    doubt: str | None = None


@dataclass
class _Sheet:
    name: str
    hidden: bool = False
    values: dict[tuple[int, int], _Value] = field(default_factory=dict)  # (row, col), 0-based
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)  # r0, c0, r1, c1 inclusive
    # Hidden (or filtered-out) rows and columns: not printed, so not read (and noted).
    hidden_rows: set[int] = field(default_factory=set)
    hidden_cols: set[int] = field(default_factory=set)


def _rows(sheet: _Sheet, notes: list[Note]) -> list[Row]:
    """The sheet's rows with merged ranges as spans (see the module docstring); a note for every
    number printed rounded."""
    filled = {pos: v for pos, v in sheet.values.items() if v.text.strip()}
    hidden = sorted(pos for pos in filled if pos[0] in sheet.hidden_rows or pos[1] in sheet.hidden_cols)
    if hidden:
        refs = ", ".join(f"{column_letters(c)}{r + 1}" for r, c in hidden[:5]) + (", …" if len(hidden) > 5 else "")
        notes.append(Note("hidden_cells", f"{len(hidden)} filled cells in hidden rows or columns of sheet "
                          f"{sheet.name!r} were not read: {refs}",
                          Location(sheet=sheet.name, cell=f"{column_letters(hidden[0][1])}{hidden[0][0] + 1}")))
        filled = {pos: v for pos, v in filled.items() if pos not in set(hidden)}
    if not filled:
        return []
    last_row = max(r for r, _ in filled)
    last_col = max(c for _, c in filled)
    # Merged ranges past the last text (a whole column merged, formatting down to row 1048576)
    # are cut there: nothing beyond it is printed, and the sheet stays small to walk.
    merges = [(r0, c0, min(r1, last_row), min(c1, last_col)) for r0, c0, r1, c1 in sheet.merges
              if r0 <= last_row and c0 <= last_col]
    first_col = min([c for _, c in filled] + [c0 for _, c0, _, _ in merges])
    origins = {(r0, c0): (r1 - r0 + 1, c1 - c0 + 1) for r0, c0, r1, c1 in merges}
    covered: dict[tuple[int, int], tuple[int, int]] = {}
    for r0, c0, r1, c1 in merges:
        for r in range(r0, r1 + 1):
            for c in range(c0, c1 + 1):
                if (r, c) != (r0, c0):
                    covered[(r, c)] = (r0, c0)
    # Rows holding text or part of a merged range; blank spacer rows are left out.
    used = ({r for r, _ in filled} | {r for r0, _, r1, _ in merges for r in range(r0, r1 + 1)}) - sheet.hidden_rows
    rows: list[Row] = []
    for r in sorted(used):
        cells: list[Cell] = []
        c = first_col
        while c <= last_col:
            if (r, c) in origins:
                row_span, col_span = origins[(r, c)]
                value = sheet.values.get((r, c), _Value(""))
                cells.append(Cell(value.text, c, row_span=row_span, col_span=col_span, doubt=value.doubt))
                c += col_span
            elif (r, c) in covered:
                r0, c0 = covered[(r, c)]
                col_span = origins[(r0, c0)][1]
                if r0 < r and c == c0:  # under a merged cell: blank, as Word's vMerge continue
                    cells.append(Cell("", c, col_span=col_span))
                    c += col_span
                else:
                    c += 1
            elif c in sheet.hidden_cols:
                c += 1
            else:
                value = sheet.values.get((r, c), _Value(""))
                cells.append(Cell(value.text, c, doubt=value.doubt))
                c += 1
        texts = [cell for cell in cells if not cell.blank]
        anchor = texts[0].col if texts else first_col
        where = Location(sheet=sheet.name, cell=f"{column_letters(anchor)}{r + 1}")
        # A blank merged cell beside the text (an empty value box) or a merged cell from above
        # make it a table row even with one text.
        boxed = any((r, c) in covered and covered[(r, c)][0] < r for c in range(first_col, last_col + 1)) or \
            any(cell.blank and (cell.row_span > 1 or cell.col_span > 1) for cell in cells)
        free = len(texts) == 1 and texts[0].col == first_col and texts[0].row_span == 1 and not boxed
        rows.append(Row((texts[0],) if free else tuple(cells), where, in_table=not free))
        notes.extend(Note("rounded_number", cell.doubt, Location(sheet=sheet.name, cell=f"{column_letters(cell.col)}{r + 1}"))
                     for cell in cells if cell.doubt)
    return rows


# ---------------------------------------------------------------- numbers as their format prints them


def _significant(value: Decimal, digits: int = 15) -> Decimal:
    """``value`` to Excel's 15 significant digits: 11010598.000000002 → 11010598."""
    if not value:
        return Decimal(0)
    return value.quantize(Decimal(1).scaleb(value.adjusted() - digits + 1), rounding=ROUND_HALF_EVEN)


def plain(value: Decimal) -> str:
    """A decimal without exponent or trailing zeros: ``1.50`` → ``1.5``, ``1E+3`` → ``1000``."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "+0") else text


@dataclass(frozen=True)
class NumberFormat:
    """What a number format does to the printed number (the rest of Excel's language is ignored)."""

    general: bool = True
    min_decimals: int = 0
    max_decimals: int = 0
    thousands: bool = False
    percent: bool = False
    scale: int = 0  # trailing commas: each divides by 1,000
    prefix: str = ""
    suffix: str = ""


_BRACKETS = re.compile(r"\[[^\]]*\]")
_NUMBER_PART = re.compile(r"[0#?][0#?,]*(?:\.[0#?]*)?|\.[0#?]+")


def _literal(part: str) -> str:
    """Literal text of a format piece: quoted strings, escaped characters, symbols like ¥."""
    out, i = [], 0
    while i < len(part):
        ch = part[i]
        if ch == '"':
            end = part.find('"', i + 1)
            end = len(part) if end < 0 else end
            out.append(part[i + 1 : end])
            i = end + 1
        elif ch == "\\" and i + 1 < len(part):
            out.append(part[i + 1])
            i += 2
        elif ch in "_*" and i + 1 < len(part):
            i += 2  # _x pads with the width of x, *x fills: no printed character
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def parse_number_format(code: str | None, negative: bool = False) -> NumberFormat:
    """The section of ``code`` that prints a number of this sign, read for what matters here."""
    if not code or code.strip().lower() in ("general", "@", "g/通用格式", "通用格式"):
        return NumberFormat()
    sections = _split_sections(code)
    section = sections[1] if negative and len(sections) > 1 else sections[0]
    section = _BRACKETS.sub("", section)
    unquoted = re.sub(r'"[^"]*"|\\.', "", section)
    if "E+" in unquoted.upper() or "E-" in unquoted.upper() or "/" in unquoted:
        return NumberFormat()  # scientific and fractions: printed as plain numbers
    found = _NUMBER_PART.search(unquoted)
    if found is None:
        return NumberFormat()
    # Locate the same number part in the section with quotes kept, for the literal text around it.
    start = section.find(found.group())
    number = found.group()
    integer, _, decimals = number.partition(".")
    scale = len(integer) - len(integer.rstrip(","))
    return NumberFormat(
        general=False,
        min_decimals=decimals.count("0"),
        max_decimals=len(decimals),
        thousands="," in integer.rstrip(","),
        percent="%" in unquoted,
        scale=scale,
        prefix=_literal(section[:start]).replace("%", ""),
        suffix=_literal(section[start + len(number) :]).replace("%", ""),
    )


def _split_sections(code: str) -> list[str]:
    sections: list[str] = []
    current: list[str] = []
    quoted = False
    for ch in code:
        if ch == '"':
            quoted = not quoted
        if ch == ";" and not quoted:
            sections.append("".join(current))
            current = []
        else:
            current.append(ch)
    sections.append("".join(current))
    return sections


def format_number(value: float | int | Decimal, code: str | None) -> _Value:
    """The text a number prints with format ``code``; a doubt when the value holds more."""
    exact = value if isinstance(value, Decimal) else Decimal(repr(float(value)) if isinstance(value, float)
                                                           else str(value))
    if not exact.is_finite():
        return _Value(str(value))
    negative = exact < 0
    fmt = parse_number_format(code, negative)
    if fmt.general:
        return _Value(plain(_significant(exact)))
    shown = exact * 100 if fmt.percent else exact
    shown = _significant(shown.scaleb(-3 * fmt.scale))
    # Excel rounds half away from zero when it prints.
    rounded = shown.quantize(Decimal(1).scaleb(-fmt.max_decimals), rounding=ROUND_HALF_UP)
    # A negative section prints the magnitude with its own sign or brackets.
    magnitude = abs(rounded) if negative and len(_split_sections(code or "")) > 1 else rounded
    digits = f"{magnitude:,.{fmt.max_decimals}f}" if fmt.thousands else f"{magnitude:.{fmt.max_decimals}f}"
    if fmt.max_decimals > fmt.min_decimals:  # '#' decimals: printed only when not zero
        whole, _, frac = digits.partition(".")
        frac = frac.rstrip("0").ljust(fmt.min_decimals, "0")
        digits = f"{whole}.{frac}" if frac else whole
    text = f"{fmt.prefix}{digits}{'%' if fmt.percent else ''}{fmt.suffix}".strip()
    doubt = None
    if rounded != shown:
        held = plain(_significant(exact))
        doubt = f"the cell holds {held} but its format prints {text}"
    return _Value(text, doubt)


def format_date(value: dt.datetime | dt.date | dt.time) -> str:
    """ISO text: a date alone when there is no time of day."""
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="minutes" if value.second == 0 else "seconds")
    return value.isoformat()


# ---------------------------------------------------------------- .xlsx / .xlsm (openpyxl)


def _read_xlsx(path: Path, data: bytes) -> list[_Sheet]:
    import openpyxl

    # From bytes: openpyxl refuses file names it does not know (.et, misnamed files).
    # data_only: formulas by the value the saving application cached. read_only: the normal mode
    # formats every merged cell's borders on load (~1 s for a 300-row form); merged ranges are
    # read from the sheet's XML instead.
    book = openpyxl.load_workbook(io.BytesIO(data), data_only=True, read_only=True)
    sheets = []
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for ws in book.worksheets:
                sheet = _Sheet(ws.title, hidden=ws.sheet_state != "visible")
                ws.reset_dimensions()  # exporters write wrong <dimension> refs: read every row there is
                for row in ws.iter_rows():
                    for cell in row:
                        value = getattr(cell, "value", None)
                        if value is None:
                            continue
                        sheet.values[(cell.row - 1, cell.column - 1)] = _cell_value(value, cell.number_format)
                _xlsx_structure(archive.read(ws._worksheet_path.lstrip("/")), sheet)
                sheets.append(sheet)
    finally:
        book.close()
    return sheets


def _xlsx_structure(xml: bytes, sheet: _Sheet) -> None:
    """Merged ranges (``<mergeCell ref="A1:D1"/>``) and hidden rows and columns of a worksheet part."""
    from lxml import etree
    from openpyxl.utils.cell import range_boundaries

    tags = ("{*}mergeCell", "{*}row", "{*}col")
    last_row = 0
    for _, element in etree.iterparse(io.BytesIO(xml), tag=tags, resolve_entities=False, no_network=True):
        name = etree.QName(element).localname
        if name == "row":
            last_row = int(element.get("r") or last_row + 1)
            if element.get("hidden") in ("1", "true"):
                sheet.hidden_rows.add(last_row - 1)
        elif name == "col":
            if element.get("hidden") in ("1", "true"):
                first, last = int(element.get("min", "1")), int(element.get("max", "1"))
                sheet.hidden_cols.update(range(first - 1, min(last, first + _MAX_REPEAT)))
        else:
            ref = element.get("ref")
            if ref and ":" in ref:
                min_col, min_row, max_col, max_row = range_boundaries(ref)
                if None not in (min_col, min_row, max_col, max_row):
                    sheet.merges.append((min_row - 1, min_col - 1, max_row - 1, max_col - 1))  # type: ignore[operator]
        element.clear()


def _cell_value(value: Any, number_format: str | None) -> _Value:
    if isinstance(value, bool):
        return _Value("TRUE" if value else "FALSE")
    if isinstance(value, (int, float, Decimal)):
        return format_number(value, number_format)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return _Value(format_date(value))
    if isinstance(value, dt.timedelta):
        return _Value(str(value))
    return _Value(str(value).replace("\r\n", "\n").replace("\r", "\n"))


# ---------------------------------------------------------------- .xls and WPS .et (xlrd, BIFF)


def _read_xls(path: Path, data: bytes) -> list[_Sheet]:
    import xlrd

    try:
        book = xlrd.open_workbook(file_contents=data, formatting_info=True, logfile=io.StringIO())
    except xlrd.XLRDError as exc:
        if "encrypt" in str(exc).lower():
            raise UnreadableFile(path, "encrypted workbook (password protected)") from None
        raise UnreadableFile(path, f"broken Excel 97–2003 workbook: {exc}") from None
    sheets = []
    for ws in book.sheets():
        sheet = _Sheet(ws.name, hidden=bool(ws.visibility))
        for r in range(ws.nrows):
            for c, cell in enumerate(ws.row(r)):
                value = _xls_value(book, cell)
                if value is not None:
                    sheet.values[(r, c)] = value
        sheet.merges = [(rlo, clo, rhi - 1, chi - 1) for rlo, rhi, clo, chi in ws.merged_cells]
        sheet.hidden_rows = {r for r, info in ws.rowinfo_map.items() if info.hidden}
        sheet.hidden_cols = {c for c, info in ws.colinfo_map.items() if info.hidden}
        sheets.append(sheet)
    return sheets


def _xls_value(book: Any, cell: Any) -> _Value | None:
    import xlrd

    kind = cell.ctype
    if kind in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
        return None
    if kind == xlrd.XL_CELL_TEXT:
        return _Value(str(cell.value).replace("\r\n", "\n").replace("\r", "\n"))
    if kind == xlrd.XL_CELL_BOOLEAN:
        return _Value("TRUE" if cell.value else "FALSE")
    if kind == xlrd.XL_CELL_ERROR:
        return _Value(xlrd.error_text_from_code.get(cell.value, "#ERROR"))
    code = None
    xf = book.xf_list[cell.xf_index] if cell.xf_index is not None and cell.xf_index < len(book.xf_list) else None
    if xf is not None and xf.format_key in book.format_map:
        code = book.format_map[xf.format_key].format_str
    if kind == xlrd.XL_CELL_DATE:
        try:
            return _Value(format_date(xlrd.xldate.xldate_as_datetime(cell.value, book.datemode)))
        except (ValueError, OverflowError, xlrd.xldate.XLDateError):
            return format_number(cell.value, None)
    return format_number(cell.value, code)


# ---------------------------------------------------------------- .ods (content.xml)

_T = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_O = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
_X = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
_S = "{urn:oasis:names:tc:opendocument:xmlns:style:1.0}"
_ROW_GROUPS = {f"{_T}table-header-rows", f"{_T}table-row-group", f"{_T}table-rows"}
_COLUMN_GROUPS = {f"{_T}table-header-columns", f"{_T}table-column-group", f"{_T}table-columns"}
_SHOWN_NUMBER = re.compile(r"[-+]?\d[\d,]*(?:\.\d+)?|[-+]?\.\d+")
# Past the last filled row LibreOffice writes one row repeated to the sheet's end: not expanded.
_MAX_REPEAT = 10_000


def _odf_text(element: Any) -> str:
    """The text of a text:p: spans, text:s (spaces), tabs and line breaks."""
    parts = [element.text or ""]
    for child in element:
        tag = child.tag
        if tag == f"{_X}s":
            parts.append(" " * int(child.get(f"{_X}c", "1")))
        elif tag == f"{_X}tab":
            parts.append("\t")
        elif tag == f"{_X}line-break":
            parts.append("\n")
        elif tag.startswith(_X) and not tag.endswith(("}note", "}annotation")):
            parts.append(_odf_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _ods_value(cell: Any) -> _Value | None:
    kind = cell.get(f"{_O}value-type")
    shown = "\n".join(_odf_text(p) for p in cell.findall(f"{_X}p"))
    if kind == "date":
        value = cell.get(f"{_O}date-value", "")
        try:
            return _Value(format_date(dt.datetime.fromisoformat(value)))
        except ValueError:
            return _Value(shown) if shown.strip() else None
    if kind in ("float", "currency", "percentage"):
        raw = cell.get(f"{_O}value")
        try:
            exact = Decimal(raw or "")
        except InvalidOperation:
            return _Value(shown) if shown.strip() else None
        if not shown.strip():
            return format_number(exact, "0%" if kind == "percentage" else None)
        # The file holds the printed text beside the value: keep it, doubt it when it rounds.
        found = _SHOWN_NUMBER.search(shown.replace(" ", ""))
        held = _significant(exact * 100 if kind == "percentage" else exact)
        if found is not None:
            try:
                printed = Decimal(found.group().replace(",", ""))
            except InvalidOperation:
                printed = held
            if printed != held and abs(printed) == abs(held) and printed.is_signed() != held.is_signed():
                printed = held  # a negative printed in parentheses or red without a sign
            if printed != held:
                return _Value(shown, f"the cell holds {plain(_significant(exact))} but its format prints {shown}")
        return _Value(shown)
    if kind == "boolean":
        return _Value(shown or ("TRUE" if cell.get(f"{_O}boolean-value") == "true" else "FALSE"))
    return _Value(shown.replace("\r\n", "\n")) if shown else None


def _read_ods(path: Path, data: bytes) -> list[_Sheet]:
    from lxml import etree

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        if "META-INF/manifest.xml" in names and b"encryption-data" in archive.read("META-INF/manifest.xml"):
            raise UnreadableFile(path, "encrypted workbook (password protected)")
        if "content.xml" not in names:
            raise UnreadableFile(path, "broken OpenDocument spreadsheet (the zip holds no content.xml)")
        content = archive.read("content.xml")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(content, parser)
    except etree.XMLSyntaxError as exc:
        raise UnreadableFile(path, f"broken OpenDocument spreadsheet: {exc}") from None
    hidden_styles = {
        style.get(f"{_S}name")
        for style in root.iter(f"{_S}style")
        if any(p.get(f"{_T}display") == "false" for p in style.findall(f"{_S}table-properties"))
    }
    sheets = []
    for table in root.iter(f"{_T}table"):
        if table.getparent() is None or table.getparent().tag != f"{_O}spreadsheet":
            continue  # tables inside cells or charts
        sheet = _Sheet(table.get(f"{_T}name", ""), hidden=table.get(f"{_T}style-name") in hidden_styles)
        c = 0
        for column in _ods_columns(table):
            repeat = int(column.get(f"{_T}number-columns-repeated", "1"))
            if column.get(f"{_T}visibility", "visible") != "visible":
                sheet.hidden_cols.update(range(c, c + min(repeat, _MAX_REPEAT)))
            c += repeat
        r = 0
        for row in _ods_rows(table):
            repeat = int(row.get(f"{_T}number-rows-repeated", "1"))
            if row.get(f"{_T}visibility", "visible") != "visible":  # collapse, filter
                sheet.hidden_rows.update(range(r, r + min(repeat, _MAX_REPEAT)))
            cells = _ods_cells(row)
            if not cells:
                r += repeat
                continue
            for n in range(min(repeat, _MAX_REPEAT)):
                for c, value, spans in cells:
                    if value is not None:
                        sheet.values[(r + n, c)] = value
                    if spans is not None and n == 0:
                        sheet.merges.append((r, c, r + spans[0] - 1, c + spans[1] - 1))
            r += repeat
        sheets.append(sheet)
    return sheets


def _ods_rows(element: Any) -> list[Any]:
    rows = []
    for child in element:
        if child.tag == f"{_T}table-row":
            rows.append(child)
        elif child.tag in _ROW_GROUPS:
            rows.extend(_ods_rows(child))
    return rows


def _ods_columns(element: Any) -> list[Any]:
    columns = []
    for child in element:
        if child.tag == f"{_T}table-column":
            columns.append(child)
        elif child.tag in _COLUMN_GROUPS:
            columns.extend(_ods_columns(child))
    return columns


def _ods_cells(row: Any) -> list[tuple[int, _Value | None, tuple[int, int] | None]]:
    """Filled and merging cells of a row: (column, value, (row span, column span) or None)."""
    out: list[tuple[int, _Value | None, tuple[int, int] | None]] = []
    c = 0
    for cell in row:
        if cell.tag not in (f"{_T}table-cell", f"{_T}covered-table-cell"):
            continue
        repeat = int(cell.get(f"{_T}number-columns-repeated", "1"))
        value = _ods_value(cell) if cell.tag == f"{_T}table-cell" else None
        rows_spanned = int(cell.get(f"{_T}number-rows-spanned", "1"))
        cols_spanned = int(cell.get(f"{_T}number-columns-spanned", "1"))
        spans = (rows_spanned, cols_spanned) if rows_spanned > 1 or cols_spanned > 1 else None
        if value is not None or spans is not None:
            for n in range(min(repeat, _MAX_REPEAT)):
                out.append((c + n, value, spans))
        c += repeat
    return out


# ---------------------------------------------------------------- the reader


def spreadsheet_kind(data: bytes) -> str | None:
    """"xlsx", "xls" or "ods" by the bytes; "encrypted" for a password-protected OOXML file,
    "broken zip" for a zip archive that cannot be opened (cut short, damaged)."""
    if data[:8] == _OLE2:
        return "encrypted" if all(marker in data for marker in _ENCRYPTED_OOXML) else "xls"
    if data[:4] != b"PK\x03\x04":
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "xl/workbook.xml" in names:
                return "xlsx"
            if "mimetype" in names and archive.read("mimetype").strip().startswith(_ODS_MIME):
                return "ods"
    except (zipfile.BadZipFile, OSError, ValueError):
        return "broken zip"
    return None


_READERS = {"xlsx": _read_xlsx, "xls": _read_xls, "ods": _read_ods}


def read(path: Path) -> Grid:
    """Read a workbook into a grid: its visible sheets in order, hidden ones noted."""
    data = read_source(path)
    kind = spreadsheet_kind(data)
    if kind == "encrypted":
        raise UnreadableFile(path, "encrypted workbook (password protected)")
    if kind == "broken zip":
        raise UnreadableFile(path, "broken workbook: the zip archive is damaged or cut short")
    if kind is None:
        raise UnreadableFile(path, "not a spreadsheet (neither an Excel/WPS workbook nor an OpenDocument spreadsheet)")
    try:
        sheets = _READERS[kind](path, data)
    except UnreadableFile:
        raise
    except Exception as exc:  # openpyxl, xlrd and zipfile raise many kinds on broken files
        raise UnreadableFile(path, f"broken {kind} workbook: {exc.__class__.__name__}: {exc}") from None
    grid = Grid(path=str(path), format=kind, sha256=hashlib.sha256(data).hexdigest())
    for sheet in sheets:
        filled = sum(1 for v in sheet.values.values() if v.text.strip())
        if sheet.hidden:
            if filled:
                grid.notes.append(Note("hidden_sheet", f"hidden sheet {sheet.name!r} ({filled} filled cells) "
                                       "was not read", Location(sheet=sheet.name, cell="A1")))
            continue
        grid.rows.extend(_rows(sheet, grid.notes))
    if not grid.rows:
        hidden = [n.where.sheet for n in grid.notes if n.code == "hidden_sheet" and n.where]
        reason = "no visible sheet holds any cell" + (f" (hidden sheets: {', '.join(map(str, hidden))})" if hidden else "")
        raise UnreadableFile(path, f"empty workbook: {reason}")
    return grid


# ---------------------------------------------------------------- for the parse stage

_PRINTED_NUMBER = re.compile(r"[-+]?\d[\d,]*(?:\.\d+)?")
