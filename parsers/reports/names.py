"""Project names and units compared across documents: a report on "2018年社会保险经办业务费" is about
the project whose target forms are filed as "社会保险经办业务费".

Pure functions, shared by the loader (which links reports to forms) and the ``project`` command.
"""

from __future__ import annotations

import regex

from goalforms.parsers.reports.text import compact

_YEAR_PREFIX = regex.compile(r"^\d{4}年度?")
_QUOTES = "“”\"'‘’「」『』《》"
_PROJECT_SUFFIX = regex.compile(r"(?:项目)$")


def project_key(name: str | None) -> str | None:
    """The name without whitespace, quotes, a leading year (``2018年``, ``2018年度``) and a
    trailing 项目: equal keys are the same project."""
    if not name:
        return None
    key = compact(name)
    while True:  # “2019年度…”项目: quotes, year and suffix peel off in any order
        peeled = _PROJECT_SUFFIX.sub("", _YEAR_PREFIX.sub("", key.strip(_QUOTES))).strip(_QUOTES)
        if peeled == key or not peeled:
            return key or None
        key = peeled


def name_match(a: str | None, b: str | None) -> str | None:
    """``exact`` (same name), ``near`` (same key) or None."""
    if not a or not b:
        return None
    if compact(a) == compact(b):
        return "exact"
    return "near" if project_key(a) == project_key(b) else None


def unit_match(a: str | None, b: str | None) -> str | None:
    """``exact`` (same unit, whitespace aside), ``unknown`` (one side names none) or None (two
    different units: not the same project)."""
    if not a or not b:
        return "unknown"
    return "exact" if compact(a) == compact(b) else None


def dice(a: str, b: str) -> float:
    """Dice coefficient of the distinct character bigrams of two names (as v_series uses)."""
    x = {a[i:i + 2] for i in range(len(a) - 1)}
    y = {b[i:i + 2] for i in range(len(b) - 1)}
    if a == b:
        return 1.0
    if not x or not y:
        return 0.0
    return 2 * len(x & y) / (len(x) + len(y))
