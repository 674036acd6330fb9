"""Layout parsers: one module per layout family, registered here by layout id.

Contract (every layout parser): ``parse(rows) -> RawForm`` for the rows of one form, from its
title row to the row before the next form. It never raises on damaged input: what it cannot
recover it reports as issues on the form.
"""

from __future__ import annotations

from goalforms.parsers.layouts.base import LayoutParser, RawForm, RawIndicator, RawIssue, RawValue
from goalforms.parsers.layouts.form2020 import Form2020Parser
from goalforms.parsers.layouts.form2024 import Form2024Parser

LAYOUTS: dict[str, LayoutParser] = {
    parser.spec.id: parser for parser in (Form2020Parser(), Form2024Parser())
}

__all__ = ["LAYOUTS", "LayoutParser", "RawForm", "RawIndicator", "RawIssue", "RawValue"]
