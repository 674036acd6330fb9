"""``goalforms debug``: the roles the layout parser gave the cells, the issues on their cells, and
pictures one can open (a PDF page with its cells tinted, a text grid drawn as a table, HTML)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from goalforms.parsers import roles
from goalforms.pipeline import debug, parse_file
from goalforms.pipeline.cli import app
from tests.conftest import SAMPLES

TEXT_2020 = SAMPLES / "text" / "000_914c13d346301e8d.txt"
TEXT_003 = SAMPLES / "text" / "003_cca29bee0b231de8.txt"  # its third form lost its right part
PDF_2020 = SAMPLES / "pdf" / "000_914c13d346301e8d.pdf"
SCAN_PAGE = SAMPLES / "scan" / "002_24ec7dd97fefd2fa_p2.png"


def _cells(picture: debug.Picture, where: str) -> dict[str, str]:
    """Text → role of the cells of the row at ``where``."""
    row = next(r for r in picture.rows if str(r.where) == where)
    return {c.text.strip(): c.role for c in row.cells if c.text.strip()}


def test_every_indicator_row_shows_its_levels_name_and_target() -> None:
    picture = debug.inspect(TEXT_2020, form=1)
    form = parse_file(TEXT_2020).forms[0]
    assert form.indicators
    for indicator in form.indicators:
        cells = _cells(picture, indicator.where)
        assert cells[indicator.level3] == "level 3"
        assert cells[indicator.raw] == "target"
    assert _cells(picture, "line 23")["投入与管理"] == "level 1"
    assert _cells(picture, "line 23")["投入管理"] == "level 2"


def test_header_labels_values_money_title_and_table_header() -> None:
    picture = debug.inspect(TEXT_2020, form=1)
    assert _cells(picture, "line 3") == {"财政项目支出绩效目标表": "title"}
    assert _cells(picture, "line 6") == {"项目名称：": "header label", "社保档案资料管理费": "header value",
                                         "项目类别：": "header label", "其他经常性项目": "header value"}
    assert _cells(picture, "line 17")["10,153,278"] == "money"
    assert set(_cells(picture, "line 22").values()) == {"table header"}
    # A caption the parser reads nothing from is shown as ignored, not given a role it lacks.
    assert _cells(picture, "line 16") == {"本项目上年度市级财政资金使用情况": "ignored"}
    assert {r.form for r in picture.rows} == {1}


def test_an_issue_sits_on_the_cell_of_its_field_or_else_on_its_row() -> None:
    picture = debug.inspect(TEXT_003, form=3)
    by_field = {i.field: i for i in picture.issues}
    plan_end = by_field["header.plan_end"]
    row = next(r for r in picture.rows if str(r.where) == plan_end.where)
    assert [c.text for c in row.cells if plan_end.number in c.issues] == ["计划完成日期：2020"]
    # No cell holds the current-year budget (it was cut off): the row carries the issue.
    missing = by_field["budget.current_year"]
    row = next(r for r in picture.rows if str(r.where) == missing.where)
    assert missing.number in row.issues and not any(missing.number in c.issues for c in row.cells)
    assert all(i.placed for i in picture.issues if i.where is not None)


def test_recording_changes_nothing_in_the_parse() -> None:
    plain = parse_file(TEXT_003).to_dict()
    with roles.recording() as rec:
        recorded = parse_file(TEXT_003).to_dict()
    assert recorded == plain
    assert len(rec.forms) == len(plain["forms"]) and rec.roles


def test_pdf_cells_carry_their_box_and_the_page_is_tinted_by_role(tmp_path: Path) -> None:
    picture = debug.inspect(PDF_2020, form=1)
    table_cells = [c for r in picture.rows if r.where.table is not None for c in r.cells]
    assert table_cells and all(c.bbox is not None for c in table_cells)
    target = next(c for r in picture.rows for c in r.cells if c.role == "target")
    images = debug.page_images(PDF_2020, "pdf", [1])
    page, scale = images[1]
    drawn = debug.draw_pages(picture, images)
    assert drawn.width > page.width and drawn.height >= page.height  # the legend beside the page
    assert target.bbox is not None
    x0, y0, x1, y1 = (v * scale for v in target.bbox)
    # Just inside the cell's left edge, where no text is: white paper tinted pink.
    r, g, b = drawn.convert("RGB").getpixel((int(x0 + 3), int((y0 + y1) / 2)))
    assert r > g + 20 and r > b


def test_cli_writes_a_png_and_an_html_page(tmp_path: Path) -> None:
    png, page = tmp_path / "seen.png", tmp_path / "seen.html"
    result = CliRunner().invoke(app, ["debug", str(TEXT_003), "--form", "3", "--png", str(png), "--html", str(page)])
    assert result.exit_code == 0, result.output
    assert "1 form(s), " in result.output
    with Image.open(png) as image:
        assert image.format == "PNG" and image.width > 800 and image.height > 800
    text = page.read_text(encoding="utf-8")
    assert "title='line 109 · column 0 · level 1'" in text
    assert "truncated_columns" in text and "<sup>" in text


def test_cli_needs_an_output_and_names_a_missing_form(tmp_path: Path) -> None:
    assert CliRunner().invoke(app, ["debug", str(TEXT_2020)]).exit_code == 2
    result = CliRunner().invoke(app, ["debug", str(TEXT_2020), "--form", "99", "--png", str(tmp_path / "x.png")])
    assert result.exit_code == 1 and "form 99 not found" in result.output


@pytest.mark.scan
def test_a_scan_is_drawn_on_the_page_the_ocr_read(tmp_path: Path) -> None:
    picture = debug.inspect(SCAN_PAGE)
    targets = [c for r in picture.rows for c in r.cells if c.role == "target"]
    assert targets and all(c.bbox is not None for c in targets)
    images = debug.page_images(SCAN_PAGE, "scan", [1])
    drawn = debug.draw_pages(picture, images)
    _, scale = images[1]
    x0, y0, x1, y1 = (v * scale for v in targets[0].bbox)  # type: ignore[union-attr]
    r, g, b = drawn.convert("RGB").getpixel((int(x1 - 4), int((y0 + y1) / 2)))
    assert r > g + 20 and r > b
