"""Generate the Word, PDF and layout-text samples from the hand-checked text samples.

For every ``samples/text/NNN_*.expected.json`` (the truth about the forms of one seed) this
writes a clean, undamaged rendering of the same forms, in the same order, as the real forms are
laid out:

- ``samples/docx/NNN_*.docx``   python-docx, ruled tables with merged cells ("Table Grid");
- ``samples/pdf/NNN_*.pdf``     the .docx converted by LibreOffice (headless);
- ``samples/layout/NNN_*.txt``  ``pdftotext -layout`` of the PDF (space-aligned columns);
- ``samples/pdf-centred/NNN_*.pdf``, ``samples/layout-centred/NNN_*.txt``  the same forms with
  every table cell vertically centred, as the real 申报表 print them: in a layout dump a merged
  label and a short value then stand on a middle line of their row, between the wrapped lines of
  the other cells (the .docx of this rendering is only an intermediate);

and beside each file its expected parse (``NAME.expected.json``): the text sample's expected
forms without location keys (``where`` differs by format) and with only the issues that are
facts of the form (``missing_target``), not damage of the text dump.

Header texts that the contract does not cover (项目概况, 立项依据 … / 项目总目标) come from the
current parse of the text sample (``Form.extra``).

Needs LibreOffice, CJK fonts and poppler (installed on the project's machines)::

    apt-get install -y --no-install-recommends libreoffice-writer-nogui fonts-noto-cjk \\
        fonts-wqy-zenhei poppler-utils

The generated files are committed, so the tests never need LibreOffice. Regenerate with::

    .venv/bin/python samples/make_samples.py

The .docx files are byte-for-byte reproducible; the PDFs are made reproducible by fixing the
dates and document ID LibreOffice writes (same-length patches), and every expected file's
sha256 is recomputed from the file just written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pdfplumber
from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.table import Table, _Cell

from goalforms.pipeline.parse import parse_file

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "samples"
TEXT_DIR = SAMPLES / "text"
DOCX_DIR = SAMPLES / "docx"
PDF_DIR = SAMPLES / "pdf"
LAYOUT_DIR = SAMPLES / "layout"
PDF_CENTRED_DIR = SAMPLES / "pdf-centred"
LAYOUT_CENTRED_DIR = SAMPLES / "layout-centred"
LAYOUT_DIRS = {"layout", "layout-centred"}  # dumps whose expected parse follows the dump's losses

# Noto first: it covers ≥ ≤ “ ” and full-width punctuation; WenQuanYi is the fallback.
CJK_FONT = "Noto Sans CJK SC"
FIXED_TIME = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
ZIP_TIME = (2026, 1, 1, 0, 0, 0)
LO_PROFILE = "file:///tmp/lo-goalforms"
LO_PROFILE_CENTRED = "file:///tmp/lo-goalforms-centred"

BODY_PT = 10.5
TABLE_PT = 9
# A4 portrait with 2 cm margins leaves 17 cm for the tables.
WIDTHS_2020_HEADER = (4.4, 4.1, 4.4, 4.1)
WIDTHS_2020_TABLE = (2.6, 2.6, 6.8, 5.0)
# 2024: side label | 一级 | 二级 | 三级 | target (spans the last two columns)
WIDTHS_2024 = (2.4, 2.5, 2.8, 4.3, 2.5, 2.5)

TITLES = {"2020": "财政项目支出绩效目标表", "2024": "财政项目支出绩效目标申报表"}
# Only issues that are facts of the form survive the move from the damaged dump to a clean file.
# 003's forms 2 and 3 are rendered with their header texts as cut in the dump (nobody knows the
# rest), so the clean files still show texts that stop mid-sentence: truncated_text stays.
FORM_ISSUES = {"missing_target", "truncated_text"}
# 2020 header texts spanning the three right columns: (label, where the text comes from).
TEXT_ROWS_2020 = (
    ("项目概况：", "extra", "overview"),
    ("立项依据：", "extra", "basis"),
    ("项目设立的必要性：", "extra", "necessity"),
    ("保证项目实施的制度、措施：", "extra", "measures"),
    ("项目实施计划：", "extra", "implementation_plan"),
    ("总目标及阶段性目标：", "header", "goal"),
)


# ---------------------------------------------------------------- values as printed on the form


def money_2020(value: str | None) -> str:
    """2020 forms print whole yuan without decimals (10,153,278), cents when there are some."""
    if value is None:
        return ""
    amount = Decimal(value)
    if amount == amount.to_integral_value():
        return f"{int(amount):,}"
    return f"{amount:,.2f}"


def money_2024(value: str | None) -> str:
    """申报表 print every amount with two decimals (1,094,910,000.00, 0.00)."""
    return "" if value is None else f"{Decimal(value):,.2f}"


def yes_no(value: bool | None) -> str:
    return "" if value is None else ("是" if value else "否")


def text(value: str | None) -> str:
    return value or ""


# ---------------------------------------------------------------- python-docx helpers


def set_east_asian_font(rpr: Any, font: str) -> None:
    """python-docx's font.name sets only the Latin slots; CJK text needs w:eastAsia too."""
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        rpr.insert(0, rfonts)
    for slot in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        rfonts.set(qn(slot), font)
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:eastAsia"), "zh-CN")


