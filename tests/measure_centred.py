"""Measure the parse of samples against their expected parse: exact / flagged / wrong-unflagged.

    .venv/bin/python -m tests.measure_centred samples/layout-centred samples/pdf-centred

A value is *exact* when it equals the expected one, *flagged* when it differs but an issue names
its field (or its indicator row), *wrong* otherwise (the worst defect: must be 0).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from goalforms.pipeline import parse_file

IND_KEYS = ("level1", "level2", "level3", "raw", "kind", "op", "value", "unit")


def _flagged(issues: list[dict[str, Any]], field: str) -> bool:
    for issue in issues:
        f = issue.get("field") or ""
        if issue.get("code") == "truncated_columns" or f == field or field.startswith(f + ".") or f.startswith(field + "."):
            return True
    return False


def measure(sample: Path, expected_path: Path) -> dict[str, list[int]]:
    expected = json.loads(expected_path.read_text(encoding="utf-8"))
    actual = parse_file(sample).to_dict()
    counts = {"indicators": [0, 0, 0], "header/budget": [0, 0, 0]}
    forms = actual["forms"]
    for n, want in enumerate(expected["forms"]):
        got = forms[n] if n < len(forms) else {"header": {}, "budget": {}, "indicators": [], "issues": []}
        issues = got["issues"]
        for part in ("header", "budget"):
            for key, value in want[part].items():
                have = got[part].get(key)
                slot = 0 if have == value else 1 if _flagged(issues, f"{part}.{key}") else 2
                counts["header/budget"][slot] += 1
        for i, w in enumerate(want["indicators"]):
            g = got["indicators"][i] if i < len(got["indicators"]) else {}
            same = all(g.get(k) == w.get(k) for k in IND_KEYS)
            slot = 0 if same else 1 if _flagged(issues, f"indicators[{i}]") else 2
            counts["indicators"][slot] += 1
        extra = len(got["indicators"]) - len(want["indicators"])
        if extra > 0:
            counts["indicators"][2] += extra
    if len(forms) != len(expected["forms"]):
        print(f"  {sample.name}: {len(forms)} forms, expected {len(expected['forms'])}")
    return counts


def main(folders: list[str]) -> None:
    for folder in folders:
        for expected_path in sorted(Path(folder).glob("*.expected.json")):
            stem = expected_path.name.removesuffix(".expected.json")
            sample = next(p for p in expected_path.parent.iterdir() if p.stem == stem and not p.name.endswith(".json"))
            counts = measure(sample, expected_path)
            print(f"{folder}/{sample.name}: " + "; ".join(
                f"{k} exact {v[0]} flagged {v[1]} wrong-unflagged {v[2]}" for k, v in counts.items()))


if __name__ == "__main__":
    main(sys.argv[1:])
