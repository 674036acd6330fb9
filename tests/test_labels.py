"""Label repair and text cleaning, table-driven."""

from __future__ import annotations

import pytest

from goalforms.parsers.labels import clean_text, compact
from goalforms.parsers.layouts.discovery import spec_by_name as load_spec

V2024 = load_spec("layout2024.toml").vocabulary
V2020 = load_spec("layout2020.toml").vocabulary

REPAIRS = [
    # vocabulary, printed cell, level, full name
    (V2024, "经济成本 指标", 2, "经济成本指标"),
    (V2024, "满意度指 标", 1, "满意度指标"),
    (V2024, "服务对象 满意度指 标", 2, "服务对象满意度指标"),
    (V2024, "服务对象满意度指", 2, "服务对象满意度指标"),
    (V2024, "社会效益", 2, "社会效益指标"),
    (V2024, "生态环境 成本指标", 2, "生态环境成本指标"),
    (V2024, "可持续影响 指标", 2, "可持续影响指标"),
    (V2024, "绩效 指标", None, None),  # the side label is not a level
    (V2024, "成本控制有效性", None, None),
    (V2020, "社会效益", 2, "社会效益"),
    (V2020, "其它", 2, "其它"),
    (V2020, "其他", 2, "其他"),
    (V2020, "投入与管理", 1, "投入与管理"),
    (V2020, "预算执行率", None, None),
]


@pytest.mark.parametrize(("vocab", "cell", "level", "name"), REPAIRS, ids=[r[1] for r in REPAIRS])
def test_label_lookup(vocab, cell: str, level: int | None, name: str | None) -> None:  # type: ignore[no-untyped-def]
    hit = vocab.lookup(cell)
    assert (hit.level, hit.name) == (level, name) if hit else (level, name) == (None, None)


@pytest.mark.parametrize("cell", ["指标", "标", " 指标 "])
def test_wrap_fragments(cell: str) -> None:
    assert V2024.is_wrap_fragment(cell)


def test_a_level3_name_is_no_wrap_fragment() -> None:
    assert not V2024.is_wrap_fragment("政策知晓度")


def test_dimensions_are_layout_independent() -> None:
    assert V2020.dimension_of("效果目标", "满意度") == V2024.dimension_of("满意度指标", "服务对象满意度指标") == "satisfaction"
    assert V2020.dimension_of("产出目标", "数量") == V2024.dimension_of("产出指标", "数量指标") == "output.quantity"
    assert V2020.dimension_of("影响力目标", "长效管理") == V2024.dimension_of("效益指标", "可持续影响指标")


TEXTS = [
    ("2026 年度", "2026年度"),
    ("人社 CA 自助经办平台", "人社CA自助经办平台"),
    ("维护劳动者, 用人单位", "维护劳动者,用人单位"),
    ("有责投 诉处置率达100%", "有责投诉处置率达100%"),
    ("<p>第一段。</p> <p>第二段</p>", "第一段。\n第二段"),
    ("V3.0 社保", "V3.0社保"),
    ("plain  ascii words", "plain ascii words"),
    ("  “钉钉” 移动平台 ", "“钉钉”移动平台"),
]


@pytest.mark.parametrize(("raw", "cleaned"), TEXTS, ids=[t[0] for t in TEXTS])
def test_clean_text(raw: str, cleaned: str) -> None:
    assert clean_text(raw) == cleaned


def test_compact_removes_all_whitespace_and_tags() -> None:
    assert compact(" 服务对象 满意度指 标 ") == "服务对象满意度指标"
    assert compact("<p>社会 效益</p>") == "社会效益"
