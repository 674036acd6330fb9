"""Generate the HTML, OpenDocument and misnamed samples from the hand-checked text samples.

The same forms as ``samples/docx`` (same tables, same merged cells), written the ways they reach
an archive from the web and from office tools:

- ``samples/html/000_*.htm``  a government website's page: GB2312-labelled (GBK) bytes with an
  ``http-equiv`` meta, upper-case tags and unquoted attributes, the content in nested layout
  tables, navigation, breadcrumb, scripts, a search box and a footer around the forms;
- ``samples/html/002_*.htm``  Word's "Save as Web Page" (filtered): MsoNormal paragraphs,
  ``<o:p>``, ``mso-`` styles, conditional comments, ``&nbsp;`` in empty cells, source lines
  wrapped inside Chinese text, the phantom column-width row, one table per form;
- ``samples/html/003_*.html`` a plain page: UTF-8 with a BOM and no charset declaration,
  ``<th>`` labels, ``<thead>``/``<tbody>``;
- ``samples/html/003_*-word.mht`` Word's "Single File Web Page": a MIME archive holding the
  page (GB2312-labelled, quoted-printable);
- ``samples/html/004_*.html`` a CMS article (HTML5, ``<meta charset>``): ``<header>``/``<nav>``/
  ``<footer>``, a publication line above the forms, every line of a cell in its own ``<p>``
  (the habit seed 004 shows);
- ``samples/odt/NNN_*.odt``   the Word samples converted by LibreOffice (headless, own profile);
- ``samples/misnamed/``      an Excel-HTML export saved as ``.xls`` (budget systems do this),
  a ``.txt`` holding an HTML fragment in GB18030 without a declaration, Word's web page saved
  as ``.doc``, and a Word file that lost its extension.

Beside each file its expected parse (``NAME.expected.json``): the text sample's truth through
``derive_expected`` of make_samples.py, with ``source.format`` as the reader reports it.
Reproducible byte for byte (fixed dates in the ODT files, LibreOffice's random rsids renumbered).
Run after make_samples.py (the ODT and extension-less files come from samples/docx)::

    .venv/bin/python samples/make_html.py
"""

from __future__ import annotations

import html
import io
import json
import quopri
import re
import shutil
import subprocess
import sys
import tempfile
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from make_samples import (
    TEXT_ROWS_2020,
    TITLES,
    derive_expected,
    header_extras,
    money_2020,
    money_2024,
    runs,
    text,
    write_json,
    yes_no,
)

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "samples"
TEXT_DIR, DOCX_DIR = SAMPLES / "text", SAMPLES / "docx"
HTML_DIR, ODT_DIR, MISNAMED_DIR = SAMPLES / "html", SAMPLES / "odt", SAMPLES / "misnamed"
LO_PROFILE = "file:///tmp/lo-html-samples"
ODT_DATE = "2026-01-01T00:00:00"


# ---------------------------------------------------------------- the forms as blocks


@dataclass(frozen=True)
class C:
    """One table cell: text (lines split at \\n), spans, and whether it is a printed label."""

    text: str
    colspan: int = 1
    rowspan: int = 1
    label: bool = False


@dataclass(frozen=True)
class P:
    text: str
    size: float = 10.5
    bold: bool = False
    center: bool = False
    page_break: bool = False


Table = list[list[C]]
Block = P | Table


def lab(content: str, colspan: int = 1, rowspan: int = 1) -> C:
    return C(content, colspan, rowspan, True)


def indicator_rows(indicators: list[dict[str, Any]], lead: list[C]) -> Table:
    """Indicator rows with level 1 and 2 merged down over their groups (as make_samples does)."""
    level1 = [text(i["level1"]) for i in indicators]
    level2 = [(text(i["level1"]), text(i["level2"])) for i in indicators]
    starts1 = {start: (end - start + 1, name) for start, end, name in runs(level1)}
    starts2 = {start: (end - start + 1, name[1]) for start, end, name in runs(level2)}
    rows: Table = []
    for n, indicator in enumerate(indicators):
        row = list(lead) if n == 0 else []
        if n in starts1:
            row.append(C(starts1[n][1], rowspan=starts1[n][0]))
        if n in starts2:
            row.append(C(starts2[n][1], rowspan=starts2[n][0]))
        row.append(C(indicator["level3"]))
        row.append(C(indicator["raw"], colspan=2 if lead else 1))
        rows.append(row)
    return rows


