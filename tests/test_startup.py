"""Start-up: every command imports only what it needs (the figures are in `make bench`; here, which
modules a command loads — no timings)."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from goalforms.pipeline.cli import app
from goalforms.schema.clerk_models import ROLES
from tests.conftest import SAMPLES

HEAVY = ("sqlalchemy", "alembic", "numpy", "pandas", "pyarrow", "pdfplumber", "pdfminer", "cv2", "onnxruntime",
         "rapidocr", "fastapi", "uvicorn", "starlette", "distributed", "dask", "docx", "openpyxl", "pypdfium2", "PIL",
         "psycopg", "jinja2")

# Runs a goalforms command in a fresh interpreter and prints the heavy packages it imported: the
# command's process, and each parse worker (``parse_job`` wrapped, so the forked worker reports
# what it had imported once it parsed its file).
_PROBE = """
import json, sys
from goalforms.pipeline import isolate
HEAVY = {heavy!r}
def heavy():
    return sorted({{m.split(".")[0] for m in sys.modules}} & HEAVY)
job = isolate.parse_job
def parse_job(*args, **kwargs):
    result = job(*args, **kwargs)
    with open({out!r}, "a") as f:
        f.write(json.dumps(["worker", heavy()]) + "\\n")
    return result
parse_job.__module__, parse_job.__qualname__ = job.__module__, job.__qualname__
isolate.parse_job = parse_job
from goalforms.pipeline.cli import app
try:
    app(sys.argv[1:])
except SystemExit:
    pass
with open({out!r}, "a") as f:
    f.write(json.dumps(["command", heavy()]) + "\\n")
"""


def probe(tmp_path: Path, *args: str) -> dict[str, set[str]]:
    """The heavy packages of the command's process and of its parse workers (all of them)."""
    out = tmp_path / "probe.jsonl"
    out.unlink(missing_ok=True)
    subprocess.run([sys.executable, "-c", _PROBE.format(heavy=set(HEAVY), out=str(out)), *args],
                   capture_output=True, text=True, check=True, timeout=300)
    found: dict[str, set[str]] = {"command": set(), "worker": set()}
    for line in out.read_text().splitlines():
        where, modules = json.loads(line)
        found[where] |= set(modules)
    assert "command" in {json.loads(line)[0] for line in out.read_text().splitlines()}, "the probe did not finish"
    return found


def loaded(*args: str) -> list[str]:
    """The heavy packages the command's own process imported."""
    with tempfile.TemporaryDirectory() as tmp:
        return sorted(probe(Path(tmp), *args)["command"])


TEXT = SAMPLES / "text" / "000_914c13d346301e8d.txt"
PDF = SAMPLES / "pdf" / "000_914c13d346301e8d.pdf"


def test_help_imports_no_library() -> None:
    assert loaded("--help") == []


@pytest.mark.parametrize("command", ["parse", "import", "query", "serve", "layouts", "review", "debug", "user"])
def test_the_help_of_a_command_imports_no_library(command: str) -> None:
    assert loaded(command, "--help") == []


# ``goalforms parse`` runs the import's worker job (parse_isolated, in goalforms.pipeline.isolate,
# which imports no database code): nothing heavy, SQLAlchemy included, in the command or its worker.
def test_parse_of_a_text_file_imports_nothing_heavy(tmp_path: Path) -> None:
    assert probe(tmp_path, "parse", str(TEXT), "--json") == {"command": set(), "worker": set()}


def test_parse_of_a_pdf_reads_it_with_pdfplumber_in_the_worker_only(tmp_path: Path) -> None:
    # pdfplumber (and its pdfminer) in the worker that reads the file; no OCR for a text layer.
    assert probe(tmp_path, "parse", str(PDF)) == {"command": set(), "worker": {"pdfplumber", "pdfminer"}}


def test_import_of_text_into_a_new_database_needs_no_migrations_pdf_ocr_or_analysis(tmp_path: Path) -> None:
    # A new database gets the recorded head schema (schema/head.py): no Alembic; nor pandas, Dask,
    # FastAPI, OCR or pdfplumber for a text file.
    found = probe(tmp_path, "import", str(TEXT), "--db", str(tmp_path / "new.db"))
    assert found == {"command": {"sqlalchemy"}, "worker": {"sqlalchemy"}}
    # The database is at the head again the second time: still no Alembic.
    found = probe(tmp_path, "import", str(TEXT), "--db", str(tmp_path / "new.db"))
    assert found["command"] == {"sqlalchemy"}


def test_import_of_a_pdf_loads_pdfplumber_but_no_ocr(tmp_path: Path) -> None:
    found = probe(tmp_path, "import", str(PDF), "--db", str(tmp_path / "new.db"))
    assert found["command"] == found["worker"] == {"sqlalchemy", "pdfplumber", "pdfminer"}


def test_layouts_setting_name_is_the_one_discovery_reads() -> None:
    # cli_layouts writes the name out so that the CLI starts without the layouts package.
    from goalforms.parsers.layouts.discovery import ENV
    from goalforms.pipeline.cli_layouts import ENV as CLI_ENV

    assert CLI_ENV == ENV


def test_query_needs_no_parser(tmp_path: object) -> None:
    found = loaded("query", "SELECT 1", "--db", f"{tmp_path}/empty.db")
    assert "sqlalchemy" in found and not {"numpy", "pdfplumber", "pandas", "cv2"} & set(found)


def test_query_of_a_database_at_the_head_needs_no_migrations(tmp_path: Path) -> None:
    from goalforms.schema.db import connect

    connect(str(tmp_path / "archive.db")).dispose()
    found = probe(tmp_path, "query", "SELECT count(*) FROM v_forms", "--db", str(tmp_path / "archive.db"))
    assert found == {"command": {"sqlalchemy"}, "worker": set()}


def test_user_help_names_every_role() -> None:
    # The roles are written out in --role's help so that the CLI starts without SQLAlchemy.
    result = CliRunner().invoke(app, ["user", "add", "--help"])
    assert result.exit_code == 0
    for role in ROLES:
        assert role in result.output
