"""Generate the spreadsheet samples (.xlsx, .xls, .ods, WPS .et) from the hand-checked text samples.

For every ``samples/text/NNN_*.expected.json`` this writes the same forms as a budget system's
spreadsheet export lays them out, and beside each file its expected parse (``derive_expected``
of ``make_samples.py``: the text sample's truth without locations, only the form's own issues):

- ``samples/xlsx/NNN_*.xlsx``  openpyxl: merged label cells (titles across the form, level 1 and
  level 2 labels down their groups), money as numbers with number formats (``#,##0.00``; whole
  yuan ``#,##0`` on the 2020 forms), 申报表 percentages without operator as numbers formatted
  ``0%``, thin borders on the table cells;
- ``samples/xls/NNN_*.xls`` and ``samples/ods/NNN_*.ods``  the .xlsx converted by LibreOffice Calc;
- ``samples/et/004_*.et``  WPS 电子表格 (.et) is an OLE2 compound file holding a BIFF8 workbook,
  the same container as .xls (WPS adds its own records, which readers skip): the sample is the
  LibreOffice .xls under the .et name — no WPS was available to write a real one.

The four workbooks differ on purpose, as real exports do:

==== ================================= ============== =====================================
file forms                              dates          extras
==== ================================= ============== =====================================
000  five 2020 forms stacked, one sheet real dates     —
002  eleven 2024 forms, one per sheet   text (年月日)  a hidden lookup sheet; a money float
                                                       with a binary artefact; 0% targets
003  three 2020 forms, one per sheet    text           —
004  nine 2024 forms stacked, one sheet real dates     年度资金申请总额 as =SUM() formulas
==== ================================= ============== =====================================

Reproducible: fixed workbook timestamps and zip member times; the formulas' cached values are
written into the .xlsx (openpyxl writes none; Excel, WPS and LibreOffice always do). The LibreOffice
outputs are pinned the same way (ODS: zip times and meta.xml dates; BIFF: the summary streams'
times are zeroed by LibreOffice already). Needs LibreOffice Calc::

    apt-get install -y --no-install-recommends libreoffice-calc-nogui

The generated files are committed; the tests never need LibreOffice.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.worksheet.worksheet import Worksheet

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_samples import (  # noqa: E402  (a script beside this one, not a package)
    TEXT_DIR,
    TEXT_ROWS_2020,
    TITLES,
    ZIP_TIME,
    derive_expected,
    header_extras,
    runs,
    text,
    write_json,
    yes_no,
)

SAMPLES = Path(__file__).resolve().parent
XLSX_DIR, XLS_DIR, ODS_DIR, ET_DIR = (SAMPLES / name for name in ("xlsx", "xls", "ods", "et"))
FIXED_TIME = dt.datetime(2026, 1, 1)
FIXED_ISO = "2026-01-01T00:00:00Z"

# How each workbook is laid out (see the module docstring).
PLAN = {
    "000": {"stacked": True, "real_dates": True},
    "002": {"stacked": False, "real_dates": False, "hidden_sheet": True, "artefact": True, "percent": True},
    "003": {"stacked": False, "real_dates": False},
    "004": {"stacked": True, "real_dates": True, "formulas": True},
}
ET_SAMPLE = "004"

THIN = Side(style="thin")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
LABEL_FONT = Font(name="宋体", size=10, bold=True)
BODY_FONT = Font(name="宋体", size=10)
TITLE_FONT = Font(name="宋体", size=16, bold=True)
WIDTHS = {"2020": (22, 20, 30, 26), "2024": (12, 14, 16, 26, 14, 14)}
MONEY_2020_WHOLE, MONEY_CENTS = "#,##0", "#,##0.00"
DATE_FORMAT = 'yyyy"年"m"月"d"日"'


class Sheet:
    """A worksheet written row by row from a cursor, the way an export template fills it."""

    def __init__(self, ws: Worksheet, width: int, options: dict[str, Any]) -> None:
        self.ws, self.width, self.options = ws, width, options
        self.row = 1

    def put(self, row: int, col: int, value: Any, *, label: bool = False, fmt: str | None = None,
            last_row: int | None = None, last_col: int | None = None, boxed: bool = True) -> None:
        """One cell (1-based column), merged to (last_row, last_col) when given."""
        cell = self.ws.cell(row=row, column=col, value=value if value != "" else None)
        if isinstance(value, str) and value.startswith("=") and not value.startswith("=SUM("):
            cell.data_type = "s"  # a target such as =100(%) is text, not a formula
            cell.quotePrefix = True  # ... as Excel marks text typed with a leading '
        cell.font = LABEL_FONT if label else BODY_FONT
        cell.alignment = Alignment(horizontal="center" if label else "left", vertical="center", wrap_text=True)
        if fmt:
            cell.number_format = fmt
        last_row, last_col = last_row or row, last_col or col
        if (last_row, last_col) != (row, col):
            self.ws.merge_cells(start_row=row, start_column=col, end_row=last_row, end_column=last_col)
        if boxed:
            for r in range(row, last_row + 1):
                for c in range(col, last_col + 1):
                    self.ws.cell(row=r, column=c).border = BOX

    def line(self, content: str, *, size_font: Font = BODY_FONT, center: bool = False) -> None:
        """A line across the form (title, year, unit, section caption): merged, no border."""
        cell = self.ws.cell(row=self.row, column=1, value=content)
        cell.font = size_font
        cell.alignment = Alignment(horizontal="center" if center else "left", vertical="center")
        self.ws.merge_cells(start_row=self.row, start_column=1, end_row=self.row, end_column=self.width)
        self.row += 1

    def date(self, value: str | None) -> Any:
        if not value:
            return ""
        day = dt.date.fromisoformat(value)
        if self.options.get("real_dates"):
            return dt.datetime(day.year, day.month, day.day)
        return f"{day.year}年{day.month}月{day.day}日"


def money(value: str | None) -> float | None:
    """An amount as the float a spreadsheet stores (every sample amount is exact in binary64
    to the cent: the reader's job is to print it back without artefacts)."""
    return None if value is None else float(Decimal(value))


def merge_levels(sheet: Sheet, first_row: int, indicators: Sequence[dict[str, Any]], col1: int, col2: int) -> None:
    level1 = [text(i["level1"]) for i in indicators]
    level2 = [(text(i["level1"]), text(i["level2"])) for i in indicators]
    for start, end, name in runs(level1):
        sheet.put(first_row + start, col1, name, label=True, last_row=first_row + end)
    for start, end, (_, name) in runs(level2):
        sheet.put(first_row + start, col2, name, label=True, last_row=first_row + end)


def render_2020(sheet: Sheet, form: dict[str, Any], extra: dict[str, str | None]) -> None:
    header, budget, year = form["header"], form["budget"], form["year"]
    sheet.line(TITLES["2020"], size_font=TITLE_FONT, center=True)
    sheet.line(f"({year}年度)", center=True)
    sheet.line(f"申报单位名称：{text(header['unit'])}")
    pairs = (
        ("项目名称：", text(header["project_name"]), "项目类别：", text(header["project_category"])),
        ("计划开始日期：", sheet.date(header["plan_start"]), "计划完成日期：", sheet.date(header["plan_end"])),
        ("是否含有政府购买服务：", yes_no(header["gov_procurement"]), "绩效类型：", text(header["performance_type"])),
    )
    for label1, value1, label2, value2 in pairs:
        date_fmt = DATE_FORMAT if isinstance(value1, dt.datetime) or isinstance(value2, dt.datetime) else None
        sheet.put(sheet.row, 1, label1, label=True)
        sheet.put(sheet.row, 2, value1, fmt=date_fmt)
        sheet.put(sheet.row, 3, label2, label=True)
        sheet.put(sheet.row, 4, value2, fmt=date_fmt)
        sheet.row += 1
    for label, origin, key in TEXT_ROWS_2020:
        content = text(header[key] if origin == "header" else extra.get(key))
        sheet.put(sheet.row, 1, label, label=True)
        sheet.put(sheet.row, 2, content, last_col=4)
        sheet.row += 1
    sheet.line("本项目上年度市级财政资金使用情况")
    for (label1, key1), (label2, key2) in (
        (("项目总预算(元)：", "total"), ("项目当年预算(元)：", "current_year")),
        (("同名项目上年预算额(元)：", "prior_year_budget"), ("同名项目上年预算执行数(元)：", "prior_year_spent")),
    ):
        for col, label, key in ((1, label1, key1), (3, label2, key2)):
            amount = budget[key]
            whole = amount is None or Decimal(amount) == Decimal(amount).to_integral_value()
            sheet.put(sheet.row, col, label, label=True)
            sheet.put(sheet.row, col + 1, money(amount) if amount is not None else "",
                      fmt=MONEY_2020_WHOLE if whole else MONEY_CENTS)
        sheet.row += 1
    sheet.line(f"{year}年绩效目标")
    for col, label in enumerate(("一级目标", "二级目标", "三级目标", "指标目标值"), start=1):
        sheet.put(sheet.row, col, label, label=True)
    sheet.row += 1
    indicators = form["indicators"]
    first = sheet.row
    for n, indicator in enumerate(indicators):
        sheet.put(first + n, 3, indicator["level3"])
        sheet.put(first + n, 4, indicator["raw"])
    merge_levels(sheet, first, indicators, 1, 2)
    sheet.row = first + len(indicators)


# 申报表 targets that are a bare percentage: budget systems store some of them as numbers.
BARE_PERCENT = re.compile(r"(\d+(?:\.\d+)?)%")


def target_cell(sheet: Sheet, row: int, raw: str) -> None:
    m = BARE_PERCENT.fullmatch(raw)
    if sheet.options.get("percent") and m:
        decimals = len(m.group(1).partition(".")[2])
        sheet.put(row, 5, float(Decimal(m.group(1)) / 100), fmt="0" + ("." + "0" * decimals if decimals else "") + "%",
                  last_col=6)
    else:
        sheet.put(row, 5, raw, last_col=6)


def render_2024(sheet: Sheet, form: dict[str, Any], extra: dict[str, str | None]) -> None:
    header, budget, year = form["header"], form["budget"], form["year"]
    sheet.line(TITLES["2024"], size_font=TITLE_FONT, center=True)
    sheet.line(f"({year}年度)", center=True)
    r = sheet.row
    sheet.put(r, 1, "项目名称", label=True)
    sheet.put(r, 2, text(header["project_name"]))
    sheet.put(r, 3, "项目性质", label=True)
    sheet.put(r, 4, text(header["project_nature"]))
    sheet.put(r, 5, "项目类别", label=True)
    sheet.put(r, 6, text(header["project_category"]))
    for offset, (label1, value1, label2, value2) in enumerate((
        ("主管部门", text(header["department"]), "实施单位", text(header["unit"])),
        ("计划开始日期", sheet.date(header["plan_start"]), "计划完成日期", sheet.date(header["plan_end"])),
    ), start=1):
        fmt = DATE_FORMAT if isinstance(value1, dt.datetime) or isinstance(value2, dt.datetime) else None
        sheet.put(r + offset, 1, label1, label=True)
        sheet.put(r + offset, 2, value1, last_col=3, fmt=fmt)
        sheet.put(r + offset, 4, label2, label=True)
        sheet.put(r + offset, 5, value2, last_col=6, fmt=fmt)
    r += 3
    # 项目资金: the left pair is the project's whole budget, the right pair this year's request.
    fiscal = money(budget["fiscal_appropriation"])
    if sheet.options.get("artefact") and fiscal is not None and fiscal >= 1e9:
        # A total summed in binary floating point by the exporting system: 1094910000.0000002.
        fiscal = math.nextafter(fiscal, math.inf)
    current: Any = money(budget["current_year"])
    if sheet.options.get("formulas") and budget["current_year"] is not None:
        current = f"=SUM(E{r + 1}:E{r + 3})"
    money_rows = (
        ("项目资金总额", money(budget["total"]), "年度资金申请总额", current),
        ("其中：财政资金", None, "其中：当年财政拨款", fiscal),
        ("", None, "上年结转资金", money(budget["carryover"])),
        ("其他资金", None, "其他资金", money(budget["other_funds"])),
    )
    for offset, (label1, value1, label2, value2) in enumerate(money_rows):
        sheet.put(r + offset, 2, label1, label=True)
        sheet.put(r + offset, 3, "" if value1 is None else value1, fmt=MONEY_CENTS)
        sheet.put(r + offset, 4, label2, label=True)
        sheet.put(r + offset, 5, "" if value2 is None else value2, fmt=MONEY_CENTS, last_col=6)
    sheet.put(r, 1, "项目资金(元)", label=True, last_row=r + 3)
    r += 4
    sheet.put(r, 1, "项目绩效目标", label=True, last_row=r + 1)
    sheet.put(r, 2, "项目总目标", label=True, last_col=3)
    sheet.put(r, 4, "年度总体目标", label=True, last_col=6)
    sheet.put(r + 1, 2, text(extra.get("project_goal")), last_col=3)
    sheet.put(r + 1, 4, text(header["goal"]), last_col=6)
    r += 2
    for col, label in ((2, "一级指标"), (3, "二级指标"), (4, "三级指标")):
        sheet.put(r, col, label, label=True)
    sheet.put(r, 5, "年度(/项目)指标值", label=True, last_col=6)
    r += 1
    indicators = form["indicators"]
    for n, indicator in enumerate(indicators):
        sheet.put(r + n, 4, indicator["level3"])
        target_cell(sheet, r + n, indicator["raw"])
    merge_levels(sheet, r, indicators, 2, 3)
    sheet.put(r - 1, 1, "绩效指标", label=True, last_row=r + len(indicators) - 1)
    sheet.row = r + len(indicators)


RENDERERS = {"2020": render_2020, "2024": render_2024}


def hidden_lookup_sheet(book: Workbook, forms: Sequence[dict[str, Any]]) -> None:
    """The data-validation lists an export template keeps on a hidden sheet."""
    ws = book.create_sheet("下拉选项")
    ws.sheet_state = "hidden"
    ws.cell(row=1, column=1, value="项目类别")
    ws.cell(row=1, column=2, value="项目性质")
    categories = sorted({text(f["header"]["project_category"]) for f in forms} - {""})
    natures = sorted({text(f["header"]["project_nature"]) for f in forms} - {""})
    for n, value in enumerate(categories, start=2):
        ws.cell(row=n, column=1, value=value)
    for n, value in enumerate(natures, start=2):
        ws.cell(row=n, column=2, value=value)


def build_workbook(truth: dict[str, Any], extras: Sequence[dict[str, str | None]], options: dict[str, Any]) -> Workbook:
    book = Workbook()
    forms = truth["forms"]
    width = max(len(WIDTHS[f["layout"]]) for f in forms)
    first_ws = book.active
    assert first_ws is not None
    sheet: Sheet | None = None
    for n, (form, extra) in enumerate(zip(forms, extras, strict=True)):
        if sheet is None or not options["stacked"]:
            ws = first_ws if n == 0 else book.create_sheet()
            ws.title = "Sheet1" if options["stacked"] else f"表{n + 1}"
            for col, w in enumerate(WIDTHS[form["layout"]], start=1):
                ws.column_dimensions[ws.cell(row=1, column=col).column_letter].width = w
            sheet = Sheet(ws, width, options)
            if n == 0 and truth["collection_title"]:
                sheet.line(truth["collection_title"], size_font=TITLE_FONT, center=True)
        elif sheet is not None:
            sheet.row += 2  # two blank rows between stacked forms
        RENDERERS[form["layout"]](sheet, form, extra)
    if options.get("hidden_sheet"):
        hidden_lookup_sheet(book, forms)
    props = book.properties
    props.creator = props.lastModifiedBy = "goalforms samples"
    props.created = props.modified = FIXED_TIME
    return book


def cached_formulas(xml: bytes, values: dict[str, str]) -> bytes:
    """Write each formula's cached value (``<v>``), as the application that saved it would."""
    def fill(m: re.Match[bytes]) -> bytes:
        ref = m.group(1).decode()
        return m.group(0).replace(b"<v></v>", b"").replace(b"<v />", b"").replace(
            b"</f>", f"</f><v>{values[ref]}</v>".encode()) if ref in values else m.group(0)
    return re.sub(rb'<c r="([A-Z]+\d+)"[^>]*><f>[^<]*</f>(?:<v\s*/>|<v></v>)?</c>', fill, xml)


def save_xlsx(book: Workbook, path: Path, cached: dict[str, dict[str, str]]) -> None:
    buffer = io.BytesIO()
    book.save(buffer)
    names = {ws.title: n for n, ws in enumerate(book.worksheets, start=1)}
    out = io.BytesIO()
    with zipfile.ZipFile(buffer) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps "modified" with the time of saving
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + FIXED_ISO.encode(), data)
            for title, values in cached.items():
                if info.filename == f"xl/worksheets/sheet{names[title]}.xml":
                    data = cached_formulas(data, values)
            member = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = 0o644 << 16
            dst.writestr(member, data)
    path.write_bytes(out.getvalue())


