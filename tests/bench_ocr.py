"""`make bench` (OCR part): the scan reader's CPU time per page beside raw RapidOCR on the same page
images, where the time goes, peak memory, and accuracy on scanned samples. Prints figures,
asserts nothing (tests never assert timings).

1. **Speed.** Pages of the PDF samples are rasterised and "scanned" (``samples/make_scans.py``:
   turned, noise, specks, blur) at 150 and 200 dpi into a temporary folder; then, each engine in a
   process of its own (so its peak memory is its own), the same page images are read by

   - ``goalforms``: the scan reader (page geometry, ruling, lines, recognition), as shipped: with
     the int8 copy of the model where ``ocr_model`` chooses it (the model is printed in each row);
   - ``goalforms-float``: the same with the float model of the ``rapidocr`` wheel (what the reader
     ran before the int8 copy, and runs on CPUs without VNNI);
   - ``goalforms-ort-defaults``: the float model with onnxruntime's default session options (what
     the reader used before its recogniser ran single-threaded, in order, without spinning);
   - ``rapidocr``: ``RapidOCR()`` with its default pipeline (detection, classification,
     recognition) on the same image;
   - ``goalforms-openvino`` and ``goalforms-openvino-bf16``, only where the ``openvino`` package is
     installed (it is no dependency): the scan reader with the same float model run by OpenVINO
     (one inference thread, latency hint, one stream) in float32, and in bfloat16 on CPUs that have
     it. Measured on the project's machine (AMD EPYC, AVX-512 with BF16; onnxruntime 1.31,
     OpenVINO 2026.4) on the 2,783 line crops of ``samples/scan``: float32 no faster than
     onnxruntime (+22% CPU at the crops' own widths, even at one fixed width), outputs within
     6e-4 (glyph probabilities within 1e-4, no text changed); bfloat16 21% less CPU but 10 lines
     read otherwise (a colon's width, spaces) and probabilities up to 0.09 apart, which move the
     doubts: neither is the reader's engine.

   CPU-seconds are ``time.process_time`` (every thread of the process), after one warm-up page;
   the stages are the CPU of the scan reader's functions (recognition: the model, its input and
   the CTC decoding), and the load average is printed beside each engine: on a busy machine every
   figure is higher (caches are shared), so compare engines of one run, not runs.
2. **Accuracy.** The committed scans (``samples/scan``) and fresh scanned copies made apart from
   them (other angles, noise and resolution: ``make_scans.extra_scans``) are parsed and every
   value (header, budget, each indicator's levels, raw, kind, op, value, unit) compared with the
   truth (the forms of ``samples/text`` under the scans' rules). Counted: values wrong, wrong
   values that carry no flag (must be 0), and ``low_confidence`` flags per clean form (a form with
   every value right) — with the flags the old space rule would have added beside them.

Knobs: ``BENCH_OCR_PAGES`` (pages per resolution, default 4), ``BENCH_OCR_VARIANTS`` (comma-separated
names of extra scanned copies, default ``a,b``; empty for none).
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.benchkit import cpu_model
from tests.conftest import SAMPLES

REPO = Path(__file__).resolve().parent.parent
STAGES = {  # scan.py function → stage (wrapped for timing in the goalforms engines)
    "ink_mask": "ink", "skew_angle": "deskew", "rotate": "deskew", "rule_masks": "ruling",
    "find_tables": "ruling", "estimate_em": "em", "text_lines": "lines", "_crop": "lines",
    "_split_wide_gaps": "lines", "with_gaps": "repair", "ideograph_pitch": "repair", "_cell": "repair",
}
# Extra scanned copies: variant → (dpi for every file or None for the samples' own, max angle, noise).
VARIANTS = {"a": (200, 1.5, 9.0), "b": (150, 1.2, 7.0), "c": (None, 2.5, 11.0)}


# ---------------------------------------------------------------------------- accuracy


@dataclass
class Score:
    """Values compared with the truth over scanned forms, and the flags raised on them."""

    values: int = 0
    wrong: list[str] = field(default_factory=list)  # "file form n: field: got … want …"
    wrong_unflagged: list[str] = field(default_factory=list)
    forms: int = 0
    clean_forms: int = 0
    flags_on_clean: int = 0  # low_confidence issues on forms whose every value is right
    old_space_flags_on_clean: int = 0  # what the old rule (flag every invisible space) added
    flagged: list[str] = field(default_factory=list)  # the flags on clean forms

    def add(self, other: Score) -> None:
        self.values += other.values
        self.wrong += other.wrong
        self.wrong_unflagged += other.wrong_unflagged
        self.forms += other.forms
        self.clean_forms += other.clean_forms
        self.flags_on_clean += other.flags_on_clean
        self.old_space_flags_on_clean += other.old_space_flags_on_clean
        self.flagged += other.flagged

    def line(self) -> str:
        accuracy = 1 - len(self.wrong) / self.values if self.values else 0.0
        per = self.flags_on_clean / self.clean_forms if self.clean_forms else 0.0
        old = (self.flags_on_clean + self.old_space_flags_on_clean) / self.clean_forms if self.clean_forms else 0.0
        return (f"{self.values} values, {len(self.wrong)} wrong (accuracy {accuracy:.4f}), "
                f"wrong-unflagged {len(self.wrong_unflagged)}; {self.clean_forms}/{self.forms} forms clean, "
                f"flags per clean form {per:.3f} (old space rule: {old:.3f})")


INDICATOR_FIELDS = ("level1", "level2", "level3", "raw", "kind", "op", "value", "unit")


def score_forms(name: str, got: dict[str, Any], want: dict[str, Any]) -> Score:
    """Compare a parsed scan (``ParsedDocument.to_dict()``) with its truth (``expected_for``)."""
    from goalforms.parsers.readers.ocr_repair import invisible_space

    score = Score()
    got_forms, want_forms = got["forms"], want["forms"]
    if len(got_forms) != len(want_forms):
        message = f"{name}: {len(got_forms)} forms read, {len(want_forms)} expected"
        score.wrong.append(message)
        score.wrong_unflagged.append(message)
    for n, (g, w) in enumerate(zip(got_forms, want_forms, strict=False)):
        flags = {i["field"] for i in g["issues"] if i["code"] == "low_confidence"}
        fields = {i["field"] for i in g["issues"] if i.get("field")}
        wrong_here: list[tuple[str, set[str]]] = []  # (message, the flags that would cover it)
        for section in ("header", "budget"):
            for key, value in w[section].items():
                score.values += 1
                if g[section].get(key) != value:
                    wrong_here.append((f"{section}.{key}: got {g[section].get(key)!r}, want {value!r}",
                                       {f"{section}.{key}"}))
        if len(g["indicators"]) != len(w["indicators"]):
            wrong_here.append((f"{len(g['indicators'])} indicators read, {len(w['indicators'])} expected", set()))
        for i, (gi, wi) in enumerate(zip(g["indicators"], w["indicators"], strict=False)):
            for key in INDICATOR_FIELDS:
                score.values += 1
                if gi.get(key) != wi.get(key):
                    covering = {f"indicators[{i}].{key}"}
                    if key in ("kind", "op", "value", "unit"):
                        covering.add(f"indicators[{i}].raw")
                    wrong_here.append((f"indicators[{i}].{key}: got {gi.get(key)!r}, want {wi.get(key)!r}", covering))
        score.forms += 1
        for message, covering in wrong_here:
            score.wrong.append(f"{name} form {n}: {message}")
            # A wrong value is flagged when an issue names it (any issue: a clerk looks at it).
            if not covering & fields:
                score.wrong_unflagged.append(f"{name} form {n}: {message}")
        if not wrong_here:
            score.clean_forms += 1
            score.flags_on_clean += len(flags)
            score.flagged += [f"{name} form {n}: {f}" for f in sorted(flags)]
            score.old_space_flags_on_clean += sum(
                1 for i, ind in enumerate(g["indicators"])
                if invisible_space(ind["raw"]) and f"indicators[{i}].raw" not in flags)
    return score


def score_file(path: Path, want: dict[str, Any]) -> Score:
    from goalforms.pipeline import parse_file

    return score_forms(path.name, parse_file(path).to_dict(), want)


def committed_scans() -> list[tuple[Path, dict[str, Any]]]:
    scans = sorted(p for p in (SAMPLES / "scan").iterdir() if p.suffix in {".pdf", ".png"})
    return [(p, json.loads(p.with_suffix(".expected.json").read_text(encoding="utf-8"))) for p in scans]


def accuracy(folder: Path, variants: list[str]) -> None:
    sys.path.insert(0, str(SAMPLES))
    import make_scans

    sets: list[tuple[str, list[tuple[Path, dict[str, Any]]]]] = [("samples/scan", committed_scans())]
    for variant in variants:
        dpi, angle, noise = VARIANTS[variant]
        copies = make_scans.extra_scans(folder, variant, dpi, angle, noise)
        sets.append((f"copies {variant} ({dpi or 'own'} dpi, ≤{angle}°, noise {noise})", copies))
    total = Score()
    for label, files in sets:
        score = Score()
        for path, want in files:
            score.add(score_file(path, want))
        print(f"  {label}: {score.line()}")
        for message in score.wrong:
            print(f"    wrong{' (UNFLAGGED)' if message in score.wrong_unflagged else ''}: {message}")
        for flag in score.flagged:
            print(f"    flag on a clean form: {flag}")
        total.add(score)
    print(f"  all: {total.line()}")


# ---------------------------------------------------------------------------- speed


def make_pages(folder: Path, count: int) -> dict[int, list[Path]]:
    """``count`` scanned page images at 150 and 200 dpi (PNG, the resolution in the file)."""
    sys.path.insert(0, str(SAMPLES))
    import make_scans
    from PIL import Image

    out: dict[int, list[Path]] = {}
    for dpi in (150, 200):
        pages: list[Path] = []
        for pdf in sorted((SAMPLES / "pdf").glob("*.pdf")):
            work = folder / f"raster-{dpi}-{pdf.stem}"
            work.mkdir()
            for n, page in enumerate(make_scans.rasterise(pdf, dpi, work), start=1):
                if len(pages) >= count:
                    break
                target = folder / f"{pdf.stem}-{dpi}-{n}.png"
                make_scans.scanned(Image.open(page), f"bench-{pdf.stem}-{n}").save(target, dpi=(dpi, dpi))
                pages.append(target)
        out[dpi] = pages
    return out


def run_engine(engine: str, pages: list[Path]) -> dict[str, Any]:
    """In this process: read every page with ``engine``; CPU-s per page, stages, peak memory."""
    import numpy as np
    from PIL import Image

    from goalforms.parsers.readers import ocr_model, scan

    stages: dict[str, float] = defaultdict(float)
    if engine.startswith("goalforms"):
        for name, stage in STAGES.items():
            original = getattr(scan, name)

            def timed(*args: Any, _f: Any = original, _s: str = stage, **kwargs: Any) -> Any:
                start = time.process_time()
                try:
                    return _f(*args, **kwargs)
                finally:
                    stages[_s] += time.process_time() - start

            setattr(scan, name, timed)
        model = ocr_model.float_model() if engine != "goalforms" else None  # None: the reader's own choice
        recogniser = scan.Recogniser(threads=None if engine == "goalforms-ort-defaults" else scan.THREADS, model=model)
        if engine.startswith("goalforms-openvino"):
            recogniser.session = OpenVinoSession("bf16" if engine.endswith("bf16") else "f32")  # type: ignore[assignment]
        read = recogniser.read

        def timed_read(crops: Any) -> Any:
            start = time.process_time()
            try:
                return read(crops)
            finally:
                stages["recognition"] += time.process_time() - start
                stages["crops"] += len(crops)

        recogniser.read = timed_read  # type: ignore[method-assign]
        scan.recogniser = lambda: recogniser  # type: ignore[assignment]

        def work(path: Path) -> None:
            start = time.process_time()
            with Image.open(path) as picture:
                gray = scan.to_gray(np.asarray(picture.convert("L")))
                dpi = float(picture.info.get("dpi", (200, 200))[0])
            stages["decode"] += time.process_time() - start
            scan.page_placed(gray, 1, 0, scale=72.0 / dpi)
    else:
        from rapidocr import RapidOCR

        engine_ = RapidOCR()

        def work(path: Path) -> None:
            start = time.process_time()
            with Image.open(path) as picture:
                image = np.asarray(picture.convert("RGB"))[:, :, ::-1].copy()
            stages["decode"] += time.process_time() - start
            engine_(image)

    work(pages[0])  # warm-up: the model loads, caches fill
    stages.clear()
    if engine.startswith("goalforms"):
        recogniser.rechecked = 0
    start, wall = time.process_time(), time.perf_counter()
    for path in pages:
        work(path)
    cpu = time.process_time() - start
    model_name = "its own pipeline"
    if engine.startswith("goalforms"):
        model_name = Path(recogniser.model).name
        if recogniser.recheck is not None:
            model_name += f", {recogniser.rechecked / len(pages):.1f} lines a page read again by {recogniser.recheck.name}"
    return {"model": model_name, "cpu_per_page": cpu / len(pages), "wall_per_page": (time.perf_counter() - wall) / len(pages),
            "stages": {k: v / len(pages) for k, v in stages.items()},
            "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "load": os.getloadavg()[0]}


class OpenVinoSession:
    """The recogniser's model (the same file) on OpenVINO, called as the recogniser calls its
    onnxruntime session: one thread, as the importer runs one process per core."""

    def __init__(self, precision: str) -> None:
        import openvino

        from goalforms.parsers.readers import ocr_model

        core = openvino.Core()
        model = core.read_model(str(ocr_model.float_model()))
        compiled = core.compile_model(model, "CPU", {
            "INFERENCE_NUM_THREADS": 1, "PERFORMANCE_HINT": "LATENCY", "NUM_STREAMS": 1,
            "INFERENCE_PRECISION_HINT": precision, "ENABLE_CPU_PINNING": False})
        self.request = compiled.create_infer_request()

    def run(self, _outputs: Any, feeds: dict[str, Any]) -> list[Any]:
        [tensor] = feeds.values()
        self.request.infer({0: tensor})
        return [self.request.get_output_tensor(0).data.copy()]


def speed(folder: Path, count: int) -> None:
    import importlib.util

    pages = make_pages(folder, count)
    engines: tuple[str, ...] = ("goalforms", "goalforms-float", "goalforms-ort-defaults", "rapidocr")
    if importlib.util.find_spec("openvino") is not None:
        engines += ("goalforms-openvino", "goalforms-openvino-bf16")
    print(f"  CPU-seconds per page ({count} scanned pages per resolution, the same images for every engine):")
    for dpi, paths in pages.items():
        for engine in engines:
            # One engine at a time, each in its own process (its peak memory is its own).
            out = subprocess.run([sys.executable, "-m", "tests.bench_ocr", "--engine", engine, *map(str, paths)],
                                 cwd=REPO, capture_output=True, text=True, timeout=3600)
            if out.returncode:
                print(f"  {dpi} dpi {engine}: failed: {out.stderr.strip()[-400:]}")
                continue
            result = json.loads(out.stdout.strip().splitlines()[-1])
            stages = ", ".join(f"{k} {v:.3f}" if k != "crops" else f"{v:.0f} lines"
                               for k, v in sorted(result["stages"].items()))
            print(f"  {dpi} dpi {engine:>22}: {result['cpu_per_page']:.2f} CPU-s/page "
                  f"({result['wall_per_page']:.2f} s wall, load {result['load']:.1f}), peak {result['peak_mib']:.0f} MiB, "
                  f"{result['model']}; "
                  f"{stages}")


def machine() -> str:
    model = cpu_model()
    import onnxruntime

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (f"{os.cpu_count()} cores, {model}; {platform.python_implementation()} {platform.python_version()}; "
            f"onnxruntime {onnxruntime.__version__}; load average {load}")


def main() -> None:
    if sys.argv[1:2] == ["--engine"]:
        print(json.dumps(run_engine(sys.argv[2], [Path(p) for p in sys.argv[3:]])))
        return
    print(f"OCR bench — machine: {machine()}")
    count = int(os.environ.get("BENCH_OCR_PAGES", "4"))
    variants = [v for v in os.environ.get("BENCH_OCR_VARIANTS", "a,b").split(",") if v]
    with tempfile.TemporaryDirectory(prefix="bench-ocr-") as tmp:
        speed(Path(tmp), count)
        print("  accuracy (every value against the truth; flags per clean form):")
        accuracy(Path(tmp), variants)
    print(f"  done; load average now {', '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
