"""Typed provenance (issue 14): every value's origin in the JSON, in the store, and on the clerk
page, which outlines flagged cells from the store without reading the file again."""

from __future__ import annotations

import re
import shutil
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from goalforms.errors import UnreadableFile
from goalforms.pipeline import users
from goalforms.pipeline.importer import import_paths
from goalforms.pipeline.parse import parse_file
from goalforms.pipeline.web import create_app
from goalforms.schema import models
from goalforms.schema.db import connect
from tests.conftest import SAMPLES
from tests.test_web import form_page, login

PDF = SAMPLES / "pdf" / "000_914c13d346301e8d.pdf"
XLSX = SAMPLES / "xlsx" / "002_24ec7dd97fefd2fa.xlsx"
TEXT = SAMPLES / "text" / "000_914c13d346301e8d.txt"
SCAN = SAMPLES / "scan" / "003_cca29bee0b231de8_p1.png"



def _plain(text: str) -> str:
    return re.sub(r"\s+", "", text)


# ---------------------------------------------------------------- the JSON contract


def test_a_pdf_value_lies_in_its_box_on_its_page() -> None:
    import pdfplumber

    doc = parse_file(PDF).to_dict()
    form = doc["forms"][0]
    checked = 0
    with pdfplumber.open(PDF) as pdf:
        values = [(form["header"]["project_name"], form["sources"]["header.project_name"])]
        values += [(i["raw"], i["origin"]["raw"]) for i in form["indicators"] if i["raw"]]
        values += [(i["level3"], i["origin"]["level3"]) for i in form["indicators"]]
        for text, origin in values:
            page = pdf.pages[origin["page"] - 1]
            x0, top, x1, bottom = origin["bbox"]
            assert 0 <= x0 < x1 <= page.width and 0 <= top < bottom <= page.height
            inside = "".join(c["text"] for c in page.chars
                             if x0 <= (c["x0"] + c["x1"]) / 2 <= x1 and top <= (c["top"] + c["bottom"]) / 2 <= bottom)
            # Every character of the value is printed inside its box (the value is cleaned: compare sets).
            assert not Counter(_plain(text)) - Counter(_plain(inside)), (text, inside, origin)
            checked += 1
    assert checked > 10
    # The existing location strings are unchanged beside the origins.
    first = form["indicators"][0]
    assert first["where"] == f"page {first['origin']['raw']['page']}, table {first['origin']['raw']['table']}, " \
                             f"row {first['origin']['raw']['row']}"


def test_a_spreadsheet_value_names_its_own_cell() -> None:
    import openpyxl

    doc = parse_file(XLSX).to_dict()
    book = openpyxl.load_workbook(XLSX, data_only=True)
    form = doc["forms"][0]
    origin = form["sources"]["budget.current_year"]
    cell = book[origin["sheet"]][origin["cell"]].value
    assert Decimal(str(cell)) == Decimal(form["budget"]["current_year"])
    last = doc["forms"][-1]
    texts = 0
    for indicator in last["indicators"][:8]:
        raw = indicator["origin"]["raw"]
        value = book[raw["sheet"]][raw["cell"]].value
        if isinstance(value, str):  # a number cell prints through its format (1 as 100%)
            assert _plain(value) == _plain(indicator["raw"])
            texts += 1
        name = indicator["origin"]["level3"]
        assert _plain(str(book[name["sheet"]][name["cell"]].value)) == _plain(indicator["level3"])
        assert "page" not in raw and "bbox" not in raw and raw["format"] == "xlsx"  # only the format's keys
    assert texts >= 3


def test_a_text_value_names_its_line() -> None:
    doc = parse_file(TEXT).to_dict()
    lines = TEXT.read_text(encoding="utf-8").split("\n")
    form = doc["forms"][0]
    origin = form["sources"]["header.project_name"]
    assert form["header"]["project_name"] in lines[origin["line"] - 1]
    for indicator in form["indicators"]:
        raw = indicator["origin"]["raw"]
        assert indicator["where"] == f"line {raw['line']}"
        cells = lines[raw["line"] - 1].split("\t")
        assert _plain(cells[raw["col"]]) == _plain(indicator["raw"]) or indicator["raw"] in cells[raw["col"]]


