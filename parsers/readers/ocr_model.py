"""Which recognition models the scan reader runs: the int8 copy beside this module where its
arithmetic is exact, with the float model of the ``rapidocr`` wheel reading again the lines the
copy is unsure of; the float model alone elsewhere.

The int8 copy (``ocr_rec_int8.onnx``, made by ``ocr_quantise.py``, recorded in
``ocr_rec_int8.json``) quantises the model's 1×1 convolutions and costs 0.54 of the float model's
CPU. On the scanned samples and three fresh scanned copies (16,242 values) it reads every value as
the float model does; its confidences move (0.001 typically, up to 0.29), so the float model reads
again each line the copy read close to a doubt (``ocr_repair.near_a_doubt``: about one line in a
hundred), and its reading decides (on those scans every doubt raised was the float model's). It
is run only

- where it was derived from the float model installed here (its record names that model's
  checksum: another ``rapidocr`` would not match it), and
- on an x86-64 CPU with VNNI (``avx512_vnni`` or ``avx_vnni``), where onnxruntime multiplies uint8
  by int8 into int32 exactly. Without VNNI it uses an instruction whose 16-bit sums can saturate
  (onnxruntime's quantisation notes), and other CPUs were not measured: there the float model reads.

``GOALFORMS_OCR_MODEL`` chooses otherwise: ``float``, ``int8`` (the copy and the float re-read,
wherever the copy matches, VNNI or not), or the path of an ``.onnx`` file with the same characters
(read alone).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import platform
from pathlib import Path

MODEL_ENV = "GOALFORMS_OCR_MODEL"
INT8_MODEL = Path(__file__).with_name("ocr_rec_int8.onnx")
_CPUINFO = Path("/proc/cpuinfo")

log = logging.getLogger(__name__)


def model_folder() -> Path:
    """Where the ``rapidocr`` wheel keeps its models (found without importing the package: only
    the model files are used)."""
    spec = importlib.util.find_spec("rapidocr")
    if spec is None or spec.origin is None:
        raise RuntimeError("the OCR model package rapidocr is not installed")
    return Path(spec.origin).parent / "models"


def float_model() -> Path:
    """The recognition model of the ``rapidocr`` wheel."""
    found = sorted(model_folder().glob("*rec*.onnx"))
    if not found:
        raise RuntimeError(f"no recognition model in {model_folder()}: is rapidocr installed whole?")
    return found[-1]


def int8_model() -> Path | None:
    """The int8 copy, when it was derived from the float model installed here; None otherwise."""
    record = INT8_MODEL.with_suffix(".json")
    if not INT8_MODEL.exists() or not record.exists():
        log.warning("no %s: reading with the float model", INT8_MODEL.name)
        return None
    source = float_model()
    made = json.loads(record.read_text(encoding="utf-8"))["source"]
    if made["size"] != source.stat().st_size or made["sha256"] != file_sha256(source):
        log.warning("%s was not derived from the installed %s: reading with the float model",
                    INT8_MODEL.name, source.name)
        return None
    return INT8_MODEL


def file_sha256(path: Path) -> str:
    """The checksum the int8 copy's record keeps, of itself and of the model it was made from."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def exact_int8(cpuinfo: Path = _CPUINFO) -> bool:
    """Does this CPU multiply uint8 by int8 without saturating (x86-64 with VNNI)?"""
    if platform.machine().lower() not in {"x86_64", "amd64"}:
        return False
    try:
        flags = next((line.split(":", 1)[1].split() for line in cpuinfo.read_text().splitlines()
                      if line.startswith("flags")), [])
    except OSError:
        return False
    return "avx512_vnni" in flags or "avx_vnni" in flags


def recognition_models(choice: str | None = None) -> tuple[Path, Path | None]:
    """The model that reads every line, and the one that reads again the lines it is unsure of
    (the float model behind the int8 copy; None for the float model itself), as ``choice``
    (``GOALFORMS_OCR_MODEL`` when None, else the default) names them."""
    choice = choice or os.environ.get(MODEL_ENV, "").strip() or "default"
    if choice not in {"float", "int8", "default"}:
        path = Path(choice)
        if not path.is_file():
            raise RuntimeError(f"{MODEL_ENV}={choice}: not 'float', 'int8' or a model file")
        return path, None
    int8 = int8_model() if choice == "int8" or (choice == "default" and exact_int8()) else None
    return (int8, float_model()) if int8 is not None else (float_model(), None)
