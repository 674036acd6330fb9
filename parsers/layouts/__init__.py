"""Layout parsers: one generic parser per layout, each layout a TOML file (``docs/layouts.md``).

Contract (every layout parser): ``parse(rows) -> RawForm`` for the rows of one form, from its
title row to the row before the next form. It never raises on damaged input: what it cannot
recover it reports as issues on the form. ``LAYOUTS`` maps layout id → parser; it holds the
built-in layouts and the user's (``discovery.py``) and is refreshed in place.
"""

from __future__ import annotations

from goalforms.parsers.layouts.base import LayoutParser
from goalforms.parsers.layouts.discovery import LAYOUTS, refresh
from goalforms.parsers.layouts.raw import RawForm, RawIndicator, RawIssue, RawValue

refresh(tolerant=True)

__all__ = ["LAYOUTS", "LayoutParser", "RawForm", "RawIndicator", "RawIssue", "RawValue"]
