"""The speed mechanisms of the text parse (issue 16) give the answers of the code they stand for.

The layout answers kept per text (``layouts/lookups.py``), the shared cells and line locations of the
text readers, the rows and origins filled in one dict write: each is checked against what it
replaces, so a cache can never change a parse (the samples' expected parses check the whole).
"""

from __future__ import annotations

import inspect
import pickle
from dataclasses import MISSING, fields, replace

import pytest

from goalforms.parsers import grid
from goalforms.parsers.grid import Cell, Location, Origin, Row, line_location, plain_cell, tab_row
from goalforms.parsers.labels import compact, is_separator
from goalforms.parsers.layouts import LAYOUTS
from goalforms.parsers.layouts.lookups import lookups
from goalforms.parsers.layouts.origins import cell_origins
from goalforms.parsers.layouts.raw import RawValue
from goalforms.parsers.layouts.spec import POSITION_ROLES
from goalforms.parsers.layouts.table import (
    Entry,
    TableHeader,
    _period,
    _position_values,
    classify,
    find_table_header,
    is_table_header,
)
from goalforms.parsers.values import parse_date, parse_money
from goalforms.pipeline.model import Form
from goalforms.pipeline.plausibility import (
    _YEAR_TAIL,
    _glued_label,
    _glued_title,
    _indicator_labels,
    _labels_of,
)
from goalforms.pipeline.validate import _CLAUSE, _ENDS_MID_SENTENCE, _MIN_PROSE, _SENTENCE_END, validate


def _texts(spec: object) -> list[str]:
    """Every label, column name and caption of a layout, spelt as cells print them, and values."""
    labels = spec.labels()  # type: ignore[attr-defined]
    printed = [f"{label}：" for label in labels] + [" ".join(label) for label in labels]
    return [*labels, *printed, "", "  ", "项目名称：某项目", "指标", "≥95%", "年度绩效指标", "长期绩效指标"]


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_lookups_answer_as_the_layout(layout: str) -> None:
    spec = LAYOUTS[layout].spec
    known = lookups(spec)
    assert lookups(spec) is known  # one set of answers per layout
    for text in _texts(spec):
        assert known.match_label(text) == spec.match_label(text)
        assert known.match_label(text) == spec.match_label(text)  # asked again: from the cache
        assert known.table_column(text) == spec.table_column(text)
    assert known.side_labels == set(spec.side_labels)
    assert known.header_roles == spec.header_roles
    assert dict(known.position_columns) == {role: bool(spec.table.get(role)) for role in POSITION_ROLES}
    for captions in spec.periods.values():
        for caption in captions:  # the first period printing the caption, as table._period read it
            assert known.period_of[caption] == next(p for p, c in spec.periods.items() if caption in c)


def test_a_new_spec_gets_its_own_answers() -> None:
    spec = next(iter(LAYOUTS.values())).spec
    other = replace(spec, table={**spec.table, "side_labels": ["新侧栏"]})
    assert lookups(other) is not lookups(spec)
    assert "新侧栏" in lookups(other).side_labels and "新侧栏" not in lookups(spec).side_labels


def test_vocabulary_lookup_answers_every_time() -> None:
    vocabulary = next(iter(LAYOUTS.values())).spec.vocabulary
    for name in [*vocabulary.level1, *vocabulary.parent]:
        first = vocabulary.lookup(name + " ")
        assert first is not None and first.name == name
        assert vocabulary.lookup(name + " ") == first
        assert vocabulary.lookup(" ".join(name)) == first.__class__(first.level, name, repaired=len(name) > 1)


def test_shared_cells_and_locations_equal_new_ones() -> None:
    assert plain_cell("项目名称", 2) == Cell("项目名称", 2)
    assert plain_cell("项目名称", 2) is plain_cell("项目名称", 2)
    assert line_location(7) == Location(line=7)
    assert line_location(7, 2) == Location(line=7, page=2)
    assert str(line_location(7, 2)) == "page 2, line 7"