def new_document() -> DocxDocument:
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(2.0))
    normal = doc.styles["Normal"]
    normal.font.name = CJK_FONT
    normal.font.size = Pt(BODY_PT)
    set_east_asian_font(normal.element.get_or_add_rPr(), CJK_FONT)
    normal.paragraph_format.space_before = Pt(0)
    normal.paragraph_format.space_after = Pt(0)
    no_latin_cjk_autospace(normal)  # a style has a pPr like a paragraph
    normal.paragraph_format.line_spacing = 1.0
    # Fixed metadata: the same forms must give the same bytes on every run.
    core = doc.core_properties
    core.author = core.last_modified_by = "goalforms samples"
    core.title = core.subject = core.keywords = core.comments = ""
    core.created = core.modified = core.last_printed = FIXED_TIME
    core.revision = 1
    return doc


def paragraph(doc: DocxDocument, content: str, *, size: float = BODY_PT, bold: bool = False,
              center: bool = False, page_break: bool = False, space_after: float = 0) -> None:
    p = doc.add_paragraph()
    run = p.add_run(content)
    run.bold = bold
    run.font.size = Pt(size)
    fmt = p.paragraph_format
    fmt.page_break_before = page_break
    fmt.space_after = Pt(space_after)
    if center:
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER


def new_table(doc: DocxDocument, rows: int, widths_cm: Sequence[float]) -> Table:
    table = doc.add_table(rows=rows, cols=len(widths_cm))
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    # Widths on the grid (LibreOffice) and on every cell (Word); merges add the widths up.
    for column, width in zip(table.columns, widths_cm, strict=True):
        column.width = Cm(width)
    for row in table.rows:
        for cell, width in zip(row.cells, widths_cm, strict=True):
            cell.width = Cm(width)
    return table


def no_latin_cjk_autospace(p: Any) -> None:
    """Turn off the automatic gap between Chinese and Latin/digits: in a layout-text dump that
    gap prints as a space nobody typed (``=2500 本``), indistinguishable from a real one."""
    ppr = p._p.get_or_add_pPr() if hasattr(p, "_p") else p.element.get_or_add_pPr()
    # In schema order, or LibreOffice ignores them.
    later = ("w:bidi", "w:adjustRightInd", "w:snapToGrid", "w:spacing", "w:ind", "w:contextualSpacing",
             "w:mirrorIndents", "w:suppressOverlap", "w:jc", "w:textDirection", "w:textAlignment",
             "w:textboxTightWrap", "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange")
    for tag in ("w:autoSpaceDE", "w:autoSpaceDN"):
        element = OxmlElement(tag)
        element.set(qn("w:val"), "0")
        ppr.insert_element_before(element, *later)


