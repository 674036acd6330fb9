"""Every sample file parses to the expected JSON beside it (checked by hand against the source).

The expected files hold the contract's keys plus ``dimension``/``where``, and for issues the
code, severity, location and field (messages may be reworded freely).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from goalforms.parsers import readers
from goalforms.parsers.readers import legacy, scan
from goalforms.pipeline import parse_file
from tests.conftest import SAMPLES

EXPECTED = sorted(SAMPLES.rglob("*.expected.json"))
ISSUE_KEYS = ("code", "severity", "where", "field")


def _sample_for(expected: Path) -> Path:
    stem = expected.name.removesuffix(".expected.json")
    matches = [p for p in expected.parent.iterdir() if p.stem == stem and not p.name.endswith(".json")]
    assert len(matches) == 1, f"no single sample file for {expected}"
    return matches[0]


def _param(expected: Path) -> Any:
    """The sample as a test parameter, marked with what its reader needs: OCR for a scan, LibreOffice
    for a format it converts (.odt, .doc …), so that `make test-fast` can leave them out."""
    reader = readers.reader_for(_sample_for(expected))
    if reader is scan.read or expected.parent.name == "scan":
        return pytest.param(expected, marks=pytest.mark.scan)
    if reader is legacy.read:
        return pytest.param(expected, marks=pytest.mark.libreoffice)
    return expected


PARAMS = [_param(p) for p in EXPECTED]


def _project(actual: dict[str, Any], expected: Any) -> Any:
    """The part of ``actual`` that ``expected`` describes (same keys, same list lengths)."""
    if isinstance(expected, dict):
        return {key: _project(actual.get(key), value) for key, value in expected.items()}
    if isinstance(expected, list) and isinstance(actual, list):
        return [_project(a, e) for a, e in zip(actual, expected, strict=False)] + actual[len(expected):]
    return actual


def test_there_are_samples() -> None:
    assert len(EXPECTED) >= 4


@pytest.mark.parametrize("expected_path", PARAMS, ids=lambda p: str(p.relative_to(SAMPLES)))
def test_sample_parses_as_expected(expected_path: Path) -> None:
    expected = json.loads(expected_path.read_text(encoding="utf-8"))
    actual = parse_file(_sample_for(expected_path)).to_dict()
    for form in actual["forms"]:
        form["issues"] = [{k: issue[k] for k in ISSUE_KEYS} for issue in form["issues"]]
    # Report issues: every key but the free-text message (docs/reports.md, Issues).
    for doc in (actual, expected):
        for report in doc.get("reports", []):
            report["issues"] = [{k: v for k, v in issue.items() if k != "message"} for issue in report["issues"]]
    assert len(actual["forms"]) == len(expected["forms"])
    for n, (got, want) in enumerate(zip(actual["forms"], expected["forms"], strict=True), start=1):
        assert len(got["indicators"]) == len(want["indicators"]), f"form {n}: indicator count"
        for i, (g, w) in enumerate(zip(got["indicators"], want["indicators"], strict=True)):
            assert _project(g, w) == w, f"form {n} indicator {i} ({w['where']})"
        assert _project(got, want) == want, f"form {n}"
    assert _project(actual, expected) == expected
