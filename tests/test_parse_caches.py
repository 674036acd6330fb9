"""The speed mechanisms of the text parse (issue 16) give the answers of the code they stand for.

The layout answers kept per text (``layouts/lookups.py``), the shared cells and line locations of the
text readers, the rows and origins filled in one dict write: each is checked against what it
replaces, so a cache can never change a parse (the samples' expected parses check the whole).
"""

from __future__ import annotations

import pickle
from dataclasses import replace

import pytest

from goalforms.parsers.grid import Cell, Location, Origin, Row, line_location, plain_cell
from goalforms.parsers.layouts import LAYOUTS
from goalforms.parsers.layouts.lookups import lookups
from goalforms.parsers.layouts.spec import POSITION_ROLES
from goalforms.parsers.values import parse_money


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