def write(cell: _Cell, content: str, *, bold: bool = False, center: bool = False) -> None:
    """Write text into an (empty) cell; each line of ``content`` is a paragraph of its own."""
    lines = content.split("\n")
    for n, line in enumerate(lines):
        p = cell.paragraphs[0] if n == 0 else cell.add_paragraph()
        no_latin_cjk_autospace(p)
        if n < len(lines) - 1:
            p.paragraph_format.space_after = Pt(3)  # paragraphs in a cell are spaced, as Word users do
        if center:
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        if line:
            run = p.add_run(line)
            run.bold = bold
            run.font.size = Pt(TABLE_PT)
    # Top, as Word does by default: text dumps then print a merged label on its group's first line.
    cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.TOP


def fill_row(table: Table, row: int, cells: Sequence[tuple[int, int, str, bool]]) -> None:
    """Fill one row: (first column, last column, text, is a label); spans merge horizontally."""
    for first, last, content, label in cells:
        cell = table.cell(row, first)
        if last > first:
            cell = cell.merge(table.cell(row, last))
        write(cell, content, bold=label, center=label)


def merge_down(table: Table, column: int, first_row: int, last_row: int, content: str, *,
               bold: bool = False) -> None:
    """A vertically merged cell (w:vMerge restart/continue), as the real forms' level labels."""
    cell = table.cell(first_row, column)
    if last_row > first_row:
        cell = cell.merge(table.cell(last_row, column))
    write(cell, content, bold=bold, center=True)


def runs(keys: Sequence[Any]) -> Iterator[tuple[int, int, Any]]:
    """Consecutive equal keys as (first index, last index, key)."""
    start = 0
    for n in range(1, len(keys) + 1):
        if n == len(keys) or keys[n] != keys[start]:
            yield start, n - 1, keys[start]
            start = n


def merge_levels(table: Table, first_row: int, indicators: Sequence[dict[str, Any]],
                 col1: int, col2: int) -> None:
    """Level 1 and level 2 labels merged down over their groups of consecutive rows."""
    level1 = [text(i["level1"]) for i in indicators]
    level2 = [(text(i["level1"]), text(i["level2"])) for i in indicators]
    for start, end, name in runs(level1):
        merge_down(table, col1, first_row + start, first_row + end, name)
    for start, end, (_, name) in runs(level2):
        merge_down(table, col2, first_row + start, first_row + end, name)


# ---------------------------------------------------------------- the two layouts


def render_2020(doc: DocxDocument, form: dict[str, Any], extra: dict[str, str | None], first: bool) -> None:
    header, budget, year = form["header"], form["budget"], form["year"]
    paragraph(doc, TITLES["2020"], size=16, bold=True, center=True, page_break=not first, space_after=4)
    paragraph(doc, f"({year}年度)", size=12, center=True, space_after=6)
    paragraph(doc, f"申报单位名称：{text(header['unit'])}", space_after=3)

    table = new_table(doc, 3 + len(TEXT_ROWS_2020), WIDTHS_2020_HEADER)
    pairs = (
        ("项目名称：", text(header["project_name"]), "项目类别：", text(header["project_category"])),
        ("计划开始日期：", text(header["plan_start"]), "计划完成日期：", text(header["plan_end"])),
        ("是否含有政府购买服务：", yes_no(header["gov_procurement"]), "绩效类型：",
         text(header["performance_type"])),
    )
    for row, (label1, value1, label2, value2) in enumerate(pairs):
        fill_row(table, row, [(0, 0, label1, True), (1, 1, value1, False),
                              (2, 2, label2, True), (3, 3, value2, False)])
    for row, (label, origin, key) in enumerate(TEXT_ROWS_2020, start=len(pairs)):
        content = text(header[key] if origin == "header" else extra.get(key))
        fill_row(table, row, [(0, 0, label, True), (1, 3, content, False)])

    paragraph(doc, "本项目上年度市级财政资金使用情况", bold=True, space_after=3)
    table = new_table(doc, 2, WIDTHS_2020_HEADER)
    fill_row(table, 0, [(0, 0, "项目总预算(元)：", True), (1, 1, money_2020(budget["total"]), False),
                        (2, 2, "项目当年预算(元)：", True), (3, 3, money_2020(budget["current_year"]), False)])
    fill_row(table, 1, [(0, 0, "同名项目上年预算额(元)：", True),
                        (1, 1, money_2020(budget["prior_year_budget"]), False),
                        (2, 2, "同名项目上年预算执行数(元)：", True),
                        (3, 3, money_2020(budget["prior_year_spent"]), False)])

    paragraph(doc, f"{year}年绩效目标", bold=True, space_after=3)
    indicators = form["indicators"]
    table = new_table(doc, 1 + len(indicators), WIDTHS_2020_TABLE)
    fill_row(table, 0, [(n, n, label, True) for n, label in enumerate(("一级目标", "二级目标", "三级目标", "指标目标值"))])
    for row, indicator in enumerate(indicators, start=1):
        fill_row(table, row, [(2, 2, indicator["level3"], False), (3, 3, indicator["raw"], False)])
    merge_levels(table, 1, indicators, 0, 1)


