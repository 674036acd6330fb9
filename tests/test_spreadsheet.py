"""The spreadsheet reader: merged ranges, values as printed, hidden sheets, broken files, provenance.

Crafted workbooks are written with openpyxl (what a budget system's export holds); the .xls and
.ods behaviour is checked on the committed samples, which LibreOffice made from the .xlsx.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from goalforms.errors import UnreadableFile
from goalforms.parsers.grid import Grid, Location
from goalforms.parsers.readers import read
from goalforms.parsers.readers.spreadsheet import format_number, parse_number_format
from goalforms.pipeline import parse_file
from tests.conftest import REPO, SAMPLES

# encrypted.xlsx: a one-cell openpyxl workbook encrypted (password "secret", agile encryption) with
# msoffcrypto-tool's OfficeFile.encrypt, made once and committed (LibreOffice's command line
# cannot set a password, and the tests need no extra dependency).
DATA = REPO / "tests" / "data"
SAMPLE_002 = "002_24ec7dd97fefd2fa"


def save(book: Workbook, path: Path, cached: dict[str, str] | None = None, merges: tuple[str, ...] = ()) -> Path:
    """Save ``book``; ``cached`` writes formula results as Excel would (openpyxl writes none);
    ``merges`` are written straight into the sheet's XML (openpyxl takes minutes for huge ones)."""
    buffer = io.BytesIO()
    book.save(buffer)
    out = io.BytesIO()
    with zipfile.ZipFile(buffer) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                for ref, value in (cached or {}).items():
                    data = re.sub(rf'(<c r="{ref}"[^>]*><f>[^<]*</f>)<v\s*/?>(?:</v>)?'.encode(),
                                  rb"\g<1><v>" + value.encode() + b"</v>", data)
                if merges:
                    refs = "".join(f'<mergeCell ref="{ref}"/>' for ref in merges)
                    data = data.replace(b"</sheetData>", f'</sheetData><mergeCells count="{len(merges)}">{refs}'
                                        "</mergeCells>".encode(), 1)
            dst.writestr(info, data)
    path.write_bytes(out.getvalue())
    return path


def save_plain(book: Any, path: Path) -> Path:
    book.save(path)
    return path


def cells(grid: Grid) -> dict[str, Any]:
    """Every cell by its A1 reference: (text, row span, column span)."""
    out = {}
    for row in grid.rows:
        number = re.sub(r"^[A-Z]+", "", row.where.cell or "")
        for cell in row.cells:
            letters = "".join(chr(65 + cell.col)) if cell.col < 26 else "?"
            out[f"{letters}{number}"] = (cell.text, cell.row_span, cell.col_span)
    return out


def form_book() -> Workbook:
    """A small 申报表-like sheet: a title across, a label merged down, a value merged across."""
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.title = "表1"
    ws["A1"] = "财政项目支出绩效目标申报表"
    ws.merge_cells("A1:D1")
    ws["A2"] = "项目资金(元)"
    ws.merge_cells("A2:A4")
    ws["B2"], ws["C2"] = "年度资金申请总额", 1094910000.0001
    ws["C2"].number_format = "#,##0.00"
    ws.merge_cells("C2:D2")
    ws["B3"], ws["C3"] = "其中：当年财政拨款", 11010598.000000002
    ws["C3"].number_format = "#,##0.00"
    ws["B4"], ws["C4"] = "上年结转资金", 0.1 + 0.2
    ws["B5"], ws["C5"], ws["D5"] = "计划开始日期", dt.datetime(2026, 1, 1), dt.datetime(2026, 3, 5, 8, 30)
    ws["C5"].number_format = 'yyyy"年"m"月"d"日"'
    ws["D5"].number_format = "yyyy-mm-dd hh:mm"
    ws["B6"], ws["C6"], ws["D6"] = "满意度", 0.95, 0.955
    ws["C6"].number_format = ws["D6"].number_format = "0%"
    ws["B7"], ws["C7"] = "=100(%)", "≥95%"
    ws["B7"].data_type = "s"
    ws["A8"] = "项目概况："
    ws.merge_cells("B8:D8")
    return book


@pytest.fixture
def form_grid(tmp_path: Path) -> Grid:
    return read(save(form_book(), tmp_path / "form.xlsx"))


