"""Stored source grids (issue 14): the clerk page shows a Word, ODT, HTML or .ods form's tables
from the store, the cells of its flagged values marked, without any reader running."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from goalforms.pipeline.parse import parse_file
from goalforms.schema import models
from goalforms.schema.db import alembic_config, connect
from tests.conftest import SAMPLES
from tests.test_provenance import _client, _no_reading
from tests.test_web import form_page

STEM = "003_cca29bee0b231de8"  # forms 2 and 3 carry flags on their header texts



def _flagged_cells(html: str) -> list[tuple[str, str]]:
    return re.findall(r'<td[^>]*class="cell-(flag[^"]*)"[^>]*>([^<]*)</td>', html)


def _check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sample: Path) -> None:
    path = Path(shutil.copy(sample, tmp_path))
    parsed = parse_file(path)
    form = parsed.forms[1]
    flagged = [i for i in form.issues if i.field and i.field in form.origins]
    assert flagged, "the sample's second form should carry a flag on a value with an origin"
    client = _client(tmp_path, [path])
    _no_reading(monkeypatch)
    page = form_page(client, path, 2)
    assert page.status_code == 200
    assert "no source view" not in page.text and "cannot be shown" not in page.text
    assert "read from the file again" not in page.text  # stored: no fallback notice
    assert '<table class="word">' in page.text
    cells = _flagged_cells(page.text)
    assert cells and cells[0][0] == "flag focus"
    # The flagged value's text is in a marked cell.
    value = form.header.get(flagged[0].field.split(".", 1)[1]) or form.extra.get(flagged[0].field.split(".", 1)[1])
    assert value is not None
    plain = re.sub(r"\s+", "", str(value))[:10]
    assert any(plain in re.sub(r"\s+", "", text) for _mark, text in cells), (plain, cells)
    # The flagged rows are marked, keyed as the issues' locations.
    assert re.search(r'<tr data-loc="[^"]*" class="flag"', page.text)
    # The form's own tables only: the first form's project name is not on the second's page.
    first_name = parsed.forms[0].header["project_name"]
    assert first_name and first_name not in page.text.split('class="source')[-1]


@pytest.mark.parametrize("sample", [SAMPLES / "docx" / f"{STEM}.docx", SAMPLES / "html" / f"{STEM}.html",
                                    SAMPLES / "ods" / f"{STEM}.ods"], ids=["docx", "html", "ods"])
def test_the_clerk_page_shows_a_grid_form_from_the_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         sample: Path) -> None:
    _check(tmp_path, monkeypatch, sample)


@pytest.mark.libreoffice
def test_the_clerk_page_shows_an_odt_form_from_the_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _check(tmp_path, monkeypatch, SAMPLES / "odt" / f"{STEM}.odt")


def _check_stored(url: str, tmp_path: Path) -> None:
    docx = Path(shutil.copy(SAMPLES / "docx" / f"{STEM}.docx", tmp_path))
    text = Path(shutil.copy(SAMPLES / "text" / f"{STEM}.txt", tmp_path))
    parsed = parse_file(docx)
    engine = connect(url)
    from goalforms.pipeline.importer import import_paths

    import_paths([docx, text], engine)
    with Session(engine) as session:
        rows = session.scalars(select(models.SourceGrid).order_by(models.SourceGrid.position)).all()
        documents = {d.id: d.format for d in session.scalars(select(models.SourceDocument))}
        assert {documents[r.document_id] for r in rows} == {"docx"}  # a text file shows its lines
        assert [r.location for r in rows] == [row.location for row in parsed.grid_rows]
        assert all(isinstance(c[0], str) and len(c) == 4 for r in rows for c in r.cells)
        assert {f.source_location for f in session.scalars(select(models.Form))
                if documents[f.document_id] == "docx"} <= {r.location for r in rows}
    engine.dispose()
    assert "grid_rows" not in parsed.to_dict()


def test_the_stored_grid_holds_the_documents_rows_texts_only_sqlite(tmp_path: Path) -> None:
    _check_stored(f"sqlite:///{tmp_path / 'g.db'}", tmp_path)


def test_the_stored_grid_holds_the_documents_rows_texts_only_postgresql(pg_url: str, tmp_path: Path) -> None:
    _check_stored(pg_url, tmp_path)


def test_a_document_from_before_the_grids_is_read_again_with_a_notice(tmp_path: Path) -> None:
    docx = Path(shutil.copy(SAMPLES / "docx" / f"{STEM}.docx", tmp_path))
    client = _client(tmp_path, [docx])
    engine = connect(f"sqlite:///{tmp_path / 'web.db'}")
    with Session(engine) as session, session.begin():
        session.query(models.SourceGrid).delete()
    engine.dispose()
    page = form_page(client, docx, 2)
    assert page.status_code == 200 and '<table class="word">' in page.text
    assert "read from the file again" in page.text


def test_the_migration_downgrades_and_upgrades(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    engine = connect(url)
    assert "source_grids" in inspect(engine).get_table_names()
    cfg = alembic_config(url)
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0009_provenance")
    assert "source_grids" not in inspect(engine).get_table_names()
    assert "provenance" in inspect(engine).get_table_names()
    engine.dispose()
    engine = connect(url)
    assert "source_grids" in inspect(engine).get_table_names()
    engine.dispose()