@pytest.mark.scan
def test_a_scan_value_has_its_box_and_confidence_and_its_doubt_travels_with_it() -> None:
    from PIL import Image

    doc = parse_file(SCAN).to_dict()
    form = doc["forms"][0]
    with Image.open(SCAN) as image:
        width, height = image.size
    origins = [i["origin"]["raw"] for i in form["indicators"] if "raw" in i["origin"]]
    assert len(origins) == len(form["indicators"])
    for origin in origins:
        x0, top, x1, bottom = origin["bbox"]
        assert 0 <= x0 < x1 <= width and 0 <= top < bottom <= height
        assert 0.0 < origin["confidence"] <= 1.0
    for issue in form["issues"]:
        if issue["code"] == "low_confidence" and issue["message"].startswith("OCR doubt"):
            index, name = re.fullmatch(r"indicators\[(\d+)\]\.(\w+)", issue["field"]).groups()  # type: ignore[union-attr]
            assert form["indicators"][int(index)]["origin"][name]["doubt"] in issue["message"]


# ---------------------------------------------------------------- the store


def _stored(url: str, paths: list[Path]) -> dict[tuple[str, str], models.Provenance]:
    """The first form's provenance of each file (from the stored origins), by (file name, field)."""
    engine = connect(url)
    import_paths(paths, engine)
    with Session(engine) as session:
        rows = [(path, p) for path, form in session.execute(
                    select(models.SourceDocument.path, models.Form)
                    .join(models.Form, models.Form.document_id == models.SourceDocument.id)
                    .where(models.Form.ordinal == 1)).all()
                for p in form.provenance]
    engine.dispose()
    return {(Path(path).name, p.field): p for path, p in rows}


def _check_store(url: str, tmp_path: Path) -> None:
    text, sheet = Path(shutil.copy(TEXT, tmp_path)), Path(shutil.copy(XLSX, tmp_path))
    stored = _stored(url, [text, sheet])
    for path in (text, sheet):
        form = parse_file(path).forms[0]
        fields = [(name, o) for name, o in form.origins.items()]
        fields += [(f"indicators[{n}].{name}", o) for n, i in enumerate(form.indicators) for name, o in i.origins.items()]
        assert {f for (file, f) in stored if file == path.name} == {name for name, _ in fields}
        for name, origin in fields:
            row = stored[(path.name, name)]
            assert (row.line, row.sheet, row.cell, row.source_col) == (origin.where.line, origin.where.sheet,
                                                                       origin.cell_ref, origin.col)
    budget = stored[(sheet.name, "budget.current_year")]
    assert budget.sheet is not None and re.fullmatch(r"[A-Z]+\d+", budget.cell or "")
    raw = stored[(text.name, "indicators[0].raw")]
    assert raw.indicator_position == 1 and raw.line is not None


def test_the_store_keeps_every_origin_sqlite(tmp_path: Path) -> None:
    _check_store(f"sqlite:///{tmp_path / 'p.db'}", tmp_path)


def test_the_store_keeps_every_origin_postgresql(pg_url: str, tmp_path: Path) -> None:
    _check_store(pg_url, tmp_path)


def test_the_store_keeps_pdf_boxes(tmp_path: Path) -> None:
    pdf = Path(shutil.copy(PDF, tmp_path))
    engine = connect(f"sqlite:///{tmp_path / 'p.db'}")
    import_paths([pdf], engine)
    parsed = parse_file(pdf).forms[0]
    with Session(engine) as session:
        form = session.scalars(select(models.Form).where(models.Form.ordinal == 1)).one()
        by_field = {p.field: p for p in form.provenance}
        assert len(by_field) == len(parsed.origins) + sum(len(i.origins) for i in parsed.indicators)
        assert by_field["indicators[0].raw"].bbox == parsed.indicators[0].origins["raw"].bbox
        assert by_field["indicators[0].raw"].page == 1
    engine.dispose()


# ---------------------------------------------------------------- one JSON value per form (issue 16)


def _python_rows(engine: Any) -> list[tuple[Any, ...]]:
    """Every form's provenance as Python reads it (Form.provenance), in stored order."""
    with Session(engine) as session:
        forms = session.scalars(select(models.Form).order_by(models.Form.id)).all()
        return [(p.form_id, *(getattr(p, name) for name in models.ORIGIN_COLUMNS)) for f in forms for p in f.provenance]


def _view_rows(engine: Any) -> list[tuple[Any, ...]]:
    """The ``provenance`` relation as analysts query it (a view since 0013, a table before)."""
    from sqlalchemy import text

    names = ", ".join(("form_id", *models.ORIGIN_COLUMNS))
    with engine.connect() as connection:
        return [tuple(r) for r in connection.execute(text(f"SELECT {names} FROM provenance"))]


