"""Which recognition model the scan reader runs (``ocr_model``), and that the committed int8 copy
reads what the float model reads."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from goalforms.parsers.readers import ocr_model, scan
from tests.conftest import SAMPLES


def test_the_int8_copy_is_the_one_recorded_and_derived_from_the_installed_model() -> None:
    """A new rapidocr (another model) needs `make ocr-model` and the scans checked again."""
    record = json.loads(ocr_model.INT8_MODEL.with_suffix(".json").read_text(encoding="utf-8"))
    assert record["sha256"] == ocr_model.file_sha256(ocr_model.INT8_MODEL)
    assert record["source"]["sha256"] == ocr_model.file_sha256(ocr_model.float_model())
    assert ocr_model.int8_model() == ocr_model.INT8_MODEL


@pytest.fixture
def fake_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A wheel folder holding a float model, and an int8 copy whose record names it."""
    folder = tmp_path / "models"
    folder.mkdir()
    float_model = folder / "PP-OCRvX_rec_small.onnx"
    float_model.write_bytes(b"the float model")
    int8 = tmp_path / "ocr_rec_int8.onnx"
    int8.write_bytes(b"the int8 model")
    int8.with_suffix(".json").write_text(json.dumps(
        {"source": {"size": float_model.stat().st_size, "sha256": ocr_model.file_sha256(float_model)}}), encoding="utf-8")
    monkeypatch.setattr(ocr_model, "model_folder", lambda: folder)
    monkeypatch.setattr(ocr_model, "INT8_MODEL", int8)
    monkeypatch.delenv(ocr_model.MODEL_ENV, raising=False)
    return int8


FLOAT = "PP-OCRvX_rec_small.onnx"


def names(models: tuple[Path, Path | None]) -> tuple[str, str | None]:
    return models[0].name, models[1].name if models[1] else None


def test_the_int8_copy_reads_where_int8_is_exact(fake_models: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """…and the float model reads again what the copy is unsure of."""
    monkeypatch.setattr(ocr_model, "exact_int8", lambda: True)
    assert names(ocr_model.recognition_models()) == ("ocr_rec_int8.onnx", FLOAT)
    monkeypatch.setattr(ocr_model, "exact_int8", lambda: False)
    assert names(ocr_model.recognition_models()) == (FLOAT, None)


def test_a_copy_of_another_model_or_none_is_not_used(fake_models: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ocr_model, "exact_int8", lambda: True)
    (ocr_model.model_folder() / FLOAT).write_bytes(b"another rapidocr's model")
    assert names(ocr_model.recognition_models()) == (FLOAT, None)
    assert names(ocr_model.recognition_models("int8")) == (FLOAT, None)
    fake_models.unlink()
    assert names(ocr_model.recognition_models()) == (FLOAT, None)


def test_the_environment_chooses(fake_models: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(ocr_model, "exact_int8", lambda: True)
    monkeypatch.setenv(ocr_model.MODEL_ENV, "float")
    assert names(ocr_model.recognition_models()) == (FLOAT, None)
    monkeypatch.setattr(ocr_model, "exact_int8", lambda: False)
    monkeypatch.setenv(ocr_model.MODEL_ENV, "int8")
    assert names(ocr_model.recognition_models()) == ("ocr_rec_int8.onnx", FLOAT)
    own = tmp_path / "mine.onnx"
    own.write_bytes(b"a model")
    monkeypatch.setenv(ocr_model.MODEL_ENV, str(own))
    assert ocr_model.recognition_models() == (own, None)
    monkeypatch.setenv(ocr_model.MODEL_ENV, "int4")
    with pytest.raises(RuntimeError, match="GOALFORMS_OCR_MODEL=int4"):
        ocr_model.recognition_models()


@pytest.mark.parametrize(("machine", "flags", "exact"), [
    ("x86_64", "fpu sse2 avx2 avx512f avx512_vnni avx512_bf16", True),
    ("x86_64", "fpu sse2 avx2 avx_vnni", True),
    ("x86_64", "fpu sse2 avx2 avx512f", False),  # u8×s8 through 16-bit sums that can saturate
    ("aarch64", "fp asimd asimddp", False),  # not measured
])
def test_int8_is_exact_only_with_vnni(machine: str, flags: str, exact: bool, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"processor\t: 0\nflags\t\t: {flags}\n\nprocessor\t: 1\nflags\t\t: {flags}\n")
    monkeypatch.setattr(ocr_model.platform, "machine", lambda: machine)
    assert ocr_model.exact_int8(cpuinfo) is exact
    assert ocr_model.exact_int8(tmp_path / "missing") is False


@pytest.mark.scan
def test_the_int8_copy_reads_a_scanned_page_as_the_float_model_does(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every cell's text and doubt the same (the confidences move by a few thousandths), with and
    without the float model reading again the lines the copy is unsure of; the whole check over
    the samples and fresh copies is tests/bench_ocr.py's accuracy part."""
    page = SAMPLES / "scan" / "002_24ec7dd97fefd2fa_p2.png"
    float_model = ocr_model.float_model()
    read = {}
    for models in ((float_model, None), (ocr_model.INT8_MODEL, None), (ocr_model.INT8_MODEL, float_model)):
        recogniser = scan.Recogniser(model=models[0], recheck=models[1])
        monkeypatch.setattr(scan, "recogniser", lambda r=recogniser: r)
        grid = scan.read(page)
        read[models] = [(c.text, c.doubt, c.confidence) for row in grid.rows for c in row.cells]
    float32, int8, rechecked = read.values()
    assert [cell[:2] for cell in int8] == [cell[:2] for cell in float32]
    assert [cell[:2] for cell in rechecked] == [cell[:2] for cell in float32]
    moved = sorted(abs(a[2] - b[2]) for a, b in zip(int8, float32, strict=True) if a[2] is not None)
    assert len(moved) > 50 and moved[len(moved) // 2] < 0.01


def test_a_line_the_copy_is_unsure_of_is_read_by_the_float_model(monkeypatch: pytest.MonkeyPatch) -> None:
    class Session:
        def __init__(self, sure: float) -> None:
            self.sure = sure
            self.runs = 0

        def run(self, _outputs: object, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
            self.runs += 1
            steps = feeds["x"].shape[-1] // 8
            probs = np.zeros((1, steps, 4), dtype=np.float32)
            probs[0, :, 0] = 1.0  # blank
            probs[0, 1, :] = [0.0, self.sure, 1.0 - self.sure, 0.0]  # one character, class 1
            return [probs]

    recogniser = object.__new__(scan.Recogniser)
    recogniser.classes, recogniser.input, recogniser.rechecked = ["", "甲", "乙", " "], "x", 0
    first, second = Session(0.7), Session(0.95)
    recogniser.session, recogniser.recheck, recogniser._recheck_session = first, Path("float.onnx"), second
    [unsure] = recogniser.read([np.full((30, 60), 255, dtype=np.uint8)])
    assert [(g.text, g.prob) for g in unsure] == [("甲", 0.95)] and recogniser.rechecked == 1
    first.sure = 0.9
    [sure] = recogniser.read([np.full((30, 60), 255, dtype=np.uint8)])
    assert [(g.text, g.prob) for g in sure] == [("甲", 0.9)] and second.runs == 1