def blocks_2020(form: dict[str, Any], extra: dict[str, str | None], first: bool) -> list[Block]:
    header, budget, year = form["header"], form["budget"], form["year"]
    head: Table = [
        [lab("项目名称："), C(text(header["project_name"])), lab("项目类别："), C(text(header["project_category"]))],
        [lab("计划开始日期："), C(text(header["plan_start"])), lab("计划完成日期："), C(text(header["plan_end"]))],
        [lab("是否含有政府购买服务："), C(yes_no(header["gov_procurement"])), lab("绩效类型："),
         C(text(header["performance_type"]))],
    ]
    for label, origin, key in TEXT_ROWS_2020:
        head.append([lab(label), C(text(header[key] if origin == "header" else extra.get(key)), colspan=3)])
    money: Table = [
        [lab("项目总预算(元)："), C(money_2020(budget["total"])), lab("项目当年预算(元)："),
         C(money_2020(budget["current_year"]))],
        [lab("同名项目上年预算额(元)："), C(money_2020(budget["prior_year_budget"])),
         lab("同名项目上年预算执行数(元)："), C(money_2020(budget["prior_year_spent"]))],
    ]
    targets: Table = [[lab("一级目标"), lab("二级目标"), lab("三级目标"), lab("指标目标值")]]
    targets += indicator_rows(form["indicators"], [])
    return [P(TITLES["2020"], 16, True, True, not first), P(f"({year}年度)", 12, center=True),
            P(f"申报单位名称：{text(header['unit'])}"), head,
            P("本项目上年度市级财政资金使用情况", bold=True), money,
            P(f"{year}年绩效目标", bold=True), targets]


def blocks_2024(form: dict[str, Any], extra: dict[str, str | None], first: bool) -> list[Block]:
    header, budget, year = form["header"], form["budget"], form["year"]
    indicators = form["indicators"]
    table: Table = [
        [lab("项目名称"), C(text(header["project_name"])), lab("项目性质"), C(text(header["project_nature"])),
         lab("项目类别"), C(text(header["project_category"]))],
        [lab("主管部门"), C(text(header["department"]), 2), lab("实施单位"), C(text(header["unit"]), 2)],
        [lab("计划开始日期"), C(text(header["plan_start"]), 2), lab("计划完成日期"), C(text(header["plan_end"]), 2)],
        [lab("项目资金(元)", rowspan=4), lab("项目资金总额"), C(money_2024(budget["total"])),
         lab("年度资金申请总额"), C(money_2024(budget["current_year"]), 2)],
        [lab("其中：财政资金"), C(""), lab("其中：当年财政拨款"), C(money_2024(budget["fiscal_appropriation"]), 2)],
        [lab(""), C(""), lab("上年结转资金"), C(money_2024(budget["carryover"]), 2)],
        [lab("其他资金"), C(""), lab("其他资金"), C(money_2024(budget["other_funds"]), 2)],
        [lab("项目绩效目标", rowspan=2), lab("项目总目标", 2), lab("年度总体目标", 3)],
        [C(text(extra.get("project_goal")), 2), C(text(header["goal"]), 3)],
        [lab(""), lab("一级指标"), lab("二级指标"), lab("三级指标"), lab("年度(/项目)指标值", 2)],
    ]
    # The 绩效指标 label merges down over the indicator rows only (the header row has its own blank).
    table += indicator_rows(indicators, [lab("绩效指标", rowspan=len(indicators))])
    return [P(TITLES["2024"], 16, True, True, not first), P(f"({year}年度)", 12, center=True), table]


BUILDERS: dict[str, Callable[[dict[str, Any], dict[str, str | None], bool], list[Block]]] = {
    "2020": blocks_2020,
    "2024": blocks_2024,
}


def document_blocks(truth: dict[str, Any], extras: list[dict[str, str | None]]) -> list[Block]:
    blocks: list[Block] = []
    if truth["collection_title"]:
        blocks.append(P(truth["collection_title"], 14, True, True))
    for n, (form, extra) in enumerate(zip(truth["forms"], extras, strict=True)):
        blocks += BUILDERS[form["layout"]](form, extra, n == 0)
    return blocks