def test_merged_ranges_become_spans_as_in_word(form_grid: Grid) -> None:
    got = cells(form_grid)
    assert got["A1"] == ("财政项目支出绩效目标申报表", 1, 4)
    assert got["A2"] == ("项目资金(元)", 3, 1)
    # Under a merged cell: a blank cell at its column, with its column span (docx's vMerge continue).
    assert got["A3"] == ("", 1, 1) and got["A4"] == ("", 1, 1)
    # Right of a merged cell: nothing (the span covers it).
    assert got["C2"] == ("1,094,910,000.00", 1, 2) and "D2" not in got
    # A title across the form is a free row, like a Word paragraph; the rest are table rows.
    assert [row.in_table for row in form_grid.rows[:3]] == [False, True, True]
    # A label beside an empty merged value box is a table row too.
    empty_box = next(row for row in form_grid.rows if row.where.cell == "A8")
    assert empty_box.in_table and [(c.text, c.col_span) for c in empty_box.cells][:2] == [("项目概况：", 1), ("", 3)]
    assert form_grid.format == "xlsx"


def test_dates_are_iso(form_grid: Grid) -> None:
    got = cells(form_grid)
    assert got["C5"][0] == "2026-01-01"
    assert got["D5"][0] == "2026-03-05 08:30"


def test_money_is_exact_and_a_hidden_fraction_is_flagged(form_grid: Grid) -> None:
    got = cells(form_grid)
    texts = [cell.text for row in form_grid.rows for cell in row.cells]
    assert not any("0001" in t or "000000002" in t or "0000000000" in t for t in texts)
    assert got["C3"][0] == "11,010,598.00"  # a binary artefact: gone, no doubt
    assert got["C4"][0] == "0.3"  # General format: 0.30000000000000004 printed as Excel does
    # 1094910000.0001 prints 1,094,910,000.00 with its format: printed as shown, and doubted.
    doubted = {(str(row.where), c.text): c.doubt for row in form_grid.rows for c in row.cells if c.doubt}
    assert list(doubted) == [("表1!A2", "1,094,910,000.00"), ("表1!B6", "96%")]
    assert "1094910000.0001" in (doubted[("表1!A2", "1,094,910,000.00")] or "")
    notes = [(n.code, str(n.where)) for n in form_grid.notes]
    assert notes == [("rounded_number", "表1!C2"), ("rounded_number", "表1!D6")]


def test_percent_formatted_numbers_read_as_printed(form_grid: Grid) -> None:
    got = cells(form_grid)
    assert got["C6"][0] == "95%"
    assert got["D6"][0] == "96%"
    assert got["B7"][0] == "=100(%)" and got["C7"][0] == "≥95%"  # text targets untouched


@pytest.mark.parametrize(("value", "code", "text"), [
    (1094910000.0, "#,##0.00", "1,094,910,000.00"),
    (0.9, "0.0%", "90.0%"),
    (1.0, "0%", "100%"),
    (-1234.5, "#,##0.00;[Red]-#,##0.00", "-1,234.50"),
    (-1234.5, "#,##0.00_);(#,##0.00)", "(1,234.50)"),
    (1234.5, '#,##0.00"元"', "1,234.50元"),
    (1.5, "0.0#", "1.5"),
    (1e20, "General", "100000000000000000000"),
    (145147721.65, "#,##0.00", "145,147,721.65"),
])
def test_number_formats(value: float, code: str, text: str) -> None:
    assert format_number(value, code).text == text
    assert format_number(value, code).doubt is None


def test_number_format_sections() -> None:
    fmt = parse_number_format('[$-804]#,##0.00;[Red]"-"#,##0.00', negative=True)
    assert (fmt.max_decimals, fmt.thousands, fmt.prefix) == (2, True, "-")
    assert parse_number_format("General").general and parse_number_format("@").general


def test_formulas_give_their_cached_values(tmp_path: Path) -> None:
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws["A1"], ws["B1"], ws["C1"] = "其中：当年财政拨款", 11010598, 0
    ws["A2"], ws["B2"] = "年度资金申请总额", "=SUM(B1:C1)"
    ws["B2"].number_format = "#,##0.00"
    ws["A3"], ws["B3"] = "未计算", "=B1*2"  # saved by a program that never calculated: no value
    grid = read(save(book, tmp_path / "f.xlsx", cached={"B2": "11010598"}))
    got = cells(grid)
    assert got["B2"][0] == "11,010,598.00"
    row3 = next(row for row in grid.rows if row.where.cell == "A3")
    assert row3.text() == "未计算"  # the formula's cell is blank
    # LibreOffice computed and cached 004's =SUM() formulas in its .xls and .ods.
    stem = "004_dca627b1a6ea1aa7"
    for path in (SAMPLES / "xls" / f"{stem}.xls", SAMPLES / "ods" / f"{stem}.ods", SAMPLES / "xlsx" / f"{stem}.xlsx"):
        assert parse_file(path).forms[0].budget["current_year"] == "11010598", path.name