def formula_values(book: Workbook) -> dict[str, dict[str, str]]:
    """The value each =SUM(...) formula computes, by sheet and cell (the sum of its cells)."""
    out: dict[str, dict[str, str]] = {}
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                m = re.fullmatch(r"=SUM\(([A-Z]+)(\d+):([A-Z]+)(\d+)\)", str(cell.value or ""))
                if m:
                    total = sum(Decimal(repr(ws[f"{m.group(1)}{r}"].value or 0))
                                for r in range(int(m.group(2)), int(m.group(4)) + 1))
                    out.setdefault(ws.title, {})[cell.coordinate] = format(total.normalize(), "f")
    return out


# ---------------------------------------------------------------- LibreOffice conversions


def convert(files: Sequence[Path], target: str, out_dir: Path, profile: str) -> None:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        sys.exit("make_spreadsheets: LibreOffice (soffice) not found; see the module docstring")
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lo-spreadsheets-") as scratch:
        command = [soffice, f"-env:UserInstallation=file://{scratch}/{profile}", "--headless", "--norestore",
                   "--convert-to", target, "--outdir", str(out_dir), *map(str, files)]
        subprocess.run(command, check=True, capture_output=True, timeout=600)
    suffix = "." + target.split(":")[0]
    missing = [p.name for p in files if not (out_dir / f"{p.stem}{suffix}").exists()]
    if missing:
        sys.exit(f"make_spreadsheets: LibreOffice wrote no {suffix} for {', '.join(missing)}")