# ---------------------------------------------------------------- HTML dialects


def esc(value: str) -> str:
    return html.escape(value, quote=False)


def lines_of(value: str) -> list[str]:
    return value.split("\n")


def government_page(blocks: list[Block]) -> str:
    """An old CMS: upper case, unquoted attributes, <BR> between a cell's lines, layout tables."""
    body: list[str] = []
    for block in blocks:
        if isinstance(block, P):
            align = " align=center" if block.center else ""
            content = f"<STRONG>{esc(block.text)}</STRONG>" if block.bold else esc(block.text)
            size = " style=\"FONT-SIZE: 18px\"" if block.size > 12 else ""
            body.append(f"<P{align}{size}>{content}</P>")
            continue
        body.append("<TABLE class=MsoNormalTable style=\"BORDER-COLLAPSE: collapse\" cellSpacing=0 cellPadding=0 "
                    "width=\"100%\" border=1>\n<TBODY>")
        for row in block:
            cells = []
            for cell in row:
                spans = (f" colSpan={cell.colspan}" if cell.colspan > 1 else "") + \
                        (f" rowSpan={cell.rowspan}" if cell.rowspan > 1 else "")
                content = "<BR>".join(esc(line) for line in lines_of(cell.text)) or "&nbsp;"
                if cell.label:
                    content = f"<B>{content}</B>"
                cells.append(f"<TD{spans} vAlign=top>{content}</TD>")
            body.append("<TR>\n" + "\n".join(cells) + "</TR>")
        body.append("</TBODY></TABLE>")
    content = "\n".join(body)
    return f"""<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN">
<HTML><HEAD><TITLE>项目绩效目标公开</TITLE>
<META http-equiv=Content-Type content="text/html; charset=gb2312">
<META content="MSHTML 6.00.2900.5512" name=GENERATOR>
<LINK href="/css/style.css" type=text/css rel=stylesheet>
<SCRIPT language=javascript src="/js/menu.js"></SCRIPT>
<SCRIPT language=javascript>
function doZoom(size){{document.getElementById('zoom').style.fontSize=size+'px'}}
var s = "<table><tr><td>项目名称</td></tr></table>";
</SCRIPT>
<STYLE type=text/css>TD {{ FONT-SIZE: 12px }} .nav A {{ COLOR: #fff }}</STYLE>
</HEAD>
<BODY leftMargin=0 topMargin=0>
<TABLE cellSpacing=0 cellPadding=0 width=980 align=center border=0>
<TR><TD><IMG height=120 src="/images/banner.jpg" width=980></TD></TR>
<TR><TD class=nav height=32><A href="/">首页</A> | <A href="/zwgk/">政务公开</A> | <A href="/bsfw/">办事服务</A> | <A href="/hdjl/">互动交流</A></TD></TR>
</TABLE>
<TABLE cellSpacing=0 cellPadding=0 width=980 align=center border=0>
<TR>
<TD vAlign=top width=200 class=leftmenu>
<TABLE class=menu width="100%"><TR><TD><A href="/zwgk/czyjs/">财政预决算</A></TD></TR><TR><TD><A href="/zwgk/xmzc/">项目支出</A></TD></TR></TABLE>
</TD>
<TD vAlign=top width=780>
<DIV class=position>当前位置：<A href="/">首页</A> &gt; <A href="/zwgk/">政务公开</A> &gt; 财政预决算</DIV>
<TABLE cellSpacing=0 cellPadding=10 width="100%" border=0>
<TR><TD id=zoom>
{content}
</TD></TR>
<TR><TD align=right>【字体：<A href="javascript:doZoom(16)">大</A> <A href="javascript:doZoom(14)">中</A> <A href="javascript:doZoom(12)">小</A>】【<A href="javascript:window.print()">打印</A>】【<A href="javascript:window.close()">关闭</A>】</TD></TR>
</TABLE>
</TD></TR></TABLE>
<DIV id=footer align=center>主办单位：上海市人力资源和社会保障局　技术支持：上海市大数据中心<BR>沪ICP备00000000号</DIV>
</BODY></HTML>
"""


