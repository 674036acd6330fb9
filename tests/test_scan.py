"""Scanned forms: the cell grid from a drawn image, the OCR repairs, image-only PDF detection, and
one scanned page end to end. (Every scanned sample is also checked in test_samples.py.)"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import cv2  # noqa: E402  (a hard dependency: a missing OpenCV fails here, never skips)
import numpy as np
import pytest

from goalforms.parsers.readers import ocr_model, ocr_repair, scan
from goalforms.parsers.readers.ocr_repair import Glyph
from tests.conftest import SAMPLES

pytestmark = pytest.mark.scan

SCANS = SAMPLES / "scan"

# ---------------------------------------------------------------- the grid from the image

# A ruled table drawn on a 200 dpi page: 4 columns, 5 rows; column 0 merged over rows 1-3
# (a level-1 label), row 4 merged over columns 1-3 (a long text). (row, col, row_span, col_span)
COLS = (100, 300, 500, 900, 1200)
ROWS = (400, 450, 500, 550, 600, 700)
EXPECTED_CELLS = {
    (0, 0, 1, 1), (0, 1, 1, 1), (0, 2, 1, 1), (0, 3, 1, 1),
    (1, 0, 3, 1), (1, 1, 1, 1), (1, 2, 1, 1), (1, 3, 1, 1),
    (2, 1, 1, 1), (2, 2, 1, 1), (2, 3, 1, 1),
    (3, 1, 1, 1), (3, 2, 1, 1), (3, 3, 1, 1),
    (4, 0, 1, 1), (4, 1, 1, 3),
}


def draw_page(angle: float = 0.0, noise: float = 0.0) -> np.ndarray:
    """The table above with some character-like marks in the cells, turned by ``angle``."""
    page = np.full((1400, 1300), 255, dtype=np.uint8)
    x0, x1, y0, y1 = COLS[0], COLS[-1], ROWS[0], ROWS[-1]
    for y in ROWS:  # horizontal rules, but not through the merged cells
        if y in (ROWS[2], ROWS[3]):
            cv2.line(page, (COLS[1], y), (x1, y), 0, 2)
        else:
            cv2.line(page, (x0, y), (x1, y), 0, 2)
    for x in COLS:
        if x in (COLS[2], COLS[3]):
            cv2.line(page, (x, y0), (x, ROWS[4]), 0, 2)
        else:
            cv2.line(page, (x, y0), (x, y1), 0, 2)
    # Text-like strokes: a tall bracket-ish mark near a rule must not become a rule.
    for r in range(5):
        for c in range(4):
            top = ROWS[r] + 12
            cv2.rectangle(page, (COLS[c] + 20, top), (COLS[c] + 60, top + 22), 0, 2)
            cv2.line(page, (COLS[c] + 80, top - 4), (COLS[c] + 80, top + 28), 0, 2)
    cv2.putText(page, "TITLE", (500, 300), cv2.FONT_HERSHEY_SIMPLEX, 1.2, 0, 3)
    if angle:
        matrix = cv2.getRotationMatrix2D((650, 700), angle, 1.0)
        page = cv2.warpAffine(page, matrix, (1300, 1400), borderValue=255)
    if noise:
        rng = np.random.default_rng(1)
        page = np.clip(page + rng.normal(0, noise, page.shape), 0, 255).astype(np.uint8)
    return page


@pytest.mark.parametrize(("angle", "noise"), [(0.0, 0.0), (1.2, 8.0), (-0.7, 5.0)],
                         ids=["clean", "turned-left-noisy", "turned-right-noisy"])
def test_ruled_cells_and_spans_come_from_the_image(angle: float, noise: float) -> None:
    layout = scan.page_layout(draw_page(angle, noise))
    assert math.isclose(layout.angle, -angle, abs_tol=0.1)
    assert len(layout.tables) == 1
    table = layout.tables[0]
    assert len(table.xs) == len(COLS) and len(table.ys) == len(ROWS)
    assert {(c.row, c.col, c.row_span, c.col_span) for c in table.cells} == EXPECTED_CELLS


@pytest.mark.parametrize("density", [0.01, 0.05, 0.2, 0.5])
def test_specks_are_the_blobs_of_one_or_two_pixels(density: float) -> None:
    """The neighbour-count shortcut takes out exactly what labelling the blobs would (8-connected,
    area <= 2), edges of the page included."""
    rng = np.random.default_rng(int(density * 100))
    ink = np.where(rng.random((120, 170)) < density, 255, 0).astype(np.uint8)
    ink[0, 0] = ink[0, 1] = 255  # a pair in a corner: a speck
    ink[0, 2] = 0
    ink[1, 0:3] = 0
    _, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    small = stats[:, cv2.CC_STAT_AREA] <= 2
    small[0] = False
    assert small[labels].any()
    assert (scan.specks(ink) == small[labels]).all()


def test_text_lines_split_on_blank_rows() -> None:
    ink = np.zeros((200, 300), dtype=np.uint8)
    ink[20:45, 10:200] = 255  # a line of text
    ink[60:84, 10:120] = 255  # a shorter line below it
    ink[150, 150] = 255  # a speck: not a line
    lines = scan.text_lines(ink, (0, 0, 300, 200), em=24.0)
    assert lines == [(10, 20, 200, 45), (10, 60, 120, 84)]


# ---------------------------------------------------------------- repairs, table-driven


def glyphs(text: str, gaps: dict[int, float] | None = None) -> list[Glyph]:
    """Glyphs of ``text`` with a blank of 0.05 em between neighbours unless ``gaps`` says
    otherwise (gap after glyph i)."""
    gaps = gaps or {}
    after = [gaps.get(i, 0.05) for i in range(len(text) - 1)]
    return [Glyph(ch, 0.99, 10.0 * i, gap_before=after[i - 1] if i else None,
                  gap_after=after[i] if i < len(after) else None) for i, ch in enumerate(text)]


WIDTH_CASES = [
    # (recognised, gap after glyph i, repaired): the blank on the open side decides the width
    ("情况,继续", {2: 0.05}, "情况,继续"),
    ("情况,继续", {2: 0.65}, "情况，继续"),
    ("情况，继续", {2: 0.10}, "情况,继续"),
    ("预算(元)", {1: 0.05}, "预算(元)"),
    ("预算(元)", {1: 0.80}, "预算（元)"),
    ("办法》(人保", {2: 0.65}, "办法》(人保"),  # 》 brings its own blank: still half-width
    ("需要;2、", {2: 0.05}, "需要;2、"),
    ("需要;2、", {2: 0.70}, "需要；2、"),
]


@pytest.mark.parametrize(("text", "gaps", "repaired"), WIDTH_CASES)
def test_punctuation_width_comes_from_the_page(text: str, gaps: dict[int, float], repaired: str) -> None:
    assert "".join(g.text for g in ocr_repair.repair_line(glyphs(text, gaps))) == repaired


SPACE_CASES = [
    ("达90%以上", "达 90%以上"),  # the gap printed between Chinese and digits is a space
    ("接入CA平台", "接入 CA 平台"),
    ("=100%", "=100%"),
    ("合理", "合理"),
]


@pytest.mark.parametrize(("text", "read"), SPACE_CASES)
def test_chinese_next_to_latin_is_read_with_a_space(text: str, read: str) -> None:
    assert ocr_repair.line_text(ocr_repair.repair_line(glyphs(text))) == read


BRACKET_SPACE_CASES = [
    # (recognised, the recogniser read a space before "(", blank before "(" in em, read)
    ("=0.00(起)", False, 0.27, "=0.00 (起)"),  # a typed space shows as a quarter em of blank
    ("=0.00(起)", True, 0.08, "=0.00(起)"),  # the recogniser's space with no blank on the page
    ("=0.00(起)", False, 0.13, "=0.00(起)"),
    ("≥98.00(%)", False, 0.45, "≥98.00 (%)"),  # still half-width: a full-width one shows ≥ 0.55
    ("≥98.00(%)", False, 0.80, "≥98.00（%)"),
]


@pytest.mark.parametrize(("text", "read_space", "blank", "read"), BRACKET_SPACE_CASES)
def test_a_space_before_a_bracket_comes_from_the_page(text: str, read_space: bool, blank: float, read: str) -> None:
    """After Latin/digits, the blank before a half-width bracket (which already settles its width)
    tells whether a space was typed; the recogniser's own reading of that space does not count."""
    at = text.index("(")
    line = glyphs(text, {at - 1: blank})
    line[at] = replace(line[at], spaced=read_space)
    assert ocr_repair.line_text(ocr_repair.repair_line(line)) == read