def test_hidden_sheet_is_skipped_and_noted(tmp_path: Path) -> None:
    book = form_book()
    hidden = book.create_sheet("下拉选项")
    hidden["A1"] = "财政项目支出绩效目标表"  # would start a form if it were read
    hidden.sheet_state = "hidden"
    grid = read(save(book, tmp_path / "h.xlsx"))
    assert all(row.where.sheet == "表1" for row in grid.rows)
    hidden_notes = [n for n in grid.notes if n.code == "hidden_sheet"]
    assert len(hidden_notes) == 1 and "下拉选项" in hidden_notes[0].message
    assert str(hidden_notes[0].where) == "下拉选项!A1"


@pytest.mark.parametrize("suffix", ["xlsx", "xls", "ods"])
def test_every_format_gives_the_same_grid(suffix: str) -> None:
    """The same workbook through openpyxl, xlrd and content.xml: same rows, cells, spans, notes."""
    reference = read(SAMPLES / "xlsx" / f"{SAMPLE_002}.xlsx")
    grid = read(SAMPLES / suffix / f"{SAMPLE_002}.{suffix}")
    assert grid.format == suffix
    shape = [(str(r.where), r.in_table, [(c.text, c.col, c.row_span, c.col_span) for c in r.cells]) for r in grid.rows]
    want = [(str(r.where), r.in_table, [(c.text, c.col, c.row_span, c.col_span) for c in r.cells])
            for r in reference.rows]
    assert shape == want
    assert [(n.code, str(n.where)) for n in grid.notes] == [("hidden_sheet", "下拉选项!A1")]
    # 002 stores its bare-percentage targets as numbers formatted 0%.
    assert ("表11!D21", "90%") in [(str(r.where), c.text) for r in grid.rows for c in r.cells]


def test_wps_et_is_read_by_its_content(tmp_path: Path) -> None:
    assert read(SAMPLES / "et" / "004_dca627b1a6ea1aa7.et").format == "xls"
    # Some WPS versions save .et as OOXML: the bytes decide, not the name.
    path = tmp_path / "form.et"
    path.write_bytes((SAMPLES / "xlsx" / f"{SAMPLE_002}.xlsx").read_bytes())
    assert read(path).format == "xlsx"
    macro = tmp_path / "form.xlsm"  # a macro-enabled workbook is the same package
    macro.write_bytes(path.read_bytes())
    assert len(parse_file(macro).forms) == 11


def _xls_with_filepass() -> bytes:
    """The 003 .xls with its WRITEACCESS record turned into FILEPASS (what encryption adds)."""
    data = (SAMPLES / "xls" / "003_cca29bee0b231de8.xls").read_bytes()
    at = data.index(b"\x5c\x00\x70\x00")  # WRITEACCESS, 112 bytes, in the workbook globals
    return data[:at] + b"\x2f\x00" + data[at + 2:]


def _ods_encrypted() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("META-INF/manifest.xml", '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:'
                   'xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="content.xml"><manifest:encryption-data'
                   ' manifest:checksum-type="SHA1/1K"/></manifest:file-entry></manifest:manifest>')
        z.writestr("content.xml", b"\x8a\x13garbled")
    return buffer.getvalue()


def _empty_xlsx() -> bytes:
    buffer = io.BytesIO()
    Workbook().save(buffer)
    return buffer.getvalue()


def _only_hidden_xlsx() -> bytes:
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws["A1"] = "secret"
    book.create_sheet("visible")
    ws.sheet_state = "hidden"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _zip_without_workbook() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("hello.txt", "hi")
    return buffer.getvalue()