def word_wrap(line: str, width: int = 76) -> str:
    """Word wraps the source lines of its web pages at about 76 columns: at a space (inside a
    tag too) or between two Chinese characters of the text."""
    out: list[str] = []
    column = 0
    in_tag = False
    for n, char in enumerate(line):
        if char == "<":
            in_tag = True
        elif char == ">":
            in_tag = False
        following = line[n + 1 : n + 2]
        if column >= width and char == " ":
            out.append("\n")
            column = 0
            continue
        out.append(char)
        column += 1
        if column >= width and not in_tag and is_wide(char) and following and is_wide(following):
            out.append("\n")
            column = 0
    return "".join(out)


def is_wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in ("W", "F")


def word_runs(value: str, size: float) -> str:
    """A paragraph's text as Word writes it: Latin runs in lang=EN-US spans, Chinese in 宋体."""
    out = []
    for part in re.findall(r"[\x00-\x7f]+|[^\x00-\x7f]+", value):
        if part.isascii():
            out.append(f"<span lang=EN-US style='font-size:{size:.1f}pt'>{esc(part)}</span>")
        else:
            out.append(f"<span style='font-size:{size:.1f}pt;font-family:宋体'>{esc(part)}</span>")
    return "".join(out)


def word_page(blocks: list[Block], charset: str = "utf-8") -> str:
    """Word 2010 "Save as Web Page" (filtered), UTF-8 unless told."""
    body: list[str] = []
    widths = {4: (166, 155, 166, 155), 6: (91, 94, 106, 163, 94, 94)}
    for block in blocks:
        if isinstance(block, P):
            align = " align=center style='text-align:center'" if block.center else ""
            if block.page_break:
                body.append("<span lang=EN-US style='font-size:10.5pt;font-family:\"Times New Roman\",serif'><br clear=all "
                            "style='page-break-before:always'>\n</span>")
            runs_ = word_runs(block.text, block.size) if block.text else ""
            if block.bold:
                runs_ = f"<b>{runs_}</b>"
            body.append(word_wrap(f"<p class=MsoNormal{align}>{runs_}<span lang=EN-US><o:p></o:p></span></p>"))
            continue
        columns = max(sum(c.colspan for c in row) for row in block[:1])
        col_widths = widths.get(columns, (100,) * columns)
        body.append("<table class=MsoTableGrid border=1 cellspacing=0 cellpadding=0 style='border-collapse:collapse;"
                    "border:none;mso-border-alt:solid windowtext .5pt;mso-yfti-tbllook:1184;mso-padding-alt:0cm 5.4pt 0cm 5.4pt'>")
        for r, row in enumerate(block):
            first = ";mso-yfti-firstrow:yes" if r == 0 else ""
            body.append(f" <tr style='mso-yfti-irow:{r}{first}'>")
            for cell in row:
                spans = (f" colspan={cell.colspan}" if cell.colspan > 1 else "") + \
                        (f" rowspan={cell.rowspan}" if cell.rowspan > 1 else "")
                paras = []
                for line in lines_of(cell.text):
                    center = " align=center style='text-align:center'" if cell.label else ""
                    if line:
                        content = word_runs(line, 9)
                        if cell.label:
                            content = f"<b>{content}</b>"
                        paras.append(f"<p class=MsoNormal{center}>{content}<span lang=EN-US style='font-size:9.0pt'>"
                                     "<o:p></o:p></span></p>")
                    else:
                        paras.append(f"<p class=MsoNormal{center}><span lang=EN-US style='font-size:9.0pt'>"
                                     "<o:p>&nbsp;</o:p></span></p>")
                body.append(f"  <td width={col_widths[0]}{spans} valign=top style='border:solid windowtext 1.0pt;"
                            "mso-border-alt:solid windowtext .5pt;padding:0cm 5.4pt 0cm 5.4pt'>")
                body.extend(word_wrap(p) for p in paras)
                body.append("  </td>")
            body.append(" </tr>")
        body.append(" <![if !supportMisalignedColumns]>\n <tr height=0>")
        body.extend(f"  <td width={w} style='border:none'></td>" for w in col_widths)
        body.append(" </tr>\n <![endif]>\n</table>")
    content = "\n".join(body)
    return f"""<html xmlns:v="urn:schemas-microsoft-com:vml"
xmlns:o="urn:schemas-microsoft-com:office:office"
xmlns:w="urn:schemas-microsoft-com:office:word"
xmlns:m="http://schemas.microsoft.com/office/2004/12/omml"
xmlns="http://www.w3.org/TR/REC-html40">

<head>
<meta http-equiv=Content-Type content="text/html; charset={charset}">
<meta name=ProgId content=Word.Document>
<meta name=Generator content="Microsoft Word 14">
<meta name=Originator content="Microsoft Word 14">
<title>财政项目支出绩效目标</title>
<!--[if gte mso 9]><xml>
 <o:DocumentProperties>
  <o:Author>user</o:Author>
  <o:Created>2026-01-01T00:00:00Z</o:Created>
 </o:DocumentProperties>
</xml><![endif]-->
<!--[if gte mso 9]><xml>
 <w:WordDocument>
  <w:View>Print</w:View>
  <w:Compatibility><w:SpaceForUL/><w:UseFELayout/></w:Compatibility>
 </w:WordDocument>
</xml><![endif]-->
<style>
<!--
 /* Font Definitions */
 @font-face {{font-family:宋体; panose-1:2 1 6 0 3 1 1 1 1 1;}}
p.MsoNormal, li.MsoNormal, div.MsoNormal {{mso-style-parent:""; margin:0cm; margin-bottom:.0001pt;
 text-align:justify; text-justify:inter-ideograph; font-size:10.5pt; font-family:"Times New Roman","serif";}}
@page WordSection1 {{size:595.3pt 841.9pt; margin:2.0cm 2.0cm 2.0cm 2.0cm;}}
div.WordSection1 {{page:WordSection1;}}
-->
</style>
<!--[if gte mso 10]>
<style>
 table.MsoNormalTable {{mso-style-name:普通表格; mso-tstyle-rowband-size:0;}}
</style>
<![endif]-->
</head>

<body lang=ZH-CN style='tab-interval:21.0pt;text-justify-trim:punctuation'>

<div class=WordSection1 style='layout-grid:15.6pt'>

{content}

<p class=MsoNormal><span lang=EN-US><o:p>&nbsp;</o:p></span></p>

</div>

</body>

</html>
"""