def test_other_spaces_between_latin_characters_are_the_recognisers() -> None:
    """Only the bracket's blank is measured apart: elsewhere between Latin/digits the page's blank
    (0.21 em between "%" and ")" unspaced on the samples) does not decide."""
    line = glyphs("(%)", {1: 0.3})
    assert ocr_repair.line_text(ocr_repair.repair_line(line)) == "(%)"
    line[1] = replace(line[1], spaced=True)
    assert ocr_repair.line_text(ocr_repair.repair_line(line)) == "( %)"


CONFUSION_CASES = [
    ("=1O0%", "=100%"),
    ("≥9O.5%", "≥90.5%"),
    ("=O.5", "=0.5"),
    ("1l0", "110"),
    ("=１00%", "=100%"),
    ("≥95％", "≥95%"),
    ("＝100%", "=100%"),
    ("ISO认证", "ISO认证"),  # no digit next to the O: not a number
    ("Ollie", "Ollie"),
]


@pytest.mark.parametrize(("text", "repaired"), CONFUSION_CASES)
def test_look_alikes_in_numbers_are_repaired(text: str, repaired: str) -> None:
    assert ocr_repair.fix_confusions(text) == repaired


def test_a_closing_bracket_at_a_line_end_follows_its_opening_bracket() -> None:
    line = ocr_repair.repair_line(glyphs("系统（2024年运维）", {1: 0.8}))
    assert line[-1].width_known is False
    fixed, doubts = ocr_repair.repair_cell([line])
    assert ocr_repair.line_text(fixed[0]).replace(" ", "") == "系统（2024年运维）"
    assert doubts == []


