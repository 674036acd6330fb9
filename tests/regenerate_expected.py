"""`make expected`: rewrite the expected parses from the current parser, for review as a diff.

The expected files were checked by hand against the sources; a diff here is a change of
behaviour to read line by line against the source before committing, never to accept unread.
"""

from __future__ import annotations

import json
from typing import Any

from goalforms.pipeline import parse_file
from tests.conftest import SAMPLES
from tests.test_samples import EXPECTED, ISSUE_KEYS, _project, _sample_for


def main() -> None:
    for expected_path in EXPECTED:
        old: dict[str, Any] = json.loads(expected_path.read_text(encoding="utf-8"))
        actual = parse_file(_sample_for(expected_path)).to_dict()
        for form in actual["forms"]:
            form["issues"] = [{k: issue[k] for k in ISSUE_KEYS} for issue in form["issues"]]
        new = _project(actual, old)
        new["forms"] = [
            _project(form, old["forms"][min(n, len(old["forms"]) - 1)]) | {"issues": form["issues"]}
            for n, form in enumerate(actual["forms"])
        ]
        text = json.dumps(new, ensure_ascii=False, indent=1) + "\n"
        if text != expected_path.read_text(encoding="utf-8"):
            expected_path.write_text(text, encoding="utf-8")
            print(f"rewrote {expected_path.relative_to(SAMPLES.parent)}: review `git diff` against the source")


if __name__ == "__main__":
    main()
