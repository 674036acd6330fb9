"""Generate the flowing-text samples (``samples/flow/``) from the committed sample PDFs.

Flowing text is what people get when they take the text of a PDF without its layout; three
producers, each as it really writes:

- ``NAME.plumber.txt``: pdfplumber's ``page.extract_text()`` of every page, joined by a form feed
  (``"\\f".join(...)``, as scripts do): a page's last line and the next page's title share a line.
- ``NAME.viewer.txt``: a PDF viewer's select-all / copy-paste: the text runs of a printed line
  joined by single spaces, a trailing space on every line, Windows line ends, no page break at all.
- ``NAME.pdftotext.txt``: ``pdftotext -raw`` (no ``-layout``): the content stream's order, so
  a wrapped cell's lines follow each other; a form feed before every page; a space printed
  between Chinese and Latin letters or digits.

Visual order (plumber, viewer) puts the first lines of all the cells of a printed row on one
line, then their second lines, and so on; stream order (pdftotext) mostly prints a cell's lines
one after the other. Neither prints where one cell ends.

Expected parses: ``derive_expected`` of ``samples/make_samples.py`` (the hand-checked parse of
the text sample: values, indicators, and the form's own issues), then what the flowing text can
and cannot show, by these rules (reasoned from how the producers write, not from the parser):

1. A cell's paragraph breaks are not printed: the goal's lines are joined. A target keeps the
   space pdftotext prints between digits and Chinese (``=2500 本``; kind, op, value and unit
   are the same).
2. A header line holding several free-text values (not a date, 是/否 or an amount), followed by
   a line without a label, cannot say whose wrapped part that line is: each such value keeps
   what stands after its label on its own line and is flagged ``uncertain_split``
   (``header.project_name`` …, in the order of the line).
3. Text blocks printed side by side (2024: 项目总目标 and 年度总体目标 on one line) cannot say
   whose the text below is: it is read as the last one's (年度总体目标 = ``goal``), and both
   are flagged (``header_extra.project_goal``, ``header.goal``).
4. An indicator's name and target share its first line. Their boundary is certain only at the
   one space between two Chinese characters (Chinese text has none), or, without one, before a
   target in the grammar's shape (an operator and a number, or a bare percentage); otherwise
   both are flagged (``indicators[k].level3``, ``.raw``).
5. In visual order, a line that continues an indicator (its name or target wrapped) can only be
   given to a column by the columns' widths, which the text does not print: the indicator is
   flagged (level3 and raw) — unless its target is whole and in the grammar's shape on the first
   line, so that only the name can go on.

Rule 5 is about visual order only. In stream order (pdftotext) a wrapped name's lines come
before its target, but a name's second line may also follow the target, and a long target stands
alone on its lines: which line starts a row rests on column widths the stream shows even less,
and a wrong guess can merge two rows. The parser flags every such guess; no written rule
describes the resulting parse without copying it, so ``004`` (whose 2024 indicators wrap a lot)
has its pdftotext file committed without an expected parse (``STREAM_EXPECTED`` lists the
others). ``tests/test_flowing.py`` still measures it against the hand-checked parse: no
indicator may be wrong without a flag.

Vertically centred cells (``NAME.centred-plumber.txt``, ``-viewer``, ``-pdftotext``): the Word
samples with every table cell centred vertically (a common setting of the budget systems'
templates), converted by LibreOffice headless, then extracted as above. A value's lines stand
above and below its label, a level name on a middle line of its group; what is on which side
is not printed. These have no expected parse (no written rule says which of the many doubtful
places a reader resolves); ``tests/test_flowing.py`` measures them against the hand-checked parse:
no indicator may be wrong without a flag.

Reproducible: the same PDFs give the same bytes (no timestamps in text).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pdfplumber
import regex
from docx import Document
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT
from docx.table import _Cell

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_samples import (  # noqa: E402
    DOCX_DIR,
    PDF_DIR,
    SAMPLES,
    TEXT_DIR,
    as_printed_in_layout,
    derive_expected,
    write_json,
)

from goalforms.parsers.labels import compact  # noqa: E402
from goalforms.parsers.layouts import LAYOUTS  # noqa: E402
from goalforms.pipeline.normalise import parse_target  # noqa: E402

FLOW_DIR = SAMPLES / "flow"
# Stream-order samples with an expected parse (see the module docstring).
STREAM_EXPECTED = {"000_914c13d346301e8d", "002_24ec7dd97fefd2fa", "003_cca29bee0b231de8"}
_CJK = r"[\p{Han}\u3000-\u303f\uff00-\uffef\u2018-\u201f\u2026\u2014]"
_STRONG_GAP = regex.compile(rf"(?<={_CJK})\s+(?={_CJK})")
_TARGET_SHAPE = regex.compile(r"^\s*(?:[=＝≥≤＞＜><]=?\s*[-+]?\d|[-+]?\d+(?:\.\d+)?\s*[%％]\s*$)")
_DATE = regex.compile(r"^\d{4}-\d{2}-\d{2}$")


# -- producers -----------------------------------------------------------------------------------


def plumber_text(pdf: Path) -> str:
    with pdfplumber.open(pdf) as doc:
        return "\f".join(page.extract_text() for page in doc.pages) + "\n"


def viewer_text(pdf: Path) -> str:
    """Copy-paste from a viewer: each printed line's text runs joined by a space, a trailing
    space, CRLF line ends, pages simply one after the other."""
    lines = []
    with pdfplumber.open(pdf) as doc:
        for page in doc.pages:
            for line in page.extract_text_lines(layout=False, strip=True):
                lines.append(line["text"] + " ")
    return "\r\n".join(lines) + "\r\n"


def pdftotext_text(pdf: Path) -> str:
    out = subprocess.run(["pdftotext", "-raw", "-enc", "UTF-8", str(pdf), "-"], check=True, capture_output=True)
    return out.stdout.decode("utf-8")


# -- what the flowing text shows -------------------------------------------------------------------


def is_grammar_target(text: str) -> bool:
    return bool(_TARGET_SHAPE.match(text)) and parse_target(text).kind == "numeric"


def sure_boundary(line: str) -> bool:
    """Rule 4: a line holding a name and a target shows where one ends."""
    strong = _STRONG_GAP.findall(line)
    if len(strong) == 1:
        return True
    if strong:
        return False
    gaps = list(regex.finditer(r"\s+", line))
    return not gaps or any(is_grammar_target(line[g.end():]) for g in gaps)


def forms_of(text: str, titles: list[str]) -> list[list[str]]:
    """The lines of each form (a title starts one; a form feed glues a title to a line's end)."""
    pattern = regex.compile("(" + "|".join(regex.escape(t) for t in titles) + ")")
    forms: list[list[str]] = []
    for raw in regex.split(r"\r\n|\n|\f", text):
        line = raw.strip()
        parts = pattern.split(line)
        for n, part in enumerate(parts):
            if n % 2 == 1:
                forms.append([part])
            elif part.strip() and forms:
                forms[-1].append(part.strip())
    return forms


class Form:
    """One form of a flowing text, read against its true parse."""

    def __init__(self, lines: list[str], truth: dict[str, Any]) -> None:
        self.spec = LAYOUTS[truth["layout"]].spec
        self.lines = lines
        self.truth = truth
        key = [compact(n) for c in ("level1", "level2", "level3") for n in self.spec.table[c]]
        self.table_at = next((i for i, line in enumerate(lines) if all(k in compact(line) for k in key[:1])
                              and any(k in compact(line) for k in key[2:])), len(lines))
        labels = []
        for kind, table in (("field", self.spec.fields), ("text_block", self.spec.text_blocks),
                            ("budget", self.spec.budget)):
            labels += [(s, kind, name) for name, spellings in table.items() for s in spellings]
        labels += [(c, "caption", "") for c in self.spec.captions]
        labels.sort(key=lambda item: -len(item[0]))
        self.labels = labels

    def labels_in(self, line: str) -> list[tuple[int, int, str, str]]:
        found: list[tuple[int, int, str, str]] = []
        for text, kind, name in self.labels:
            body = r"\s*".join(regex.escape(ch) if ch not in "()（）：:" else
                               {"(": "[(（]", "（": "[(（]", ")": "[)）]", "）": "[)）]"}.get(ch, "[：:]")
                               for ch in text)
            for m in regex.finditer(rf"(?<!\S){body}\s*\*?\s*(?:[(（]元[)）])?\s*(?:[：:]|(?=\s|$))", line):
                if not any(s < m.end() and m.start() < e for s, e, _, _ in found):
                    found.append((m.start(), m.end(), kind, name))
        return sorted(found)

    def header_flags(self, header: dict[str, Any]) -> list[dict[str, Any]]:
        """Rules 2 and 3."""
        flags: list[dict[str, Any]] = []
        lines = self.lines[1: self.table_at]
        for i, line in enumerate(lines[:-1]):
            found = self.labels_in(line)
            nxt = lines[i + 1]
            if self.labels_in(nxt) or not nxt.strip() or regex.match(r"^[(（]?元[)）]?[：:]", nxt.strip()):
                continue
            blocks = [name for _, _, kind, name in found if kind == "text_block"]
            if len(blocks) > 1:
                for name in blocks:
                    section = "header" if name == "goal" else "header_extra"
                    flags.append(self.flag(f"{section}.{name}"))
                continue
            fields = []
            for n, (_, end, kind, name) in enumerate(found):
                if kind != "field":
                    continue
                stop = found[n + 1][0] if n + 1 < len(found) else len(line)
                shown = line[end:stop].strip()
                value = header.get(name)
                if _DATE.match(str(value)) or isinstance(value, bool):
                    continue
                fields.append((name, shown))
            if len(fields) > 1:
                for name, shown in fields:
                    if header.get(name) and compact(shown) != compact(header[name]):
                        header[name] = shown
                    flags.append(self.flag(f"header.{name}"))
        return flags

    def table_lines(self) -> list[str]:
        """Indicator lines with their leading level names (whole, cut, or the cut's rest) removed."""
        vocabulary = self.spec.vocabulary
        names = [*vocabulary.level1, *vocabulary.parent, *self.spec.side_labels]
        out = []
        for line in self.lines[self.table_at + 1:]:
            tokens = line.split(" ")
            while tokens and any(n == compact(tokens[0]) or n.startswith(compact(tokens[0]))
                                 or n.endswith(compact(tokens[0])) for n in names):
                tokens.pop(0)
            out.append(" ".join(tokens))
        return out

    def indicator_flags(self, indicators: list[dict[str, Any]], stream: bool) -> list[dict[str, Any]]:
        """Rules 4 and 5."""
        flags: list[dict[str, Any]] = []
        lines = self.table_lines()
        at = 0
        for k, indicator in enumerate(indicators):
            name, target = compact(indicator["level3"]), compact(indicator["raw"])
            start = next(i for i in range(at, len(lines)) if compact(lines[i]).startswith(name[:4]))
            first = lines[start]
            whole = compact(first) == name + target
            flagged = False
            if compact(first).startswith(name) and compact(first) != name and target:
                flagged = not sure_boundary(first)
            if not whole and not stream:
                target_whole = target and compact(first).endswith(target) and is_grammar_target(indicator["raw"])
                flagged = flagged or not target_whole
            if flagged:
                flags += [self.flag(f"indicators[{k}].level3"), self.flag(f"indicators[{k}].raw")]
            at = start + 1
        return flags

    @staticmethod
    def flag(field: str) -> dict[str, Any]:
        return {"code": "uncertain_split", "severity": "warning", "field": field}


def expected_for(path: Path, text: str, truth: dict[str, Any], stream: bool) -> dict[str, Any]:
    expected = derive_expected(truth, path, "txt")
    titles = [t for parser in LAYOUTS.values() for t in parser.spec.titles]
    forms = forms_of(text, titles)
    if len(forms) != len(expected["forms"]):
        sys.exit(f"make_flowing: {path.name}: {len(forms)} titles, {len(expected['forms'])} forms")
    for lines, form in zip(forms, expected["forms"], strict=True):
        reader = Form(lines, form)
        if form["header"].get("goal"):
            form["header"]["goal"] = form["header"]["goal"].replace("\n", "")
        for indicator in form["indicators"]:
            indicator["raw"] = as_printed_in_layout(indicator["raw"], text)
        flags = reader.header_flags(form["header"]) + reader.indicator_flags(form["indicators"], stream)
        form["issues"] = flags + form["issues"]
    return expected


def centred_pdfs(folder: Path) -> list[Path]:
    """The Word samples with every table cell centred vertically, as PDFs (LibreOffice, a
    profile of our own)."""
    docs = []
    for source in sorted(DOCX_DIR.glob("*.docx")):
        document = Document(str(source))
        for table in document.tables:
            for tr in table._tbl.tr_lst:
                for tc in tr.tc_lst:
                    _Cell(tc, table).vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
        docs.append(folder / source.name)
        document.save(str(docs[-1]))
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        sys.exit("make_flowing: LibreOffice (soffice) not found")
    subprocess.run([soffice, f"-env:UserInstallation=file://{folder}/lo-profile", "--headless", "--norestore",
                    "--convert-to", "pdf", "--outdir", str(folder), *map(str, docs)],
                   check=True, capture_output=True, timeout=600)
    return [folder / f"{doc.stem}.pdf" for doc in docs]


PRODUCERS = (("plumber", plumber_text, False), ("viewer", viewer_text, False), ("pdftotext", pdftotext_text, True))


def main() -> None:
    FLOW_DIR.mkdir(exist_ok=True)
    for old in FLOW_DIR.iterdir():
        old.unlink()
    for pdf in sorted(PDF_DIR.glob("*.pdf")):
        truth = json.loads((TEXT_DIR / f"{pdf.stem}.expected.json").read_text(encoding="utf-8"))
        for producer, make, stream in PRODUCERS:
            path = FLOW_DIR / f"{pdf.stem}.{producer}.txt"
            text = make(pdf)
            path.write_bytes(text.encode("utf-8"))
            if stream and pdf.stem not in STREAM_EXPECTED:
                continue
            write_json(FLOW_DIR / f"{pdf.stem}.{producer}.expected.json", expected_for(path, text, truth, stream))
        print(f"make_flowing: {pdf.stem}")
    with tempfile.TemporaryDirectory(prefix="make-flowing-") as scratch:
        for pdf in centred_pdfs(Path(scratch)):
            for producer, make, _ in PRODUCERS:
                (FLOW_DIR / f"{pdf.stem}.centred-{producer}.txt").write_bytes(make(pdf).encode("utf-8"))
            print(f"make_flowing: {pdf.stem} (centred cells)")


if __name__ == "__main__":
    main()