def test_a_mark_the_page_cannot_settle_is_doubted() -> None:
    line = ocr_repair.repair_line(glyphs("工作开展及时，"))
    fixed, doubts = ocr_repair.repair_cell([line])
    assert len(doubts) == 1 and "full-width" in doubts[0]
    # ... unless the same mark elsewhere in the cell was measured.
    other = ocr_repair.repair_line(glyphs("运维,运维", {1: 0.05}))
    _, doubts = ocr_repair.repair_cell([other, line])
    assert doubts == []
    # A colon ending a cell ends a label: either width matches.
    _, doubts = ocr_repair.repair_cell([ocr_repair.repair_line(glyphs("项目名称："))])
    assert doubts == []


def test_unsure_characters_and_operator_look_alikes_are_doubted() -> None:
    unsure = [Glyph("健", 0.99, 0.0), Glyph("全", 0.41, 10.0, alt="金", alt_prob=0.3)]
    assert "0.41" in ocr_repair.repair_cell([unsure])[1][0]
    operator = [Glyph("2", 0.9, 0.0, alt="≥", alt_prob=0.08), Glyph("9", 0.99, 10.0), Glyph("5", 0.99, 20.0)]
    assert "'≥'" in ocr_repair.repair_cell([operator])[1][0]


@pytest.mark.parametrize(("raw", "invisible"), [("网办事项解决率达 90%以上", True), ("2024年重阳节前", True),
                                               ("=100%", False), ("≥90.00 (%)", False), ("合理", False)])
