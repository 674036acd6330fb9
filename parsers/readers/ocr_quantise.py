"""Derive the int8 copy of the recognition model that ships in the ``rapidocr`` wheel, which the
scan reader runs where int8 arithmetic is exact (see ``ocr_model``): its 1×1
convolutions — two thirds of the model's time — statically quantised (QDQ: weights int8 per output
channel, activations uint8 calibrated by min/max), everything else (the stem's 3×3 and depth-wise
convolutions, attention, the classifier over 18,710 characters) left in float32. Calibrated on
every other line crop the scan reader cuts from ``samples/scan``.

Run by ``make ocr-model`` (needs the ``onnx`` package: ``pip install -e '.[ocr-model]'``); the copy
and its record (``ocr_rec_int8.json``: what it was made from, by what, its checksum) are committed,
so every machine runs the same model and installing needs neither ``onnx`` nor a minute of
calibration. ``--compare`` prints the speed and the text each model reads on the same crops.

Why only the 1×1 convolutions (measured on the 2,783 crops of samples/scan and three fresh scanned
copies, 16,242 values): the whole model in int8 is 44% cheaper but its stem read some lines surely
otherwise (a value wrong without a flag); every convolution 43% cheaper, 4 values wrong (2 without
a flag); the 1×1 ones 39% cheaper — 46% with the GELUs fused (:func:`_fuse_gelu`) — with every
value the float model's (once a space before a bracket is read from the page, ``ocr_repair``).
The confidences move (by 0.001 typically, up to 0.29), so alone it raised a few more doubts than
the float model (0.053 per clean form instead of 0.035); the scan reader has the float model
read again the lines the copy is unsure of (``ocr_repair.near_a_doubt``).

Nothing is downloaded: the float model is read from the installed package, the calibration data
from ``samples/scan``. The model is PaddleOCR's (Apache-2.0, see rapidocr's MODEL_LICENSES.md).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from goalforms.errors import UnreadableFile
from goalforms.parsers.readers import scan
from goalforms.parsers.readers.ocr_model import file_sha256, float_model

REPO = Path(__file__).resolve().parents[2]


class _Collector:
    """Stands in for the recogniser: keeps the crops it is given, reads nothing."""

    def __init__(self) -> None:
        self.crops: list[Any] = []

    def read(self, crops: Sequence[Any]) -> list[list[Any]]:
        self.crops.extend(crops)
        return [[] for _ in crops]


def sample_crops(where: Path | Sequence[Path]) -> list[Any]:
    """Every line crop the scan reader cuts from the scans in a folder (in file order), or from the
    given files."""
    collector = _Collector()
    original = scan.recogniser
    scan.recogniser = lambda: collector  # type: ignore[assignment]
    paths = sorted(p for p in where.iterdir() if p.suffix.lower() in {".pdf", ".png"}) \
        if isinstance(where, Path) else list(where)
    try:
        for path in paths:
            try:
                scan.read(path)
            except UnreadableFile:  # nothing was read, by design
                pass
    finally:
        scan.recogniser = original  # type: ignore[assignment]
    return collector.crops


def tensor(crop: Any) -> Any:
    """The model's input for one crop, as the reader prepares it."""
    return scan.Recogniser._prepare(crop)[0][None]


