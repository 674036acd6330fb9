"""HTML pages (government websites, budget systems' "Excel" exports, Word's "Save as Web Page")
with lxml's HTML parser (libxml2: upper-case tags, unquoted attributes, unclosed cells).

The grid is the same as from Word: each table row a row of cells with its spans (``rowspan`` /
``colspan``; the rows a merged cell covers get a blank cell at its columns), several paragraphs
(``<p>``, ``<div>``, ``<br>``) in a cell are lines of its text, and text outside tables is one
free row per paragraph. Provenance: table and row, and the source line of every row.

- **Charset** is decided before parsing: a BOM; else bytes that are valid UTF-8 are UTF-8 (pages
  are re-saved without updating their ``<meta>``, and Chinese GBK text is practically never valid
  UTF-8); else the ``<meta charset>`` / ``http-equiv`` declaration (GB2312 and GBK decode with
  GB18030, their superset: GBK pages labelled gb2312 are the rule); else GB18030.
- **The page around the forms** is dropped: ``<head>``, scripts, styles, forms' controls, hidden
  elements, ``<nav>``/``<header>``/``<footer>``/``<aside>`` and elements whose id or class names
  navigation, menus, breadcrumbs, footers, sidebars — unless they hold a table with text; and
  free lines that are an article page's furniture by their words (发布时间…, 当前位置…, 【打印】…),
  which would otherwise read as the collection title above the first form.
- **Layout tables**: sites wrap their content in tables; the innermost tables (those with no
  table inside) are read as tables, the text of the wrappers' cells as free rows. A table with
  more text cells of its own than its nested tables have is a form whose cell holds a small
  table: it is read as a table, the nested table's cells as lines of that cell (as from Word).
- **Word's markup**: ``MsoNormal`` paragraphs, ``<o:p>``, ``mso-`` styles and conditional
  comments need nothing special (comments are skipped, the downlevel-revealed ones' content is
  kept, as a browser shows it); its phantom column-width row (``<tr height=0>``) is dropped.
- **White space** as a browser renders it: runs collapse to one space (``&nbsp;`` included), and
  a source line break between two Chinese characters disappears (editors wrap long lines there).
"""

from __future__ import annotations

import codecs
import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from goalforms.errors import UnreadableFile
from goalforms.parsers.grid import Cell, Grid, Location, Row
from goalforms.parsers.readers.source import read_source

# The charset prescan of the HTML standard, on the head's bytes (before any parsing can start).
_META_CHARSET = re.compile(rb"<meta\b[^>]*?charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]+)", re.I)
_PRESCAN_BYTES = 4096
# Every Chinese GB label decodes with GB18030, the superset (GBK characters in a "gb2312" page).
_GB_LABELS = {"gb2312", "gbk", "gb18030", "x-gbk", "cp936", "ms936", "euc-cn", "csgb2312", "chinese",
              "gb_2312-80", "iso-ir-58", "x-euc-cn"}
# ISO-8859-1 / windows-1252 labels on Chinese pages are a lie (any byte decodes): ignored.
_LATIN_LABELS = {"iso-8859-1", "latin1", "latin-1", "windows-1252", "cp1252", "us-ascii", "ascii"}

_SKIPPED = {"head", "script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "map",
            "select", "option", "button", "input", "textarea", "xml", "title", "meta", "link", "img"}
_CHROME_TAGS = {"nav", "header", "footer", "aside", "menu"}
_CHROME_WORDS = {"nav", "navbar", "navi", "navigation", "menu", "menubar", "submenu", "footer", "foot",
                 "breadcrumb", "breadcrumbs", "crumb", "crumbs", "sidebar", "topbar", "header", "share",
                 "toolbar", "copyright", "banner", "search", "login", "position", "location", "skip"}
_CONTENT_WORDS = {"article", "content", "title", "text", "detail", "zw"}
_CHROME_ROLES = {"navigation", "banner", "contentinfo", "search", "menu", "menubar"}
# Lines of an article page that are page furniture whatever their markup: the publication line,
# the breadcrumb, the font-size/print/close links, share and hit counters. Free rows only.
_CHROME_LINE = re.compile(r"^[【\[]?\s*(发布(时间|日期)|更新(时间|日期)|信息来源|来源[:：]|当前位置|您的位置|"
                          r"您现在的位置|所在位置|字[号体][:：]|打印|关闭|分享到|浏览次数|点击(数|次数|量|率)[:：]|"
                          r"阅读(次数|量)|扫一扫)")
