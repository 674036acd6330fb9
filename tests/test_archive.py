"""The library handle (pipeline/archive.py): what the CLI and the web app call, in one object."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from goalforms.pipeline.archive import Archive
from goalforms.pipeline.corrections import SET, Change, CorrectionError, NotFound
from goalforms.pipeline.review.store import FindingFilter
from tests.test_corrections import SEED_2026, copy_samples


def test_importing_the_handle_loads_nothing_heavy() -> None:
    probe = ("import json, sys; import goalforms.pipeline.archive; "
             "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))")
    loaded = set(json.loads(subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                                           check=True).stdout))
    assert not loaded & {"sqlalchemy", "alembic", "pandas", "numpy", "fastapi", "rapidocr", "cv2", "pdfplumber"}


def test_import_query_correct_undo_export_through_one_handle(tmp_path: Path) -> None:
    (path,) = copy_samples(tmp_path / "docs", SEED_2026)
    with Archive(str(tmp_path / "a.db")) as archive:
        report = archive.import_paths([path])
        assert not report.failures
        forms = archive.query("SELECT count(*) AS n FROM v_forms").rows
        assert forms[0][0] > 1
        document = str(path.resolve())
        name = archive.query(f"SELECT project_name FROM v_forms WHERE form_ordinal = 1 "
                             f"AND source_path = '{document}'").rows[0][0]
        made = archive.record(document, 1, [Change(SET, "header.project_name", name + "（更正）")], "alice")
        assert [c.field for c in made] == ["header.project_name"]  # readable after the transaction
        renamed = archive.query("SELECT project_name FROM v_forms WHERE form_ordinal = 1").rows[0][0]
        assert renamed == name + "（更正）"
        assert [row["id"] for row in archive.export_corrections()] == [made[0].id]
        with pytest.raises(CorrectionError):
            archive.record(document, 1, [Change(SET, "year", "not a year")], "alice")
        assert archive.undo(made[0].id, "alice") == []
        assert archive.query("SELECT project_name FROM v_forms WHERE form_ordinal = 1").rows[0][0] == name
        with pytest.raises(NotFound):
            archive.undo(9999, "alice")
        assert archive.view("v_forms").shape[0] == forms[0][0]
        assert isinstance(archive.findings(FindingFilter()), list)
        assert all(i.path == document for i in archive.issues(path=document))


def test_an_unknown_user_is_refused(tmp_path: Path) -> None:
    with Archive(str(tmp_path / "a.db")) as archive, pytest.raises(Exception, match="no user 'nobody'"):
        archive.issues(user="nobody")
