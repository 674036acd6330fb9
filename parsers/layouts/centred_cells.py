"""The pieces of a centred ``pdftotext -layout`` dump: runs of text with their line and column,
cells stacked from them, and the placements a rebuild could not make with certainty."""

from __future__ import annotations

from dataclasses import dataclass, field

from goalforms.parsers.grid import Location, Row
from goalforms.parsers.layouts.wrapping import joiner

SLACK = 3  # columns: a centred label starts a little left or right of its column


@dataclass(frozen=True)
class Placement:
    """An inferred placement the parser must flag: ``field`` is relative to the indicator at
    ``where`` (``level1``, ``level2``, ``level3``, ``raw``) or absolute (``header.project_name``)."""

    where: Location
    field: str
    message: str


@dataclass
class Piece:
    line: int  # index in the form's rows
    col: int
    text: str
    page: int

    @property
    def end(self) -> int:
        # Columns of a dump count characters, wide or not.
        return self.col + len(self.text)


@dataclass
class Stack:
    """Pieces of one cell, top to bottom."""

    pieces: list[Piece] = field(default_factory=list)

    @property
    def top(self) -> int:
        return self.pieces[0].line

    @property
    def bottom(self) -> int:
        return self.pieces[-1].line

    @property
    def centre(self) -> float:
        return (self.top + self.bottom) / 2

    @property
    def col(self) -> int:
        return min(p.col for p in self.pieces)

    @property
    def text(self) -> str:
        out = ""
        for piece in self.pieces:
            out += joiner(out, piece.text) + piece.text
        return out


def pieces_of(row: Row, index: int) -> list[Piece]:
    return [Piece(index, c.col, c.text, row.where.page or 1) for c in row.filled]


def overlaps(a: Piece, b: Piece) -> bool:
    return a.col < b.end + SLACK and b.col < a.end + SLACK