def plain_page(blocks: list[Block]) -> str:
    """A hand-made page: no charset declaration (the BOM says UTF-8), <th> labels, thead/tbody."""
    body: list[str] = []
    for block in blocks:
        if isinstance(block, P):
            tag = "h2" if block.size > 12 else "p"
            body.append(f"<{tag}>{esc(block.text)}</{tag}>")
            continue
        body.append('<table border="1">')
        for r, row in enumerate(block):
            section = "thead" if r == 0 else "tbody"
            if r <= 1:
                body.append(f"<{section}>" if r == 0 else "</thead>\n<tbody>")
            cells = []
            for cell in row:
                tag = "th" if cell.label else "td"
                spans = (f' colspan="{cell.colspan}"' if cell.colspan > 1 else "") + \
                        (f' rowspan="{cell.rowspan}"' if cell.rowspan > 1 else "")
                cells.append(f"<{tag}{spans}>{'<br>'.join(esc(line) for line in lines_of(cell.text))}</{tag}>")
            body.append("<tr>" + "".join(cells) + "</tr>")
        body.append("</tbody>\n</table>" if len(block) > 1 else "</thead>\n</table>")
    content = "\n".join(body)
    return f"<html>\n<head>\n<title>绩效目标表</title>\n</head>\n<body>\n{content}\n</body>\n</html>\n"


