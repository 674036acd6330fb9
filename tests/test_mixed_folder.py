"""One archive folder holding every supported format imports in one `goalforms import`: nothing
refused, every file loaded, and the summary counts the files by the format their content is."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import SAMPLES
from tests.test_cli import run

pytestmark = [pytest.mark.scan, pytest.mark.libreoffice]  # the archive holds a scan and an .odt

# sample → the source.format its content must be read as (misnamed files by what they hold).
ARCHIVE = {
    "text/000_914c13d346301e8d.txt": "txt",
    "layout/002_24ec7dd97fefd2fa.txt": "txt",
    "layout-centred/004_dca627b1a6ea1aa7.txt": "txt",
    "flow/003_cca29bee0b231de8.plumber.txt": "txt",
    "docx/002_24ec7dd97fefd2fa.docx": "docx",
    "pdf/003_cca29bee0b231de8.pdf": "pdf",
    "pdf-centred/000_914c13d346301e8d.pdf": "pdf",
    "odt/004_dca627b1a6ea1aa7.odt": "odt",
    "html/000_914c13d346301e8d.htm": "html",
    "html/003_cca29bee0b231de8-word.mht": "html",
    "xlsx/002_24ec7dd97fefd2fa.xlsx": "xlsx",
    "xls/000_914c13d346301e8d.xls": "xls",
    "ods/003_cca29bee0b231de8.ods": "ods",
    "et/004_dca627b1a6ea1aa7.et": "xls",
    "misnamed/003_cca29bee0b231de8.xls": "html",
    "misnamed/002_24ec7dd97fefd2fa.txt": "html",
    "misnamed/000_914c13d346301e8d": "docx",
    "scan/002_24ec7dd97fefd2fa_p2.png": "scan",
    "reports/001_1026302de9d69c2f.txt": "txt",
}


def test_a_folder_of_every_format_imports_in_one_command(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    for n, sample in enumerate(ARCHIVE):
        # Nested folders, as archives are: one per year/unit.
        folder = archive / f"box{n % 3}" / sample.split("/")[0]
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(SAMPLES / sample, folder)
    db = tmp_path / "mixed.db"
    result = run("import", str(archive), "--db", str(db), "--workers", "2")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"files: {len(ARCHIVE)} · loaded {len(ARCHIVE)}" in result.stdout and "failed 0" in result.stdout
    expected: dict[str, int] = {}
    for fmt in ARCHIVE.values():
        expected[fmt] = expected.get(fmt, 0) + 1
    summary = " · ".join(f"{fmt} {count}" for fmt, count in sorted(expected.items()))
    assert f"formats: {summary}" in result.stdout
    with sqlite3.connect(db) as connection:
        stored = dict(connection.execute("SELECT format, COUNT(*) FROM source_documents GROUP BY format").fetchall())
        empty = connection.execute(
            "SELECT path FROM source_documents d WHERE NOT EXISTS (SELECT 1 FROM forms f WHERE f.document_id = d.id)"
            " AND path NOT LIKE '%001_1026302de9d69c2f.txt'").fetchall()
    assert stored == expected
    assert not empty, f"files loaded without a form: {empty}"
    again = run("import", str(archive), "--db", str(db))
    assert again.returncode == 0 and f"skipped {len(ARCHIVE)}" in again.stdout and f"formats: {summary}" in again.stdout