def _check_json_store(url: str, tmp_path: Path) -> None:
    from alembic import command
    from sqlalchemy import func, inspect, text

    from goalforms.schema.db import alembic_config

    files = [Path(shutil.copy(f, tmp_path)) for f in (TEXT, XLSX, PDF)]
    engine = connect(url)
    import_paths(files, engine)
    stored = _python_rows(engine)
    with Session(engine) as session:
        forms = session.scalar(select(func.count()).select_from(models.Form))
        # One row per form, not one per value.
        assert session.scalar(select(func.count()).select_from(models.FormOrigins)) == forms
    assert forms and len(stored) > 20 * forms
    # The parse's origins, every one; the floats exactly.
    parsed = [(n, o) for path in files for form in parse_file(path).forms
              for n, o in [*form.origins.items(), *((f"indicators[{k}].{name}", o) for k, i in
                                                     enumerate(form.indicators) for name, o in i.origins.items())]]
    assert Counter((row[1], row[4:8], row[10], row[14]) for row in stored) == Counter(
        (name, o.bbox or (None,) * 4, o.where.line, o.col) for name, o in parsed)
    # The view: the same rows, the same Python types (ints, floats, texts).
    view = _view_rows(engine)
    assert sorted(view, key=repr) == sorted(stored, key=repr)
    assert [tuple(map(type, r)) for r in sorted(view, key=repr)] == [tuple(map(type, r)) for r in sorted(stored, key=repr)]
    assert "provenance" in inspect(engine).get_view_names() and "provenance" not in inspect(engine).get_table_names()
    # Down to the typed table: the same rows, their ids in stored order; and up again: the same origins.
    cfg = alembic_config(url)
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0010_source_grids")
    assert "form_origins" not in inspect(engine).get_table_names()
    with engine.connect() as connection:
        table = [tuple(r) for r in connection.execute(text(
            f"SELECT form_id, {', '.join(models.ORIGIN_COLUMNS)} FROM provenance ORDER BY id"))]
    assert table == stored
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")
    assert _python_rows(engine) == stored and sorted(_view_rows(engine), key=repr) == sorted(stored, key=repr)
    # Removing a document removes its forms' origins (ON DELETE CASCADE).
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM source_documents"))
        assert connection.execute(text("SELECT count(*) FROM form_origins")).scalar() == 0
    engine.dispose()


def test_origins_are_one_json_value_per_form_sqlite(tmp_path: Path) -> None:
    _check_json_store(f"sqlite:///{tmp_path / 'j.db'}", tmp_path)


def test_origins_are_one_json_value_per_form_postgresql(pg_url: str, tmp_path: Path) -> None:
    _check_json_store(pg_url, tmp_path)


# ---------------------------------------------------------------- the clerk page, from stored data only


