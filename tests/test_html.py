"""HTML pages: tables with spans, lines from <p>/<br>, Word's markup, charsets, page chrome."""

from __future__ import annotations

import codecs
import quopri
from pathlib import Path

import pytest

from goalforms.errors import UnreadableFile
from goalforms.parsers.grid import Grid, Row
from goalforms.parsers.readers import html, read
from goalforms.pipeline import parse_file
from tests.conftest import SAMPLES


def _read(tmp_path: Path, page: str | bytes, name: str = "page.html") -> Grid:
    path = tmp_path / name
    path.write_bytes(page.encode("utf-8") if isinstance(page, str) else page)
    return read(path)


def _cells(row: Row) -> list[tuple[str, int, int, int]]:
    return [(c.text, c.col, c.row_span, c.col_span) for c in row.cells]


def _table(grid: Grid, number: int = 1) -> list[list[tuple[str, int, int, int]]]:
    return [_cells(r) for r in grid.rows if r.in_table and r.where.table == number]


def _free(grid: Grid) -> list[str]:
    return [r.text() for r in grid.rows if not r.in_table]


# ---------------------------------------------------------------- tables and spans


def test_spans_place_cells_and_covered_positions_get_blank_cells(tmp_path: Path) -> None:
    grid = _read(tmp_path, """<table>
<tr><td rowspan="3">一级</td><td colspan="2">二级</td><td>值</td></tr>
<tr><td>a</td><td rowspan="2" colspan="2">b</td></tr>
<tr><td>c</td></tr>
</table>""")
    assert _table(grid) == [
        [("一级", 0, 3, 1), ("二级", 1, 1, 2), ("值", 3, 1, 1)],
        [("", 0, 1, 1), ("a", 1, 1, 1), ("b", 2, 2, 2)],
        [("", 0, 1, 1), ("c", 1, 1, 1), ("", 2, 1, 2)],
    ]
    assert grid.format == "html"


def test_spans_past_the_end_stop_there_and_rowspan_zero_runs_to_the_end(tmp_path: Path) -> None:
    grid = _read(tmp_path, """<table><tr><td rowspan=9>x</td><td rowspan=0>y</td><td colspan="2;">z</td></tr>
<tr><td>q</td></tr></table>""")
    assert _table(grid) == [[("x", 0, 2, 1), ("y", 1, 2, 1), ("z", 2, 1, 2)],
                            [("", 0, 1, 1), ("", 1, 1, 1), ("q", 2, 1, 1)]]


def test_provenance_is_table_row_and_source_line(tmp_path: Path) -> None:
    grid = _read(tmp_path, "<p>标题</p>\n<table>\n<tr><td>a</td></tr>\n<tr><td>b</td></tr>\n</table>\n<table><tr><td>c</td></tr></table>")
    where = [(r.where.table, r.where.row, r.where.line) for r in grid.rows]
    assert where == [(None, None, 1), (1, 1, 3), (1, 2, 4), (2, 1, 6)]


def test_a_caption_is_a_free_row_before_its_table_and_hidden_rows_are_no_rows(tmp_path: Path) -> None:
    grid = _read(tmp_path, "<table><caption>财政项目支出绩效目标表</caption><tr><td>a</td></tr>"
                           "<tr style='display:none'><td>隐藏</td></tr><tr><td>b</td></tr></table>")
    assert [(r.in_table, r.text()) for r in grid.rows] == [(False, "财政项目支出绩效目标表"), (True, "a"), (True, "b")]


def test_headers_bodies_and_th_cells_are_rows_of_the_table(tmp_path: Path) -> None:
    grid = _read(tmp_path, "<table><thead><tr><th>一级指标</th><th>值</th></tr></thead>"
                           "<tbody><tr><td>a</td><td>1</td></tr></tbody><tfoot><tr><td>b</td><td>2</td></tr></tfoot></table>")
    assert [[c[0] for c in row] for row in _table(grid)] == [["一级指标", "值"], ["a", "1"], ["b", "2"]]


# ---------------------------------------------------------------- lines and white space


def test_paragraphs_and_breaks_in_a_cell_are_lines(tmp_path: Path) -> None:
    grid = _read(tmp_path, "<table><tr>"
                           "<td><p>第一段</p>\n  <p>第二段</p><p>&nbsp;</p><p><br/></p></td>"
                           "<td>甲<br>乙<BR/>丙</td>"
                           "<td><div>一</div><div>二 <span>三</span></div></td>"
                           "</tr></table>")
    assert [c.text for c in grid.rows[0].cells] == ["第一段\n第二段", "甲\n乙\n丙", "一\n二 三"]