def test_rows_and_origins_behave_as_dataclasses() -> None:
    cells = (Cell(" 项目名称 ", 0), Cell("", 1), Cell("某项目", 2, confidence=0.5))
    row = Row(cells, Location(line=3))
    assert row == Row(cells=cells, where=Location(line=3), in_table=True, soft=False, flowing=False)
    assert hash(row) == hash(Row(cells, Location(line=3)))
    assert row.filled == (cells[0], cells[2]) and row.text("|") == "项目名称|某项目" and not row.blank
    assert Row((Cell(" ", 0),), Location(line=4)).blank
    moved = replace(row, soft=True)
    assert moved.soft and moved.cells == cells and moved != row
    assert pickle.loads(pickle.dumps(row)) == row
    with pytest.raises(AttributeError):
        row.soft = True  # type: ignore[misc]
    origin = Origin.of(row, cells[2])
    assert origin == Origin(Location(line=3), 2, None, 0.5, None)
    assert replace(origin, col=5).col == 5 and pickle.loads(pickle.dumps(origin)) == origin
    assert Origin.joined([origin]) == origin
    assert Origin.joined([replace(origin, doubt="")]) == replace(origin, doubt=None)


@pytest.mark.parametrize("text", ["1,094,910,000.00", "0.00", "12.5万元", "￥ 300", "abc", ""])
def test_amounts_read_the_same_twice(text: str) -> None:
    assert parse_money(text) == parse_money(text)
    assert parse_money(text, "万元") == parse_money.__wrapped__(text, "万元")  # type: ignore[attr-defined]


# -- issue 16, round 2: the per-line, per-row and per-cell answers ---------------------------------

_LINES = ["", "\t", "项目名称\t某项目\t\t", " 一级指标 \t二级指标\t三级指标\t指标值", "\t\t 数量指标\t培训人次\t≥300人次 ",
          "---------", "只有一格", "\t \t　\t"]


@pytest.mark.parametrize("line", _LINES)
def test_a_tab_row_is_the_row_split_by_hand(line: str) -> None:
    parts = line.split("\t")
    plain = Row(tuple(Cell(text, col) for col, text in enumerate(parts)), Location(line=4), len(parts) > 1)
    for _ in range(2):  # the second time from the cache
        row = tab_row(line, Location(line=4))
        assert row == plain and hash(row) == hash(plain)
        assert row.filled == plain.filled and row.blank == plain.blank
        assert row.filled_texts == tuple(cell.text for cell in plain.filled)
        for sep in ("", " ", "|"):
            assert row.text(sep) == plain.text(sep) == sep.join(c.text.strip() for c in plain.cells if c.text.strip())
        assert pickle.loads(pickle.dumps(row)) == row
    assert tab_row(line, Location(line=5)) != tab_row(line, Location(line=4))  # a row per line all the same


def test_a_row_joins_its_texts_once() -> None:
    row = Row((Cell(" 项目 ", 0), Cell("", 1), Cell("名称", 2)), Location(line=1))
    assert row.text("") == "项目名称" and row.text("") is row.text("")
    assert row.filled_texts == (" 项目 ", "名称")


def _is_table_header_by_hand(texts: tuple[str, ...], spec: object) -> bool:
    """table.is_table_header as it read each cell before its answers were kept per row."""
    named = {found[0] for text in texts if (found := spec.table_column(text))}  # type: ignore[attr-defined]
    return spec.header_roles <= named or (  # type: ignore[attr-defined]
        {"level3", "target"} <= named and bool(named & set(POSITION_ROLES)))


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_table_answers_as_the_layout(layout: str) -> None:
    spec = LAYOUTS[layout].spec
    known = lookups(spec)
    columns = [name for role, names in spec.table.items() if role != "side_labels" for name in names]
    rows = [tuple(columns), tuple(columns[:2]), tuple(f" {c} " for c in columns), ("项目名称", "某项目"), (),
            tuple(columns[2:]), *((c,) for c in columns)]
    for texts in rows:
        assert known.is_table_header(texts) == _is_table_header_by_hand(texts, spec)
        assert known.is_table_header(texts) == _is_table_header_by_hand(texts, spec)  # from the cache
    vocabulary = spec.vocabulary
    for text in [*_texts(spec), *vocabulary.level1, *vocabulary.parent, "指标", "标", "-----", "| + |",
                 *spec.side_labels, *(f" {s} " for s in spec.side_labels), "≥95%"]:
        by_hand = (is_separator(text) or compact(text) in set(spec.side_labels), vocabulary.lookup(text),
                   vocabulary.is_wrap_fragment(text))
        assert known.table_cell(text) == by_hand
    assert known.blank_positions == {role: ("" if spec.table.get(role) else None) for role in POSITION_ROLES}