def render_2024(doc: DocxDocument, form: dict[str, Any], extra: dict[str, str | None], first: bool) -> None:
    header, budget, year = form["header"], form["budget"], form["year"]
    paragraph(doc, TITLES["2024"], size=16, bold=True, center=True, page_break=not first, space_after=4)
    paragraph(doc, f"({year}年度)", size=12, center=True, space_after=6)

    indicators = form["indicators"]
    grid_rows = 3 + 4 + 2 + 1 + len(indicators)
    table = new_table(doc, grid_rows, WIDTHS_2024)
    fill_row(table, 0, [(0, 0, "项目名称", True), (1, 1, text(header["project_name"]), False),
                        (2, 2, "项目性质", True), (3, 3, text(header["project_nature"]), False),
                        (4, 4, "项目类别", True), (5, 5, text(header["project_category"]), False)])
    fill_row(table, 1, [(0, 0, "主管部门", True), (1, 2, text(header["department"]), False),
                        (3, 3, "实施单位", True), (4, 5, text(header["unit"]), False)])
    fill_row(table, 2, [(0, 0, "计划开始日期", True), (1, 2, text(header["plan_start"]), False),
                        (3, 3, "计划完成日期", True), (4, 5, text(header["plan_end"]), False)])

    # 项目资金: the left pair is the project's whole budget, the right pair this year's request.
    # The real forms leave 其中：财政资金 and the left 其他资金 blank; the contract has no key for them.
    money_rows = (
        ("项目资金总额", money_2024(budget["total"]), "年度资金申请总额", money_2024(budget["current_year"])),
        ("其中：财政资金", "", "其中：当年财政拨款", money_2024(budget["fiscal_appropriation"])),
        ("", "", "上年结转资金", money_2024(budget["carryover"])),
        ("其他资金", "", "其他资金", money_2024(budget["other_funds"])),
    )
    for row, (label1, value1, label2, value2) in enumerate(money_rows, start=3):
        fill_row(table, row, [(1, 1, label1, True), (2, 2, value1, False),
                              (3, 3, label2, True), (4, 5, value2, False)])
    merge_down(table, 0, 3, 6, "项目资金(元)", bold=True)

    fill_row(table, 7, [(1, 2, "项目总目标", True), (3, 5, "年度总体目标", True)])
    fill_row(table, 8, [(1, 2, text(extra.get("project_goal")), False), (3, 5, text(header["goal"]), False)])
    merge_down(table, 0, 7, 8, "项目绩效目标", bold=True)

    fill_row(table, 9, [(1, 1, "一级指标", True), (2, 2, "二级指标", True), (3, 3, "三级指标", True),
                        (4, 5, "年度(/项目)指标值", True)])
    first_row = 10
    for row, indicator in enumerate(indicators, start=first_row):
        fill_row(table, row, [(3, 3, indicator["level3"], False), (4, 5, indicator["raw"], False)])
    merge_levels(table, first_row, indicators, 1, 2)
    merge_down(table, 0, first_row, first_row + len(indicators) - 1, "绩效指标", bold=True)


RENDERERS: dict[str, Callable[[DocxDocument, dict[str, Any], dict[str, str | None], bool], None]] = {
    "2020": render_2020,
    "2024": render_2024,
}