def _no_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every reader raises: a page that still shows its outlines got them from the store."""
    from goalforms.parsers import readers
    from goalforms.parsers.readers import pdf as pdf_reader
    from goalforms.parsers.readers import scan as scan_reader
    from goalforms.pipeline.web import source

    def boom(path: Any, *args: Any, **kwargs: Any) -> Any:
        raise UnreadableFile(str(path), "the clerk page must not read the file again")

    monkeypatch.setattr(readers, "read", boom)
    monkeypatch.setattr(pdf_reader, "read", boom)
    monkeypatch.setattr(scan_reader, "read", boom)
    monkeypatch.setattr(scan_reader, "read_page", boom)
    for kind in list(readers.KINDS):
        monkeypatch.setitem(readers.KINDS, kind, boom)
    source._grid.cache_clear()


def _client(tmp_path: Path, files: list[Path]) -> TestClient:
    engine = connect(f"sqlite:///{tmp_path / 'web.db'}")
    import_paths(files, engine)
    with Session(engine) as session, session.begin():
        users.add_user(session, "alice", "clerk", "alice's password")
    client = TestClient(create_app(engine, "s" * 48), base_url="http://127.0.0.1")
    login(client)
    return client


def _flagged_rects(html: str) -> list[dict[str, str]]:
    rects = re.findall(r"<rect ([^>]*class=\"box flag[^\"]*\"[^>]*)>", html)
    return [dict(re.findall(r'([\w-]+)="([^"]*)"', attrs)) for attrs in rects]


def test_the_clerk_page_outlines_a_flagged_pdf_cell_from_the_store(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    pdf = Path(shutil.copy(SAMPLES / "pdf" / "003_cca29bee0b231de8.pdf", tmp_path))
    client = _client(tmp_path, [pdf])
    parsed = parse_file(pdf).forms[1]
    flagged = {i.field for i in parsed.issues if i.field}
    _no_reading(monkeypatch)
    page = form_page(client, pdf, 2)
    assert page.status_code == 200
    rects = _flagged_rects(page.text)
    assert rects, "no flagged cell outlined"
    for rect in rects:
        field = rect["data-field"]
        assert field in flagged or field.split(".")[0] in flagged
    # The outline is the value's own cell (not its row), and the first flagged one is enlarged.
    first = rects[0]
    name, _, part = first["data-field"].partition(".")
    index = int(name[len("indicators["):-1]) if name.startswith("indicators[") else None
    origin = parsed.indicators[index].origins[part] if index is not None and part else parsed.origins[first["data-field"]]
    assert float(first["x"]) == pytest.approx(origin.bbox[0]) and float(first["width"]) == pytest.approx(
        origin.bbox[2] - origin.bbox[0])
    assert '<figure class="zoom">' in page.text and "focus" in page.text


def test_the_clerk_page_marks_a_flagged_spreadsheet_cell_from_the_store(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import openpyxl

    book = openpyxl.load_workbook(XLSX)
    book["表1"]["E8"] = 1094910000.0001  # 其中：当年财政拨款, format #,##0.00: rounded when printed
    rounded = tmp_path / "rounded.xlsx"
    book.save(rounded)
    client = _client(tmp_path, [rounded])
    _no_reading(monkeypatch)
    page = form_page(client, rounded, 1)
    assert page.status_code == 200 and "no source view" not in page.text
    cells = re.findall(r'<td class="cell-flag( focus)?">([^<]*)</td>', page.text)
    assert cells and cells[0][0] == " focus"
    assert Decimal(cells[0][1]) == Decimal("1094910000.0001")  # the cell E8 itself, as the sheet holds it
    assert re.search(r"<caption>sheet 表1</caption>", page.text)


@pytest.mark.scan
def test_the_clerk_page_outlines_a_flagged_scan_cell_from_the_store(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    scan = Path(shutil.copy(SCAN, tmp_path))
    client = _client(tmp_path, [scan])
    engine = connect(f"sqlite:///{tmp_path / 'web.db'}")
    with Session(engine) as session, session.begin():
        # A doubt on the third target (the sample reads cleanly): the page must find its cell.
        form = session.scalars(select(models.Form)).one()
        stored = next(p for p in form.provenance if p.field == "indicators[2].raw")
        session.add(models.ParseIssue(form_id=form.id, code="low_confidence", severity="warning",
                                      message="OCR doubt (test)", location=None, field="indicators[2].raw"))
        box = stored.bbox
    engine.dispose()
    assert box is not None
    _no_reading(monkeypatch)
    page = form_page(client, scan, 1)
    assert page.status_code == 200 and "no cell boxes are stored" not in page.text
    rects = [r for r in _flagged_rects(page.text) if r["data-field"] == "indicators[2].raw"]
    assert rects and float(rects[0]["x"]) == pytest.approx(box[0]) and float(rects[0]["y"]) == pytest.approx(box[1])
    assert '<figure class="zoom">' in page.text
    image = re.search(r'<img src="([^"]+)"', page.text)
    assert image is not None
    served = client.get(image.group(1).replace("&amp;", "&"))
    assert served.status_code == 200 and served.content == SCAN.read_bytes()


def test_indicator_inputs_are_as_wide_as_their_text(tmp_path: Path) -> None:
    text = Path(shutil.copy(TEXT, tmp_path))
    client = _client(tmp_path, [text])
    page = form_page(client, text, 1)
    inputs = re.findall(r'<input name="v:[^"]*\.(level[12])" value="([^"]*)"[^>]*size="(\d+)"', page.text)
    assert inputs
    for _name, value, size in inputs:
        assert int(size) >= 2 * len(value)


def test_an_xls_sheet_is_shown_from_the_file_not_the_reader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An .xls form's sheet shows the cells the file holds (xlrd), the cells of its values marked."""
    xls = Path(shutil.copy(SAMPLES / "xls" / "002_24ec7dd97fefd2fa.xls", tmp_path))
    client = _client(tmp_path, [xls])
    total = parse_file(xls).forms[0].budget["current_year"]
    _no_reading(monkeypatch)
    page = form_page(client, xls, 1)
    assert page.status_code == 200 and "no source view" not in page.text
    values = re.findall(r'<td class="cell-value">([^<]*)</td>', page.text)
    assert total is not None and any(v.strip() and Decimal(v) == Decimal(total) for v in values if
                                     re.fullmatch(r"[\d.]+", v.strip()))
