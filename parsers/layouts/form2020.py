"""Layout 2020: 财政项目支出绩效目标表. Header as key：value pairs, a budget block, then the
一级目标/二级目标/三级目标/指标目标值 table. Everything it needs is in ``layout2020.toml``;
the skeleton's stages fit it as they are."""

from __future__ import annotations

from goalforms.parsers.layouts.base import LayoutParser
from goalforms.parsers.layouts.spec import load_spec


class Form2020Parser(LayoutParser):
    spec = load_spec("layout2020.toml")
