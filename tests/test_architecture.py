"""The layering the README promises, checked on the source files themselves."""

from __future__ import annotations

import re
from pathlib import Path

PARSERS = Path(__file__).resolve().parent.parent / "parsers"
_UPWARD = re.compile(r"goalforms\.(pipeline|schema)\b|from\s+goalforms\s+import\s+.*\b(pipeline|schema)\b")


def test_no_parser_module_imports_the_pipeline_or_the_schema() -> None:
    """Parsers are pure: not even a TYPE_CHECKING import reaches up into pipeline/ or schema/."""
    files = sorted(PARSERS.rglob("*.py"))
    assert len(files) > 20  # the directory was found
    offending = [f"{path.relative_to(PARSERS.parent)}:{n}: {line.strip()}"
                 for path in files
                 for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
                 if _UPWARD.search(line)]
    assert offending == []