def test_white_space_as_a_browser_renders_it(tmp_path: Path) -> None:
    grid = _read(tmp_path, "<table><tr>"
                           "<td>  项目&nbsp;&nbsp;名称\t </td>"
                           "<td>每月根据工作计划安排，向参保单位寄发告\n  知书</td>"
                           "<td>exceeds\n  100 units</td>"
                           "<td>　全角空格保留</td>"
                           "</tr></table>")
    # nbsp and blanks collapse; a wrapped source line between Chinese characters leaves nothing;
    # between Latin words a space; the full-width space is text, not markup white space.
    assert [c.text for c in grid.rows[0].cells] == ["项目 名称", "每月根据工作计划安排，向参保单位寄发告知书",
                                                   "exceeds 100 units", "　全角空格保留"]


def test_text_outside_tables_is_one_free_row_per_paragraph(tmp_path: Path) -> None:
    grid = _read(tmp_path, "<h1>汇总表</h1>说明一<br>说明二<div>说明三</div><table><tr><td>a</td></tr></table>尾注")
    assert _free(grid) == ["汇总表", "说明一", "说明二", "说明三", "尾注"]
    assert [r.in_table for r in grid.rows] == [False, False, False, False, True, False]


# ---------------------------------------------------------------- Word's "Save as Web Page"


WORD = """<html xmlns:o="urn:schemas-microsoft-com:office:office" xmlns:w="urn:schemas-microsoft-com:office:word">
<head><meta http-equiv=Content-Type content="text/html; charset=utf-8">
<!--[if gte mso 9]><xml><w:WordDocument><w:View>Print</w:View></w:WordDocument></xml><![endif]-->
<style><!-- p.MsoNormal {mso-style-parent:""; margin:0cm;} --></style></head>
<body lang=ZH-CN><div class=WordSection1>
<p class=MsoNormal align=center style='text-align:center'><b><span style='font-size:16.0pt;font-family:宋体'>财政项目支出绩效目标表</span></b><span lang=EN-US><o:p></o:p></span></p>
<table class=MsoTableGrid border=1 cellspacing=0 cellpadding=0 style='border-collapse:collapse;mso-yfti-tbllook:1184'>
 <tr style='mso-yfti-irow:0;mso-yfti-firstrow:yes'>
  <td width=166 rowspan=2 valign=top style='width:4.4cm;border:solid windowtext 1.0pt'>
  <p class=MsoNormal><![if !supportLists]><span lang=EN-US>1.<span style='font:7.0pt "Times New Roman"'>&nbsp;&nbsp; </span></span><![endif]><span
  style='font-family:宋体'>产出指标</span><span lang=EN-US><o:p></o:p></span></p>
  </td>
  <td width=155 valign=top><p class=MsoNormal><span lang=EN-US style='font-size:9.0pt'>2026</span><span
  style='font-size:9.0pt;font-family:宋体'>年度</span><span style='display:none;mso-hide:all'>隐藏</span></p></td>
 </tr>
 <tr style='mso-yfti-irow:1;mso-yfti-lastrow:yes'>
  <td width=155 valign=top><p class=MsoNormal><span lang=EN-US><o:p>&nbsp;</o:p></span></p></td>
 </tr>
 <![if !supportMisalignedColumns]>
 <tr height=0>
  <td width=166 style='border:none'></td>
  <td width=155 style='border:none'></td>
 </tr>
 <![endif]>
</table>
<p class=MsoNormal><span lang=EN-US><o:p>&nbsp;</o:p></span></p>
</div></body></html>
"""


def test_word_web_page_markup(tmp_path: Path) -> None:
    grid = _read(tmp_path, WORD, "form.htm")
    assert _free(grid) == ["财政项目支出绩效目标表"]  # the empty MsoNormal paragraph is no row
    # downlevel-revealed list number kept (a browser shows it), hidden span and <o:p> gone,
    # the phantom column-width row dropped.
    assert _table(grid) == [[("1. 产出指标", 0, 2, 1), ("2026年度", 1, 1, 1)],
                            [("", 0, 1, 1), ("", 1, 1, 1)]]


# ---------------------------------------------------------------- charsets


FORM = "<table><tr><td>项目名称</td><td>朱镕基堃</td></tr></table>"  # 镕 and 堃 are GBK, not GB2312


