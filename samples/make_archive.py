"""A synthetic archive for scale tests and ``make bench``: many distinct form files built from the
sample forms with varied project names and budget figures.

    python samples/make_archive.py OUT_DIR --text 10000 [--pdf 1000]

Text files are the tab-separated samples with every project name suffixed and every amount
varied (so no two files share content and forms differ); PDFs are the Word rendering of such
variants converted by LibreOffice in batches (needs ``make samples``' system packages).
"""

from __future__ import annotations

import argparse
import random
import re
import subprocess
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
_NAME = re.compile(r"(项目名称[*＊]?[：:]?\t?)([^\t\n]+)")
_AMOUNT = re.compile(r"\b\d{1,3}(?:,\d{3})+(?:\.\d{2})?\b")


def variant(text: str, n: int, rng: random.Random) -> str:
    """The sample text with project names suffixed by ``n`` and amounts scaled."""
    factor = 1 + rng.randint(1, 50) / 100

    def amount(m: re.Match[str]) -> str:
        value = round(float(m.group().replace(",", "")) * factor, 2)
        return f"{value:,.2f}" if "." in m.group() else f"{round(value):,}"

    text = _NAME.sub(lambda m: f"{m.group(1)}{m.group(2)}（批次{n}）", text)
    return _AMOUNT.sub(amount, text)


def make_text_archive(out: Path, files: int, seed: int = 7) -> list[Path]:
    """``files`` distinct text files under ``out`` in nested folders (100 files a folder)."""
    rng = random.Random(seed)
    sources = [p.read_text(encoding="utf-8") for p in sorted((HERE / "text").glob("*.txt"))]
    written = []
    for n in range(files):
        folder = out / f"unit{n // 100:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"forms_{n:05d}.txt"
        path.write_text(variant(sources[n % len(sources)], n, rng), encoding="utf-8")
        written.append(path)
    return written


def make_pdf_archive(out: Path, files: int, seed: int = 11) -> list[Path]:
    """``files`` distinct PDFs: Word renderings of varied expected parses, converted in batches."""
    import json

    from make_samples import build_docx, header_extras  # type: ignore[import-not-found]

    rng = random.Random(seed)
    samples = sorted((HERE / "text").glob("*.expected.json"))
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="goalforms-archive-") as scratch:
        docx_dir = Path(scratch)
        for n in range(files):
            expected_path = samples[n % len(samples)]
            truth = json.loads(expected_path.read_text(encoding="utf-8"))
            extras = header_extras(expected_path.with_name(expected_path.name.replace(".expected.json", ".txt")), truth)
            for form in truth["forms"]:
                form["header"]["project_name"] = f"{form['header']['project_name']}（批次{n}）"
                for key, value in form["budget"].items():
                    if value is not None:
                        form["budget"][key] = str(round(float(value) * (1 + rng.randint(1, 50) / 100)))
            (docx_dir / f"forms_{n:05d}.docx").write_bytes(build_docx(truth, extras))
        docs = sorted(docx_dir.glob("*.docx"))
        for start in range(0, len(docs), 100):
            subprocess.run(
                ["soffice", f"-env:UserInstallation={(docx_dir / 'profile').as_uri()}", "--headless",
                 "--convert-to", "pdf", "--outdir", str(out), *map(str, docs[start:start + 100])],
                check=True, capture_output=True, timeout=3600,
            )
    return sorted(out.glob("*.pdf"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--text", type=int, default=10000)
    parser.add_argument("--pdf", type=int, default=0)
    args = parser.parse_args()
    print(f"{len(make_text_archive(args.out / 'text', args.text))} text files")
    if args.pdf:
        print(f"{len(make_pdf_archive(args.out / 'pdf', args.pdf))} PDFs")


if __name__ == "__main__":
    main()
