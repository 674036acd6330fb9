"""The intermediate grid every reader emits and every layout parser consumes.

A layout parser never knows which file format it reads: it sees rows of cells, each with
provenance (line for text; page/bbox for PDF; paragraph for Word).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Location:
    """Where something sits in the source file."""

    line: int | None = None
    page: int | None = None
    bbox: tuple[float, float, float, float] | None = None
    paragraph: int | None = None
    table: int | None = None
    row: int | None = None

    def __str__(self) -> str:
        parts = []
        if self.page is not None:
            parts.append(f"page {self.page}")
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.paragraph is not None:
            parts.append(f"paragraph {self.paragraph}")
        if self.table is not None:
            parts.append(f"table {self.table}")
        if self.row is not None:
            parts.append(f"row {self.row}")
        return ", ".join(parts) or "unknown location"


@dataclass(frozen=True)
class Cell:
    text: str
    col: int
    row_span: int = 1
    col_span: int = 1
    # OCR only: the probability of the cell's least certain character, and why the reader
    # doubts the text (a confusion it could not repair, a low confidence) — None when it does not.
    confidence: float | None = None
    doubt: str | None = None

    @property
    def blank(self) -> bool:
        return not self.text.strip()


@dataclass(frozen=True)
class Row:
    cells: tuple[Cell, ...]
    where: Location
    # True when the row came from a table (a tab-separated line, a Word/PDF table row);
    # free lines (titles, fragments dumped after a table) are False.
    in_table: bool = True
    # A visual line of a space-aligned dump: it may be the wrapped rest of the row above,
    # which only the layout parser (knowing the labels) can decide.
    soft: bool = False

    @property
    def filled(self) -> list[Cell]:
        return list(self._filled)

    # A row is immutable and the layout parsers ask for its filled cells and texts thousands of
    # times per file: computed once, kept in the instance (not a dataclass field, so equality,
    # replace() and pickling are as before; functools.cached_property takes a lock per call).
    @property
    def _filled(self) -> tuple[Cell, ...]:
        cached: tuple[Cell, ...] | None = self.__dict__.get("_filled_cells")
        if cached is None:
            cached = self.__dict__["_filled_cells"] = tuple(c for c in self.cells if not c.blank)
        return cached

    @property
    def blank(self) -> bool:
        return not self._filled

    @property
    def _stripped(self) -> tuple[str, ...]:
        cached: tuple[str, ...] | None = self.__dict__.get("_stripped_texts")
        if cached is None:
            cached = self.__dict__["_stripped_texts"] = tuple(c.text.strip() for c in self._filled)
        return cached

    def text(self, sep: str = " ") -> str:
        return sep.join(self._stripped)


@dataclass
class Grid:
    path: str
    format: str
    sha256: str
    rows: list[Row] = field(default_factory=list)