def test_targets_whose_spaces_a_scan_cannot_show(raw: str, invisible: bool) -> None:
    assert ocr_repair.invisible_space(raw) is invisible


SPACING_CASES = [
    # (target as a scan reads it, does its meaning hang on the space?)
    ("达 90%以上", False),  # text either way
    ("=2500 本", False),  # numeric, = 2500 本 either way
    ("≥1.5 万元", False),
    ("=2024 年 12 月", False),
    ("≥3A 级", True),  # text with the space, numeric (≥ 3 A级) without it
    ("=5G 网络", True),
    ("=100%", False),  # no place where Chinese meets a digit
]


@pytest.mark.parametrize(("raw", "matters"), SPACING_CASES)
def test_a_target_is_doubted_only_when_the_space_changes_what_it_means(raw: str, matters: bool) -> None:
    from goalforms.pipeline.normalise import parse_target

    assert ocr_repair.spacing_matters(raw, parse_target) is matters


def test_doubted_cells_and_meaningful_spaces_flag_the_values_they_became() -> None:
    """The doubt travels with the value's origin (the cell it was read from): no matching of texts."""
    from goalforms.parsers.grid import Location, Origin
    from goalforms.pipeline.doubts import doubt_issues
    from goalforms.pipeline.model import Form, Indicator
    from goalforms.pipeline.normalise import parse_target

    where = Location(page=1, table=3, row=2)
    doubted = Origin(where, 3, (300.0, 100.0, 400.0, 120.0), 0.41, "'=100%': '1' read with confidence 0.41")
    indicators = [
        Indicator("产出指标", "数量指标", "预算执行率", "=100%", "numeric", "=", "100", "%", None, None, str(where),
                  origins={"level3": Origin(where, 2), "raw": doubted}),
        Indicator("产出指标", "数量指标", "解决率", "达 90%以上", "text", None, None, None, None, None, "page 1"),
        Indicator("产出指标", "数量指标", "合理性", "合理", "qualitative", None, None, None, None, None, "page 1"),
        Indicator("产出指标", "质量指标", "等级", "≥3A 级", "text", None, None, None, None, None, "page 1"),
    ]
    form = Form("2024", 2024, {}, {}, indicators)
    flagged = doubt_issues(form, "scan", parse_target=parse_target)
    assert [issue.field for issue in flagged] == ["indicators[0].raw", "indicators[3].raw"]
    assert flagged[0].where == "page 1, table 3, row 2, column 4"
    assert doubt_issues(form, "pdf", parse_target=parse_target) == []  # a PDF's text layer is not doubted


# ---------------------------------------------------------------- detection


@pytest.mark.parametrize(("chars", "usable"), [
    ([], False),
    (list("   "), False),
    (list("财政项目支出绩效目标表项目名称"), True),
    (["(cid:1234)"] * 40 + list("表"), False),  # glyphs without Unicode: garbage
    (list("\ue001\ue002\ue003\ue004\ue005\ue006"), False),  # private-use characters
])
def test_a_text_layer_is_usable_only_when_it_holds_real_text(chars: list[str], usable: bool) -> None:
    assert scan.usable_text_layer(chars) is usable


def test_scanned_samples_have_no_text_layer_and_pdf_samples_do() -> None:
    import pdfplumber

    with pdfplumber.open(SCANS / "003_cca29bee0b231de8.pdf") as pdf:
        assert not any(scan.usable_text_layer([c["text"] for c in page.chars]) for page in pdf.pages)
        assert math.isclose(scan.page_dpi(pdf.pages[0]), 150, abs_tol=1)  # rendered as scanned
    with pdfplumber.open(SAMPLES / "pdf" / "003_cca29bee0b231de8.pdf") as pdf:
        assert all(scan.usable_text_layer([c["text"] for c in page.chars]) for page in pdf.pages)