def test_a_name_in_one_cell_has_that_cells_origin() -> None:
    row = Row((Cell("数量指标", 0), Cell("培训人次", 1, confidence=0.9), Cell("≥300人次", 2)), Location(line=2))
    entry = Entry(row.where, level3="培训人次", target="≥300人次")
    for name in (row.cells[1], replace(row.cells[1], doubt=""), replace(row.cells[1], doubt="看不清")):
        origins = cell_origins(row, entry, [], [name, row.cells[2]])
        assert origins["level3"] == Origin.joined([Origin.of(row, name)])
        assert origins["target"] == Origin.of(row, row.cells[2])
    two = cell_origins(row, replace(entry, level3="数量指标培训人次"), [], list(row.cells))
    assert two["level3"] == Origin.joined([Origin.of(row, row.cells[0]), Origin.of(row, row.cells[1])])


@pytest.mark.parametrize("text", ["2020-1-1", " 2024年1月31日 ", "2024.13.01", "2024-12-31", "明年", ""])
def test_dates_read_the_same_twice(text: str) -> None:
    assert parse_date(text) == parse_date(text) == parse_date.__wrapped__(text)  # type: ignore[attr-defined]


def test_a_plain_cell_shares_its_origin() -> None:
    row = Row((Cell("项目名称", 0), Cell("某项目", 1)), line_location(9))
    assert Origin.of(row, row.cells[1]) is Origin.of(row, row.cells[1])
    assert Origin.of(row, row.cells[1]) == Origin(Location(line=9), 1, None, None, None)
    boxed = Row((Cell("某项目", 1, bbox=(1.0, 2.0, 3.0, 4.0)), Cell("某项目", 1, doubt="")), Location(line=9))
    assert Origin.of(boxed, boxed.cells[0]) == Origin(Location(line=9), 1, (1.0, 2.0, 3.0, 4.0), None, None)
    assert Origin.of(boxed, boxed.cells[1]).doubt == ""  # not shared: the doubt is kept
    where = pickle.loads(pickle.dumps(row.where))  # what a place keeps for speed stays behind
    assert where == row.where and "_origins" not in where.__dict__ and str(where) == "line 9"


_ENDINGS = ["", "目标。", "做好项目管理，确保资金安全使用，提高资金使用效益和", "1、做好，工作\n2、加强管理，提高效益和水平的",
            "完成培训工作，提高", "完成。", "句子，没有结束的汉字\n", "12.5", "做好项目管理，确保资金安全使用，提高资金使用效益和效率!"]


@pytest.mark.parametrize("text", _ENDINGS)
def test_only_a_text_ending_on_an_ideograph_is_cut(text: str) -> None:
    form = Form(layout="x", year=2024, header={"goal": text}, budget={})
    issues = [i.field for i in validate(form).issues]
    last = _SENTENCE_END.split(text)[-1]  # the check as validate made it for every text
    cut = len(last) >= _MIN_PROSE and bool(_CLAUSE.search(last)) and bool(_ENDS_MID_SENTENCE.search(last))
    assert issues == (["header.goal"] if cut else [])


@pytest.mark.parametrize("text", ["申报表2024年度）", "绩效目标表(2024年)", "2024年", "2024年度", "2024年）", "abc年",
                                  "一行普通的文字", "年度", "x2024年度", "2024年度)"])
