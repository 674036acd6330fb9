"""Hostile and broken input: every file made here, at test time, small (small limits stand in for
huge files). Each test asserts the documented outcome (docs/limits.md): the file over a limit fails
alone with a reason naming the limit, the rest of the batch is loaded, nothing crashes or hangs."""

from __future__ import annotations

import io
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from goalforms.errors import UnreadableFile
from goalforms.parsers.readers import docx as docx_reader
from goalforms.parsers.readers import limits, pdf, scan
from goalforms.parsers.readers.limits import LimitExceeded, Limits, check_zip
from goalforms.pipeline import analysis, importer, isolate
from goalforms.pipeline.analysis import AnalysisError, QueryLimits
from goalforms.pipeline.cli import app
from goalforms.pipeline.importer import FAILED, LOADED, SKIPPED, ImportOptions, failed_paths, import_paths
from goalforms.pipeline.terminal import safe
from goalforms.schema.db import connect
from tests.conftest import SAMPLES

GOOD = SAMPLES / "text" / "004_dca627b1a6ea1aa7.txt"
TEXT_SAMPLES = sorted((SAMPLES / "text").glob("*.txt"))



def _outcomes(report: importer.ImportReport) -> dict[str, importer.FileOutcome]:
    return {Path(o.path).name: o for o in report.outcomes}


def _docx_with(document_xml: bytes, path: Path, compress: int = zipfile.ZIP_DEFLATED) -> Path:
    """A .docx (a zip holding word/document.xml and the usual parts) with the given body XML."""
    with zipfile.ZipFile(path, "w", compress) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats'
                         '.org/package/2006/content-types"/>')
        archive.writestr("word/document.xml", document_xml)
    return path


# --- zip bombs and entity bombs -----------------------------------------------------------------


def test_zip_bomb_docx_is_refused_from_the_zip_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # 64 MiB of XML whitespace deflates to ~64 KiB: a 1000:1 entry, refused before python-docx runs.
    body = b"<w:document>" + b" " * (64 << 20) + b"</w:document>"
    bomb = _docx_with(body, tmp_path / "bomb.docx")
    assert bomb.stat().st_size < 1 << 20
    import docx

    monkeypatch.setattr(docx, "Document", lambda *_: pytest.fail("python-docx opened a zip bomb"))
    with pytest.raises(LimitExceeded, match="compression ratio .* over the limit max_zip_ratio=200:1"):
        docx_reader.read(bomb)
    # The declared total counts too, whatever the ratio (a small limit stands in for gigabytes).
    with limits.use(Limits(max_unzipped_mb=1, max_zip_ratio=0)), \
            pytest.raises(LimitExceeded, match="decompressed size .* over the limit max_unzipped_mb=1 MiB"):
        docx_reader.read(bomb)
    with pytest.raises(LimitExceeded, match="zip entry count \\(2\\) is over the limit max_zip_entries=1"):
        check_zip(bomb, Limits(max_zip_entries=1))


def test_zip_bomb_goes_off_nowhere_before_the_check(tmp_path: Path) -> None:
    # The content sniffing reads [Content_Types].xml to tell docx from xlsx: the zip directory is
    # checked before any of that, whatever the file is called.
    bomb = tmp_path / "download"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", b"<Types>" + b" " * (64 << 20) + b"</Types>")
        archive.writestr("word/document.xml", b"<w:document/>")
    result = importer.parse_job(str(bomb), Limits())
    assert result.doc is None and "over the limit max_zip_ratio" in result.reason