def test_the_recognition_model_ships_with_the_package() -> None:
    assert list(ocr_model.model_folder().glob("*rec*.onnx"))


def test_an_unreadable_image_is_a_clear_error(tmp_path: Path) -> None:
    from goalforms.errors import UnreadableFile

    bad = tmp_path / "page.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    with pytest.raises(UnreadableFile, match="not a readable image"):
        scan.read(bad)
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((300, 200), 255, dtype=np.uint8))
    with pytest.raises(UnreadableFile, match="no text found"):
        scan.read(blank)


# ---------------------------------------------------------------- end to end


def test_a_scanned_page_parses_to_its_expected_form() -> None:
    from goalforms.pipeline.parse import parse_grid

    page = SCANS / "002_24ec7dd97fefd2fa_p2.png"
    grid = scan.read(page)
    assert grid.format == "scan"
    cells = [c for row in grid.rows for c in row.cells if not c.blank]
    assert all(c.confidence is not None and 0 < c.confidence <= 1 for c in cells)
    expected = json.loads((SCANS / "002_24ec7dd97fefd2fa_p2.expected.json").read_text(encoding="utf-8"))
    actual = parse_grid(grid).to_dict()
    for got, want in zip(actual["forms"], expected["forms"], strict=True):
        assert {k: got["header"].get(k) for k in want["header"]} == want["header"]
        assert got["budget"] == want["budget"]
        assert [{k: i[k] for k in w} for i, w in zip(got["indicators"], want["indicators"], strict=True)] \
            == want["indicators"]


def test_the_pdf_reader_reads_image_pages_by_ocr(tmp_path: Path) -> None:
    from PIL import Image

    from goalforms.parsers.readers import read

    path = tmp_path / "scan.pdf"
    Image.open(SCANS / "002_24ec7dd97fefd2fa_p2.png").save(path, resolution=150.0)
    grid = read(path)
    assert grid.format == "scan"
    assert any(row.text("") == "财政项目支出绩效目标申报表" for row in grid.rows)


def test_a_fresh_scan_flags_every_wrong_value_and_little_else(tmp_path: Path) -> None:
    """Another scanned copy of a sample, made apart from the committed ones (another angle, more
    noise, another resolution): every value that comes out wrong carries a flag, and clean forms
    carry at most one flag per ten (the space between Chinese and a digit is no flag)."""
    import sys

    from tests.bench_ocr import score_file

    sys.path.insert(0, str(SAMPLES))
    import make_scans

    [(path, truth)] = make_scans.extra_scans(tmp_path, "test", dpi=150, max_angle=1.5, noise=9.0,
                                             stems=["000_914c13d346301e8d"])
    score = score_file(path, truth)
    assert score.forms == 5
    assert score.wrong_unflagged == []
    assert score.clean_forms >= 4
    assert score.flags_on_clean * 10 <= score.clean_forms, score.flagged


@pytest.mark.parametrize(("line", "near"), [
    ([Glyph("合", 0.99, 0), Glyph("理", 0.97, 10)], False),
    ([Glyph("合", 0.99, 0), Glyph("埋", 0.75, 10, "理", 0.2)], True),  # under 0.8: close to the 0.6 doubt
    ([Glyph("期", 0.99, 0), Glyph(":", 0.5, 10, "：", 0.48)], False),  # torn between widths only
    ([Glyph("2", 0.97, 0, "≥", 0.02), Glyph("9", 0.99, 10)], True),  # the operator as runner-up
    ([Glyph("2", 0.99, 0, "3", 0.01), Glyph("9", 0.99, 10)], False),
])
def test_lines_near_a_doubt_are_worth_a_second_reading(line: list[Glyph], near: bool) -> None:
    assert ocr_repair.near_a_doubt(line) is near
