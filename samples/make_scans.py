"""Generate the scanned samples from the generated PDFs: what a clerk's scanner would make of them.

For every ``samples/pdf/NNN_*.pdf`` this writes ``samples/scan/NNN_*.pdf``: each page rasterised
by ``pdftoppm`` (grayscale, 150 or 200 dpi), turned by a slight angle, given noise and specks
and blurred a little, then stored as an image-only PDF (JPEG pages, no text layer). A few single pages
that hold one whole form are also written as ``samples/scan/NNN_*_pN.png``.

Beside each file goes its expected parse (``NAME.expected.json``): the PDF sample's expected
parse (the same forms: the format of the file is an accident), with ``source.format`` "scan"
and the new file's sha256. The scans are clean enough to read without doubt; the one thing no
scan shows — whether a space was typed between Chinese and Latin/digits, where a gap is printed
either way — is settled by a written rule (see ``expected_for``): the target's raw text has a
space there, as printed, and it is flagged ``low_confidence`` only when it would read as another
kind, operator, value or unit without that space. ``EXPECTED_DOUBTS`` lists the other doubts the
reader really raises.

:func:`extra_scans` makes other scanned copies of the same PDFs (other angles, noise, resolution)
into a folder, for the checks that every wrong value is flagged (tests/bench_ocr.py).

Needs poppler (``pdftoppm``); the results are committed, so the tests do not. Regenerate with::

    .venv/bin/python samples/make_scans.py            # scans and expected parses
    .venv/bin/python samples/make_scans.py --expected  # the expected parses of the scans there

Everything is reproducible: the random angles and noise are seeded by the file name and page,
and the PDF is written by hand with fixed content (no dates, no IDs).
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageFilter

from goalforms.parsers.readers.ocr_repair import as_printed, spacing_matters
from goalforms.pipeline.normalise import parse_target

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "samples"
PDF_DIR = SAMPLES / "pdf"
SCAN_DIR = SAMPLES / "scan"

# Scanning resolution per sample (the reader must cope with both ends of what offices use).
DPI = {"002_24ec7dd97fefd2fa": 150, "003_cca29bee0b231de8": 150}
DEFAULT_DPI = 200
MAX_ANGLE = 0.8  # degrees, either way: a sheet laid slightly askew
NOISE = 6.0  # standard deviation of the sensor noise (gray levels)
SPECKS = 0.0003  # share of pixels hit by a dark speck of dust
JPEG_QUALITY = 60
# Single pages written as PNG too: (sample stem, page, index of the form on that page).
PNG_PAGES = (("003_cca29bee0b231de8", 1, 0), ("002_24ec7dd97fefd2fa", 2, 1))
PNG_DPI = 150
# Issues pipeline/validate.py raises (before the OCR doubts; the plausibility stage's come after).
VALIDATION_ISSUES = {"missing_target", "truncated_columns", "truncated_text"}
# Doubts the reader really raises on a scan, by file and form index: the values a clerk must
# check because the page cannot settle them.
EXPECTED_DOUBTS: dict[str, dict[int, list[str]]] = {
    # The third form's 立项依据 was cut in the source and ends "…2号)" with no opening bracket;
    # a bracket ending a line shows no blank either side, so its width cannot be read.
    "003_cca29bee0b231de8.pdf": {2: ["header_extra.basis"]},
}


def rasterise(pdf: Path, dpi: int, folder: Path) -> list[Path]:
    if shutil.which("pdftoppm") is None:
        sys.exit("make_scans: pdftoppm (poppler-utils) not found: apt-get install -y poppler-utils")
    prefix = folder / pdf.stem
    subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-png", str(pdf), str(prefix)], check=True, timeout=600)
    return sorted(folder.glob(f"{pdf.stem}-*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))


def seed(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big")


def scanned(page: Image.Image, name: str, max_angle: float = MAX_ANGLE, noise: float = NOISE) -> Image.Image:
    """A clean page as a scanner returns it: askew, noisy, with a few specks, slightly soft."""
    rng = np.random.default_rng(seed(name))
    angle = float(rng.uniform(0.2, max_angle) * rng.choice([-1.0, 1.0]))
    turned = page.convert("L").rotate(angle, resample=Image.Resampling.BICUBIC, expand=False, fillcolor=255)
    pixels = np.asarray(turned, dtype=np.float32)
    pixels = pixels * 0.92 + 12  # paper is never white, toner never black
    pixels += rng.normal(0.0, noise, pixels.shape)
    specks = rng.random(pixels.shape) < SPECKS
    pixels[specks] = rng.uniform(40, 140, int(specks.sum()))
    noisy = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), mode="L")
    # The optics blur grain and dust with the print (and JPEG then stores the page smaller).
    return noisy.filter(ImageFilter.GaussianBlur(radius=0.6))


def jpeg(page: Image.Image) -> bytes:
    buffer = io.BytesIO()
    page.save(buffer, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    return buffer.getvalue()


def image_pdf(pages: list[Image.Image], dpi: int) -> bytes:
    """A minimal PDF with one JPEG image filling each page and nothing else (no text layer).

    Written by hand so the bytes depend on the pages only (PIL stamps no date, but its layout
    may change between versions)."""
    objects: list[bytes] = []
    kids = []
    for page in pages:
        data = jpeg(page)
        width, height = page.size
        w_pt, h_pt = width * 72 / dpi, height * 72 / dpi
        image_no = len(objects) + 3
        content = f"q {w_pt:.2f} 0 0 {h_pt:.2f} 0 0 cm /Im0 Do Q".encode()
        objects.append(b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "
                       b"/BitsPerComponent 8 /Filter /DCTDecode /Length %d >>\nstream\n" % (width, height, len(data))
                       + data + b"\nendstream")
        compressed = zlib.compress(content, 9)
        objects.append(b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(compressed) + compressed + b"\nendstream")
        page_no = len(objects) + 3
        kids.append(page_no)
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {w_pt:.2f} {h_pt:.2f}] "
                       f"/Resources << /XObject << /Im0 {image_no} 0 R >> >> /Contents {image_no + 1} 0 R >>".encode())
    head = [b"<< /Type /Catalog /Pages 2 0 R >>",
            f"<< /Type /Pages /Kids [{' '.join(f'{k} 0 R' for k in kids)}] /Count {len(kids)} >>".encode()]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(head + objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(offsets) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(offsets) + 1, xref))
    return out.getvalue()


def expected_for(source: dict[str, Any], path: Path, forms: list[dict[str, Any]] | None = None,
                 collection_title: bool = True) -> dict[str, Any]:
    """The PDF sample's truth for the scan of it: same forms, another file and format.

    One thing a scan cannot show: whether a space was typed where Chinese meets Latin/digits
    (word processors print a gap there either way). The rule: the target's raw text has one
    space there, as printed; it is flagged ``low_confidence`` only when, read without those
    spaces, it would have another kind, operator, value or unit (``spacing_matters``). The
    expected parse says the same."""
    chosen = source["forms"] if forms is None else forms
    out_forms = []
    for n, form in enumerate(chosen):
        form = json.loads(json.dumps(form))
        # In the reader's order: the validation issues, the OCR doubts (doubted cells first, then
        # the targets whose meaning hangs on a space), then the plausibility stage's.
        kept = [i for i in form["issues"] if i["code"] in VALIDATION_ISSUES]
        later = [i for i in form["issues"] if i["code"] not in VALIDATION_ISSUES]
        doubts = [{"code": "low_confidence", "severity": "warning", "field": field}
                  for field in EXPECTED_DOUBTS.get(path.name, {}).get(n, [])]
        for index, indicator in enumerate(form["indicators"]):
            if spacing_matters(indicator["raw"], parse_target):
                doubts.append({"code": "low_confidence", "severity": "warning", "field": f"indicators[{index}].raw"})
            indicator["raw"] = as_printed(indicator["raw"])
        form["issues"] = kept + doubts + later
        out_forms.append(form)
    return {"source": {"sha256": hashlib.sha256(path.read_bytes()).hexdigest(), "format": "scan"},
            "collection_title": source["collection_title"] if collection_title else None,
            "forms": out_forms}


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def extra_scans(folder: Path, variant: str, dpi: int | None = None, max_angle: float = 1.5,
                noise: float = 9.0, stems: list[str] | None = None) -> list[tuple[Path, dict[str, Any]]]:
    """Other scanned copies of the PDF samples, apart from the committed ones: each page turned by
    another angle (up to ``max_angle``), with other noise (seeded by ``variant``), at ``dpi`` (the
    samples' own when None), written into ``folder``. Returns each copy with its truth (the PDF
    sample's expected parse: the forms of ``samples/text`` under the scan's rules)."""
    out = []
    for pdf in sorted(PDF_DIR.glob("*.pdf")):
        if stems is not None and pdf.stem not in stems:
            continue
        truth = json.loads((PDF_DIR / f"{pdf.stem}.expected.json").read_text(encoding="utf-8"))
        resolution = dpi or DPI.get(pdf.stem, DEFAULT_DPI)
        pages_dir = folder / f"{pdf.stem}-{variant}-pages"
        pages_dir.mkdir(parents=True, exist_ok=True)
        pages = [scanned(Image.open(p), f"{pdf.stem}-{n}-{variant}", max_angle, noise)
                 for n, p in enumerate(rasterise(pdf, resolution, pages_dir), start=1)]
        shutil.rmtree(pages_dir)
        target = folder / f"{pdf.stem}-{variant}.pdf"
        target.write_bytes(image_pdf(pages, resolution))
        out.append((target, expected_for(truth, target)))
    return out


def refresh_expected() -> None:
    """Rewrite the expected parses of the scans already in samples/scan (the rules changed, the
    images did not)."""
    for scan in sorted(SCAN_DIR.glob("*.pdf")) + sorted(SCAN_DIR.glob("*.png")):
        stem = scan.stem.split("_p")[0] if scan.suffix == ".png" else scan.stem
        truth = json.loads((PDF_DIR / f"{stem}.expected.json").read_text(encoding="utf-8"))
        if scan.suffix == ".png":
            page_no = int(scan.stem.rsplit("_p", 1)[1])
            form_index = next(i for s, p, i in PNG_PAGES if s == stem and p == page_no)
            expected = expected_for(truth, scan, [truth["forms"][form_index]], collection_title=form_index == 0)
        else:
            expected = expected_for(truth, scan)
        write_json(SCAN_DIR / f"{scan.stem}.expected.json", expected)
        print(f"{scan.stem}.expected.json")


def main() -> None:
    if "--expected" in sys.argv[1:]:
        refresh_expected()
        return
    sources = sorted(PDF_DIR.glob("*.pdf"))
    if not sources:
        sys.exit(f"make_scans: no PDFs in {PDF_DIR}: run samples/make_samples.py first")
    SCAN_DIR.mkdir(parents=True, exist_ok=True)
    for old in SCAN_DIR.iterdir():
        if old.is_file() and old.suffix in {".pdf", ".png", ".json"}:
            old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        for pdf in sources:
            truth = json.loads((PDF_DIR / f"{pdf.stem}.expected.json").read_text(encoding="utf-8"))
            dpi = DPI.get(pdf.stem, DEFAULT_DPI)
            pages = [scanned(Image.open(p), f"{pdf.stem}-{n}")
                     for n, p in enumerate(rasterise(pdf, dpi, Path(tmp)), start=1)]
            target = SCAN_DIR / pdf.name
            target.write_bytes(image_pdf(pages, dpi))
            write_json(SCAN_DIR / f"{pdf.stem}.expected.json", expected_for(truth, target))
            print(f"{target.name}: {len(pages)} pages at {dpi} dpi, {target.stat().st_size // 1024} KiB")
        for stem, page_no, form_index in PNG_PAGES:
            truth = json.loads((PDF_DIR / f"{stem}.expected.json").read_text(encoding="utf-8"))
            folder = Path(tmp) / f"png-{stem}"
            folder.mkdir()
            page = rasterise(PDF_DIR / f"{stem}.pdf", PNG_DPI, folder)[page_no - 1]
            target = SCAN_DIR / f"{stem}_p{page_no}.png"
            scanned(Image.open(page), f"{stem}-png-{page_no}").save(target, format="PNG", optimize=True,
                                                                    dpi=(PNG_DPI, PNG_DPI))
            write_json(SCAN_DIR / f"{target.stem}.expected.json",
                       expected_for(truth, target, [truth["forms"][form_index]], collection_title=form_index == 0))
            print(f"{target.name}: {target.stat().st_size // 1024} KiB")


if __name__ == "__main__":
    main()
