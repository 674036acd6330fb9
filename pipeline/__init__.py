"""Stages and orchestration: read → recognise → parse → normalise → validate → load.

Library first: the CLI (``cli.py``) only translates arguments, results and errors.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from goalforms.pipeline.parse import parse_file

__all__ = ["parse_file"]


def __getattr__(name: str) -> Any:
    # The parsers load on first use: commands that do not parse (``goalforms --help``, query,
    # serve) do not pay for compiling every layout's patterns.
    if name == "parse_file":
        from goalforms.pipeline.parse import parse_file

        return parse_file
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