def test_zip_bomb_fails_alone_in_an_import(tmp_path: Path, db_url: str) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    _docx_with(b"<w:document>" + b" " * (32 << 20) + b"</w:document>", folder / "bomb.docx")
    (folder / "good.txt").write_bytes(GOOD.read_bytes())
    engine = connect(db_url)
    report = import_paths([folder], engine)
    outcomes = _outcomes(report)
    assert outcomes["good.txt"].status == LOADED
    assert outcomes["bomb.docx"].status == FAILED and "max_zip_ratio" in outcomes["bomb.docx"].reason
    assert [p.name for p in failed_paths(engine)] == ["bomb.docx"]  # quarantined


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lollollollollollollollollollol">
<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
<!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
<!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
<!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
<!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">]>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r>
<w:t>&lol9;</w:t></w:r></w:p></w:body></w:document>"""


def test_xml_entity_bomb_is_refused(tmp_path: Path) -> None:
    bomb = _docx_with(BILLION_LAUGHS, tmp_path / "lol.docx")
    with pytest.raises(UnreadableFile, match="declares a DOCTYPE or entities"):
        docx_reader.read(bomb)
    # Behind that check, python-docx's own parser (lxml, resolve_entities=False, no huge_tree)
    # does not expand the entities either: it keeps them as references, or libxml2 refuses.
    from docx.oxml.parser import parse_xml
    from lxml import etree

    try:
        element = parse_xml(BILLION_LAUGHS.split(b"\n", 1)[1])
    except etree.XMLSyntaxError as exc:
        assert "amplification" in str(exc)
    else:
        assert len("".join(element.itertext())) < 1000


# --- sizes, pages, OCR --------------------------------------------------------------------------


def test_huge_text_fails_with_the_text_limit(tmp_path: Path, db_url: str) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "dump.txt").write_bytes(GOOD.read_bytes() * (2 * 1024 * 1024 // len(GOOD.read_bytes()) + 1))
    (folder / "good.txt").write_bytes(GOOD.read_bytes())
    options = ImportOptions(workers=1, limits=Limits(max_text_mb=1))
    outcomes = _outcomes(import_paths([folder], connect(db_url), options=options))
    assert outcomes["good.txt"].status == LOADED
    assert outcomes["dump.txt"].status == FAILED
    assert "text file size (2 MiB) is over the limit max_text_mb=1 MiB" in outcomes["dump.txt"].reason
    assert "GOALFORMS_MAX_TEXT_MB" in outcomes["dump.txt"].reason


def blank_pdf(pages: int) -> bytes:
    """A PDF of ``pages`` empty pages (no content at all), as some scanning software pads files."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % (3 + i) for i in range(pages))
               + b"] /Count %d >>" % pages]
    objects += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"] * pages
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % o for o in offsets))
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def scanned_pdf(path: Path, inked: int, white: int) -> Path:
    """A PDF of page images as a scanner writes them: ``inked`` pages with ruled lines and blocks of
    'text', then ``white`` blank sheets with a few specks of scanner dust."""
    import numpy as np
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(7)
    pages = []
    for _ in range(inked):
        page = Image.new("L", (850, 1100), 255)
        draw = ImageDraw.Draw(page)
        for y in range(100, 1000, 60):
            draw.line((80, y, 770, y), fill=0, width=2)
            draw.rectangle((100, y + 15, 400, y + 40), fill=40)
        pages.append(page)
    for _ in range(white):
        sheet = np.full((1100, 850), 250, np.uint8)
        sheet[rng.integers(0, 1100, 30), rng.integers(0, 850, 30)] = 0
        pages.append(Image.fromarray(sheet))
    pages[0].save(path, "PDF", resolution=100.0, save_all=True, append_images=pages[1:])
    return path