def centre_cells(doc: DocxDocument) -> None:
    """Every table cell vertically centred (w:vAlign center), as the real 申报表 and many 2020
    forms print them; merged cells are centred over their whole height."""
    for table in doc.tables:
        for tc in table._tbl.iter(qn("w:tc")):
            _Cell(tc, table).vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER


def build_docx(expected: dict[str, Any], extras: Sequence[dict[str, str | None]], *, centred: bool = False) -> bytes:
    doc = new_document()
    if expected["collection_title"]:
        paragraph(doc, expected["collection_title"], size=14, bold=True, center=True, space_after=10)
    for n, (form, extra) in enumerate(zip(expected["forms"], extras, strict=True)):
        RENDERERS[form["layout"]](doc, form, extra, n == 0)
    if centred:
        centre_cells(doc)
    # Word documents always end with a paragraph; one that ends on a table loses that table
    # when LibreOffice saves it as .doc.
    paragraph(doc, "")
    buffer = io.BytesIO()
    doc.save(buffer)
    return reproducible_zip(buffer.getvalue())


def reproducible_zip(data: bytes) -> bytes:
    """Re-pack the .docx with fixed member times: ZipFile.writestr stamps the current time."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            member = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = 0o644 << 16
            dst.writestr(member, src.read(info.filename))
    return out.getvalue()


# ---------------------------------------------------------------- PDF and layout text


def convert_to_pdf(docx_files: Sequence[Path], outdir: Path = PDF_DIR, profile: str = LO_PROFILE) -> None:
    """One soffice call for all files (start-up dominates), with a profile of our own."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        sys.exit("make_samples: LibreOffice (soffice) not found; see the module docstring")
    outdir.mkdir(parents=True, exist_ok=True)
    command = [soffice, f"-env:UserInstallation={profile}", "--headless", "--norestore",
               "--convert-to", "pdf", "--outdir", str(outdir), *map(str, docx_files)]
    subprocess.run(command, check=True, capture_output=True, timeout=600)
    missing = [p.name for p in docx_files if not (outdir / f"{p.stem}.pdf").exists()]
    if missing:
        sys.exit(f"make_samples: LibreOffice wrote no PDF for {', '.join(missing)}")


# What LibreOffice writes differently on every run: the creation date, the document ID and
# a checksum over them. Everything else in its PDF is the same for the same .docx.
PDF_DATE = re.compile(rb"\(D:(\d{14})")
PDF_ID = re.compile(rb"/ID\s*\[\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*\]")
PDF_CHECKSUM = re.compile(rb"/DocChecksum\s*/([0-9A-Fa-f]+)")


def pin_pdf(path: Path, seed: bytes) -> None:
    """Replace the run-dependent values by ones derived from ``seed`` (the .docx bytes).

    Every replacement keeps its byte length, so the cross-reference offsets stay valid.
    """
    digest = hashlib.sha256(seed).hexdigest().upper().encode()

    def fixed(match: re.Match[bytes]) -> bytes:
        whole, start = match.group(0), match.start(0)
        for group in range(1, (match.lastindex or 0) + 1):
            old = match.group(group)
            new = b"20260101000000" if whole.startswith(b"(D:") else digest
            new = (new + b"0" * len(old))[: len(old)]
            offset = match.start(group) - start
            whole = whole[:offset] + new + whole[offset + len(old):]
        return whole

    data = path.read_bytes()
    for pattern in (PDF_DATE, PDF_ID, PDF_CHECKSUM):
        data = pattern.sub(fixed, data)
    path.write_bytes(data)


def squash(value: str) -> str:
    return re.sub(r"\s+", "", value)