@pytest.mark.parametrize(("name", "data"), [
    ("gbk-http-equiv", ('<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312"></head><body>'
                        + FORM + "</body></html>").encode("gbk")),
    ("gbk-meta-charset", ("<!DOCTYPE html><meta charset=GBK>" + FORM).encode("gbk")),
    ("gb18030-undeclared", FORM.encode("gb18030")),
    ("utf8-declared", ('<meta charset="utf-8">' + FORM).encode("utf-8")),
    ("utf8-undeclared", FORM.encode("utf-8")),
    ("utf8-bom", codecs.BOM_UTF8 + FORM.encode("utf-8")),
    ("utf8-labelled-gb2312", ('<META http-equiv=Content-Type content="text/html; charset=gb2312">' + FORM).encode("utf-8")),
    ("gbk-labelled-utf8", ('<meta charset="utf-8">' + FORM).encode("gbk")),
    ("gbk-labelled-latin1", ('<meta charset="iso-8859-1">' + FORM).encode("gbk")),
    ("utf16-bom", codecs.BOM_UTF16_LE + ("<html><body>" + FORM).encode("utf-16-le")),
])
def test_charsets(tmp_path: Path, name: str, data: bytes) -> None:
    grid = _read(tmp_path, data)
    assert [c.text for c in grid.rows[0].cells] == ["项目名称", "朱镕基堃"], name


def test_a_single_file_web_page_mht_is_read_with_its_mime_charset(tmp_path: Path) -> None:
    page = quopri.encodestring(("<html><body>" + FORM + "</body></html>").encode("gbk"))
    mht = (b'MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary="NextPart"\r\n\r\n'
           + "单个文件网页".encode("gbk") + b"\r\n\r\n--NextPart\r\nContent-Location: file:///C:/x/form.htm\r\n"
           b"Content-Transfer-Encoding: quoted-printable\r\nContent-Type: text/html; charset=\"gb2312\"\r\n\r\n"
           + page + b"\r\n--NextPart--\r\n")
    grid = _read(tmp_path, mht, "form.mht")
    assert [c.text for c in grid.rows[0].cells] == ["项目名称", "朱镕基堃"] and grid.format == "html"


def test_undecodable_bytes_are_refused_naming_the_offset(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFile, match=r"neither UTF-8 nor gb18030: undecodable byte 0x81 at offset 15"):
        _read(tmp_path, b"<table><tr><td>\x81\x30\x81</td></tr></table>\x80\x80")


def test_decode_keeps_a_declared_charset_of_another_family(tmp_path: Path) -> None:
    data = ('<meta charset="big5">' + "<table><tr><td>項目名稱</td></tr></table>").encode("big5")
    assert html.decode(data, tmp_path / "x.html").endswith("<td>項目名稱</td></tr></table>")


# ---------------------------------------------------------------- real pages


def test_upper_case_tags_and_unquoted_attributes(tmp_path: Path) -> None:
    grid = _read(tmp_path, "<HTML><BODY><TABLE BORDER=1><TR><TD ROWSPAN=2 VALIGN=TOP>甲</TD><TD COLSPAN=2>乙<BR>丙</TD></TR>"
                           "<TR><TD>丁</TD><TD>戊</TD></TR></TABLE></BODY></HTML>")
    assert _table(grid) == [[("甲", 0, 2, 1), ("乙\n丙", 1, 1, 2)], [("", 0, 1, 1), ("丁", 1, 1, 1), ("戊", 2, 1, 1)]]


PAGE = """<!DOCTYPE html><html><head><title>站点标题</title>
<script>var t = "<table><tr><td>脚本里的表</td></tr></table>";</script><style>td {color: red}</style></head>
<body>
<header class="site-header"><a href="/">网站首页</a><form class="search"><input name=q><button>搜索</button></form></header>
<nav><ul><li><a href="/">首页</a></li><li><a href="/zwgk/">政务公开</a></li></ul></nav>
<table class="topmenu"><tr><td><a href="/a">栏目一</a> | <a href="/b">栏目二</a></td></tr></table>
<div class="breadcrumb">当前位置：<a href="/">首页</a> &gt; 财政</div>
<div id="left-menu"><a href="/x">预算公开</a></div>
<article><header><h1>某中心2026年度项目绩效目标汇总表</h1></header>
<div class="article-info">发布时间：2026-01-08　来源：某中心　【字号：<a>大</a> <a>中</a> <a>小</a>】</div>
<p>【打印】【关闭】</p>
<div class="article-content"><table><tr><td>项目名称</td><td>某项目</td></tr></table></div></article>
<div class="share">分享到：<a href="#">微信</a></div>
<noscript>请启用脚本</noscript><div style="display: none">隐藏的统计</div>
<footer><p>版权所有 某中心</p></footer>
<div id="footer">网站标识码 3100000000</div>
</body></html>"""


