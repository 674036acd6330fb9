"""Start-up: every command imports only what it needs (the figures are in `make bench`; here, which
modules a command loads — no timings)."""

from __future__ import annotations

import json
import subprocess
import sys

from typer.testing import CliRunner

from goalforms.pipeline.cli import app
from goalforms.schema.clerk_models import ROLES
from tests.conftest import SAMPLES

HEAVY = ("sqlalchemy", "alembic", "numpy", "pandas", "pyarrow", "pdfplumber", "cv2", "onnxruntime", "rapidocr",
         "fastapi", "uvicorn", "distributed", "dask", "docx")

# Runs a goalforms command in a fresh interpreter and prints the heavy packages it imported.
_PROBE = """
import json, sys
from goalforms.pipeline.cli import app
try:
    app(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in {heavy!r})))
"""


def loaded(*args: str) -> list[str]:
    result = subprocess.run([sys.executable, "-c", _PROBE.format(heavy=set(HEAVY)), *args],
                            capture_output=True, text=True, check=True)
    return sorted({m.split(".")[0] for m in json.loads(result.stdout.strip().splitlines()[-1])})


def test_help_imports_no_library() -> None:
    assert loaded("--help") == []


# ``goalforms parse`` runs the import's worker job (parse_isolated, in goalforms.pipeline.isolate,
# which imports no database code): nothing heavy, SQLAlchemy included.
def test_parse_of_a_text_file_needs_no_migrations_ocr_or_pdf() -> None:
    assert loaded("parse", str(SAMPLES / "text" / "000_914c13d346301e8d.txt"), "--json") == []


def test_parse_of_a_pdf_reads_it_in_the_worker() -> None:
    # pdfplumber is imported by the worker process that reads the file, not by the command.
    assert loaded("parse", str(SAMPLES / "pdf" / "000_914c13d346301e8d.pdf")) == []


def test_query_needs_no_parser(tmp_path: object) -> None:
    found = loaded("query", "SELECT 1", "--db", f"{tmp_path}/empty.db")
    assert "sqlalchemy" in found and not {"numpy", "pdfplumber", "pandas", "cv2"} & set(found)


def test_user_help_names_every_role() -> None:
    # The roles are written out in --role's help so that the CLI starts without SQLAlchemy.
    result = CliRunner().invoke(app, ["user", "add", "--help"])
    assert result.exit_code == 0
    for role in ROLES:
        assert role in result.output