@pytest.mark.parametrize(("name", "make", "reason"), [
    ("empty.xlsx", lambda: b"", "empty file"),
    ("zip.xlsx", _zip_without_workbook, "not a spreadsheet"),
    ("cut.xlsx", lambda: (SAMPLES / "xlsx" / f"{SAMPLE_002}.xlsx").read_bytes()[:3000], "broken zip archive"),
    ("cut.xls", lambda: (SAMPLES / "xls" / f"{SAMPLE_002}.xls").read_bytes()[:2000], "broken"),
    ("encrypted.xlsx", lambda: (DATA / "encrypted.xlsx").read_bytes(), "password-protected"),
    ("encrypted.xls", _xls_with_filepass, "encrypted workbook"),
    ("encrypted.ods", _ods_encrypted, "encrypted workbook"),
    ("blank.xlsx", _empty_xlsx, "empty workbook"),
    ("hidden.xlsx", _only_hidden_xlsx, "hidden sheets: Sheet"),
])
def test_unreadable_workbooks_are_named(tmp_path: Path, name: str, make: Any, reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(make())
    with pytest.raises(UnreadableFile) as info:
        read(path)
    assert str(path) in str(info.value)
    assert reason in str(info.value)


def test_tab_separated_text_named_xls_is_read_as_text(tmp_path: Path) -> None:
    # Budget systems export tab-separated text as .xls: read by content, it is a text dump.
    path = tmp_path / "text.xls"
    path.write_bytes("项目名称\t社保".encode())
    grid = read(path)
    assert grid.format == "txt" and [c.text for c in grid.rows[0].cells] == ["项目名称", "社保"]


def test_cell_provenance() -> None:
    assert str(Location(sheet="表1", cell="C7")) == "表1!C7"
    assert str(Location(sheet="My Sheet", cell="A1")) == "'My Sheet'!A1"
    assert str(Location(sheet="O'Neil", cell="B2")) == "'O''Neil'!B2"
    # Other formats print as before.
    assert str(Location(page=2, table=1, row=3)) == "page 2, table 1, row 3"
    assert str(Location(line=5)) == "line 5"
    parsed = parse_file(SAMPLES / "xlsx" / f"{SAMPLE_002}.xlsx")
    last = parsed.forms[-1]
    assert last.where == "表11!A1"
    # An indicator row is named by its first filled cell: level 1 where a group starts, else
    # the level 2 or the level 3 label.
    assert [i.where for i in last.indicators][:4] == ["表11!B13", "表11!B14", "表11!C15", "表11!D16"]


def test_a_rounded_number_names_its_field(tmp_path: Path) -> None:
    """What the parse stage gets to flag: the field a doubted cell's value went to."""
    import openpyxl

    from goalforms.pipeline.parse import parse_grid

    book = openpyxl.load_workbook(SAMPLES / "xlsx" / f"{SAMPLE_002}.xlsx")
    book["表1"]["E8"] = 1094910000.0001  # 其中：当年财政拨款, format #,##0.00
    book["表11"]["E21"] = 0.904  # a target formatted 0%: prints 90%
    grid = read(save_plain(book, tmp_path / "rounded.xlsx"))
    parsed = parse_grid(grid)
    first, last = parsed.forms[0], parsed.forms[-1]
    assert first.budget["fiscal_appropriation"] == "1094910000"  # as printed …
    found = [(i.code, i.where, i.field) for i in first.issues if i.code == "rounded_number"]
    assert found == [("rounded_number", "表1!B8", "budget.fiscal_appropriation")]  # … and flagged
    assert first.origins["budget.fiscal_appropriation"].cell_ref == "E8"  # the doubted cell itself
    index = next(i for i, ind in enumerate(last.indicators) if ind.where == "表11!D21")
    assert last.indicators[index].raw == "90%"
    found = [(i.code, i.where, i.field) for i in last.issues if i.code == "rounded_number"]
    assert found == [("rounded_number", "表11!D21", f"indicators[{index}].raw")]
    assert {str(n.where) for n in grid.notes if n.code == "rounded_number"} == {"表1!E8", "表11!E21"}


def test_merges_past_the_text_are_cut(tmp_path: Path) -> None:
    """A range merged down to the sheet's end costs nothing: it stops at the last text."""
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws["A1"], ws["B1"], ws["B2"] = "绩效指标", "产出指标", "效益指标"
    grid = read(save(book, tmp_path / "big.xlsx", merges=("A1:A1048576", "C1:XFD1")))
    assert [[(c.text, c.row_span, c.col_span) for c in row.cells] for row in grid.rows] == [
        [("绩效指标", 2, 1), ("产出指标", 1, 1)],
        [("", 1, 1), ("效益指标", 1, 1)],
    ]


@pytest.mark.parametrize("suffix", ["xlsx", "xls", "ods"])
def test_hidden_rows_and_columns_are_skipped_and_noted(suffix: str) -> None:
    """A hidden code column between a label and its value would be read as the value: what the
    sheet does not print is not read (the .xls and .ods are LibreOffice's of the .xlsx)."""
    grid = read(DATA / f"hidden_rows_columns.{suffix}")
    assert [[c.text for c in row.cells] for row in grid.rows] == [
        ["财政项目支出绩效目标表"], ["项目名称：", "社保档案资料管理费"], ["项目类别：", "特定目标类"]]
    assert [(n.code, str(n.where)) for n in grid.notes] == [("hidden_cells", "表1!B2")]
    assert "B2, B3, A4, C4" in grid.notes[0].message