def check_pdf(path: Path, expected: dict[str, Any]) -> int:
    """The PDF must read back as the forms' Chinese text: garbage means a missing CJK font.

    Names are looked up in the table cells (a wrapped cell comes back with "\n" in it), titles
    in the page text.
    """
    with pdfplumber.open(path) as pdf:
        pages = len(pdf.pages)
        content = squash("".join(page.extract_text() or "" for page in pdf.pages))
        cells = {squash(cell) for page in pdf.pages for table in page.extract_tables()
                 for row in table for cell in row if cell}
    forms = expected["forms"]
    for layout in {form["layout"] for form in forms}:
        want = sum(form["layout"] == layout for form in forms)
        if content.count(TITLES[layout]) != want:
            sys.exit(f"make_samples: {path.name}: {content.count(TITLES[layout])} titles "
                     f"{TITLES[layout]!r} in the PDF text, want {want} (is a CJK font installed?)")
    for form in forms:
        name = squash(form["header"]["project_name"])
        if name not in cells:
            sys.exit(f"make_samples: {path.name}: no table cell reads {name!r}")
    return pages


def layout_text(pdf: Path, target: Path) -> None:
    if shutil.which("pdftotext") is None:
        sys.exit("make_samples: pdftotext (poppler-utils) not found; see the module docstring")
    target.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["pdftotext", "-layout", "-enc", "UTF-8", str(pdf), str(target)], check=True, timeout=120)


# ---------------------------------------------------------------- expected parses


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def as_printed_in_layout(raw: str, layout: str) -> str:
    """A target as the layout dump prints it. pdftotext turns the gap a word processor leaves
    between digits and Chinese (``=2500本``) into a space (``=2500 本``); the dump holds nothing
    else, so that is what a parse of the dump can say."""
    if not raw:
        return raw
    parts = []
    for a, b in zip(raw, raw[1:] + " ", strict=True):
        parts.append(re.escape(a))
        if (a.isascii() and a.isalnum() and "\u4e00" <= b <= "\u9fff") or ("\u4e00" <= a <= "\u9fff" and b.isascii() and b.isalnum()):
            parts.append(" ?")
    found = re.search("".join(parts), layout)
    return found.group() if found else raw


# Header fields every form of a layout fills, in the order the plausibility stage checks them.
REQUIRED_FIELDS = {
    "2020": ("project_name", "unit", "project_category", "plan_start", "plan_end"),
    "2024": ("project_name", "unit", "department", "project_category", "project_nature", "plan_start", "plan_end"),
}


def lost_fields(form: dict[str, Any]) -> list[dict[str, Any]]:
    """A required header value the form leaves blank is a fact of the form in every rendering
    (seed 003's third form prints no 计划完成日期): ``missing_field`` on it. The text dump's own
    issue on such a field (a cut value) is damage of the dump and is not carried over."""
    return [{"code": "missing_field", "severity": "error", "field": f"header.{name}"}
            for name in REQUIRED_FIELDS.get(form["layout"], ()) if form["header"].get(name) is None]


def derive_expected(expected: dict[str, Any], path: Path, fmt: str) -> dict[str, Any]:
    """The text sample's truth for another rendering: no locations, only the form's own issues.

    A layout-text dump loses two things no reader can restore, so its expected parse says what
    the dump says: paragraph breaks inside a cell (the goal's lines are simply joined), and the
    digit/Chinese gap printed as a space in a target's raw text (kind, op, value and unit are
    unchanged).
    """
    layout = path.read_text(encoding="utf-8") if path.parent.name in LAYOUT_DIRS else None
    forms = []
    for form in expected["forms"]:
        header = dict(form["header"])
        indicators = [{k: v for k, v in i.items() if k != "where"} for i in form["indicators"]]
        if layout is not None:
            if header.get("goal"):
                header["goal"] = header["goal"].replace("\n", "")
            for indicator in indicators:
                indicator["raw"] = as_printed_in_layout(indicator["raw"], layout)
        forms.append({
            "layout": form["layout"],
            "year": form["year"],
            "header": header,
            "budget": form["budget"],
            "indicators": indicators,
            "issues": [{"code": i["code"], "severity": i["severity"], "field": i.get("field")}
                       for i in form["issues"] if i["code"] in FORM_ISSUES] + lost_fields(form),
        })
    return {"source": {"sha256": sha256(path), "format": fmt},
            "collection_title": expected["collection_title"], "forms": forms}


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def header_extras(sample: Path, expected: dict[str, Any]) -> list[dict[str, str | None]]:
    """The header texts beyond the contract, from the current parse of the text sample."""
    parsed = parse_file(sample)
    if len(parsed.forms) != len(expected["forms"]):
        sys.exit(f"make_samples: {sample.name}: parser gives {len(parsed.forms)} forms, "
                 f"expected {len(expected['forms'])}")
    for got, want in zip(parsed.forms, expected["forms"], strict=True):
        if got.header.get("project_name") != want["header"]["project_name"]:
            sys.exit(f"make_samples: {sample.name}: parsed form {got.header.get('project_name')!r} "
                     f"does not line up with expected {want['header']['project_name']!r}")
    return [dict(form.extra) for form in parsed.forms]