def quantise(out: Path, crops: Sequence[Any], every: int = 2) -> None:
    """Write the QDQ int8 model (1×1 convolutions only, per-channel weights) calibrated on
    ``crops[::every]``."""
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Reader(CalibrationDataReader):
        def __init__(self, name: str) -> None:
            self.items: Iterator[Any] = (tensor(crop) for crop in crops[::every])
            self.name = name

        def get_next(self) -> dict[str, Any] | None:
            item = next(self.items, None)
            return None if item is None else {self.name: item}

    source = float_model()
    import onnxruntime as ort

    name = ort.InferenceSession(str(source), providers=["CPUExecutionProvider"]).get_inputs()[0].name
    with tempfile.TemporaryDirectory(prefix="ocr-quant-") as tmp:
        import onnx
        from onnx import version_converter

        # Opset 11 as shipped; per-channel DequantizeLinear (its axis) needs opset 13.
        upgraded = Path(tmp) / "opset13.onnx"
        onnx.save(version_converter.convert_version(onnx.load(str(source)), 13), str(upgraded))
        prepared = Path(tmp) / "prepared.onnx"
        quant_pre_process(str(upgraded), str(prepared), skip_symbolic_shape=True)
        fused = onnx.load(str(prepared))
        _fuse_gelu(fused)
        onnx.save(fused, str(prepared))
        graph = fused.graph
        weights = {w.name: list(w.dims) for w in graph.initializer}
        pointwise = [n.name for n in graph.node if n.op_type == "Conv" and weights.get(n.input[1], [])[2:] == [1, 1]]
        quantize_static(
            str(prepared), str(out), Reader(name),
            quant_format=QuantFormat.QDQ, per_channel=True,
            op_types_to_quantize=["Conv"], nodes_to_quantize=pointwise,
            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
            calibrate_method=CalibrationMethod.MinMax,
        )
    _copy_metadata(source, out)
    record = {
        "made_by": f"python -m goalforms.parsers.readers.ocr_quantise {out.name} --every {every} (make ocr-model)",
        "source": {"file": source.name, "package": f"rapidocr {_version('rapidocr')}",
                   "size": source.stat().st_size, "sha256": file_sha256(source)},
        "quantised_with": f"onnxruntime {_version('onnxruntime')}, onnx {_version('onnx')}",
        "calibration": f"{len(crops[::every])} line crops cut by the scan reader from samples/scan",
        "format": "QDQ: the 1x1 convolutions only, weights int8 per channel, activations uint8 (min/max)",
        "licence": "Apache-2.0 (PaddleOCR model weights, copyright Baidu/PaddleOCR authors; "
                   "see rapidocr's MODEL_LICENSES.md)",
        "sha256": file_sha256(out),
    }
    out.with_suffix(".json").write_text(json.dumps(record, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _fuse_gelu(model: Any) -> None:
    """Each GELU written out as x·½(1 + erf(x/√2)) (five nodes, as the model was exported) as one
    ``com.microsoft`` Gelu node. onnxruntime fuses them itself in the float model, but not once the
    convolutions around them are quantised; unfused they cost an int8 copy a sixth of its time."""
    from onnx import helper

    graph = model.graph
    if not any(o.domain == "com.microsoft" for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    made = {o: n for n in graph.node for o in n.output}
    used: dict[str, list[Any]] = {}
    for n in graph.node:
        for name in n.input:
            used.setdefault(name, []).append(n)

    def only_user(node: Any, op: str) -> Any:
        users = used.get(node.output[0], [])
        return users[0] if len(users) == 1 and users[0].op_type == op else None

    replaced: dict[int, Any] = {}
    gone: set[int] = set()
    for erf in (n for n in graph.node if n.op_type == "Erf"):
        div = made.get(erf.input[0])
        add = only_user(erf, "Add")
        scale = only_user(add, "Mul") if add is not None else None
        half = only_user(scale, "Mul") if scale is not None else None
        if div is None or div.op_type != "Div" or scale is None or half is None or div.input[0] not in scale.input:
            continue
        gone.update(id(n) for n in (div, erf, add, scale))
        replaced[id(half)] = helper.make_node("Gelu", [div.input[0]], [half.output[0]], name=f"{erf.name}_gelu",
                                              domain="com.microsoft")
    nodes = [replaced.get(id(n), n) for n in graph.node if id(n) not in gone]
    del graph.node[:]
    graph.node.extend(nodes)


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


def _copy_metadata(source: Path, out: Path) -> None:
    """The character list (and the rest of the float model's metadata) into the quantised model."""
    import onnx

    meta = {p.key: p.value for p in onnx.load(str(source), load_external_data=False).metadata_props}
    model = onnx.load(str(out))
    have = {p.key for p in model.metadata_props}
    for key, value in meta.items():
        if key not in have:
            model.metadata_props.add(key=key, value=value)
    onnx.save(model, str(out))


def compare(models: Sequence[Path], crops: Sequence[Any]) -> None:
    """CPU ms per 1000 columns and the text read, each model against the first."""
    readers = [scan.Recogniser(model=m) for m in models]
    columns = sum(tensor(c).shape[-1] for c in crops)
    outputs = []
    for model, reader in zip(models, readers, strict=True):
        reader.read(crops[:5])  # warm-up
        start = time.process_time()
        got = reader.read(crops)
        cpu = time.process_time() - start
        outputs.append(got)
        print(f"{model.name}: {cpu:.2f} CPU-s for {len(crops)} crops, {1000 * 1000 * cpu / columns:.1f} ms "
              f"per 1000 columns")
    base = outputs[0]
    for model, got in zip(models[1:], outputs[1:], strict=True):
        differ = [(i, a, b) for i, (a, b) in enumerate(zip(base, got, strict=True))
                  if "".join(g.text for g in a) != "".join(g.text for g in b)]
        deltas = [abs(x.prob - y.prob) for a, b in zip(base, got, strict=True)
                  if len(a) == len(b) for x, y in zip(a, b, strict=True)]
        lows = [(sum(1 for g in line if g.prob < 0.9)) for line in got]
        base_lows = [(sum(1 for g in line if g.prob < 0.9)) for line in base]
        print(f"{model.name}: {len(differ)} of {len(crops)} lines read differently; probability |Δ| "
              f"mean {sum(deltas) / max(1, len(deltas)):.4f}, max {max(deltas, default=0):.4f}; "
              f"characters under 0.9: {sum(lows)} (float {sum(base_lows)})")
        for i, a, b in differ[:15]:
            print(f"   {i}: {''.join(g.text for g in a)!r} → {''.join(g.text for g in b)!r}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, nargs="?")
    parser.add_argument("--every", type=int, default=2, help="calibrate on every n-th crop")
    parser.add_argument("--samples", type=Path, default=REPO / "samples" / "scan")
    parser.add_argument("--compare", type=Path, nargs="*", help="models to compare with the float one")
    args = parser.parse_args(argv)
    crops = sample_crops(args.samples)
    print(f"{len(crops)} line crops from {args.samples}", file=sys.stderr)
    if args.out:
        quantise(args.out, crops, args.every)
        print(f"wrote {args.out}", file=sys.stderr)
    if args.compare is not None:
        compare([float_model(), *args.compare], crops)


if __name__ == "__main__":
    main()
