"""What a layout parser produces, before normalising: values as printed, with where they were.

Kept apart from the parser (``base.py``) so that every part of it — the indicator table, the
money and task blocks, the wrapped-line joining, flowing text — can build them without importing
the parser that imports them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from goalforms.parsers.grid import Location, Origin


@dataclass(frozen=True, init=False)
class RawValue:
    text: str
    where: Location
    unit: str = "元"  # money printed in a 万元 block is read × 10000
    # The cell it was read from (None: only its row is known).
    origin: Origin | None = None

    # Made for every header and budget value: filled in one dict write, as Row (grid.py).
    def __init__(self, text: str, where: Location, unit: str = "元", origin: Origin | None = None) -> None:
        fields = self.__dict__
        fields["text"] = text
        fields["where"] = where
        fields["unit"] = unit
        fields["origin"] = origin


@dataclass
class RawIssue:
    code: str
    severity: str  # "error" (data missing or wrong) or "warning" (inferred, check it)
    message: str
    where: Location | None
    field: str | None = None


@dataclass
class RawIndicator:
    level1: str | None
    level2: str | None
    level3: str
    target: str
    where: Location
    dimension: str | None = None
    # Columns read by their header's position (None: the layout has no such column).
    actual: str | None = None
    weight: str | None = None
    score: str | None = None
    note: str | None = None
    prior_year: str | None = None
    period: str | None = None  # "long_term" | "annual" when the form has both tables
    # The cells each field was read from ("level1", "level3", "target", "actual" …).
    origins: dict[str, Origin] = field(default_factory=dict)


@dataclass
class RawForm:
    layout: str
    year: int | None
    where: Location
    header: dict[str, RawValue | None] = field(default_factory=dict)
    budget: dict[str, RawValue | None] = field(default_factory=dict)
    indicators: list[RawIndicator] = field(default_factory=list)
    issues: list[RawIssue] = field(default_factory=list)
    # The cells of the form lost their right part (cut-off columns): values may be incomplete.
    truncated: bool = False
    kind: str = "target"
    # Self-evaluation money rows: item -> column -> printed amount (``funds`` of the contract).
    funds: list[dict[str, RawValue | None]] = field(default_factory=list)
    # Department task rows: column -> printed value (``tasks`` of the contract).
    tasks: list[dict[str, RawValue | None]] = field(default_factory=list)
    points: dict[str, str] = field(default_factory=dict)  # 一级 name -> points printed in its label
