"""Scanned forms: page images read by OCR into the same grid the text-layer PDF reader emits.

The steps, each chosen so that the layout parsers never learn the file was a scan:

1. **Page image.** Images (.png/.jpg/.tif) are read as they are; a PDF page without a usable text
   layer is rendered at the resolution of the image it carries (no resampling of the scan).
2. **Deskew.** The angle that makes the rows of ink sharpest (projection profile) is undone, so
   ruling lines are horizontal/vertical again and text lines are level.
3. **Ruling lines → cells.** Horizontal rules are runs of ink far longer than any stroke (OpenCV
   morphology); vertical rules are columns inked without a break from one horizontal rule to the
   next. Their positions give the grid, and a missing rule between two grid cells means they are
   one merged cell — the same cells and spans pdfplumber finds in a text PDF.
4. **Text lines.** Inside each cell (and outside the tables, for titles and free lines) lines of
   text are found by the horizontal projection of the ink: typed forms have clean gaps between
   lines, and a line never crosses a rule, so no text from two cells is ever read as one.
5. **Recognition.** Every line is read by the PP-OCR Chinese recogniser that ships inside the
   ``rapidocr`` wheel, run directly with onnxruntime (nothing is downloaded) — by its committed
   int8 copy where that is exact, the float model reading again the lines the copy is unsure of
   (:mod:`ocr_model`). Greedy CTC decoding gives each character its probability and its
   position, which the repairs need.
6. **Cells.** Lines are joined as the PDF reader joins them (wrapped lines run on; a line that
   stops short ends a paragraph); each cell keeps its lowest character probability as its
   confidence, and the repairs of :mod:`ocr_repair` fix known confusions or name the doubt.
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import regex

from goalforms.errors import UnreadableFile
from goalforms.parsers.grid import Cell, Grid, Location, Row
from goalforms.parsers.readers import limits, ocr_model, ocr_repair
from goalforms.parsers.readers.ocr_repair import Glyph
from goalforms.parsers.readers.source import read_source

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from goalforms.parsers.readers.pdf import _Placed

    Image = NDArray[Any]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff")
DEFAULT_DPI = 200.0  # an image file that does not say its resolution
_MIN_DPI, _MAX_DPI = 100.0, 400.0
_MAX_SKEW = 5.0  # degrees: larger rotations are not "slight" and are left alone
_ASCII_WORD = regex.compile(r"[A-Za-z0-9.%]")
# onnxruntime threads of the recogniser (None: onnxruntime's defaults, one per core, spinning).
THREADS: int | None = 1


class _Numpy:
    """numpy, imported on first use: every file type is read through this module's registry, and
    a text or text-layer PDF reader must not pay numpy's import (a fifth of ``goalforms parse``)."""

    def __getattr__(self, name: str) -> Any:
        import numpy

        globals()["np"] = numpy  # from now on the module itself
        return getattr(numpy, name)


if not TYPE_CHECKING:
    np = _Numpy()


# ---------------------------------------------------------------------------- recogniser


@dataclass
class Line:
    """A line of text found on the page, and what the recogniser read in it."""

    box: tuple[int, int, int, int]  # x0, y0, x1, y1 in page pixels (deskewed)
    glyphs: list[Glyph] = field(default_factory=list)

    @property
    def text(self) -> str:
        return ocr_repair.line_text(self.glyphs)