def _sorted_pages(m: re.Match[bytes]) -> bytes:
    pages = re.findall(rb"<style:master-page .*?</style:master-page>", m.group(2), flags=re.S)
    if b"".join(pages) != m.group(2):
        return m.group(0)  # something else in there: leave it as written
    return m.group(1) + b"".join(sorted(pages)) + m.group(3)


def pin_ods(path: Path) -> None:
    """Fixed zip times and meta.xml dates; ``mimetype`` first and stored, as ODF requires."""
    out = io.BytesIO()
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "styles.xml":  # LibreOffice writes the page styles in hash order
                data = re.sub(rb"(<office:master-styles>)(.*?)(</office:master-styles>)", _sorted_pages, data, flags=re.S)
            if info.filename == "meta.xml":
                data = re.sub(rb"(<(?:dc:date|meta:creation-date|meta:print-date)>)[^<]*", rb"\g<1>2026-01-01T00:00:00", data)
                data = re.sub(rb"<meta:editing-duration>[^<]*", b"<meta:editing-duration>PT0S", data)
                data = re.sub(rb"<meta:generator>[^<]*", b"<meta:generator>LibreOffice", data)
            member = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            member.compress_type = zipfile.ZIP_STORED if info.filename == "mimetype" else zipfile.ZIP_DEFLATED
            member.external_attr = 0o644 << 16
            dst.writestr(member, data)
    path.write_bytes(out.getvalue())