def clean_outputs() -> None:
    """These folders hold only generated files: start from empty so no stale sample survives."""
    for folder in (DOCX_DIR, PDF_DIR, LAYOUT_DIR, PDF_CENTRED_DIR, LAYOUT_CENTRED_DIR):
        folder.mkdir(parents=True, exist_ok=True)
        for path in folder.iterdir():
            if path.is_file() and path.suffix in {".docx", ".pdf", ".txt", ".json"}:
                path.unlink()


def main() -> None:
    sources = sorted(TEXT_DIR.glob("*.expected.json"))
    if not sources:
        sys.exit(f"make_samples: no expected files in {TEXT_DIR}")
    truths: dict[str, dict[str, Any]] = {}
    extras: dict[str, list[dict[str, str | None]]] = {}
    for source in sources:
        stem = source.name.removesuffix(".expected.json")
        truths[stem] = json.loads(source.read_text(encoding="utf-8"))
        extras[stem] = header_extras(TEXT_DIR / f"{stem}.txt", truths[stem])

    clean_outputs()
    docx_files = []
    for stem, truth in truths.items():
        path = DOCX_DIR / f"{stem}.docx"
        path.write_bytes(build_docx(truth, extras[stem]))
        docx_files.append(path)

    convert_to_pdf(docx_files)

    for stem, truth in truths.items():
        docx_path, pdf_path, txt_path = DOCX_DIR / f"{stem}.docx", PDF_DIR / f"{stem}.pdf", LAYOUT_DIR / f"{stem}.txt"
        pin_pdf(pdf_path, docx_path.read_bytes())
        pages = check_pdf(pdf_path, truth)
        layout_text(pdf_path, txt_path)
        for path, fmt in ((docx_path, "docx"), (pdf_path, "pdf"), (txt_path, "txt")):
            write_json(path.with_name(f"{stem}.expected.json"), derive_expected(truth, path, fmt))
        print(f"{stem}: {len(truth['forms'])} forms, {pages} pages")

    make_centred(truths, extras)


def make_centred(truths: dict[str, dict[str, Any]], extras: dict[str, list[dict[str, str | None]]]) -> None:
    """The vertically centred rendering: PDFs and their layout dumps (the .docx stays in a
    scratch folder: it differs from samples/docx only by w:vAlign)."""
    with tempfile.TemporaryDirectory(prefix="goalforms-centred-") as scratch:
        docx_files = []
        for stem, truth in truths.items():
            path = Path(scratch) / f"{stem}.docx"
            path.write_bytes(build_docx(truth, extras[stem], centred=True))
            docx_files.append(path)
        convert_to_pdf(docx_files, PDF_CENTRED_DIR, LO_PROFILE_CENTRED)
        for stem, truth in truths.items():
            pdf_path, txt_path = PDF_CENTRED_DIR / f"{stem}.pdf", LAYOUT_CENTRED_DIR / f"{stem}.txt"
            pin_pdf(pdf_path, (Path(scratch) / f"{stem}.docx").read_bytes())
            pages = check_pdf(pdf_path, truth)
            layout_text(pdf_path, txt_path)
            for path, fmt in ((pdf_path, "pdf"), (txt_path, "txt")):
                write_json(path.with_name(f"{stem}.expected.json"), derive_expected(truth, path, fmt))
            print(f"{stem} (centred): {len(truth['forms'])} forms, {pages} pages")


if __name__ == "__main__":
    main()