def test_the_page_around_the_forms_is_ignored(tmp_path: Path) -> None:
    grid = _read(tmp_path, PAGE)
    assert _free(grid) == ["某中心2026年度项目绩效目标汇总表"]
    assert _table(grid) == [[("项目名称", 0, 1, 1), ("某项目", 1, 1, 1)]]
    assert [r.where.table for r in grid.rows if r.in_table] == [1]  # the menu table is no table of the form


def test_a_chrome_named_element_holding_a_form_table_is_kept(tmp_path: Path) -> None:
    grid = _read(tmp_path, '<div class="header"><table><tr><td>项目名称</td><td>某项目</td></tr></table></div>')
    assert _table(grid) == [[("项目名称", 0, 1, 1), ("某项目", 1, 1, 1)]]


def test_layout_tables_are_unwrapped_and_the_innermost_tables_read(tmp_path: Path) -> None:
    grid = _read(tmp_path, """<TABLE width=980><TR><TD>
<TABLE width="100%"><TR><TD align=center><B>汇总表</B></TD></TR>
<TR><TD>
<TABLE border=1><TR><TD>a</TD><TD>b</TD></TR></TABLE>
<P>中间说明</P>
<TABLE border=1><TR><TD colspan=2>c</TD></TR></TABLE>
</TD></TR></TABLE>
</TD></TR></TABLE>""")
    assert [(r.in_table, r.where.table, r.text("|")) for r in grid.rows] == [
        (False, None, "汇总表"), (True, 1, "a|b"), (False, None, "中间说明"), (True, 2, "c")]


def test_a_small_table_inside_a_form_cell_is_read_as_lines_of_that_cell(tmp_path: Path) -> None:
    grid = _read(tmp_path, """<table border=1>
<tr><td>项目名称</td><td>某项目</td><td>项目类别</td><td>专项</td></tr>
<tr><td>资金</td><td colspan=3><table><tr><td>财政拨款</td><td>100</td></tr></table></td></tr>
</table>""")
    assert _table(grid) == [[("项目名称", 0, 1, 1), ("某项目", 1, 1, 1), ("项目类别", 2, 1, 1), ("专项", 3, 1, 1)],
                            [("资金", 0, 1, 1), ("财政拨款\n100", 1, 1, 3)]]


def test_several_forms_on_one_page_parse_like_the_word_file() -> None:
    page = parse_file(SAMPLES / "html" / "004_dca627b1a6ea1aa7.html")
    word = parse_file(SAMPLES / "docx" / "004_dca627b1a6ea1aa7.docx")
    assert page.source.format == "html" and len(page.forms) == len(word.forms) == 9
    assert page.collection_title == word.collection_title
    for got, want in zip(page.forms, word.forms, strict=True):
        assert got.to_dict()["header"] == want.to_dict()["header"]
        assert [i["raw"] for i in got.to_dict()["indicators"]] == [i["raw"] for i in want.to_dict()["indicators"]]


# ---------------------------------------------------------------- broken and empty pages


def test_broken_markup_is_read_as_a_browser_would(tmp_path: Path) -> None:
    grid = _read(tmp_path, "<table><tr><td>a<td>b<tr><td colspan=2>c</table></div></span><p>后记")
    assert _table(grid) == [[("a", 0, 1, 1), ("b", 1, 1, 1)], [("c", 0, 1, 2)]]
    assert _free(grid) == ["后记"]


@pytest.mark.parametrize(("page", "reason"), [
    (b"", "empty file"),
    (b"  \r\n ", "empty file"),
    (b"<html><body></body></html>", "an HTML page without a table (no text at all)"),
    ("<html><body><p>通知</p><p>没有表格</p></body></html>".encode(), "an HTML page without a table (2 lines of text)"),
    (b"<table></table><table><tr></tr></table>", "an HTML page without a table (no text at all)"),
])
def test_empty_pages_and_pages_without_a_table_are_refused(tmp_path: Path, page: bytes, reason: str) -> None:
    path = tmp_path / "page.html"
    path.write_bytes(page)
    with pytest.raises(UnreadableFile) as info:
        html.read(path)
    assert str(path) in str(info.value) and reason in str(info.value)
