"""The text reader: encodings, line ends, and clear errors for bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from goalforms.errors import NoKnownLayout, UnreadableFile, UnsupportedFormat
from goalforms.parsers.readers import read
from goalforms.pipeline import parse_file
from tests.cfb import compound_file
from tests.conftest import SAMPLES

SEED = SAMPLES / "text" / "004_dca627b1a6ea1aa7.txt"


def _contract(path: Path) -> list[dict]:  # type: ignore[type-arg]
    return parse_file(path).to_dict()["forms"]


@pytest.mark.parametrize(
    ("encoding", "newline", "bom"),
    [("gb18030", "\r\n", b""), ("gbk", "\n", b""), ("utf-8", "\r\n", b"\xef\xbb\xbf"), ("utf-8", "\r", b""),
     # Windows "Unicode" text (Notepad, Excel's "Unicode Text" export): UTF-16 after its byte-order mark.
     ("utf-16-le", "\r\n", b"\xff\xfe"), ("utf-16-be", "\n", b"\xfe\xff")],
    ids=["gb18030-crlf", "gbk-lf", "utf8-bom-crlf", "utf8-cr", "utf16le-bom-crlf", "utf16be-bom-lf"],
)
def test_encodings_and_line_ends_give_the_same_parse(tmp_path: Path, encoding: str, newline: str, bom: bytes) -> None:
    text = SEED.read_text(encoding="utf-8")
    if encoding == "gbk":
        # GBK lacks a few characters the seed uses (e.g. ≥ is in GBK, but not every symbol): keep the test honest.
        text.encode("gbk")
    path = tmp_path / "seed.txt"
    path.write_bytes(bom + text.replace("\n", newline).encode(encoding))
    assert _contract(path) == _contract(SEED)


def test_line_numbers_are_kept(tmp_path: Path) -> None:
    grid = read(SEED)
    assert grid.rows[2].where.line == 3
    assert "汇总表" in grid.rows[2].text()


BAD = [
    (b"", UnreadableFile, "empty file"),
    (b"  \n\t\n", UnreadableFile, "empty file"),
    (bytes(range(256)) * 4, UnreadableFile, "binary file"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, UnreadableFile, "not a readable image"),  # read by content
    ("项目名称\t某项目\n".encode() + b"\xff\xfe\xfd\x80\x80", UnreadableFile, "not UTF-8 or GB18030"),
    (b"\xff\xfe" + "项目名称\t某项目\n".encode("utf-16-le") + b"\x00\xdc", UnreadableFile, "not UTF-16 text"),
    (b"\xff\xfe" + " \r\n".encode("utf-16-le"), UnreadableFile, "empty file"),
    ("这是一份普通的通知，没有任何表格。\n".encode(), NoKnownLayout, "no form of a known layout"),
    ("财政项目支出绩效评价报告\n项目名称：某项目\n".encode(), NoKnownLayout, "evaluation report"),
]


@pytest.mark.parametrize(("data", "error", "reason"), BAD, ids=["empty", "blank", "garbage", "png", "undecodable", "utf16-undecodable", "utf16-blank", "no-form",
                              "report"])
def test_bad_input_is_a_clear_error_naming_the_file(tmp_path: Path, data: bytes, error: type, reason: str) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(data)
    with pytest.raises(error) as info:
        parse_file(path)
    assert str(path) in str(info.value)
    assert reason in str(info.value)


def test_unsupported_format(tmp_path: Path) -> None:
    path = tmp_path / "slides.ppt"
    path.write_bytes(compound_file("PowerPoint Document"))  # files are read by content, not by name
    with pytest.raises(UnsupportedFormat, match="a PowerPoint presentation"):
        parse_file(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFile, match="cannot read file"):
        parse_file(tmp_path / "nope.txt")