def clean_outputs() -> None:
    for folder in (XLSX_DIR, XLS_DIR, ODS_DIR, ET_DIR):
        folder.mkdir(parents=True, exist_ok=True)
        for path in folder.iterdir():
            if path.is_file() and path.suffix in {".xlsx", ".xls", ".ods", ".et", ".json"}:
                path.unlink()


def main() -> None:
    sources = sorted(TEXT_DIR.glob("*.expected.json"))
    truths = {p.name.removesuffix(".expected.json"): json.loads(p.read_text(encoding="utf-8")) for p in sources}
    clean_outputs()
    xlsx_files = []
    for stem, truth in truths.items():
        options = PLAN[stem.split("_")[0]]
        book = build_workbook(truth, header_extras(TEXT_DIR / f"{stem}.txt", truth), options)
        path = XLSX_DIR / f"{stem}.xlsx"
        save_xlsx(book, path, formula_values(book))
        xlsx_files.append(path)
    convert(xlsx_files, "xls:MS Excel 97", XLS_DIR, "lo-xlsx-1")
    convert(xlsx_files, "ods", ODS_DIR, "lo-xlsx-2")
    for stem, truth in truths.items():
        pin_ods(ODS_DIR / f"{stem}.ods")
        outputs = [(XLSX_DIR / f"{stem}.xlsx", "xlsx"), (XLS_DIR / f"{stem}.xls", "xls"), (ODS_DIR / f"{stem}.ods", "ods")]
        if stem.startswith(ET_SAMPLE):
            et = ET_DIR / f"{stem}.et"
            shutil.copyfile(XLS_DIR / f"{stem}.xls", et)
            outputs.append((et, "xls"))
        for path, fmt in outputs:
            expected = derive_expected(truth, path, fmt)
            if PLAN.get(stem[:3], {}).get("hidden_sheet"):
                # A fact of this file, not of the form: the reader skipped the hidden lookup sheet.
                expected["forms"][0]["issues"].append({"code": "hidden_sheet", "severity": "warning", "field": None})
            write_json(path.with_name(f"{stem}.expected.json"), expected)
        print(f"{stem}: {len(truth['forms'])} forms")


if __name__ == "__main__":
    main()