@pytest.fixture
def no_ocr(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """OCR replaced by a counter (each call: one page sent to OCR)."""
    calls: list[int] = []

    def fake(page: object, page_no: int, first_table: int) -> tuple[list[object], int]:
        calls.append(page_no)
        return [], first_table

    monkeypatch.setattr(scan, "pdf_page_placed", fake)
    monkeypatch.setattr(scan, "page_placed", lambda *_a, **_k: pytest.fail("an image was sent to OCR"))
    return calls


def test_blank_pages_are_never_sent_to_ocr(tmp_path: Path, no_ocr: list[int]) -> None:
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(blank_pdf(60))
    with pytest.raises(UnreadableFile, match="no text layer"):
        pdf.read(empty)
    white = scanned_pdf(tmp_path / "white.pdf", inked=0, white=12)
    with pytest.raises(UnreadableFile, match="no text layer"):
        pdf.read(white)
    with pytest.raises(UnreadableFile, match="no text found by OCR"):
        scan.read(white)
    assert no_ocr == []


def test_page_limit_and_ocr_limit(tmp_path: Path, no_ocr: list[int]) -> None:
    many = tmp_path / "many.pdf"
    many.write_bytes(blank_pdf(60))
    with limits.use(Limits(max_pages=50)), \
            pytest.raises(LimitExceeded, match=r"page count \(60\) is over the limit max_pages=50"):
        pdf.read(many)
    mixed = scanned_pdf(tmp_path / "mixed.pdf", inked=4, white=6)
    with limits.use(Limits(max_ocr_pages=2)), \
            pytest.raises(LimitExceeded, match="pages needing OCR .* over the limit max_ocr_pages=2"):
        pdf.read(mixed)
    assert no_ocr == [1, 2]  # two pages were read, the third over the limit stopped the file
    no_ocr.clear()
    with limits.use(Limits(max_ocr_pages=4)), pytest.raises(UnreadableFile, match="no text layer"):
        pdf.read(mixed)  # the 6 white sheets do not count
    assert no_ocr == [1, 2, 3, 4]


def test_fifo_and_special_files_are_refused_not_read(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    from goalforms.parsers.readers.source import read_source

    with pytest.raises(UnreadableFile, match="not a regular file"):
        read_source(fifo)  # would wait forever for a writer if it were opened for reading


# --- time and memory in the workers -------------------------------------------------------------


def _slow_or_greedy(path: str) -> object:
    """Stands in for a parse that never ends, eats memory or kills its worker (by file name)."""
    name = Path(path).name
    if name.startswith("slow"):
        time.sleep(60)
    if name.startswith("greedy"):
        hog = bytearray(8 << 30)  # 8 GiB: over any ceiling the test sets
        return hog
    if name.startswith("crash"):
        os.kill(os.getpid(), signal.SIGKILL)
    from goalforms.pipeline.parse import parse_file

    return parse_file(path)


def _folder_of(tmp_path: Path, *names: str) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    for n, name in enumerate(names):
        # distinct content: an unchanged file would be skipped by its sha256
        (folder / name).write_bytes(GOOD.read_bytes() + b"\n" * n)
    return folder


@pytest.mark.parametrize("workers", [1, 2])
def test_timeout_per_file(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch, workers: int) -> None:
    monkeypatch.setattr(isolate, "parse_file", _slow_or_greedy)  # forked workers inherit it
    folder = _folder_of(tmp_path, "good.txt", "slow.txt")
    options = ImportOptions(workers=workers, limits=Limits(timeout_s=0.5))
    outcomes = _outcomes(import_paths([folder], connect(db_url), options=options))
    assert outcomes["good.txt"].status == LOADED
    assert outcomes["slow.txt"].status == FAILED
    assert "parse time (over 0.5 s) is over the limit timeout_s=0.5 s" in outcomes["slow.txt"].reason


def test_memory_ceiling_and_dead_workers(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(isolate, "parse_file", _slow_or_greedy)
    folder = _folder_of(tmp_path, "good.txt", "greedy.txt", "crash.txt", "other.txt")
    options = ImportOptions(workers=2, limits=Limits(max_memory_mb=6144))
    outcomes = _outcomes(import_paths([folder], connect(db_url), options=options))
    assert outcomes["good.txt"].status == LOADED and outcomes["other.txt"].status == LOADED
    assert outcomes["greedy.txt"].status == FAILED
    assert "out of memory" in outcomes["greedy.txt"].reason and "max_memory_mb=6144" in outcomes["greedy.txt"].reason
    assert outcomes["crash.txt"].status == FAILED and "the parse worker died" in outcomes["crash.txt"].reason


ORPHAN_SCRIPT = textwrap.dedent("""
    import sys, time
    from goalforms.pipeline import isolate
    from goalforms.pipeline.importer import ImportOptions, import_paths
    from goalforms.schema.db import connect

    def hang(path):
        time.sleep(600)

    isolate.parse_file = hang  # the forked workers hang in their parse
    import_paths(sys.argv[2:], connect(sys.argv[1]), options=ImportOptions(workers=2))
""")


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_workers_die_with_a_killed_import(tmp_path: Path) -> None:
    folder = _folder_of(tmp_path, "a.txt", "b.txt")
    script = tmp_path / "run.py"
    script.write_text(ORPHAN_SCRIPT)
    parent = subprocess.Popen([sys.executable, str(script), str(tmp_path / "x.db"), str(folder)])
    workers: list[int] = []
    try:
        for _ in range(600):  # until both workers are up (bounded: the test fails, never hangs)
            workers = _children(parent.pid)
            if len(workers) >= 2:
                break
            time.sleep(0.1)
        assert len(workers) >= 2, "the import never started its workers"
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        for _ in range(100):
            if not any(_alive(w) for w in workers):
                break
            time.sleep(0.1)
        assert not any(_alive(w) for w in workers), "parse workers outlived the killed import"
    finally:
        for pid in [parent.pid, *workers]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


# --- folders ------------------------------------------------------------------------------------


def test_symlink_loops_and_unreadable_entries_fail_alone(tmp_path: Path, db_url: str) -> None:
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    (folder / "good.txt").write_bytes(GOOD.read_bytes())
    (folder / "sub" / "also.txt").write_bytes(TEXT_SAMPLES[0].read_bytes())
    (folder / "self.txt").symlink_to("self.txt")  # a link to itself
    (folder / "sub" / "up").symlink_to("..")  # a folder link back to an ancestor
    (folder / "gone.txt").symlink_to("nowhere.txt")  # dangling
    (folder / "the_same").symlink_to("sub")  # a second way into a folder: walked once
    os.mkfifo(folder / "pipe.txt")
    report = import_paths([folder], connect(db_url))
    outcomes = _outcomes(report)
    assert outcomes["good.txt"].status == LOADED and outcomes["also.txt"].status == LOADED
    assert outcomes["self.txt"].status == FAILED and "symlink loop" in outcomes["self.txt"].reason
    assert outcomes["up"].status == FAILED and "symlink loop: leads back to" in outcomes["up"].reason
    assert outcomes["gone.txt"].status == FAILED and "dangling symlink" in outcomes["gone.txt"].reason
    assert outcomes["pipe.txt"].status == FAILED and "not a regular file" in outcomes["pipe.txt"].reason
    assert outcomes["the_same"].status == SKIPPED and "walked once" in outcomes["the_same"].reason
    assert report.count(LOADED) == 2


def test_cli_import_of_a_looping_folder_reports_and_exits_1(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.txt").write_bytes(GOOD.read_bytes())
    (folder / "loop.txt").symlink_to("loop.txt")
    result = CliRunner().invoke(app, ["import", str(folder), "--db", str(tmp_path / "x.db"), "--workers", "1"])
    assert result.exit_code == 1
    assert "loaded 1" in result.stdout and "failed 1" in result.stdout
    assert "loop.txt: symlink loop" in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)


# --- concurrent imports -------------------------------------------------------------------------


def _concurrent_imports(db: str, folder: Path, processes: int = 3) -> list[subprocess.CompletedProcess[str]]:
    running = [subprocess.Popen([sys.executable, "-m", "goalforms", "import", str(folder), "--db", db,
                                 "--workers", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for _ in range(processes)]
    results = []
    for p in running:
        out, err = p.communicate(timeout=300)
        results.append(subprocess.CompletedProcess(p.args, p.returncode, out, err))
    return results


def _check_concurrent(url: str, results: list[subprocess.CompletedProcess[str]]) -> None:
    for result in results:
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr
        # Every file was loaded by one import and skipped by the others: none failed, none lost.
        assert f"files: {len(TEXT_SAMPLES)} " in result.stdout and "failed 0" in result.stdout
    loaded = sum(int(r.stdout.split("loaded ")[1].split()[0]) for r in results)
    assert loaded == len(TEXT_SAMPLES)
    engine = create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT count(*), count(DISTINCT sha256), count(DISTINCT path) "
                                       "FROM source_documents")).one()
    engine.dispose()
    assert tuple(rows) == (len(TEXT_SAMPLES),) * 3


def test_concurrent_first_imports_into_a_new_sqlite_file(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for sample in TEXT_SAMPLES:
        (folder / sample.name).write_bytes(sample.read_bytes())
    db = tmp_path / "new.db"
    _check_concurrent(f"sqlite:///{db}", _concurrent_imports(str(db), folder))


def test_concurrent_first_imports_into_postgresql(tmp_path: Path, pg_url: str) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for sample in TEXT_SAMPLES:
        (folder / sample.name).write_bytes(sample.read_bytes())
    _check_concurrent(pg_url, _concurrent_imports(pg_url, folder))


# --- analyst SQL --------------------------------------------------------------------------------


@pytest.fixture
def small_db(tmp_path: Path) -> str:
    """A database with two imported files and one clerk (with a password hash)."""
    from goalforms.pipeline.users import add_user

    db = str(tmp_path / "small.db")
    engine = connect(db)
    import_paths(TEXT_SAMPLES[:2], engine)
    with Session(engine) as session, session.begin():
        add_user(session, "alice", "clerk", "correct horse battery staple")
    engine.dispose()
    return db


RUNAWAY = "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r"


def test_query_timeout_stops_a_runaway_statement(small_db: str) -> None:
    with pytest.raises(AnalysisError, match=r"the query was stopped after 0.5 s \(timeout_s=0.5"):
        analysis.query(small_db, RUNAWAY, QueryLimits(timeout_s=0.5))


def test_query_row_cap_says_it_capped(small_db: str) -> None:
    cross = "SELECT a.indicator_id FROM v_indicators a, v_indicators b"
    result = analysis.query(small_db, cross, QueryLimits(max_rows=10))
    assert len(result.rows) == 10 and "capped at max_rows=10" in result.capped
    assert "(10 rows; capped at max_rows=10" in analysis.render(result)
    full = analysis.query(small_db, "SELECT count(*) FROM v_indicators", QueryLimits(max_rows=10))
    assert full.capped == ""
    run = CliRunner().invoke(app, ["query", cross, "--db", small_db, "--max-rows", "3", "--format", "csv"])
    assert run.exit_code == 0 and len(run.stdout.splitlines()) == 4  # header + 3 rows
    assert "warning: 3 rows, capped at max_rows=3" in run.stderr


def test_query_size_cap(small_db: str) -> None:
    result = analysis.query(small_db, "SELECT a.raw FROM v_indicators a, v_indicators b",
                            QueryLimits(max_rows=0, max_mb=0.05))
    assert result.capped.startswith("capped at max_mb=0.05") and 0 < len(result.rows) < 1000


@pytest.mark.parametrize("statement", [
    "SELECT password_hash FROM users",
    "SELECT * FROM users",
    "SELECT count(*) FROM users",
    "SELECT (SELECT group_concat(password_hash) FROM users)",
    "SELECT * FROM v_indicators WHERE EXISTS (SELECT 1 FROM users WHERE password_hash LIKE '$%')",
])
def test_password_hashes_are_not_readable(small_db: str, statement: str) -> None:
    with pytest.raises(AnalysisError, match="refused: the table users is private"):
        analysis.query(small_db, statement)


def test_private_table_rule(tmp_path: Path) -> None:
    for name in ("users", "user_units", "web_sessions", "login_throttle", "auth_tokens", "sessions",
                 "public.users", "api_token"):
        assert analysis.private_table(name), name
    # Every table of the schema is either private or one analysts may read, as intended.
    from sqlalchemy import inspect

    engine = connect(str(tmp_path / "t.db"))
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    private = {t for t in tables if analysis.private_table(t)}
    assert private == {"users", "user_units", "web_sessions", "login_throttle"}, private
    assert {"forms", "indicators", "source_documents", "corrections", "import_failures", "reports"} <= tables - private


def test_postgresql_query_limits_and_private_tables(pg_url: str) -> None:
    from goalforms.pipeline.users import add_user

    engine = connect(pg_url)
    import_paths(TEXT_SAMPLES[:1], engine)
    with Session(engine) as session, session.begin():
        add_user(session, "alice", "clerk", "correct horse battery staple")
    engine.dispose()
    with pytest.raises(AnalysisError, match="stopped after 0.5 s"):
        analysis.query(pg_url, RUNAWAY, QueryLimits(timeout_s=0.5))
    capped = analysis.query(pg_url, "SELECT generate_series(1, 10000000)", QueryLimits(max_rows=5))
    assert len(capped.rows) == 5 and "max_rows=5" in capped.capped
    for statement in ("SELECT password_hash FROM users", 'SELECT * FROM "users"',
                      "SELECT query_to_xml('select * from us' || 'ers', true, false, '')",
                      "SELECT histogram_bounds FROM pg_stats"):
        with pytest.raises(AnalysisError, match="refused: .* is private"):
            analysis.query(pg_url, statement)
    assert analysis.query(pg_url, "SELECT count(*) FROM v_indicators").rows[0][0] > 0


# --- terminal output and exit codes -------------------------------------------------------------


def test_safe_escapes_control_characters() -> None:
    assert safe("a\nb\x1b[31mc\rd\te\x7f") == "a\\nb\\x1b[31mc\\rd\\te\\x7f"
    assert safe("x\u202etxt.exe") == "x\\u202etxt.exe"
    assert safe(os.fsdecode(b"bad\xff.txt")) == "bad\\xff.txt"
    assert safe("项目\n名称", keep_newlines=True) == "项目\n名称"
    assert safe("绩效目标表 ≥95%") == "绩效目标表 ≥95%"


def test_control_characters_in_file_names_are_escaped_in_the_summary(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    evil = "forged\nfailed: nothing\x1b]0;owned\x07\x1b[2J.txt"
    (folder / evil).write_text("没有表格", encoding="utf-8")
    (folder / "good.txt").write_bytes(GOOD.read_bytes())
    result = subprocess.run([sys.executable, "-m", "goalforms", "import", str(folder), "--db",
                             str(tmp_path / "x.db"), "--workers", "1"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    assert "\x1b" not in result.stdout + result.stderr.replace("\x1b[", "")  # Rich's own colours aside
    assert "\x07" not in result.stdout + result.stderr
    assert "forged\\nfailed: nothing\\x1b]0;owned\\x07\\x1b[2J.txt: no form of a known layout" in result.stderr
    assert not any(line.startswith("failed: nothing") for line in result.stderr.splitlines())


@pytest.mark.parametrize("make", ["missing", "folder", "fifo", "loop", "empty"])
def test_parse_of_an_unreadable_file_exits_1(tmp_path: Path, make: str) -> None:
    target = tmp_path / "form.txt"
    if make == "folder":
        target.mkdir()
    elif make == "fifo":
        os.mkfifo(target)
    elif make == "loop":
        target.symlink_to("form.txt")
    elif make == "empty":
        target.write_bytes(b"")
    result = subprocess.run([sys.executable, "-m", "goalforms", "parse", str(target)], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith("error: ") and str(target) in result.stderr
    assert "Traceback" not in result.stderr


def test_limit_option_changes_a_limit_and_names_it(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_bytes(GOOD.read_bytes() * 40)
    result = CliRunner().invoke(app, ["parse", str(big), "--limit", "max_text_mb=0.1"])
    assert result.exit_code == 1 and "over the limit max_text_mb=0.1 MiB" in result.stderr
    bad = CliRunner().invoke(app, ["parse", str(big), "--limit", "max_bananas=3"])
    assert bad.exit_code == 1 and "NAME one of" in bad.stderr


def test_limits_from_the_environment() -> None:
    assert Limits.from_env({"GOALFORMS_MAX_PAGES": "12", "GOALFORMS_TIMEOUT_S": "2.5"}) == \
        Limits(max_pages=12, timeout_s=2.5)
    with pytest.raises(ValueError, match="GOALFORMS_MAX_PAGES"):
        Limits.from_env({"GOALFORMS_MAX_PAGES": "many"})


def test_a_worker_killed_while_writing_its_job_reports_what_it_had_written(
        tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Small files go to a worker four at a time and are written one after the other: a worker
    killed after the second write (the watchdog, the OOM killer) had committed two of them. Every
    file is reported loaded with its own counts, none skipped, none twice."""
    from goalforms.pipeline import transaction

    real_write = transaction._write
    killed = tmp_path / "killed"

    def write_then_die(job, staged, engine):  # type: ignore[no-untyped-def]
        outcome = real_write(job, staged, engine)
        written = tmp_path / f"written-{os.getpid()}"
        count = int(written.read_text()) + 1 if written.exists() else 1
        written.write_text(str(count))
        if count == 2 and not killed.exists():
            killed.touch()
            os.kill(os.getpid(), signal.SIGKILL)
        return outcome

    monkeypatch.setattr(transaction, "_write", write_then_die)  # the forked workers inherit it
    folder = tmp_path / "in"
    folder.mkdir()
    for source in sorted((SAMPLES / "text").glob("*.txt")):
        shutil.copy(source, folder / source.name)
    report = import_paths([folder], connect(db_url), options=ImportOptions(workers=2))
    assert killed.exists()  # a worker did die after its second write
    reference = import_paths([folder], connect(f"sqlite:///{tmp_path / 'ref.db'}"))
    assert sorted((Path(o.path).name, o.status, o.forms, o.indicators, o.issues) for o in report.outcomes) == \
        sorted((Path(o.path).name, o.status, o.forms, o.indicators, o.issues) for o in reference.outcomes)
    with Session(create_engine(db_url)) as session:
        assert session.execute(text("SELECT count(*) FROM source_documents")).scalar() == len(reference.outcomes)
