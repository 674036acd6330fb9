"""The intermediate grid every reader emits and every layout parser consumes.

A layout parser never knows which file format it reads: it sees rows of cells, each with
provenance (line for text; page/bbox for PDF; paragraph for Word; sheet and cell for spreadsheets).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import compress
from typing import Any, Generic, TypeVar, overload

_T = TypeVar("_T")


class _Kept(Generic[_T]):
    """A computed attribute of an immutable instance, kept in the instance's ``__dict__`` under
    its own name on first read: a non-data descriptor, so later reads find the instance's value
    first and call nothing."""

    def __init__(self, compute: Callable[[Any], _T]) -> None:
        self.compute = compute
        self.name = compute.__name__
        self.__doc__ = compute.__doc__

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> _Kept[_T]: ...
    @overload
    def __get__(self, instance: object, owner: type | None = None) -> _T: ...

    def __get__(self, instance: object | None, owner: type | None = None) -> _T | _Kept[_T]:
        if instance is None:
            return self
        value = instance.__dict__[self.name] = self.compute(instance)
        return value


@dataclass(frozen=True, init=False)
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

    # One per line of a dump (and per row of every other reader): one dict write (see Row).
    def __init__(self, line: int | None = None, page: int | None = None,
                 bbox: tuple[float, float, float, float] | None = None, paragraph: int | None = None,
                 table: int | None = None, row: int | None = None, sheet: str | None = None,
                 cell: str | None = None) -> None:
        fields = self.__dict__
        fields["line"] = line
        fields["page"] = page
        fields["bbox"] = bbox
        fields["paragraph"] = paragraph
        fields["table"] = table
        fields["row"] = row
        fields["sheet"] = sheet
        fields["cell"] = cell

    def __str__(self) -> str:
        # Printed for every value and issue of a form, and a text dump's line locations are
        # shared by all its rows (readers/text.py): formatted once, kept in the instance (not a
        # field: equality and hashing are as before).
        cached: str | None = self.__dict__.get("_text")
        if cached is None:
            cached = self.__dict__["_text"] = self._format()
        return cached

    def __getstate__(self) -> dict[str, object]:
        # Only the fields travel in a pickle (a parse sent back by a worker), not what the
        # instance keeps for speed (its text, the origins of its cells: see Origin.of).
        return {name: value for name, value in self.__dict__.items() if not name.startswith("_")}

    def _format(self) -> str:
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


# Text dumps repeat their texts line after line and form after form (labels, empty cells), and
# every file has a line 1, 2, 3 …: cells and locations are immutable and equal by value, so the
# text readers build each one once per process (bounded caches).
@lru_cache(maxsize=1 << 14)
def line_location(line: int, page: int | None = None) -> Location:
    return Location(line=line, page=page)


@dataclass(frozen=True)
class Note:
    """Something the reader saw and the parse should report (a hidden sheet it skipped, a number
    that holds more than it prints): ``code`` names the kind, ``where`` the place when there is one."""

    code: str
    message: str
    where: Location | None = None


@dataclass(frozen=True, init=False)
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

    # A dump's cells are made by the thousand per file (every line's cells, blank ones included):
    # one dict write each instead of a frozen dataclass's seven object.__setattr__ calls (see Row).
    def __init__(self, text: str, col: int, row_span: int = 1, col_span: int = 1, confidence: float | None = None,
                 doubt: str | None = None, bbox: tuple[float, float, float, float] | None = None) -> None:
        fields = self.__dict__
        fields["text"] = text
        fields["col"] = col
        fields["row_span"] = row_span
        fields["col_span"] = col_span
        fields["confidence"] = confidence
        fields["doubt"] = doubt
        fields["bbox"] = bbox

    @property
    def blank(self) -> bool:
        return not self.text.strip()


@lru_cache(maxsize=1 << 14)
def plain_cell(text: str, col: int) -> Cell:
    """A cell with no span, box, confidence or doubt (see line_location)."""
    return Cell(text, col)


# Rows and origins are made by the hundred per form: their __init__ fills the instance's dict at
# once instead of the five object.__setattr__ calls a frozen dataclass's generated __init__ makes
# (half the cost). The parameters are the fields, in their order, with their defaults.
@dataclass(frozen=True, init=False)
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

    def __init__(self, cells: tuple[Cell, ...], where: Location, in_table: bool = True, soft: bool = False,
                 flowing: bool = False) -> None:
        fields = self.__dict__
        fields["cells"] = cells
        fields["where"] = where
        fields["in_table"] = in_table
        fields["soft"] = soft
        fields["flowing"] = flowing

    # A row is immutable and the layout parsers ask for its filled cells and texts thousands of
    # times per file: computed once (both in one pass over the cells, each text stripped once),
    # kept in the instance under the attribute's own name (not a dataclass field, so equality
    # and replace() are as before): ``_Kept`` is a descriptor without ``__set__``, so once kept
    # the instance's value is read like a plain attribute, with no call at all (a property is
    # called on every read; functools.cached_property takes a lock per call).
    @_Kept
    def filled(self) -> tuple[Cell, ...]:
        return self._fill()[0]

    @property
    def blank(self) -> bool:
        return not self.filled

    @_Kept
    def filled_texts(self) -> tuple[str, ...]:
        """The texts of the filled cells as printed (not stripped): a key for the answers that
        depend on them only (``layouts/lookups.py``)."""
        return tuple(cell.text for cell in self.filled)

    @_Kept
    def joined(self) -> str:
        """The stripped texts of the filled cells run together (``text("")``): asked of every
        row by the report search, the recogniser and the document check."""
        return "".join(self._texts())

    def text(self, sep: str = " ") -> str:
        if not sep:
            return self.joined
        return sep.join(self._texts())

    def _texts(self) -> tuple[str, ...]:
        cached: tuple[str, ...] | None = self.__dict__.get("_stripped_texts")
        return self._fill()[1] if cached is None else cached

    def _fill(self) -> tuple[tuple[Cell, ...], tuple[str, ...]]:
        cells: list[Cell] = []
        texts: list[str] = []
        for cell in self.cells:
            text = cell.text.strip()
            if text:  # not Cell.blank
                cells.append(cell)
                texts.append(text)
        filled = self.__dict__["filled"] = tuple(cells)
        stripped = self.__dict__["_stripped_texts"] = tuple(texts)
        return filled, stripped


# (Fewer than the cells and locations: an entry holds a whole line's row, about a KiB; 4 MiB at most.)
@lru_cache(maxsize=1 << 12)
def _tab_line(line: str) -> dict[str, object]:
    """The instance dict of a tab-separated line's row but its ``where``: the fields as
    Row.__init__ sets them (a table row when the line holds a tab) and what the row keeps for
    speed — its filled cells and their stripped texts (Row._fill), those texts run together
    (Row.text("")), the filled cells' texts as printed (Row.filled_texts). See line_location:
    the lines of dumps repeat from form to form."""
    parts = line.split("\t")
    cells = tuple(map(plain_cell, parts, range(len(parts))))
    # Each text stripped once; the filled cells (a non-blank stripped text) picked by C-level
    # iterators, not a Python loop over the cells (most cells of a dump are blank). A cell's text
    # is its part of the line.
    stripped = list(map(str.strip, parts))
    texts = tuple(filter(None, stripped))
    return {"cells": cells, "in_table": len(cells) > 1, "soft": False, "flowing": False,
            "filled": tuple(compress(cells, stripped)), "_stripped_texts": texts, "joined": "".join(texts),
            "filled_texts": tuple(compress(parts, stripped))}


def tab_row(line: str, where: Location) -> Row:
    """The row of a tab-separated line, its filled cells and texts already known."""
    row: Row = object.__new__(Row)
    fields = row.__dict__
    fields.update(_tab_line(line))
    fields["where"] = where
    return row


@dataclass
class Grid:
    path: str
    format: str
    sha256: str
    rows: list[Row] = field(default_factory=list)
    # What the reader noticed but the rows cannot show (spreadsheets: hidden sheets skipped,
    # numbers rounded to what their format prints): the parse stage turns them into issues.
    notes: list[Note] = field(default_factory=list)


_BOX = tuple[float, float, float, float]


@dataclass(frozen=True, init=False)
class Origin:
    """Where one parsed value came from: its row's location, and the cell that held it (column,
    box on the page, OCR confidence, the reader's doubt). The layout parser records it where it
    takes a cell for a value, so later stages (the OCR doubt check, the store, the clerk page)
    never look for the cell again."""

    where: Location
    col: int | None = None
    bbox: _BOX | None = None
    confidence: float | None = None
    doubt: str | None = None

    def __init__(self, where: Location, col: int | None = None, bbox: _BOX | None = None,
                 confidence: float | None = None, doubt: str | None = None) -> None:
        fields = self.__dict__  # see Row.__init__
        fields["where"] = where
        fields["col"] = col
        fields["bbox"] = bbox
        fields["confidence"] = confidence
        fields["doubt"] = doubt

    @classmethod
    def of(cls, row: Row, cell: Cell | None = None) -> Origin:
        where = row.where
        if cell is None:
            return cls(where, bbox=where.bbox)
        if cell.bbox is None and cell.confidence is None and cell.doubt is None:
            # A plain cell (a text dump's, a Word table's): its origin is its place only, and
            # origins are immutable, so one serves every value read there; kept with the place
            # (a text dump's line locations are shared, see line_location).
            shared: dict[int, Origin] | None = where.__dict__.get("_origins")
            if shared is None:
                shared = where.__dict__["_origins"] = {}
            origin = shared.get(cell.col)
            if origin is None:
                origin = shared[cell.col] = cls(where, cell.col, where.bbox)
            return origin
        return cls(where, cell.col, cell.bbox or where.bbox, cell.confidence, cell.doubt)

    @classmethod
    def of_location(cls, where: Location) -> Origin:
        """A value known only by its row."""
        return cls(where, bbox=where.bbox)

    @classmethod
    def joined(cls, origins: list[Origin]) -> Origin | None:
        """One value read from several cells (a 三级 name in two cells): the first cell's place,
        the box around all, the lowest confidence, every doubt."""
        if not origins:
            return None
        if len(origins) == 1 and origins[0].doubt != "":  # the usual one cell: itself ("" doubt: None)
            return origins[0]
        first = origins[0]
        boxes = [o.bbox for o in origins if o.bbox is not None]
        bbox = (min(b[0] for b in boxes), min(b[1] for b in boxes),
                max(b[2] for b in boxes), max(b[3] for b in boxes)) if boxes else None
        confidences = [o.confidence for o in origins if o.confidence is not None]
        doubts = [o.doubt for o in origins if o.doubt]
        return cls(first.where, first.col, bbox, min(confidences) if confidences else None,
                   "; ".join(doubts) or None)

    @property
    def cell_ref(self) -> str | None:
        """Spreadsheets: the A1 reference of the value's own cell (the row's location names the
        row's first filled cell)."""
        if self.where.sheet is None or self.where.cell is None:
            return None
        if self.col is None:
            return self.where.cell
        digits = "".join(ch for ch in self.where.cell if ch.isdigit())
        return f"{column_letters(self.col)}{digits}"

    def to_dict(self) -> dict[str, object]:
        """The contract's form of an origin (``forms[].sources``, ``indicators[].origin``): only
        the keys that apply to the file's format."""
        w = self.where
        out: dict[str, object] = {
            "page": w.page, "bbox": [round(v, 2) for v in self.bbox] if self.bbox else None,
            "sheet": w.sheet, "cell": self.cell_ref, "line": w.line, "paragraph": w.paragraph,
            "table": w.table, "row": w.row, "col": self.col,
            "confidence": round(self.confidence, 3) if self.confidence is not None else None,
            "doubt": self.doubt,
        }
        return {key: value for key, value in out.items() if value is not None}


def column_letters(col: int) -> str:
    """A 0-based column number as a spreadsheet writes it (0 → A, 26 → AA)."""
    letters = ""
    col += 1
    while col:
        col, rest = divmod(col - 1, 26)
        letters = chr(65 + rest) + letters
    return letters