def test_a_year_tail_has_its_year_near_the_end(text: str) -> None:
    """_glued_title passes over a line without 年 among its last three characters: no year tail there."""
    if _YEAR_TAIL.search(text[-7:]):
        assert "年" in text[-3:]
    assert _glued_title(text, ("不会出现的标题",)) is None


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_plausibility_labels_answer_as_the_layout(layout: str) -> None:
    spec = LAYOUTS[layout].spec
    labels = _labels_of(layout)
    for text in ["某单位", "经常性专项业务费项目类别特定目标类", *(f"某{label}某" for label in labels[:5]), *labels[-3:]]:
        assert _glued_label(layout, text) == next((label for label in labels if label in text), None)
        assert _glued_label(layout, text) == _glued_label.__wrapped__(layout, text)  # type: ignore[attr-defined]
    levels, long_levels, table_labels = _indicator_labels(spec)
    assert _indicator_labels(spec) is _indicator_labels(spec)
    assert levels == {*spec.vocabulary.level1, *spec.vocabulary.parent}
    assert long_levels == tuple(n for n in (*spec.vocabulary.level1, *spec.vocabulary.parent) if n.endswith(("指标", "目标")))
    assert table_labels == {n for names in spec.table.values() for n in names} | set(spec.side_labels)
    other = replace(spec, table={**spec.table, "side_labels": ["新侧栏"]})
    assert "新侧栏" in _indicator_labels(other)[2] and "新侧栏" not in _indicator_labels(spec)[2]


def test_raw_values_behave_as_dataclasses() -> None:
    value = RawValue("某项目", Location(line=2))
    assert value == RawValue(text="某项目", where=Location(line=2), unit="元", origin=None)
    assert hash(value) == hash(RawValue("某项目", Location(line=2)))
    assert replace(value, unit="万元").unit == "万元" and pickle.loads(pickle.dumps(value)) == value
    with pytest.raises(AttributeError):
        value.text = "x"  # type: ignore[misc]


# -- issue 16, round 3: cells and locations in one dict write, a row's kept attributes -----------


@pytest.mark.parametrize("cls", [Cell, Location])
def test_a_hand_written_init_takes_the_fields_in_order(cls: type) -> None:
    """Cell and Location fill their dict in their own __init__: its parameters are the dataclass
    fields, in their order, with their defaults — as the generated __init__ took them."""
    parameters = list(inspect.signature(cls.__init__).parameters.values())[1:]
    assert [(p.name, p.default) for p in parameters] == [
        (f.name, inspect.Parameter.empty if f.default is MISSING else f.default) for f in fields(cls)]


def test_cells_and_locations_behave_as_dataclasses() -> None:
    cell = Cell("某项目", 2, 1, 3, 0.5, "看不清", (1.0, 2.0, 3.0, 4.0))
    assert vars(cell) == {"text": "某项目", "col": 2, "row_span": 1, "col_span": 3, "confidence": 0.5,
                          "doubt": "看不清", "bbox": (1.0, 2.0, 3.0, 4.0)}
    assert cell == Cell(text="某项目", col=2, col_span=3, confidence=0.5, doubt="看不清")  # a box is no part of it
    assert hash(cell) == hash(Cell("某项目", 2, col_span=3, confidence=0.5, doubt="看不清"))
    assert replace(cell, col=4).col == 4 and pickle.loads(pickle.dumps(cell)) == cell
    with pytest.raises(AttributeError):
        cell.text = "x"  # type: ignore[misc]
    where = Location(3, 1, None, None, 2, 5, "表1", "C7")
    assert vars(where) == {"line": 3, "page": 1, "bbox": None, "paragraph": None, "table": 2, "row": 5,
                           "sheet": "表1", "cell": "C7"}
    assert where == Location(line=3, page=1, table=2, row=5, sheet="表1", cell="C7") and hash(where) == hash(
        Location(line=3, page=1, table=2, row=5, sheet="表1", cell="C7"))
    assert str(where) == "表1!C7" and str(Location(line=3, page=1)) == "page 1, line 3"
    assert pickle.loads(pickle.dumps(where)) == where and replace(where, line=4).line == 4


