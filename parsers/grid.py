"""The intermediate grid every reader emits and every layout parser consumes.

A layout parser never knows which file format it reads: it sees rows of cells, each with
provenance (line for text; page/bbox for PDF; paragraph for Word; sheet and cell for spreadsheets).
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
    # Spreadsheets: the sheet's name and an A1 reference (a row's first filled cell); printed as
    # Excel writes a reference, ``表1!C7`` (the name quoted when it holds spaces or punctuation).
    sheet: str | None = None
    cell: str | None = None

    def __str__(self) -> str:
        if self.sheet is not None:
            return f"{sheet_ref(self.sheet)}!{self.cell or 'A1'}"
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


def sheet_ref(name: str) -> str:
    """A sheet name as a reference prints it: quoted (quotes doubled) unless letters, digits, _ only."""
    if name and all(ch.isalnum() or ch == "_" for ch in name):
        return name
    return "'" + name.replace("'", "''") + "'"


@dataclass(frozen=True)
class Note:
    """Something the reader saw and the parse should report (a hidden sheet it skipped, a number
    that holds more than it prints): ``code`` names the kind, ``where`` the place when there is one."""

    code: str
    message: str
    where: Location | None = None


@dataclass(frozen=True)
class Cell:
    text: str
    col: int
    row_span: int = 1
    col_span: int = 1
    # OCR: the probability of the cell's least certain character, and why the reader doubts the
    # text (a confusion it could not repair, a low confidence) — None when it does not.
    # Spreadsheets set ``doubt`` when a number holds more than its format prints (1094910000.0001
    # shown as 1,094,910,000.00): the text is what the sheet prints, the doubt says what it holds.
    confidence: float | None = None
    doubt: str | None = None
    # PDF and scans: the cell's box on its page (PDF points; x0, top, x1, bottom), for drawing what
    # was read (``goalforms debug``). Not part of a cell's identity: equal texts are equal cells.
    bbox: tuple[float, float, float, float] | None = field(default=None, compare=False)

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
    # A line of flowing text (copy-paste, pdftotext without -layout): cells run together, split by the layout.
    flowing: bool = False

    @property
    def filled(self) -> list[Cell]:
        return [c for c in self.cells if not c.blank]

    @property
    def blank(self) -> bool:
        return not self.filled

    def text(self, sep: str = " ") -> str:
        return sep.join(c.text.strip() for c in self.filled)


@dataclass
class Grid:
    path: str
    format: str
    sha256: str
    rows: list[Row] = field(default_factory=list)
    # What the reader noticed but the rows cannot show (spreadsheets: hidden sheets skipped,
    # numbers rounded to what their format prints): the parse stage turns them into issues.
    notes: list[Note] = field(default_factory=list)