class Recogniser:
    """PP-OCR text-line recognition on onnxruntime, with the model rapidocr ships in its wheel or
    its int8 copy (:mod:`ocr_model` chooses).

    (OpenVINO, measured beside it on the samples' line crops — ``tests/bench_ocr.py`` — was no
    faster in float32 on this project's AMD machine, and in bfloat16 read lines otherwise.)"""

    HEIGHT = 48
    # Columns a short crop is padded to (three ideographs): read alone, a cell of two or three
    # characters came out less sure of them (其他类: 他 at 0.53, a doubt on a right value) than
    # with blank room after it, as PaddleOCR always gives it (it pads every line to 320 columns).
    MIN_WIDTH = 3 * HEIGHT

    def __init__(self, threads: int | None = THREADS, model: Path | None = None,
                 recheck: Path | None = None) -> None:
        """``model``: the .onnx file that reads every line; ``recheck``: the one that reads again a
        line ``model`` read close to a doubt (:func:`ocr_repair.near_a_doubt`), and whose reading then
        stands (both from :func:`ocr_model.recognition_models` when ``model`` is None)."""
        if model is None:
            model, recheck = ocr_model.recognition_models()
        self.model, self.recheck, self.threads = model, recheck, threads
        self.session = self._session(model)
        self._recheck_session: Any = None  # loaded when first needed
        self.rechecked = 0  # lines read twice (for the bench)
        keys = self.session.get_modelmeta().custom_metadata_map["character"].splitlines()
        # CTC class 0 is the blank; the model's last class is the space (PaddleOCR's layout).
        self.classes = ["", *keys, " "]
        self.input = self.session.get_inputs()[0].name

    def _session(self, model: Path) -> Any:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.log_severity_level = 3
        if self.threads is not None:
            # CPU-seconds, not one page's latency, bound an archive: the importer runs a process
            # per core, so one thread each, run in order, and no idle threads spinning for work
            # (spinning alone cost a third of the CPU of onnxruntime's defaults on 2 cores).
            options.intra_op_num_threads = self.threads
            options.inter_op_num_threads = 1
            options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            options.add_session_config_entry("session.inter_op.allow_spinning", "0")
        return ort.InferenceSession(str(model), sess_options=options, providers=["CPUExecutionProvider"])

    @classmethod
    def _prepare(cls, image: Image) -> tuple[NDArray[np.float32], int]:
        """The crop scaled to the model's height and normalised, and its width in columns (a crop
        narrower than ``MIN_WIDTH`` is padded as PaddleOCR pads: with zeros)."""
        import cv2

        h, w = image.shape[:2]
        used = max(1, math.ceil(cls.HEIGHT * w / h))
        resized = cv2.resize(image, (used, cls.HEIGHT)).astype(np.float32)
        out = np.zeros((3, cls.HEIGHT, max(used, cls.MIN_WIDTH)), dtype=np.float32)
        out[:, :, :used] = (resized / 255.0 - 0.5) / 0.5
        return out, used

    def read(self, crops: Sequence[Image]) -> list[list[Glyph]]:
        """Each crop (grayscale, one line) as its characters, each with its probability, the
        runner-up class at the same place, and its x as a fraction of the crop's width.

        Each crop runs alone at its own width. The model's cost is linear in the columns it is
        given, and a batch costs the same per crop as a crop alone (measured on this model: 14 ms
        per 192 columns either way), so padding a crop to the widest of its batch was work for
        nothing, and so was padding every short crop to four ideographs' width rather than three
        (together 5% of the columns on 200 dpi pages, 10-12% of the model's CPU)."""
        results: list[list[Glyph]] = []
        for crop in crops:
            tensor, used = self._prepare(crop)
            glyphs = self._run(self.session, tensor, used)
            if self.recheck is not None and ocr_repair.near_a_doubt(glyphs):
                if self._recheck_session is None:
                    self._recheck_session = self._session(self.recheck)
                glyphs = self._run(self._recheck_session, tensor, used)
                self.rechecked += 1
            results.append(glyphs)
        return results

    def _run(self, session: Any, tensor: NDArray[np.float32], used: int) -> list[Glyph]:
        probs = session.run(None, {self.input: tensor[None]})[0]
        # Time steps covering the crop itself (the rest, if any, is padding).
        return self._decode(probs[0], probs.shape[1] * used / tensor.shape[2])

    def _decode(self, probs: NDArray[np.float32], used: float) -> list[Glyph]:
        """Greedy CTC: a run of steps with the same class is one character, placed at the run's
        most certain step (where the character is)."""
        best = probs.argmax(axis=1)
        glyphs: list[Glyph] = []
        t = 0
        while t < len(best):
            k = int(best[t])
            end = t + 1
            while end < len(best) and best[end] == k:
                end += 1
            if k != 0:
                peak = t + int(probs[t:end, k].argmax())
                others = probs[peak].copy()
                others[[0, k]] = 0.0  # the runner-up among real characters
                alt = int(others.argmax())
                glyphs.append(Glyph(self.classes[k], round(float(probs[peak, k]), 4), (peak + 0.5) / used,
                                    self.classes[alt], round(float(probs[peak, alt]), 4)))
            t = end
        return glyphs


@functools.cache
def recogniser() -> Recogniser:
    """One recogniser per process: loading the model takes a second."""
    return Recogniser()


# ---------------------------------------------------------------------------- image geometry


def to_gray(image: Any) -> Image:
    """Any image array (gray, BGR, BGRA, 16-bit) as 8-bit grayscale."""
    import cv2

    array = np.asarray(image)
    if array.dtype != np.uint8:
        scale = 255.0 / max(1.0, float(array.max()))
        array = (array.astype(np.float32) * scale).astype(np.uint8)
    if array.ndim == 3:
        code = cv2.COLOR_BGRA2GRAY if array.shape[2] == 4 else cv2.COLOR_BGR2GRAY
        array = cv2.cvtColor(array, code)
    return np.ascontiguousarray(array)


def ink_mask(gray: Image) -> Image:
    """Ink as 255 on 0: Otsu's threshold, then specks of scanner noise removed."""
    import cv2

    _, ink = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    ink[specks(ink)] = 0
    return ink


def specks(ink: Image) -> NDArray[np.bool_]:
    """The pixels of 8-connected blobs of one or two pixels: a pixel with no inked neighbour, or
    with one neighbour whose own only inked neighbour is this pixel. The same pixels as labelling
    the page's blobs and taking those of area ≤ 2, from neighbour counts (two 3×3 sums): labelling
    a 200 dpi page cost 30-40 ms, twice a page (before and after the deskew), the sums 5."""
    import cv2

    on = (ink > 0).astype(np.uint8)
    # Outside the page counts as blank, as it does for connectedComponents.
    neighbours = cv2.boxFilter(on, -1, (3, 3), normalize=False, borderType=cv2.BORDER_CONSTANT) - on
    weighted = on * neighbours
    # For a pixel with one inked neighbour: that neighbour's own count.
    theirs = cv2.boxFilter(weighted, -1, (3, 3), normalize=False, borderType=cv2.BORDER_CONSTANT) - weighted
    return np.asarray((on > 0) & ((neighbours == 0) | ((neighbours == 1) & (theirs == 1))))