def _tab_line_by_hand(line: str) -> dict[str, object]:
    """grid._tab_line as it was written before the C-level picking of the filled cells."""
    parts = line.split("\t")
    cells = tuple(map(plain_cell, parts, range(len(parts))))
    filled = tuple(cell for cell in cells if cell.text.strip())
    texts = tuple(cell.text.strip() for cell in filled)
    return {"cells": cells, "in_table": len(cells) > 1, "soft": False, "flowing": False, "filled": filled,
            "_stripped_texts": texts, "joined": "".join(texts), "filled_texts": tuple(c.text for c in filled)}


@pytest.mark.parametrize("line", [*_LINES, "a\t\u3000\tb\t \u00a0 \tc ", "\t".join(str(n) for n in range(30))])
def test_a_tab_line_picks_its_filled_cells_as_by_hand(line: str) -> None:
    grid._tab_line.cache_clear()
    made = grid._tab_line(line)
    assert made == _tab_line_by_hand(line)
    assert grid._tab_line(line) is made  # the second time from the cache


def test_a_rows_kept_attributes_are_its_computed_ones() -> None:
    cells = (Cell(" 项目 ", 0), Cell("", 1), Cell("名称", 2), Cell("\u3000", 3))
    for row in (Row(cells, Location(line=1)), tab_row(" 项目 \t\t名称\t\u3000", Location(line=1))):
        assert row.filled == (cells[0], cells[2]) and not row.blank
        assert row.filled_texts == (" 项目 ", "名称")
        assert row.joined == "项目名称" == row.text("") and row.text(" ") == "项目 名称"
        assert row.filled is row.filled and row.joined is row.joined  # kept, not computed again
        assert row == Row(cells, Location(line=1)) and pickle.loads(pickle.dumps(row)) == row
    fresh = Row(cells, Location(line=1))
    assert fresh.joined == "项目名称" and fresh.filled == (cells[0], cells[2])  # joined asked first
    assert replace(fresh, cells=cells[:1]).filled == (cells[0],)  # a changed copy computes its own
    assert "filled" not in vars(Row(cells, Location(line=1)))  # nothing is kept before it is asked


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_a_table_passes_its_layouts_answers_to_classify(layout: str) -> None:
    """classify and the table's helpers given the layout's answers (and header.by_position) by the
    table answer as when they look them up themselves; find_table_header as is_table_header row by row."""
    spec = LAYOUTS[layout].spec
    columns = [names[0] for role, names in spec.table.items() if role != "side_labels" and names]
    header_row = Row(tuple(Cell(text, col) for col, text in enumerate(columns)), Location(line=1))
    rows = [Row((Cell("项目名称", 0), Cell("某项目", 1)), Location(line=2)), header_row]
    assert find_table_header(rows, spec) == next(
        (i for i, row in enumerate(rows) if is_table_header(row, spec)), None)
    header = TableHeader.from_row(header_row, spec)
    vocabulary = spec.vocabulary
    level1 = next(iter(vocabulary.level1), "产出指标")
    level2 = next(iter(vocabulary.parent), "数量指标")
    samples = [(level1, level2, "培训人次", "≥300人次"), ("", "", "合格率", "=100%"), (level2, "某指标"),
               ("未知一级", "未知二级", "名称", "≥1"), ("只有一格",), ("a", "b", "c", "d", "e")]
    for n, texts in enumerate(samples):
        row = Row(tuple(Cell(text, col) for col, text in enumerate(texts)), Location(line=10 + n))
        alone = classify(row, header, spec, {})
        given = classify(row, header, spec, {}, lookups(spec), header.by_position)
        assert given == alone and given.origins == alone.origins
        assert _position_values(given, header, spec, lookups(spec)) == _position_values(alone, header, spec)
        assert _period(row, spec, lookups(spec)) == _period(row, spec)
