"""Space-aligned text (``pdftotext -layout`` dumps): columns aligned with spaces, not tabs.

Each line becomes a row whose cells are the runs of text separated by two or more spaces, with
the character position of each run as its column, and its page (form feeds). A cell that wrapped
in the original continues on the following lines; rows are therefore marked ``soft`` and the
layout parser, which knows the labels, rebuilds the table rows (``parsers/layouts/continuation.py``):
it joins continuation lines to the row above in a top-aligned dump, and rebuilds each row from
the lines above and below its short cells when the table's cells were vertically centred
(``parsers/layouts/centred.py``). Blank lines are kept: they are vertical space in the table.
"""

from __future__ import annotations

import regex

from goalforms.parsers.grid import Row, line_location, plain_cell

_RUN = regex.compile(r"\S+(?: \S+)*")
_ALIGNED = regex.compile(r"\S {2,}\S")


def looks_space_aligned(lines: list[str]) -> bool:
    """No tabs, and a good share of the lines hold several runs separated by wide gaps."""
    filled = [line for line in lines if line.strip()]
    if not filled or any("\t" in line for line in filled):
        return False
    aligned = sum(1 for line in filled if _ALIGNED.search(line))
    return aligned >= max(3, len(filled) // 5)


def rows(lines: list[str]) -> list[Row]:
    """One soft row per line; a form feed starts a new page."""
    out: list[Row] = []
    page = 1
    for number, line in enumerate(lines, start=1):
        if "\f" in line:
            page += line.count("\f")
            line = line.replace("\f", "")
        cells = tuple(plain_cell(m.group(), m.start()) for m in _RUN.finditer(line))
        out.append(Row(cells, line_location(number, page), in_table=True, soft=True))
    return out