def cms_page(blocks: list[Block]) -> str:
    """An HTML5 CMS article (UEditor markup): every line of a cell in its own <p>."""
    body: list[str] = []
    for block in blocks:
        if isinstance(block, P):
            style = ' style="text-align: center;"' if block.center else ""
            content = f"<strong>{esc(block.text)}</strong>" if block.bold else esc(block.text)
            body.append(f"<p{style}>{content}</p>")
            continue
        body.append('<table width="100%" border="1" cellspacing="0" cellpadding="0" style="border-collapse:collapse;"><tbody>')
        for row in block:
            body.append("<tr>")
            for cell in row:
                spans = (f' colspan="{cell.colspan}"' if cell.colspan > 1 else "") + \
                        (f' rowspan="{cell.rowspan}"' if cell.rowspan > 1 else "")
                paras = "".join(f"<p>{esc(line)}</p>" if line else "<p><br/></p>" for line in lines_of(cell.text))
                body.append(f'<td{spans} valign="top" style="word-break: break-all;">{paras}</td>')
            body.append("</tr>")
        body.append("</tbody></table>")
    content = "\n".join(body)
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>项目绩效目标_财政预决算_政务公开</title>
<link rel="stylesheet" href="/static/css/main.css">
<script src="/static/js/jquery.min.js"></script>
<script>var _hmt = _hmt || []; document.write('<table><tr><td>统计</td></tr></table>');</script>
</head>
<body>
<header class="site-header"><div class="logo"><a href="/">上海市社会保险事业管理中心</a></div>
<form class="search" action="/search"><input type="text" name="q" placeholder="请输入关键字"><button>搜索</button></form></header>
<nav class="main-nav"><ul><li><a href="/">首页</a></li><li><a href="/xxgk/">信息公开</a></li><li><a href="/bsfw/">办事服务</a></li></ul></nav>
<div class="breadcrumb">您的位置：<a href="/">首页</a> &gt; <a href="/xxgk/">信息公开</a> &gt; 财政预决算</div>
<article class="article">
<div class="article-info">发布时间：2026-01-08 10:30　来源：上海市社会保险事业管理中心　【字号：<a href="#">大</a> <a href="#">中</a> <a href="#">小</a>】</div>
<div class="article-content" id="UCAP-CONTENT">
{content}
</div>
</article>
<div class="share">分享到：<a href="#">微信</a> <a href="#">微博</a></div>
<footer class="site-footer"><p>版权所有：上海市社会保险事业管理中心</p><p>网站标识码 3100000000 沪ICP备00000000号</p></footer>
<script>(function(){{var s=document.createElement('script');s.src='/stat.js';}})();</script>
</body>
</html>
"""


def excel_export(blocks: list[Block]) -> str:
    """A budget system's "Excel" export: an HTML table with Excel's namespaces, saved as .xls;
    line breaks in a cell are <br style='mso-data-placement:same-cell;'>, all forms one sheet."""
    rows: list[str] = []
    for block in blocks:
        if isinstance(block, P):
            rows.append(f" <tr height=24 style='height:18.0pt'>\n  <td colspan=6 height=24 class=xl{70 if block.bold else 66}"
                        f" style='height:18.0pt'>{esc(block.text)}</td>\n </tr>")
            continue
        for row in block:
            cells = []
            for cell in row:
                spans = (f" colspan={cell.colspan}" if cell.colspan > 1 else "") + (f" rowspan={cell.rowspan}" if cell.rowspan > 1 else "")
                content = "<br style='mso-data-placement:same-cell;'>".join(esc(line) for line in lines_of(cell.text))
                cls = "xl68" if cell.label else "xl67"
                cells.append(f"  <td{spans} class={cls} x:str>{content}</td>")
            rows.append(" <tr height=40 style='height:30.0pt'>\n" + "\n".join(cells) + "\n </tr>")
        rows.append(" <tr height=18 style='height:13.5pt'>\n  <td colspan=6 height=18 style='height:13.5pt'></td>\n </tr>")
    content = "\n".join(rows)
    return f"""<html xmlns:o="urn:schemas-microsoft-com:office:office"
xmlns:x="urn:schemas-microsoft-com:office:excel"
xmlns="http://www.w3.org/TR/REC-html40">
<head>
<meta http-equiv="Content-Type" content="application/vnd.ms-excel; charset=UTF-8">
<meta name=ProgId content=Excel.Sheet>
<!--[if gte mso 9]><xml>
 <x:ExcelWorkbook><x:ExcelWorksheets><x:ExcelWorksheet><x:Name>绩效目标表</x:Name>
 <x:WorksheetOptions><x:Print><x:ValidPrinterInfo/></x:Print></x:WorksheetOptions>
 </x:ExcelWorksheet></x:ExcelWorksheets></x:ExcelWorkbook>
