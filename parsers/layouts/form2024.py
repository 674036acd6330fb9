"""Layout 2024: 财政项目支出绩效目标申报表 (the 2024 and 2026 forms). Grid header, a 项目资金
block, goals printed below their label row (text blocks), then the 一级指标/二级指标/三级指标/
年度(/项目)指标值 table with a side label 绩效指标. All of it is data in ``layout2024.toml``."""

from __future__ import annotations

from goalforms.parsers.layouts.base import LayoutParser
from goalforms.parsers.layouts.spec import load_spec


class Form2024Parser(LayoutParser):
    spec = load_spec("layout2024.toml")
