"""Label knowledge: cleaning names, matching header labels, and the level vocabulary.

Extraction inserts whitespace inside CJK text, wraps labels onto a second line (``满意度指 标``,
``社会效益`` + ``指标``) and cuts them (``服务对象满意度指``). The functions here undo that against
the vocabulary of a layout, which is data (``layouts/*.toml``), not code.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import regex

_WHITESPACE = regex.compile(r"\s+")
_HTML_TAG = regex.compile(r"<[^<>]{0,200}>")
# Paragraph and line breaks inside HTML become a newline, other tags vanish.
_HTML_BREAK = regex.compile(r"</p>\s*<p[^<>]*>|<br\s*/?>", regex.IGNORECASE)
# CJK ideographs, CJK and full-width punctuation, curly quotes: whitespace touching them was
# inserted by extraction (Chinese is written without spaces).
_CJK = r"[\p{Han}\u3000-\u303f\uff00-\uffef\u2018-\u201f\u2026\u2014]"
_CJK_GAP = regex.compile(rf"(?<={_CJK})[^\S\n]+|[^\S\n]+(?={_CJK})")
_INLINE_SPACE = regex.compile(r"[^\S\n]+")
_SEPARATOR = regex.compile(r"^[-=_—－\s|+]+$")


# The same cell text is compacted many times while a form is parsed (each layout's labels and
# titles are tried against it, then the table's columns and the vocabulary): the results are
# cached per process. Bounded, so that a long import keeps a flat memory (a few MiB at most;
# free texts, long and rarely repeated, get a smaller cache than names).
_CACHE = 1 << 14


def strip_html(text: str) -> str:
    if "<" not in text:  # both patterns start with "<": most cells hold no tag
        return text
    text = _HTML_BREAK.sub("\n", text)
    return _HTML_TAG.sub("", text)


@lru_cache(maxsize=1 << 12)
def clean_text(text: str) -> str:
    """Free text as the contract wants it: tags removed, extraction whitespace in CJK removed."""
    text = strip_html(text)
    text = _CJK_GAP.sub("", text)
    text = _INLINE_SPACE.sub(" ", text)
    lines = [line.strip() for line in text.split("\n")]
    return "\n".join(line for line in lines if line)


@lru_cache(maxsize=_CACHE)
def compact(text: str) -> str:
    """A name with every whitespace removed (level names, labels)."""
    return _WHITESPACE.sub("", strip_html(text))


@lru_cache(maxsize=_CACHE)
def is_separator(text: str) -> bool:
    """A stray ruling line left by extraction (``-------``)."""
    return bool(text.strip()) and bool(_SEPARATOR.match(text))


def label_body(label: str, skip_spaces: bool = False) -> str:
    """A label as a regular expression: any whitespace between its characters, either width of
    colon and bracket. ``skip_spaces``: whitespace printed inside the label is not required."""
    parts = []
    for ch in label:
        if ch in "：:":
            parts.append(r"[：:]")
        elif ch in "(（":
            parts.append(r"[(（]")
        elif ch in ")）":
            parts.append(r"[)）]")
        elif not (skip_spaces and ch.isspace()):
            parts.append(regex.escape(ch))
    return r"\s*".join(parts)


def label_pattern(label: str) -> regex.Pattern[str]:
    """A tolerant pattern for a header label at the start of a cell.

    Matches the label with any whitespace between its characters, either colon or bracket width,
    an optional ``*`` (required field marker) and an optional ``(元)`` unit, followed by a colon
    or the end of the label. The rest of the cell is the value (group ``rest``).
    """
    body = label_body(label)
    tail = r"\s*\*?\s*(?:[(（]\s*元\s*[)）])?\s*\*?\s*(?:[：:]|(?=\s)|$)"
    return regex.compile(rf"^\s*{body}{tail}\s*(?P<rest>.*)$", regex.DOTALL)


@dataclass(frozen=True)
class LabelHit:
    level: int  # 1 or 2
    name: str  # the full vocabulary name
    repaired: bool  # the cell held a cut or wrapped form of the name


class Vocabulary:
    """Level-1 and level-2 names of one layout, with the dimension of each level-2 name."""

    def __init__(self, tree: dict[str, dict[str, str]]) -> None:
        self.parent: dict[str, str] = {}
        self.dimension: dict[tuple[str, str], str] = {}
        self.level1 = list(tree)
        for level1, children in tree.items():
            for level2, dimension in children.items():
                self.parent[level2] = level1
                self.dimension[(level1, level2)] = dimension
        self._names = {name: 1 for name in self.level1} | {name: 2 for name in self.parent}
        # Proper suffixes of names (``指标``, ``标``): the second line of a wrapped label.
        self._suffixes = {
            name[i:] for name in self._names for i in range(1, len(name)) if len(name) - i <= 3
        } - set(self._names)
        # Every cell of an indicator table is looked up, in every form; most are not names, and
        # the same names recur (LabelHit is frozen, so one answer serves every cell of that text).
        self._cut = lru_cache(maxsize=_CACHE)(self._cut_name)
        self.lookup = lru_cache(maxsize=_CACHE)(self.lookup)  # type: ignore[method-assign]

    def lookup(self, text: str) -> LabelHit | None:
        """The vocabulary name a cell stands for, restoring wrapped and cut names."""
        key = compact(text).rstrip("*:：")
        if not key:
            return None
        level = self._names.get(key)
        if level is not None:
            return LabelHit(level, key, repaired=compact(text) != text.strip())
        # A cut name (``服务对象满意度指``, ``社会效益`` in a 2024 table): a unique proper prefix.
        if len(key) >= 3:
            return self._cut(key)
        return None

    def _cut_name(self, key: str) -> LabelHit | None:
        matches = [name for name in self._names if name.startswith(key) and name != key]
        if len(matches) == 1:
            return LabelHit(self._names[matches[0]], matches[0], repaired=True)
        return None

    def is_wrap_fragment(self, text: str) -> bool:
        """A cell holding only the wrapped tail of a label (``指标`` under ``社会效益``)."""
        return compact(text) in self._suffixes

    def dimension_of(self, level1: str | None, level2: str | None) -> str | None:
        if level1 is None or level2 is None:
            return None
        return self.dimension.get((level1, level2))
