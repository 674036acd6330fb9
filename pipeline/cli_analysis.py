"""Analyst commands of the ``goalforms`` CLI (query, export, series)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the analyst commands to ``app``."""