</xml><![endif]-->
<style>
.xl66 {{mso-number-format:"\\@"; font-size:10.5pt;}}
.xl67 {{mso-number-format:"\\@"; border:.5pt solid windowtext; white-space:normal; vertical-align:top;}}
.xl68 {{border:.5pt solid windowtext; font-weight:700; text-align:center; white-space:normal;}}
.xl70 {{font-size:16.0pt; font-weight:700; text-align:center;}}
</style>
</head>
<body link=blue vlink=purple>
<table x:str border=0 cellpadding=0 cellspacing=0 width=1020 style='border-collapse:collapse;table-layout:fixed;width:765pt'>
{content}
</table>
</body>
</html>
"""


MHT_BOUNDARY = "----=_NextPart_01DC7A3B.5E1F2C40"


def word_mht(blocks: list[Block]) -> bytes:
    """Word's "Single File Web Page" (.mht): a MIME archive, the page GB2312-labelled (GBK bytes)
    in quoted-printable, then Word's file list; the preamble in the ANSI code page."""
    page = quopri.encodestring(word_page(blocks, "gb2312").replace("\n", "\r\n").encode("gb18030"))
    filelist = quopri.encodestring(b'<xml xmlns:o="urn:schemas-microsoft-com:office:office">\r\n'
                                   b' <o:MainFile HRef="../form.htm"/>\r\n <o:File HRef="filelist.xml"/>\r\n</xml>')
    head = ("MIME-Version: 1.0\r\n"
            f'Content-Type: multipart/related; boundary="{MHT_BOUNDARY}"\r\n\r\n'
            "此文档为“单个文件网页”，也称为“Web 档案”文件。如果您看到此消息，但是您的浏览器或编辑器不支持“Web 档案”文件。"
            "请下载支持“Web 档案”的浏览器。\r\n\r\n")
    parts = [head.encode("gb18030")]
    for location, kind, body in (("file:///C:/D2B1A9E0/form.htm", 'text/html; charset="gb2312"', page),
                                 ("file:///C:/D2B1A9E0/form.files/filelist.xml", 'text/xml; charset="utf-8"', filelist)):
        parts.append(f"--{MHT_BOUNDARY}\r\nContent-Location: {location}\r\n"
                     f"Content-Transfer-Encoding: quoted-printable\r\nContent-Type: {kind}\r\n\r\n".encode("ascii"))
        parts.append(body + b"\r\n\r\n")
    parts.append(f"--{MHT_BOUNDARY}--\r\n".encode("ascii"))
    return b"".join(parts)


def fragment(blocks: list[Block]) -> str:
    """Page source copied into a text file: the tables and paragraphs, no <html>, no <head>."""
    page = plain_page(blocks)
    inner = page.split("<body>\n", 1)[1].rsplit("\n</body>", 1)[0]
    return "<!-- 从网页复制 -->\n" + inner + "\n"


# ---------------------------------------------------------------- ODT and copies


def convert_to_odt(docx_files: list[Path]) -> None:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        sys.exit("make_html: LibreOffice (soffice) not found; see make_samples.py's docstring")
    with tempfile.TemporaryDirectory(prefix="make-html-") as scratch:
        subprocess.run([soffice, f"-env:UserInstallation={LO_PROFILE}", "--headless", "--norestore",
                        "--convert-to", "odt", "--outdir", scratch, *map(str, docx_files)],
                       check=True, capture_output=True, timeout=600)
        for path in docx_files:
            made = Path(scratch, f"{path.stem}.odt")
            if not made.exists():
                sys.exit(f"make_html: LibreOffice wrote no ODT for {path.name}")
            (ODT_DIR / made.name).write_bytes(pin_odt(made.read_bytes()))


_RSID = re.compile(rb'(officeooo:(?:para)?rsid)="([0-9a-f]{8})"')
_SETTINGS_RSID = re.compile(rb'(config:name="Rsid(?:Root)?" config:type="int">)\d+(<)')
_ODT_DATES = re.compile(rb"(<(meta:creation-date|dc:date|meta:print-date)>)[^<]*(</\2>)")


