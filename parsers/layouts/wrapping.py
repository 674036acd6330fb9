"""The printed width of text in a space-aligned dump, and what stood where a line wrapped: shared by
the top-aligned joining (``continuation.py``), the centred rebuilding (``centred*.py``) and
flowing text (``flowing*.py``)."""

from __future__ import annotations

import unicodedata

import regex

_ASCII = regex.compile(r"[A-Za-z0-9%.)]")
_CJK = regex.compile(r"[\p{Han}\u3000-\u303f\uff00-\uffef]")
_SPACED_MIX = regex.compile(r"[A-Za-z0-9] \p{Han}|\p{Han} [A-Za-z0-9]")
_TIGHT_MIX = regex.compile(r"[A-Za-z0-9]\p{Han}|\p{Han}[A-Za-z0-9]")


def display_width(text: str) -> int:
    # Ambiguous-width characters (“ ” 、…) are set full width in Chinese text.
    return sum(2 if unicodedata.east_asian_width(ch) in "WFA" else 1 for ch in text)


def joiner(left: str, right: str) -> str:
    """What stood at the wrap: a space only between Latin words, or between Latin and Chinese
    where the cell itself writes them apart (``1 个工作日``) and never together."""
    if not left or not right:
        return ""
    a, b = left[-1], right[0]
    if _ASCII.match(a) and _ASCII.match(b):
        return " "
    if (_ASCII.match(a) and _CJK.match(b)) or (_CJK.match(a) and _ASCII.match(b)):
        spaced = _SPACED_MIX.search(left + right)
        tight = _TIGHT_MIX.search(left) or _TIGHT_MIX.search(right)
        return " " if spaced and not tight else ""
    return ""