_WORDS = re.compile(r"[A-Za-z]+")
_BLOCKS = {"p", "div", "li", "ul", "ol", "dl", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "td",
           "th", "table", "caption", "thead", "tbody", "tfoot", "blockquote", "pre", "section", "article",
           "main", "center", "hr", "address", "form", "fieldset", "figure", "figcaption", "body", "html"}
_SPACE = " \t\n\r\f\xa0"
_RUN = re.compile(r"[ \t\n\r\f\xa0]+")
_MAX_SPAN = 1000


def is_mhtml(head: bytes) -> bool:
    """An MHTML web archive (Word's / IE's "single file web page", .mht): MIME headers first."""
    start = head.lstrip()[:2048].lower()
    return b"mime-version:" in start and b"multipart/related" in start


def _mhtml_page(data: bytes, path: Path) -> tuple[bytes, str | None]:
    """The HTML page inside an MHTML archive (transfer encoding undone) and its MIME charset."""
    import email

    message = email.message_from_bytes(data)
    for part in message.walk():
        if part.get_content_type() == "text/html":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes) and payload.strip():
                return payload, part.get_content_charset()
    raise UnreadableFile(path, "an MHTML web archive (.mht) with no HTML page in it")


def decode(data: bytes, path: Path, declared_charset: str | None = None) -> str:
    """The page's text: BOM, else valid UTF-8, else the declared charset (the MIME header's, or
    the page's <meta>), else GB18030."""
    for bom, codec in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
                       (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            try:
                return data[len(bom):].decode(codec)
            except UnicodeDecodeError as exc:
                raise UnreadableFile(path, f"not {codec} as its byte order mark says: undecodable byte at "
                                           f"offset {exc.start + len(bom)}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as utf8_error:
        utf8_failed = utf8_error.start
    codec = "gb18030"
    meta = _META_CHARSET.search(data[:_PRESCAN_BYTES])
    label = declared_charset or (meta.group(1).decode("ascii") if meta else "")
    if label:
        label = label.lower()
        if label not in _GB_LABELS and label not in _LATIN_LABELS and label not in ("utf-8", "utf8"):
            try:
                codec = codecs.lookup(label).name
            except LookupError:
                pass  # an unknown label: GB18030, the usual truth of Chinese pages
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        raise UnreadableFile(path, f"neither UTF-8 nor {codec}: undecodable byte 0x{data[exc.start]:02x} at "
                                   f"offset {exc.start} (UTF-8 failed at offset {utf8_failed})") from None


def _tag(element: Any) -> str:
    tag = element.tag
    return tag.lower() if isinstance(tag, str) else ""


def _hidden(element: Any) -> bool:
    style = (element.get("style") or "").replace(" ", "").lower()
    return "display:none" in style or "visibility:hidden" in style or element.get("hidden") is not None


def _chrome(element: Any) -> bool:
    """Navigation, menus, breadcrumbs, footers … — unless they hold a table with text (a form)."""
    tag = _tag(element)
    named = " ".join(filter(None, (element.get("id"), element.get("class"))))
    words = {w.lower() for w in _WORDS.findall(named.replace("_", " ").replace("-", " "))}
    if tag in ("header", "footer") and any(_tag(a) in ("article", "main") for a in element.iterancestors()):
        return False  # an article's own header holds its title
    named_chrome = bool(words & _CHROME_WORDS) and not words & _CONTENT_WORDS  # not "article-header"
    if not (tag in _CHROME_TAGS or named_chrome or (element.get("role") or "").lower() in _CHROME_ROLES):
        return False
    return not any(_cell_has_text(td) for td in element.iter("td", "th"))


def _cell_has_text(td: Any, nested: bool = True) -> bool:
    # Menus built as tables hold links and separators (" | ", "》") only; a form's cells hold words.
    return any(any(char.isalnum() for char in part) for part in _text_outside_links(td, nested))


def _text_outside_links(element: Any, nested: bool = True) -> Any:
    if _tag(element) == "a" or (not nested and _tag(element) == "table"):
        return
    if element.text and element.text.strip(_SPACE):
        yield element.text
    for child in element:
        yield from _text_outside_links(child, nested)
        if child.tail and child.tail.strip(_SPACE):
            yield child.tail


def _wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in ("W", "F")


def _clean(raw: str) -> str:
    """White space as rendered: a break between two wide characters vanishes, runs become one space."""
    def run(match: re.Match[str]) -> str:
        before, after = raw[match.start() - 1 : match.start()], raw[match.end() : match.end() + 1]
        if "\n" in match.group() or "\r" in match.group():
            if before and after and _wide(before) and _wide(after):
                return ""
        return " "

    return _RUN.sub(run, raw).strip(_SPACE)


@dataclass
class _Lines:
    """Text gathered line by line; a block starts and ends a line, <br> ends one."""

    lines: list[tuple[str, int | None]] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)
    source_line: int | None = None

    def add(self, text: str | None, source_line: int | None) -> None:
        if text:
            if self.source_line is None and text.strip(_SPACE):
                self.source_line = source_line
            self.parts.append(text)

    def end(self) -> None:
        text = _clean("".join(self.parts))
        if text:
            self.lines.append((text, self.source_line))
        self.parts, self.source_line = [], None


def _is_form_table(table: Any) -> bool:
    """A table of the form, not a layout table wrapping the content.

    A table with no table inside is one. A table holding tables is a layout table (sites wrap
    their content in tables) unless more of its own cells hold text than the nested tables' cells
    together: then it is a form whose cell holds a small table (read as that cell's lines)."""
    inner = list(table.iterdescendants("table"))
    if not inner:
        return True
    own = sum(_cell_has_text(td, nested=False) for tr in _own_rows(table) for td in tr if _tag(td) in ("td", "th"))
    nested = sum(_cell_has_text(td, nested=False) for t in inner for tr in _own_rows(t) for td in tr
                 if _tag(td) in ("td", "th"))
    return own > nested


def _tail_line(element: Any) -> int | None:
    """The source line where the text after ``element`` starts (lxml knows only start lines)."""
    starts = [e.sourceline for e in element.iter() if e.sourceline is not None]
    if not starts or not element.tail:
        return None
    lead = len(element.tail) - len(element.tail.lstrip(_SPACE))
    return max(starts) + element.tail[:lead].count("\n")


def _flow(element: Any, lines: _Lines, on_table: Any, in_cell: bool = False) -> None:
    """Walk ``element``'s content in document order into ``lines``; data tables go to ``on_table``.
    Inside a form's cell nothing is page furniture (a <div class=header> there is the form's)."""
    tag = _tag(element)
    if tag and (tag in _SKIPPED or _hidden(element) or (not in_cell and _chrome(element))):
        return
    if not tag:  # a comment or processing instruction: its content is not shown
        return
    if tag == "table" and not in_cell and _is_form_table(element):
        lines.end()
        on_table(element)
        return
    if tag == "br":
        lines.end()
        return
    block = tag in _BLOCKS
    if block:
        lines.end()
    lines.add(element.text, element.sourceline)
    for child in element:
        _flow(child, lines, on_table, in_cell)
        lines.add(child.tail, _tail_line(child))
    if block:
        lines.end()


def _cell_text(td: Any) -> str:
    lines = _Lines()
    lines.add(td.text, td.sourceline)
    for child in td:
        _flow(child, lines, lambda table: None, in_cell=True)  # a nested table: its cells are lines
        lines.add(child.tail, _tail_line(child))
    lines.end()
    return "\n".join(text for text, _ in lines.lines)


def _span(value: str | None) -> int:
    digits = "".join(c for c in (value or "") if c.isdigit())  # `colspan="2;"` happens
    return max(1, min(int(digits), _MAX_SPAN)) if digits else 1


def _own_rows(table: Any) -> list[Any]:
    rows = []
    for child in table:
        if _tag(child) == "tr":
            rows.append(child)
        elif _tag(child) in ("thead", "tbody", "tfoot"):
            rows.extend(tr for tr in child if _tag(tr) == "tr")
    return rows


def _phantom(tr: Any, cells: list[Any]) -> bool:
    """Word's column-width row (``<tr height=0>`` of empty cells after supportMisalignedColumns)."""
    if any(_cell_text(td) for td in cells):
        return False
    previous = tr.getprevious()
    return tr.get("height") == "0" or (previous is not None and not _tag(previous)
                                       and "supportMisalignedColumns" in (previous.text or ""))


def _table_rows(table: Any, table_no: int) -> list[Row]:
    """The rows of one table, spans placed by the HTML table model (cells skip covered columns)."""
    trs = [(tr, [td for td in tr if _tag(td) in ("td", "th") and not _hidden(td)])
           for tr in _own_rows(table) if not _hidden(tr)]
    trs = [(tr, cells) for tr, cells in trs if cells and not _phantom(tr, cells)]
    covered: dict[tuple[int, int], int] = {}  # (row, col) -> col_span of the merged cell covering it
    rows = []
    for r, (tr, tds) in enumerate(trs):
        out: list[Cell] = []
        col = 0
        for td in tds:
            while (r, col) in covered:
                span = covered[(r, col)]
                out.append(Cell("", col, col_span=span))
                col += span
            col_span = _span(td.get("colspan"))
            row_span = td.get("rowspan")
            rows_left = len(trs) - r
            # rowspan=0 runs to the end of the table; a span past the end stops there.
            row_span_n = rows_left if (row_span or "").strip() == "0" else min(_span(row_span), rows_left)
            out.append(Cell(_cell_text(td), col, row_span=row_span_n, col_span=col_span))
            for below in range(r + 1, r + row_span_n):
                covered[(below, col)] = col_span
            col += col_span
        while (r, col) in covered:  # merged cells from above at the row's end
            span = covered[(r, col)]
            out.append(Cell("", col, col_span=span))
            col += span
        rows.append(Row(tuple(out), Location(line=tr.sourceline, table=table_no, row=r + 1), in_table=True))
    return rows


def read(path: Path) -> Grid:
    """Read an HTML page into a grid: table rows with spans, and free rows for the text between."""
    import lxml.html
    from lxml import etree

    data = read_source(path)
    page, charset = _mhtml_page(data, path) if is_mhtml(data[:4096]) else (data, None)
    text = decode(page, path, charset)
    if not text.strip(_SPACE + "\ufeff"):
        raise UnreadableFile(path, "empty file (only white space)")
    try:
        # Parsed from UTF-8 bytes with the encoding given: the page's own <meta> must not re-decode it.
        parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=False, remove_pis=True)
        root = lxml.html.document_fromstring(text.encode("utf-8"), parser=parser)
    except (etree.ParserError, ValueError) as exc:
        raise UnreadableFile(path, f"broken HTML: {exc}") from None
    grid = Grid(path=str(path), format="html", sha256=hashlib.sha256(data).hexdigest())
    tables = 0
    lines = _Lines()

    def free_rows() -> None:
        lines.end()
        for line, source_line in lines.lines:
            if _CHROME_LINE.match(line):
                continue
            grid.rows.append(Row((Cell(line, 0),), Location(line=source_line), in_table=False))
        lines.lines.clear()

    def on_table(table: Any) -> None:
        nonlocal tables
        if not any(_cell_has_text(td) for td in table.iter("td", "th")):
            return  # a banner, a menu of links, a spacer: page furniture, not a form
        free_rows()
        for caption in table.findall("caption"):  # a table's caption is often the form's title
            _flow(caption, lines, on_table)
        free_rows()
        rows = _table_rows(table, tables + 1)
        if rows:
            tables += 1
            grid.rows.extend(rows)

    body = root.find("body")
    _flow(body if body is not None else root, lines, on_table)
    free_rows()
    if not tables:
        what = "no text at all" if not grid.rows else f"{len(grid.rows)} lines of text"
        raise UnreadableFile(path, f"an HTML page without a table ({what}); the forms are tables")
    return grid
