"""The goalforms command end to end, as a user runs it (a subprocess of the installed package)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import SAMPLES

SEED = SAMPLES / "text" / "004_dca627b1a6ea1aa7.txt"


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "goalforms", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=120)


def test_parse_json_is_the_contract() -> None:
    result = run("parse", str(SEED), "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["source"]["format"] == "txt" and len(doc["source"]["sha256"]) == 64
    assert doc["collection_title"] == "上海市社会保险事业管理中心2026年度项目绩效目标汇总表"
    assert len(doc["forms"]) == 9
    assert "≥" in result.stdout  # ensure_ascii=False


def test_parse_without_json_prints_a_table() -> None:
    result = run("parse", str(SEED))
    assert result.returncode == 0
    assert "社会保险经办业务费" in result.stdout and "missing_target" in result.stdout


def test_parse_bad_file_exits_non_zero_with_the_reason(tmp_path: Path) -> None:
    bad = tmp_path / "empty.txt"
    bad.write_bytes(b"")
    result = run("parse", str(bad), "--json")
    assert result.returncode == 1
    assert result.stdout == ""
    assert f"{bad}: empty file" in result.stderr


def test_import_reports_and_fails_when_a_file_fails(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "good.txt").write_bytes(SEED.read_bytes())
    (tmp_path / "in" / "bad.txt").write_text("没有表格", encoding="utf-8")
    db = tmp_path / "x.db"
    result = run("import", str(tmp_path / "in"), "--db", str(db))
    assert result.returncode == 1
    assert "loaded 1" in result.stdout and "failed 1" in result.stdout
    assert "bad.txt: no form of a known layout" in result.stderr
    again = run("import", str(tmp_path / "in" / "good.txt"), "--db", f"sqlite:///{db}")
    assert again.returncode == 0 and "skipped 1" in again.stdout


def test_import_default_database_is_goalforms_db_in_the_working_folder(tmp_path: Path) -> None:
    result = run("import", str(SEED), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "goalforms.db").exists()
    assert "forms: 9" in result.stdout


def test_parse_table_shows_the_later_columns_of_a_self_evaluation() -> None:
    result = run("parse", str(SAMPLES / "siblings" / "text" / "self_eval_2024.txt"))
    assert result.returncode == 0, result.stderr
    header = next(line for line in result.stdout.splitlines() if "三级" in line)
    assert all(name in header for name in ("actual", "weight", "score", "note"))
    assert "22850人" in result.stdout and "部分人员年内死亡" in result.stdout