def _sharpness(ink_small: Image, angle: float) -> float:
    import cv2

    h, w = ink_small.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    rotated = cv2.warpAffine(ink_small, matrix, (w, h), flags=cv2.INTER_NEAREST)
    # Exact integer row sums (OpenCV's are 20x numpy's speed here: 52 angles a page).
    rows = cv2.reduce(rotated, 1, cv2.REDUCE_SUM, dtype=cv2.CV_32S)[:, 0].astype(np.float64)
    return float((np.diff(rows) ** 2).sum())


def skew_angle(ink: Image) -> float:
    """The rotation (degrees, counter-clockwise positive as OpenCV has it) that levels the page:
    the angle at which rows of ink change most sharply from one to the next (ruling lines and
    text lines are then horizontal). Coarse search on a reduced image, then a finer one."""
    import cv2

    scale = min(1.0, 1000.0 / max(ink.shape))
    small = cv2.resize(ink, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    best = max(np.arange(-_MAX_SKEW, _MAX_SKEW + 1e-9, 0.25), key=lambda a: _sharpness(small, float(a)))
    fine = max(np.arange(best - 0.25, best + 0.25 + 1e-9, 0.05), key=lambda a: _sharpness(small, float(a)))
    return round(float(fine), 2)


def rotate(gray: Image, angle: float) -> Image:
    import cv2

    if abs(angle) < 0.01:
        return gray
    h, w = gray.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    return cv2.warpAffine(gray, matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=255)


def _runs(flags: NDArray[Any]) -> list[tuple[int, int]]:
    """[start, end) of each run of True."""
    padded = np.concatenate(([False], flags, [False]))
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def _cluster(values: Iterable[float], tolerance: float) -> list[float]:
    """Positions closer than ``tolerance`` are one (their mean)."""
    groups: list[list[float]] = []
    for v in sorted(values):
        if groups and v - groups[-1][-1] <= tolerance:
            groups[-1].append(v)
        else:
            groups.append([v])
    return [sum(g) / len(g) for g in groups]


@dataclass(frozen=True)
class TableCell:
    row: int
    col: int
    row_span: int
    col_span: int
    box: tuple[int, int, int, int]  # x0, y0, x1, y1: the rules around the cell


@dataclass
class Table:
    box: tuple[int, int, int, int]
    xs: list[float]
    ys: list[float]
    cells: list[TableCell]
    # Per band between two horizontal rules: which columns (from box[0]) are a vertical rule.
    walls: list[NDArray[Any]] = field(default_factory=list)

    def paint_rules(self, mask: Image) -> None:
        """Mark the vertical rules in ``mask`` (to take them out of the text)."""
        left = self.box[0]
        for (top, bottom), band in zip(zip(self.ys, self.ys[1:], strict=False), self.walls, strict=True):
            for i in np.flatnonzero(band):
                mask[round(top) : round(bottom) + 1, left + int(i)] = 255


def rule_masks(ink: Image, em: float) -> tuple[Image, Image]:
    """Horizontal rules (runs of ink far longer than any character stroke) and, only to group
    rules into tables, vertical strokes taller than a character."""
    import cv2

    horizontal = cv2.morphologyEx(ink, cv2.MORPH_OPEN,
                                  cv2.getStructuringElement(cv2.MORPH_RECT, (max(20, round(4 * em)), 1)))
    vertical = cv2.morphologyEx(ink, cv2.MORPH_OPEN,
                                cv2.getStructuringElement(cv2.MORPH_RECT, (1, max(10, round(1.2 * em)))))
    return horizontal, vertical


def _vertical_rules(ink: Image, x0: int, x1: int, top: float, bottom: float) -> NDArray[Any]:
    """Columns of ``ink[x0:x1]`` inked without a break over (nearly) the whole height between
    two horizontal rules: a vertical rule. Text never does that: a character's stroke is
    shorter than the row, and a bracket is curved."""
    import cv2

    a, b = round(top) + 2, round(bottom) - 1
    if b - a < 4:
        return np.zeros(x1 - x0, dtype=bool)
    # A break of a pixel or two (noise, compression) does not end a rule; nor does a rule one
    # pixel off its column for part of the way.
    band = cv2.morphologyEx(ink[a:b, x0:x1], cv2.MORPH_CLOSE, np.ones((3, 1), np.uint8)) > 0
    band[:, :-1] |= band[:, 1:]
    run = np.zeros(band.shape[1], dtype=np.int32)
    longest = np.zeros(band.shape[1], dtype=np.int32)
    for row in band:
        run = (run + 1) * row
        np.maximum(longest, run, out=longest)
    return np.asarray(longest >= 0.9 * (b - a))


def find_tables(ink: Image, horizontal: Image, vertical: Image, em: float) -> list[Table]:
    """Ruled tables: connected networks of rules, their grid lines, and the cells with spans.

    Two neighbouring grid cells are one merged cell when the rule between them is missing."""
    import cv2

    network = cv2.dilate(np.bitwise_or(horizontal, vertical), np.ones((3, 3), np.uint8))
    count, _, stats, _ = cv2.connectedComponentsWithStats(network, connectivity=8)
    tables: list[Table] = []
    tolerance = max(3.0, em / 4)
    for n in range(1, count):
        x, y, w, h = (int(v) for v in stats[n, :4])
        if w < 4 * em or h < em:
            continue
        row_ink = (horizontal[y : y + h, x : x + w] > 0).sum(axis=1)
        ys = _cluster([float(y + i) for i in np.flatnonzero(row_ink >= 4 * em)], tolerance)
        if len(ys) < 2:
            continue
        walls = [_vertical_rules(ink, x, x + w, top, bottom) for top, bottom in zip(ys, ys[1:], strict=False)]
        xs = _cluster([float(x + i) for band in walls for i in np.flatnonzero(band)], tolerance)
        if len(xs) < 2:
            continue
        tables.append(Table((x, y, x + w, y + h), xs, ys, _cells(horizontal, walls, x, xs, ys), walls))
    tables.sort(key=lambda t: t.box[1])
    return tables


def _cells(horizontal: Image, walls: list[NDArray[Any]], left: int, xs: list[float],
           ys: list[float]) -> list[TableCell]:
    rows, cols = len(ys) - 1, len(xs) - 1
    parent = list(range(rows * cols))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(a: int, b: int) -> None:
        parent[find(a)] = find(b)

    pad = 3
    for r in range(rows):
        for c in range(cols):
            x0, x1, y1 = xs[c], xs[c + 1], ys[r + 1]
            # The rule on the right of this cell, between its top and bottom rules.
            near = walls[r][max(0, round(x1) - left - pad) : round(x1) - left + pad + 1]
            if c + 1 < cols and not near.any():
                union(r * cols + c, r * cols + c + 1)
            # The rule below it: more than half of its width inked.
            inset = min(6.0, (x1 - x0) / 4)
            strip = horizontal[max(0, round(y1) - pad) : round(y1) + pad + 1, round(x0 + inset) : round(x1 - inset)]
            if r + 1 < rows and not (strip.size and (strip > 0).any(axis=0).mean() > 0.5):
                union(r * cols + c, (r + 1) * cols + c)
    groups: dict[int, list[tuple[int, int]]] = {}
    for r in range(rows):
        for c in range(cols):
            groups.setdefault(find(r * cols + c), []).append((r, c))
    cells = []
    for members in groups.values():
        r0, r1 = min(r for r, _ in members), max(r for r, _ in members)
        c0, c1 = min(c for _, c in members), max(c for _, c in members)
        box = (round(xs[c0]), round(ys[r0]), round(xs[c1 + 1]), round(ys[r1 + 1]))
        cells.append(TableCell(r0, c0, r1 - r0 + 1, c1 - c0 + 1, box))
    cells.sort(key=lambda cell: (cell.row, cell.col))
    return cells


def text_lines(text_ink: Image, box: tuple[int, int, int, int], em: float) -> list[tuple[int, int, int, int]]:
    """Lines of text inside ``box``: bands of rows with ink, then each band's horizontal extent.

    Gaps of a pixel or two inside a band (thin strokes, noise) do not split it; bands too thin
    to hold a character are noise."""
    x0, y0, x1, y1 = box
    region = text_ink[y0:y1, x0:x1] > 0
    if not region.any():
        return []
    rows = region.sum(axis=1) > 0
    bands: list[list[int]] = []
    for a, b in _runs(rows):
        if bands and a - bands[-1][1] <= max(1, round(em * 0.08)):
            bands[-1][1] = b
        else:
            bands.append([a, b])
    lines = []
    for a, b in bands:
        if b - a < max(3, em * 0.25) and region[a:b].sum() < em:
            continue
        cols = np.flatnonzero(region[a:b].any(axis=0))
        lines.append((x0 + int(cols[0]), y0 + a, x0 + int(cols[-1]) + 1, y0 + b))
    return lines


def _split_wide_gaps(text_ink: Image, line: tuple[int, int, int, int], em: float) -> list[tuple[int, int, int, int]]:
    """A free line with wide blank gaps (text set apart on one line) as separate pieces. A piece
    that is only a dot (ink less than a quarter em either way) is dust, not writing: no mark
    stands alone three ems from any text on these forms (read, it put a "." before a title)."""
    x0, y0, x1, y1 = line
    region = text_ink[y0:y1, x0:x1] > 0
    cols = np.asarray(region.any(axis=0))
    pieces: list[list[int]] = []
    for a, b in _runs(cols):
        if pieces and a - pieces[-1][1] <= 3 * em:
            pieces[-1][1] = b
        else:
            pieces.append([a, b])
    out = []
    for a, b in pieces:
        rows = np.flatnonzero(region[:, a:b].any(axis=1))
        if b - a < em / 4 and rows.size and rows[-1] - rows[0] + 1 < em / 4:
            continue
        out.append((x0 + a, y0, x0 + b, y1))
    return out


def estimate_em(text_ink: Image) -> float:
    """The height of a line of text (pixels): the median height of character-sized blobs."""
    import cv2

    count, _, stats, _ = cv2.connectedComponentsWithStats(text_ink, connectivity=8)
    heights = stats[1:, cv2.CC_STAT_HEIGHT]
    widths = stats[1:, cv2.CC_STAT_WIDTH]
    plausible = heights[(heights >= 8) & (heights <= 120) & (widths <= 120)]
    if plausible.size < 10:
        return 24.0
    # Ideograph strokes are blobs of many heights; the tall ones approach the character height.
    return float(max(12.0, np.percentile(plausible, 90)))


# ---------------------------------------------------------------------------- a page


@dataclass
class PageText:
    """What OCR found on one page: tables with their cells' lines, and the free lines."""

    tables: list[tuple[Table, list[tuple[TableCell, list[Line]]]]]
    free: list[Line]
    em: float
    angle: float
    pitch: float  # the advance of an ideograph (pixels): the unit of widths along a line


def _crop(gray: Image, line: tuple[int, int, int, int], em: float,
          limit: tuple[int, int, int, int]) -> tuple[Image, int]:
    """The line's image with a margin (the recogniser was trained on loosely cropped lines),
    kept inside ``limit`` (the cell) so no rule enters the crop. Every column of margin costs
    recognition time, but less did not serve: a quarter em at the sides read a bracket opening a
    line less surely (a new doubt on a clean form), and more above and below shrinks the text
    in the model's fixed height (at half an em, commas were read as full-width, unflagged)."""
    x0, y0, x1, y1 = line
    mx, my = round(em * 0.4), round(em * 0.25)
    lx0, ly0, lx1, ly1 = limit
    a, b = max(lx0, x0 - mx), min(lx1, x1 + mx)
    c, d = max(ly0, y0 - my), min(ly1, y1 + my)
    return np.ascontiguousarray(gray[c:d, a:b]), a


@dataclass
class Layout:
    """The geometry of a page, before any recognition."""

    gray: Image  # the page, deskewed
    angle: float  # the rotation undone (degrees, counter-clockwise)
    tables: list[Table]
    text_ink: Image  # ink less the rules
    em: float  # height of a line of text (pixels)


def page_layout(gray: Image) -> Layout:
    """Deskew a page and find its ruled tables (with merged cells) and where its text is."""
    import cv2

    ink = ink_mask(gray)
    angle = skew_angle(ink)
    if angle:
        gray = rotate(gray, angle)
        ink = ink_mask(gray)
    em0 = estimate_em(ink)
    horizontal, vertical = rule_masks(ink, em0)
    tables = find_tables(ink, horizontal, vertical, em0)
    rules = horizontal.copy()
    for table in tables:
        table.paint_rules(rules)
    # Text is what is left when the rules (and the pixels their antialiasing greyed) go.
    text_ink = np.where(cv2.dilate(rules, np.ones((5, 5), np.uint8)) > 0, 0, ink).astype(np.uint8)
    return Layout(gray, angle, tables, text_ink, estimate_em(text_ink))


def read_page(gray: Image) -> PageText:
    """OCR one page image (8-bit grayscale) into tables of cells and free lines."""
    layout = page_layout(gray)
    gray, angle, tables, text_ink, em = layout.gray, layout.angle, layout.tables, layout.text_ink, layout.em
    h, w = gray.shape
    jobs: list[tuple[Line, tuple[Image, int]]] = []
    found_tables: list[tuple[Table, list[tuple[TableCell, list[Line]]]]] = []
    outside = text_ink.copy()
    for table in tables:
        tx0, ty0, tx1, ty1 = table.box
        outside[max(0, ty0 - 2) : ty1 + 2, max(0, tx0 - 2) : tx1 + 2] = 0
        cells = []
        for cell in table.cells:
            x0, y0, x1, y1 = cell.box
            inner = (x0 + 2, y0 + 2, x1 - 2, y1 - 2)
            lines = []
            for box in text_lines(text_ink, inner, em):
                line = Line(box)
                jobs.append((line, _crop(gray, box, em, inner)))
                lines.append(line)
            cells.append((cell, lines))
        found_tables.append((table, cells))
    free = []
    for band in text_lines(outside, (0, 0, w, h), em):
        for box in _split_wide_gaps(outside, band, em):
            line = Line(box)
            jobs.append((line, _crop(gray, box, em, (0, 0, w, h))))
            free.append(line)
    results = recogniser().read([crop for _, (crop, _) in jobs]) if jobs else []
    for (line, (crop, left)), glyphs in zip(jobs, results, strict=True):
        placed = [replace(g, x=left + g.x * crop.shape[1]) for g in glyphs]
        profile = np.asarray((text_ink[line.box[1] : line.box[3], left : left + crop.shape[1]] > 0).any(axis=0))
        line.glyphs = ocr_repair.repair_line(with_gaps(placed, profile, left, em))
    return PageText(found_tables, free, em, angle, ideograph_pitch([job[0] for job in jobs], em))


def ideograph_pitch(lines: Sequence[Line], em: float) -> float:
    """The distance between neighbouring ideographs' centres (the font size, in pixels): the
    median over the page, ``em`` when there are too few."""
    steps = [b.x - a.x for line in lines for a, b in zip(line.glyphs, line.glyphs[1:], strict=False)
             if regex.match(r"\p{Han}", a.text) and regex.match(r"\p{Han}", b.text) and not b.spaced]
    steps = [s for s in steps if 0.6 * em < s < 1.8 * em]
    return float(np.median(steps)) if len(steps) >= 10 else em


def with_gaps(glyphs: list[Glyph], profile: NDArray[Any], left: int, em: float) -> list[Glyph]:
    """Each glyph with the blank space (in em) between it and its neighbours: the widest run of
    blank columns between their centres. Spaces the recogniser read are dropped here: whether a
    space stands between two characters is decided from these gaps (see ocr_repair)."""
    visible: list[Glyph] = []
    spaced = False
    for g in glyphs:
        if not g.text.strip():
            spaced = True
            continue
        visible.append(replace(g, spaced=spaced))
        spaced = False
    gaps: list[float] = []
    for a, b in zip(visible, visible[1:], strict=False):
        lo, hi = max(0, round(a.x) - left), min(len(profile), round(b.x) - left)
        runs = _runs(~profile[lo:hi]) if hi > lo else []
        gaps.append(round(max((e - s for s, e in runs), default=0) / em, 3))
    return [replace(g, gap_before=gaps[i - 1] if i else None, gap_after=gaps[i] if i < len(gaps) else None)
            for i, g in enumerate(visible)]


# ---------------------------------------------------------------------------- lines → cell text


_WORD = regex.compile(r"[A-Za-z0-9.%]+")
_NO_LINE_START = "，。、；：！？）》”’】〉」』〕,.;:!?)%"


def _first_word(line: Line) -> float:
    """Width (in character widths) of what could not fit on the line above: a run of ASCII,
    or one ideograph — with the marks a line may not start with (、，。）…), which a word
    processor carries over together with it."""
    text = line.text.lstrip()
    run = _WORD.match(text)
    width, rest = (0.55 * len(run.group(0)), text[run.end() :]) if run else (1.0, text[1:])
    for ch in rest:
        if ch not in _NO_LINE_START:
            break
        width += 1.0 if ch in ocr_repair.BLANK_RIGHT else 0.3
    return width


def join_lines(lines: Sequence[Line], left: float | None, right: float | None, pitch: float) -> tuple[str, bool]:
    """The text of a cell from its lines, and whether the last line ran to the right edge.

    As the PDF reader does: wrapped lines run on (a space only between two ASCII words), and a
    line that stopped with room for the next line's first word ends a paragraph. The room is
    measured to where the text could reach: the cell's right rule less its padding (taken to be
    the padding on the left, where left-aligned lines start)."""
    ordered = [line for line in sorted(lines, key=lambda line: line.box[1]) if line.text.strip()]
    reach = None
    if left is not None and right is not None and ordered:
        reach = right - max(0.0, min(line.box[0] for line in ordered) - left)
    parts: list[str] = []
    heights = sorted(line.box[3] - line.box[1] for line in ordered)
    steps = sorted(b.box[1] - a.box[1] for a, b in zip(ordered, ordered[1:], strict=False))
    step = steps[len(steps) // 2] if steps else 0.0
    for i, line in enumerate(ordered):
        text = line.text.strip()
        if parts:
            previous = ordered[i - 1]
            room = (reach - previous.box[2]) / pitch if reach is not None else 0.0
            # Paragraph spacing: a step between lines clearly larger than the others (a tenth
            # more and two pixels: steps jitter by a pixel or two; 150 dpi paragraph spacing
            # of a quarter line was missed at 1.15).
            spaced = step and line.box[1] - previous.box[1] > max(step, heights[len(heights) // 2]) * 1.1 + 2
            if reach is not None and (spaced or room > _first_word(line) + 0.9):
                parts.append("\n")
            elif (_ASCII_WORD.match(parts[-1][-1:]) and _ASCII_WORD.match(text[:1])) or \
                    ocr_repair.invisible_space(parts[-1][-1:] + text[:1]):
                # (Chinese meeting Latin/digits across a wrap: written as within a line.)
                parts.append(" ")
        parts.append(text)
    full = bool(ordered) and reach is not None and (reach - ordered[-1].box[2]) / pitch <= 1.5
    return "".join(parts).strip(), full


# ---------------------------------------------------------------------------- page → rows


def _cell(col: int, row_span: int, col_span: int, lines: Sequence[Line], edges: tuple[float, float] | None,
          pitch: float) -> tuple[Cell, bool]:
    """A grid cell from its lines, whether its text ran to the right edge (see join_lines), with
    the probability of its least certain character and the doubts the repairs left."""
    ordered = sorted(lines, key=lambda line: line.box[1])
    repaired, doubts = ocr_repair.repair_cell([line.glyphs for line in ordered])
    for line, glyphs in zip(ordered, repaired, strict=True):
        line.glyphs = glyphs
    text, full = join_lines(ordered, edges[0] if edges else None, edges[1] if edges else None, pitch)
    text = ocr_repair.fix_confusions(text)
    probs = [g.prob for line in ordered for g in line.glyphs]
    confidence = round(min(probs), 3) if probs else None
    cell = Cell(text, col, row_span=row_span, col_span=col_span, confidence=confidence,
                doubt="; ".join(doubts) or None)
    return cell, full


def page_placed(gray: Image, page_no: int, first_table: int, scale: float = 1.0) -> tuple[list[_Placed], int]:
    """One page image as the PDF reader's placed rows (tables' rows and free lines, top to
    bottom) and the number of the last table; ``scale`` turns pixels into the bounding boxes'
    unit (PDF points for a PDF page)."""
    from goalforms.parsers.readers.pdf import _Placed

    page = read_page(gray)

    def box(x0: float, y0: float, x1: float, y1: float) -> tuple[float, float, float, float]:
        return (round(x0 * scale, 2), round(y0 * scale, 2), round(x1 * scale, 2), round(y1 * scale, 2))

    placed: list[_Placed] = []
    table_no = first_table
    for table, cells in page.tables:
        table_no += 1
        by_row: dict[int, list[tuple[Cell, bool]]] = {}
        for tcell, lines in cells:
            edges = (tcell.box[0] + 1.0, tcell.box[2] - 1.0)
            cell, full = _cell(tcell.col, tcell.row_span, tcell.col_span, lines, edges, page.pitch)
            cell = replace(cell, bbox=box(*tcell.box))  # the cell's box, for goalforms debug
            by_row.setdefault(tcell.row, []).append((cell, full))
        for row_index in sorted(by_row):
            row_cells = sorted(by_row[row_index], key=lambda item: item[0].col)
            top, bottom = table.ys[row_index], table.ys[min(row_index + 1, len(table.ys) - 1)]
            where = Location(page=page_no, table=table_no, row=row_index + 1,
                             bbox=box(table.xs[0], top, table.xs[-1], bottom))
            placed.append(_Placed(top * scale, Row(tuple(c for c, _ in row_cells), where, in_table=True),
                                  {c.col for c, full in row_cells if full and c.text}))
    # Pieces of one free line (set apart by wide gaps) are one row, as the PDF reader has them.
    free = sorted(page.free, key=lambda line: (line.box[1], line.box[0]))
    groups: list[list[Line]] = []
    for line in free:
        if groups and line.box[1] < groups[-1][0].box[3] - page.em / 2:
            groups[-1].append(line)
        else:
            groups.append([line])
    for group in groups:
        cell, _ = _cell(0, 1, 1, group, None, page.pitch)
        if cell.blank:
            continue
        x0, y0 = min(line.box[0] for line in group), min(line.box[1] for line in group)
        x1, y1 = max(line.box[2] for line in group), max(line.box[3] for line in group)
        placed.append(_Placed(y0 * scale, Row((cell,), Location(page=page_no, bbox=box(x0, y0, x1, y1)), in_table=False)))
    placed.sort(key=lambda item: item.top)
    return placed, table_no


# ---------------------------------------------------------------------------- files


_GOOD_TEXT = regex.compile(r"[\p{Han}\p{Latin}\p{N}\p{P}\p{S}\s]")


def usable_text_layer(chars: Sequence[str]) -> bool:
    """Does a PDF page's text layer hold real text? No when it has (almost) none — an image
    page — or when it is garbage: glyphs without a Unicode mapping (pdfminer's ``(cid:N)``),
    private-use or control characters, replacement characters."""
    visible = [c for c in chars if c.strip()]
    if len(visible) < 5:
        return False
    bad = sum(1 for c in visible if c.startswith("(cid:") or len(c) != 1 or not _GOOD_TEXT.match(c)
              or c == "\ufffd")
    return bad / len(visible) < 0.2


def page_dpi(page: Any) -> float:
    """The resolution of the scan on a PDF page: the pixels of its largest image over the
    image's printed width (so rendering the page does not resample the scan)."""
    best = 0.0
    dpi = DEFAULT_DPI
    for image in page.images:
        width_pt = float(image["x1"]) - float(image["x0"])
        pixels = image.get("srcsize") or (0, 0)
        if width_pt > best and pixels[0]:
            best = width_pt
            dpi = float(pixels[0]) / (width_pt / 72.0)
    return min(_MAX_DPI, max(_MIN_DPI, dpi))


# Blank pages: a page with almost no ink is skipped before OCR (and not counted against
# max_ocr_pages). Judged on a small rendering, where scanner specks average away.
_BLANK_DPI = 40.0
_INK_LEVEL = 160  # a pixel darker than this (0-255) is ink
_BLANK_INK = 0.0005  # pages with less than this share of ink pixels are blank (a few characters are more)


def blank_image(gray: Image) -> bool:
    """Does a page image (8-bit grayscale, any resolution) carry almost no ink?"""
    import cv2

    h, w = gray.shape[:2]
    if not h or not w:
        return True
    scale = min(1.0, 400.0 / max(h, w))
    small = cv2.resize(gray, (max(1, int(w * scale)), max(1, int(h * scale))), interpolation=cv2.INTER_AREA)
    return float(np.count_nonzero(small < _INK_LEVEL)) / small.size < _BLANK_INK


def blank_pdf_page(page: Any) -> bool:
    """A PDF page with no text layer: blank when it draws nothing at all, or when a rendering at
    low resolution shows almost no ink (a blank scanned sheet)."""
    if not page.images and not page.rects and not page.lines and not page.curves:
        return True
    picture = page.to_image(resolution=_BLANK_DPI, antialias=True).original
    return blank_image(np.asarray(picture.convert("L")))


class OcrBudget:
    """Counts the pages of one file sent to OCR; the one past ``max_ocr_pages`` fails the file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.limit = limits.current().max_ocr_pages
        self.used = 0

    def take(self) -> None:
        self.used += 1
        if self.limit and self.used > self.limit:
            raise limits.over(self.path, "pages needing OCR", f"more than {self.limit}", "max_ocr_pages",
                              str(self.limit))


def check_page_count(path: Path, count: int) -> None:
    """Refuse a PDF with more pages than ``max_pages`` before reading any page."""
    limit = limits.current().max_pages
    if limit and count > limit:
        raise limits.over(path, "page count", str(count), "max_pages", str(limit))


def pdf_page_placed(page: Any, page_no: int, first_table: int) -> tuple[list[_Placed], int]:
    """OCR of one pdfplumber page that has no usable text layer (for the PDF reader)."""
    dpi = page_dpi(page)
    picture = page.to_image(resolution=dpi, antialias=True).original
    gray = to_gray(np.asarray(picture.convert("L")))
    return page_placed(gray, page_no, first_table, scale=72.0 / dpi)


def _stitched(grid: Grid, pages: Iterable[tuple[list[_Placed], int]]) -> None:
    """Rows of consecutive pages into ``grid``, a table row split by a page break joined."""
    from goalforms.parsers.readers.pdf import _continues, _stitch

    last: _Placed | None = None
    for placed, _ in pages:
        if last is not None and placed and _continues(last, placed[0]):
            grid.rows[-1] = _stitch(last, placed.pop(0))
        grid.rows.extend(p.row for p in placed)
        last = placed[-1] if placed else last


def _image_pages(path: Path) -> Iterator[tuple[Image, float]]:
    """The pages of an image file (a TIFF may hold several) with their resolution, one at a time
    (a TIFF of thousands of frames must not be decoded whole before the OCR limit stops it)."""
    from PIL import Image as PILImage
    from PIL import ImageSequence, UnidentifiedImageError

    try:
        with PILImage.open(path) as picture:
            for frame in ImageSequence.Iterator(picture):
                dpi = frame.info.get("dpi", (DEFAULT_DPI, DEFAULT_DPI))[0] or DEFAULT_DPI
                yield to_gray(np.asarray(frame.convert("L"))), float(dpi)
    except (UnidentifiedImageError, OSError, ValueError, PILImage.DecompressionBombError) as exc:
        raise UnreadableFile(path, f"not a readable image: {exc}") from None


def read(path: Path) -> Grid:
    """Read a scanned form (an image file, or a PDF whose pages are images) by OCR."""
    data = read_source(path)
    grid = Grid(path=str(path), format="scan", sha256=hashlib.sha256(data).hexdigest())
    results: list[tuple[list[_Placed], int]] = []
    tables = 0
    budget = OcrBudget(path)
    if data.lstrip()[:5] == b"%PDF-":
        import pdfplumber

        try:
            pdf = pdfplumber.open(path)
            pages = list(pdf.pages)
        except Exception as exc:  # pdfminer raises many kinds on broken files
            raise UnreadableFile(path, f"broken PDF: {exc.__class__.__name__}: {exc}") from None
        with pdf:
            check_page_count(path, len(pages))
            for page_no, page in enumerate(pages, start=1):
                if blank_pdf_page(page):
                    continue
                budget.take()
                results.append(pdf_page_placed(page, page_no, tables))
                tables = results[-1][1]
    else:
        for page_no, (gray, dpi) in enumerate(_image_pages(path), start=1):
            if page_no > 1 and blank_image(gray):  # a blank back side of a multi-page TIFF
                continue
            budget.take()
            results.append(page_placed(gray, page_no, tables, scale=72.0 / dpi))
            tables = results[-1][1]
    _stitched(grid, results)
    if not any(not row.blank for row in grid.rows):
        raise UnreadableFile(path, "no text found by OCR (a blank or unreadable scan)")
    return grid
