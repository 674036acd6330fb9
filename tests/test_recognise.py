"""recognise on its own: small in-memory grids split into forms, titles found wherever a reader
puts them, and the refusals (no known title, a report, text in column-block order)."""

from __future__ import annotations

import pytest

from goalforms.errors import NoKnownLayout, UnreadableFile
from goalforms.parsers.grid import Cell, Grid, Location, Row
from goalforms.parsers.recognise import recognise

T2020 = "财政项目支出绩效目标表"
T2024 = "财政项目支出绩效目标申报表"


def _grid(*lines: str | tuple[str, ...], flowing: bool = False) -> Grid:
    """One row per line; a tuple is a row of several cells."""
    rows = []
    for number, line in enumerate(lines, start=1):
        texts = (line,) if isinstance(line, str) else line
        cells = tuple(Cell(text, col) for col, text in enumerate(texts))
        rows.append(Row(cells, Location(line=number), in_table=len(cells) > 1, flowing=flowing))
    return Grid(path="mem.txt", format="txt", sha256="0" * 64, rows=rows)


def _lines(rows: list[Row]) -> list[int | None]:
    return [row.where.line for row in rows]


def test_forms_run_from_their_title_to_the_next_one_and_the_text_above_is_the_collection_title() -> None:
    grid = _grid("某中心 2024 年度项目绩效目标汇总表", "", T2024, "(2024年度)", ("项目名称", "甲"),
                 T2020, ("项目名称：", "乙"), T2024, "(2024年度)")
    title, segments = recognise(grid)
    assert title == "某中心2024年度项目绩效目标汇总表"  # cleaned: no space between digits and Chinese
    assert [(s.layout, _lines(s.rows)) for s in segments] == [
        ("2024", [3, 4, 5]), ("2020", [6, 7]), ("2024", [8, 9])]


def test_a_title_with_spaces_in_its_own_cell_among_blank_cells_is_found() -> None:
    grid = _grid(("", "财政项目支出 绩效目标表", "", ""), ("项目名称：", "甲"))
    title, segments = recognise(grid)
    assert title is None and [s.layout for s in segments] == ["2020"]


def test_a_title_inside_a_long_sentence_does_not_start_a_form() -> None:
    with pytest.raises(NoKnownLayout, match="no title line reads"):
        recognise(_grid(f"根据{T2020}的要求，各单位应当在规定时间内完成填报并报送财政部门审核备案。"))


def test_a_flowing_line_is_split_where_a_title_starts() -> None:
    grid = _grid(f"上一页的最后几个字 {T2024} (2024 年度)", "项目名称 甲 项目性质 经常性项目",
                 "一级指标 二级指标 三级指标 指标值", flowing=True)
    title, segments = recognise(grid)
    assert title == "上一页的最后几个字"
    assert [row.text() for row in segments[0].rows[:2]] == [T2024, "(2024 年度)"]


def test_an_evaluation_report_is_named_in_the_refusal() -> None:
    with pytest.raises(NoKnownLayout, match="绩效评价报告"):
        recognise(_grid("某项目绩效评价报告", "一、项目基本情况"))


def test_flowing_text_in_column_block_order_is_refused_with_the_command_to_extract_again() -> None:
    grid = _grid(T2020, "一级目标", "投入与管理", "二级目标", "投入管理", "三级目标", "预算执行率", flowing=True)
    with pytest.raises(UnreadableFile, match="pdftotext -layout"):
        recognise(grid)