def pin_odt(data: bytes) -> bytes:
    """Fixed dates and zip times, LibreOffice's random revision ids renumbered in order of use,
    ``mimetype`` first and stored (the ODF rule)."""
    renumbered: dict[bytes, bytes] = {}

    def rsid(match: re.Match[bytes]) -> bytes:
        value = renumbered.setdefault(match.group(2), f"{len(renumbered) + 1:08x}".encode())
        return match.group(1) + b'="' + value + b'"'

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        names = sorted(src.namelist(), key=lambda n: n != "mimetype")
        for name in names:
            content = src.read(name)
            if name == "settings.xml":
                content = _SETTINGS_RSID.sub(rb"\g<1>0\g<2>", content)
            if name.endswith(".xml"):
                content = _RSID.sub(rsid, content)
                content = _ODT_DATES.sub(lambda m: m.group(1) + ODT_DATE.encode() + m.group(3), content)
                content = re.sub(rb"<meta:editing-duration>[^<]*</meta:editing-duration>",
                                 b"<meta:editing-duration>PT0S</meta:editing-duration>", content)
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            dst.writestr(info, content)
    return out.getvalue()


# ---------------------------------------------------------------- main


HTML_SAMPLES: dict[str, tuple[str, Callable[[list[Block]], str], str]] = {
    # seed stem prefix: (suffix, dialect, encoding)
    "000": (".htm", government_page, "gb18030"),
    "002": (".htm", word_page, "utf-8"),
    "003": (".html", plain_page, "utf-8-sig"),
    "004": (".html", cms_page, "utf-8"),
}
MISNAMED: dict[str, tuple[str, Callable[[list[Block]], str], str]] = {
    "003": (".xls", excel_export, "utf-8"),
    "002": (".txt", fragment, "gb18030"),
    "004": (".doc", word_page, "utf-8"),
}


def encoded(page: str, encoding: str) -> bytes:
    # Pages labelled gb2312 are written by GBK/GB18030 encoders: what decodes is the superset.
    return page.encode(encoding)


def clean(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for path in folder.iterdir():
        if path.is_file():
            path.unlink()


def main() -> None:
    sources = sorted(TEXT_DIR.glob("*.expected.json"))
    if not sources:
        sys.exit(f"make_html: no expected files in {TEXT_DIR}")
    for folder in (HTML_DIR, ODT_DIR, MISNAMED_DIR):
        clean(folder)
    docx_files = []
    for source in sources:
        stem = source.name.removesuffix(".expected.json")
        truth = json.loads(source.read_text(encoding="utf-8"))
        blocks = document_blocks(truth, header_extras(TEXT_DIR / f"{stem}.txt", truth))
        seed = stem[:3]
        for folder, table in ((HTML_DIR, HTML_SAMPLES), (MISNAMED_DIR, MISNAMED)):
            if seed in table:
                suffix, dialect, encoding = table[seed]
                path = folder / f"{stem}{suffix}"
                path.write_bytes(encoded(dialect(blocks), encoding))
                write_json(folder / f"{stem}.expected.json", derive_expected(truth, path, "html"))
        if seed == "003":  # Word's single-file web page: the HTML reader takes the page out of it
            path = HTML_DIR / f"{stem}-word.mht"
            path.write_bytes(word_mht(blocks))
            write_json(HTML_DIR / f"{stem}-word.expected.json", derive_expected(truth, path, "html"))
        docx = DOCX_DIR / f"{stem}.docx"
        if not docx.exists():
            sys.exit(f"make_html: {docx} missing: run samples/make_samples.py first")
        docx_files.append(docx)
        if seed == "000":  # a Word file that lost its extension
            bare = MISNAMED_DIR / stem
            shutil.copyfile(docx, bare)
            write_json(MISNAMED_DIR / f"{stem}.expected.json", derive_expected(truth, bare, "docx"))
        print(f"{stem}: {len(truth['forms'])} forms")
    convert_to_odt(docx_files)
    for source in sources:
        stem = source.name.removesuffix(".expected.json")
        truth = json.loads(source.read_text(encoding="utf-8"))
        path = ODT_DIR / f"{stem}.odt"
        write_json(ODT_DIR / f"{stem}.expected.json", derive_expected(truth, path, "odt"))


if __name__ == "__main__":
    main()
