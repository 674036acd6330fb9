"""A layout as data: its TOML file (titles, header labels, table header, vocabulary) loaded once."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

import regex

from goalforms.parsers.labels import Vocabulary, compact, label_pattern


@dataclass(frozen=True)
class LabelMatch:
    kind: str  # "field", "text_block", "budget" or "caption"
    name: str  # contract field name ("" for captions)
    rest: str  # text after the label in the same cell (the value, when present)


@dataclass
class LayoutSpec:
    id: str
    name: str
    titles: list[str]
    fields: dict[str, list[str]]
    text_blocks: dict[str, list[str]]
    budget: dict[str, list[str]]
    captions: list[str]
    table: dict[str, list[str]]
    vocabulary: Vocabulary
    _labels: list[tuple[regex.Pattern[str], str, str]] = field(default_factory=list, repr=False)
    # Speed (every cell of a form is tried against every label): the labels that can match a cell
    # starting with a given character, in the same order; and the column of each header name.
    _by_first: dict[str, list[tuple[regex.Pattern[str], str, str]]] = field(default_factory=dict, repr=False)
    _anywhere: list[tuple[regex.Pattern[str], str, str]] = field(default_factory=list, repr=False)
    _columns: dict[str, str] = field(default_factory=dict, repr=False)
    _target_prefixes: frozenset[str] = field(default_factory=frozenset, repr=False)

    def __post_init__(self) -> None:
        labels: list[tuple[str, str, str]] = []
        for kind, table in (("field", self.fields), ("text_block", self.text_blocks), ("budget", self.budget)):
            for name, spellings in table.items():
                labels += [(spelling, kind, name) for spelling in spellings]
        labels += [(caption, "caption", "") for caption in self.captions]
        # Longest first, so 项目资金总额 wins over 项目资金 and 同名项目上年预算执行数 over …预算额.
        labels.sort(key=lambda item: -len(compact(item[0])))
        self._labels = [(label_pattern(text), kind, name) for text, kind, name in labels]
        firsts = [_first_chars(text) for text, _, _ in labels]
        for key in {ch for chars in firsts if chars for ch in chars}:
            self._by_first[key] = [entry for entry, chars in zip(self._labels, firsts, strict=True)
                                   if not chars or key in chars]
        self._anywhere = [entry for entry, chars in zip(self._labels, firsts, strict=True) if not chars]
        for column, names in self.table.items():
            if column != "side_labels":
                for name in names:
                    self._columns.setdefault(name, column)
        self._target_prefixes = frozenset(name[:i] for name in self.table.get("target", [])
                                          for i in range(2, len(name) + 1))

    def match_label(self, text: str) -> LabelMatch | None:
        """The header/budget label a cell starts with, if any."""
        # A pattern matches from the first non-blank character (label_pattern: ``^\s*`` then the
        # label's first character), so only the labels starting with that character are tried.
        for pattern, kind, name in self._by_first.get(text.lstrip()[:1], self._anywhere):
            m = pattern.match(text)
            if m:
                return LabelMatch(kind, name, m.group("rest").strip())
        return None

    def is_title(self, text: str) -> bool:
        return compact(text) in self.titles

    def table_column(self, text: str) -> tuple[str, bool] | None:
        """Which table-header column a cell names, and whether the name was cut short (``指标``
        for ``指标目标值``: the cells of that column lost their right part)."""
        key = compact(text)
        if not key:
            return None
        column = self._columns.get(key)
        if column is not None:
            return column, False
        # Only the target column is printed last, so only its header can lose its right part.
        if key in self._target_prefixes:  # a name of two or more characters that starts a target name
            return "target", True
        return None

    @property
    def side_labels(self) -> list[str]:
        return self.table.get("side_labels", [])


def _first_chars(label: str) -> frozenset[str]:
    """The characters a cell matching ``label_pattern(label)`` can start with (after blanks);
    empty when the label is blank (then it is tried on every cell)."""
    first = label.lstrip()[:1]
    for variants in ("：:", "(（", ")）"):
        if first and first in variants:
            return frozenset(variants)
    return frozenset(first)


def _load(name: str) -> LayoutSpec:
    data = tomllib.loads(resources.files(__package__).joinpath(name).read_text(encoding="utf-8"))
    return LayoutSpec(
        id=data["id"],
        name=data["name"],
        titles=[compact(t) for t in data["titles"]],
        fields=data.get("fields", {}),
        text_blocks=data.get("text_blocks", {}),
        budget=data.get("budget", {}),
        captions=data.get("captions", {}).get("labels", []),
        table={k: [compact(v) for v in vs] for k, vs in data["table"].items()},
        vocabulary=Vocabulary(data["vocabulary"]),
    )


@cache
def load_spec(name: str) -> LayoutSpec:
    """Load ``layouts/<name>`` (a TOML file shipped with the package)."""
    return _load(name)
