"""财政项目支出绩效评价报告: the report's structure read from its headings, tables, codes and labels.

A report is found by its title (…绩效评价报告) followed by cover lines (项目名称：…). Inside it:

- the **scoring table(s)**: a table whose header names 三级指标, 分值, 得分. Cells are classified by
  content — ``A 项目决策`` (level 1), ``A1 项目立项（6）`` (level 2 with its 分值), ``A11 …``
  (level 3), ``A1 小计``, ``总分`` — and numbers are read in the header's order of 分值/得分, so a
  label displaced by a column or two changes nothing: a level is given by its code.
- the **具体绩效分析** headings ``A11 名称（满分 2 分，得 2 分）`` with their 指标解释 / 评分标准 / 得分
  paragraphs;
- the **workpapers** of 附件1, ``A11“名称”评价底稿``, rows labelled 指标解释 … 评价结果;
- the budget, multi-year, output, schedule and satisfaction tables (``tables.py``);
- the facts of the prose: the project period, 绩效总目标, the total score and grade, 预算调整,
  planned-versus-actual statements (计划印刷 3000 包，实际印刷 2231 包) and the number of valid
  questionnaires.

Nothing depends on line numbers or on the words of one report beyond these labels. The report is
then checked against itself (``checks.py``) and rendered as docs/reports.md describes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import regex

from goalforms.parsers.grid import Row
from goalforms.parsers.reports import tables as tbl
from goalforms.parsers.reports.text import (
    Passage,
    clean,
    compact,
    decimal_of,
    ends_complete,
    is_null_cell,
    is_number,
    iso_date,
    number,
)

KIND = "evaluation_report"

_TITLE = regex.compile(r"^.{0,24}绩效评价报告$")
_COVER_FIELDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("project_name", ("项目名称",)),
    ("unit", ("项目单位", "实施单位", "预算单位", "项目实施单位")),
    ("department", ("主管部门", "项目主管部门")),
    ("commissioned_by", ("委托单位", "委托方")),
    ("evaluator", ("评价机构", "评价单位", "第三方评价机构")),
    ("report_number", ("报告文号", "报告编号", "文号")),
)
_COVER_LABEL = regex.compile(
    r"^(?P<label>" + "|".join(label for _, labels in _COVER_FIELDS for label in labels) + r")\s*[：:]\s*(?P<rest>.*)$"
)
_FULL_DATE = regex.compile(r"^\d{4}年\d{1,2}月\d{1,2}日$")

# Section headings that end a block of prose: 一、 / （一） / 附件1.
_MAJOR_HEADING = regex.compile(r"^(?:[一二三四五六七八九十]+[、.．]|[（(][一二三四五六七八九十]+[)）]|附件\s*\d)")
_ANNEX_HEADING = regex.compile(r"^附件\s*(?P<n>\d+)\s*[:：]?\s*(?P<name>\S.*)$")
_TOC_PAGE = regex.compile(r"(?:[.…·]{2,}|\s)\d+$")

# 具体绩效分析 heading: A11 战略目标适应性（满分 2 分，得 2 分）：
_DETAIL = regex.compile(
    r"^(?P<code>[A-Z]\d{0,3})\s*(?P<name>.+?)\s*[(（]\s*满分\s*(?P<max>\d+(?:\.\d+)?)\s*分\s*[,，、;；]?\s*"
    r"得\s*(?P<score>\d+(?:\.\d+)?)\s*分\s*[)）]\s*[：:]?$"
)
_DETAIL_LABELS: tuple[tuple[str, str], ...] = (
    ("指标解释", "explanation"), ("指标说明", "explanation"),
    ("评分标准", "criteria"), ("评分细则", "criteria"), ("评分办法", "criteria"), ("评分方法", "criteria"),
    ("得分情况", "reasoning"), ("评分过程", "reasoning"), ("得分", "reasoning"), ("评价结果", "reasoning"),
)
_DETAIL_LABEL = regex.compile(
    r"^(?P<label>" + "|".join(label for label, _ in _DETAIL_LABELS) + r")\s*[：:]\s*(?P<rest>.*)$"
)

# 附件1 workpaper: A11“战略目标适应性”评价底稿, then rows 指标解释 / 指标权重 / 评价标准 / 数据来源 / 评价结果.
_WORKPAPER = regex.compile(r"^(?P<code>[A-Z]\d{2,3})\s*[“\"「『](?P<title>.+?)[”\"」』]\s*(?:指标)?评价底稿$")
_WORKPAPER_ROWS = {
    "指标解释": "explanation", "指标说明": "explanation", "指标权重": "weight", "权重": "weight",
    "分值": "weight", "评价标准": "standard", "评分标准": "standard", "数据来源": "data_source",
    "评价结果": "result", "指标得分": "score",
}
# Sub-labels inside a row's value decide the field; longest first (标杆值依据 before 标杆值).
_WORKPAPER_SUBLABELS: tuple[tuple[str, str], ...] = (
    ("指标评分计算过程及依据", "reasoning"), ("评分计算过程及依据", "reasoning"),
    ("指标标杆值依据", "benchmark_basis"), ("标杆值依据", "benchmark_basis"),
    ("指标标杆值", "benchmark"), ("标杆值", "benchmark"),
    ("指标评分细则", "criteria"), ("评分细则", "criteria"), ("指标得分", "score"),
)
_WORKPAPER_SUBLABEL = regex.compile(
    r"^(?P<label>" + "|".join(label for label, _ in _WORKPAPER_SUBLABELS) + r")\s*[：:]\s*(?P<rest>.*)$"
)
# A sub-label after the end of a sentence inside a line: the row below merged into this cell.
_SUBLABEL_INSIDE = regex.compile(
    r"(?<=[。；;!！?？])\s*(?=(?:" + "|".join(label for label, _ in _WORKPAPER_SUBLABELS) + r")\s*[：:])"
)
_WORKPAPER_DEFAULT = {"explanation": "explanation", "weight": "weight", "standard": "criteria",
                      "data_source": "data_source", "result": "reasoning", "score": "score"}
WORKPAPER_KEYS = ("explanation", "weight", "benchmark", "benchmark_basis", "criteria", "data_source",
                  "reasoning", "score", "date")

# Scoring-table cells, classified by content (text cleaned, so ``A 项目决策`` reads ``A项目决策``).
_SUBTOTAL = regex.compile(r"^(?P<code>[A-Z]\d?)(?P<name>[^\d].*?)?(?:小计|合计)$")
_LEVEL3 = regex.compile(r"^(?P<code>[A-Z]\d{2,3})(?P<name>[^\d].*)$")
_LEVEL2 = regex.compile(r"^(?P<code>[A-Z]\d)(?P<name>[^\d(（].*?)(?:[(（](?P<max>\d+(?:\.\d+)?)分?[)）])?$")
_LEVEL1 = regex.compile(r"^(?P<code>[A-Z])(?P<name>[^\d(（].*?)(?:[(（](?P<max>\d+(?:\.\d+)?)分?[)）])?$")

# Facts in the prose.
_DATE_TEXT = r"\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日"
_PERIOD = regex.compile(
    rf"(?:项目|实施|执行)(?:期限|周期|期间|实施期|执行期)(?:为|是)?[:：]?\s*(?P<start>{_DATE_TEXT})\s*"
    rf"(?:至|到|-|—|～|~)\s*(?P<end>{_DATE_TEXT})"
)
_GOAL = regex.compile(r"(?:绩效总目标|总体绩效目标|项目总目标|总体目标)(?:为|是|如下)?\s*[:：]\s*(?P<rest>.*)$")
_TOTAL_SCORE = regex.compile(
    r"(?:最终评分结果|评分结果|评价得分|绩效评价总得分|总得分|综合得分|最终得分)(?:为|是)?[:：]?\s*"
    r"(?P<score>\d+(?:\.\d+)?)\s*分"
)
_GRADE = regex.compile(
    r"(?:绩效评级|评价等级|绩效等级|评价结果|评级|等级)(?:为|是)?[:：]?\s*[“\"]?(?P<grade>优秀|良好|合格|不合格|优|良|中|差)"
)
_ADJUSTMENT = regex.compile(r"调(?P<dir>增|减)(?:了)?\s*(?P<amount>\d[\d,]*(?:\.\d+)?)\s*(?P<unit>亿元|万元|千元|元)")
_MONEY_MENTION = regex.compile(r"(?P<num>\d[\d,]*(?:\.\d+)?)\s*(?P<unit>亿元|万元|千元|元)")
_MONEY_UNIT = regex.compile(r"(亿元|万元|千元|元)")
_PLAN_ACTUAL = regex.compile(
    r"计划(?:于|在)?(?:\d{4}年度?)?(?P<verb1>[^\d，。；;,]{0,12}?)(?P<planned>\d[\d,]*(?:\.\d+)?)"
    r"(?P<unit1>[^\d，。；;,、\s]{0,12})[，。；;,、]?(?:其中)?[^\d，。；;,]{0,8}?实际(?P<verb2>[^\d，。；;,]{0,12}?)"
    r"(?P<actual>\d[\d,]*(?:\.\d+)?)(?P<unit2>[^\d，。；;,、\s]{0,4})"
)
_MEASURE_WORDS = ("人次", "万份", "万册", "万人", "万张", "万件", "万次", "万条", "万本", "万户")
_RESPONDENTS = regex.compile(r"(?:有效问卷|回收(?:有效)?(?:问卷)?)(?:共|为|数为?)?\s*(?P<n>\d+)\s*份")
_COMPLETION_RATE = regex.compile(
    r"完成率(?:为|达到|达)?\s*(?P<op>>=|<=|[>≥<≤=＞＜])?\s*(?P<value>\d+(?:\.\d+)?)\s*%"
)
_STATED_SCORE = regex.compile(r"满分\s*(?P<max>\d+(?:\.\d+)?)\s*分\s*[,，、]?\s*得\s*(?P<score>\d+(?:\.\d+)?)\s*分")


def is_report_title(rows: list[Row], i: int) -> bool:
    """A title line (…绩效评价报告) followed by cover lines (项目名称：…): the start of a report."""
    row = rows[i]
    raw = row.text("")
    if "报告" not in raw or len(raw) > 200:  # cheap test first: every row of every file comes here
        return False
    text = compact(raw)
    if not text or len(text) > 40 or not _TITLE.match(text):
        return False
    seen = 0
    for j in range(i + 1, len(rows)):
        if rows[j].blank:
            continue
        seen += 1
        if seen > 12:
            return False
        if _COVER_LABEL.match(clean(rows[j].text(" "))) or (
            len(rows[j].filled) >= 2 and compact(rows[j].filled[0].text).rstrip("：:") == "项目名称"
        ):
            return True
    return False


# --- the parsed parts, with the row index of everything (for issues and their order) --------------


@dataclass
class TableRow:
    kind: str  # level3 | subtotal | total
    code: str | None
    name: str | None
    max: str | None
    score: str | None
    row: int


@dataclass
class ScoreTable:
    source: str  # body | annex1 | annexN
    header: int
    header_labels: dict[int, str]
    rows: list[TableRow] = field(default_factory=list)
    level1: dict[str, tuple[str, str | None, int]] = field(default_factory=dict)  # code → (name, max, row)
    level2: dict[str, tuple[str, str | None, int]] = field(default_factory=dict)
    unknown: list[tuple[int, str]] = field(default_factory=list)  # rows with numbers but no code

    def find(self, kind: str, code: str | None) -> TableRow | None:
        return next((r for r in self.rows if r.kind == kind and r.code == code), None)

    @property
    def complete(self) -> bool:
        level3 = [r for r in self.rows if r.kind == "level3"]
        return bool(level3) and all(r.max is not None and r.score is not None for r in level3)


@dataclass
class Detail:
    code: str
    name: str
    max: str
    score: str
    row: int
    fields: dict[str, Passage] = field(default_factory=dict)


@dataclass
class Workpaper:
    code: str
    title: str
    row: int
    end: int
    fields: dict[str, Passage] = field(default_factory=dict)
    group_last: dict[str, int] = field(default_factory=dict)  # row group → its last row

    def text(self, key: str) -> str | None:
        passage = self.fields.get(key)
        return passage.value if passage else None

    def row_of(self, key: str) -> int | None:
        passage = self.fields.get(key)
        return passage.first_row if passage else None


@dataclass
class Statement:
    """计划…N…，实际…M… in the prose."""

    planned: Decimal
    actual: Decimal
    unit: str | None
    row: int


@dataclass
class Issue:
    row: int
    code: str
    severity: str
    message: str
    where: str
    field: str
    found: str | None
    expected: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "severity": self.severity, "message": self.message, "where": self.where,
                "field": self.field, "found": self.found, "expected": self.expected}


class ReportParser:
    """One report: ``rows[start:end]`` of a grid (row indices are the grid's)."""

    def __init__(self, rows: list[Row], start: int, end: int) -> None:
        self.rows = rows
        self.start = start
        self.end = end
        self.text: dict[int, str] = {i: clean(rows[i].text(" ")) for i in range(start, end) if not rows[i].blank}
        self.annexes: list[tuple[int, str]] = [
            (i, m.group("n")) for i in self.text if (m := self._annex(i)) is not None
        ]
        self.body_end = self.annexes[0][0] if self.annexes else end
        self.issues: list[Issue] = []
        # The right margin of the prose (PDF): a line that reaches it was wrapped by the layout.
        edges = [rows[i].where.bbox[2] for i in self.text if rows[i].where.bbox and not rows[i].in_table]
        self.margin = max(edges) if edges else None

    # --- helpers ---------------------------------------------------------------------------------

    def where(self, i: int | None) -> str:
        return str(self.rows[i].where) if i is not None else str(self.rows[self.start].where)

    def issue(self, row: int | None, code: str, severity: str, message: str, path: str,
              found: str | None, expected: str | None) -> None:
        at = row if row is not None else self.start
        self.issues.append(Issue(at, code, severity, message, self.where(at), path, found, expected))

    def _annex(self, i: int) -> regex.Match[str] | None:
        row = self.rows[i]
        m = _ANNEX_HEADING.match(self.text[i])
        if m is None:
            return None
        # A contents line (附件 1 绩效评价工作底稿 <tab> 31) names the annex and its page.
        filled = row.filled
        if len(filled) >= 2 and compact(filled[-1].text).isdigit():
            return None
        if _TOC_PAGE.search(row.text(" ").strip()) and len(self.text[i]) < 40:
            return None
        return m

    def free(self, start: int | None = None, end: int | None = None) -> list[int]:
        """Prose rows (not table rows) in order."""
        lo = self.start if start is None else start
        hi = self.end if end is None else end
        return [i for i in range(lo, hi) if i in self.text and not self.rows[i].in_table]

    def has_substance(self) -> bool:
        """Whether the segment holds what makes a report readable: a scoring table or a
        具体绩效分析 heading. A title and a project name alone are not a report (nothing to store)."""
        for i in self.text:
            if _DETAIL.match(self.text[i]) and len(self.text[i]) < 80:
                return True
            kind = tbl.header_kind(self.rows[i]) if self.rows[i].in_table else None
            if kind is not None and kind[0] == "score":
                return True
        return False

    def is_heading(self, i: int) -> bool:
        text = self.text.get(i, "")
        return bool(_MAJOR_HEADING.match(text) or _DETAIL.match(text) or _WORKPAPER.match(text))

    def section_of(self, i: int) -> str:
        """body, or annexN for a row below the heading of 附件N."""
        source = "body"
        for row, n in self.annexes:
            if row <= i:
                source = f"annex{n}"
        return source

    def wraps(self, i: int) -> bool | None:
        """Whether prose row ``i`` was wrapped onto the next line by the layout: its line reaches
        the right margin (a PDF line may wrap right after a 。). None without geometry (text
        dumps). Either way a line that stops in mid-sentence is continued (``ends_complete``)."""
        box = self.rows[i].where.bbox
        if box is None or self.margin is None:
            return None
        height = max(box[3] - box[1], 1.0)
        return box[2] >= self.margin - 1.5 * height

    def paragraph(self, i: int, limit: int | None = None) -> Passage:
        """The paragraph at row ``i`` continued over page breaks (a paragraph that stops in
        mid-sentence goes on in the next prose row; a table or a heading ends it)."""
        passage = Passage()
        passage.add(i, self.text[i])
        hi = self.end if limit is None else limit
        previous = i
        for j in range(i + 1, hi):
            if j not in self.text:
                continue
            ended = ends_complete(passage.value or "") and not self.wraps(previous)
            if self.rows[j].in_table or ended or self.is_heading(j) or _DETAIL_LABEL.match(self.text[j]):
                break
            passage.add(j, self.text[j], joined=True)
            previous = j
        return passage

    def passages(self, start: int | None = None, end: int | None = None) -> list[Passage]:
        """The prose of ``[start, end)`` as paragraphs joined over page breaks and wrapped lines, so
        that a fact split over two lines (项目期限为 … / 至 …) is found; each part keeps its row."""
        found: list[Passage] = []
        rows = self.free(start, end)
        n = 0
        while n < len(rows):
            passage = self.paragraph(rows[n], end)
            found.append(passage)
            n += len(passage.parts)
        return found

    # --- the parts -------------------------------------------------------------------------------

    def cover(self) -> tuple[dict[str, Any], dict[str, int]]:
        values: dict[str, Any] = {}
        rows: dict[str, int] = {}
        label_to_key = {label: key for key, labels in _COVER_FIELDS for label in labels}
        for i in range(self.start + 1, min(self.end, self.start + 80)):
            if i not in self.text:
                continue
            text = self.text[i]
            if compact(text) == "目录" or _MAJOR_HEADING.match(text) or text.startswith("摘要"):
                break
            row = self.rows[i]
            label = compact(row.filled[0].text).rstrip("：:") if row.filled else ""
            if len(row.filled) >= 2 and label in label_to_key:
                key, value = label_to_key[label], clean(" ".join(c.text for c in row.filled[1:]))
            elif m := _COVER_LABEL.match(text):
                key, value = label_to_key[m.group("label")], m.group("rest").strip()
            elif _FULL_DATE.match(compact(text)) and "report_date" not in values:
                values["report_date"], rows["report_date"] = iso_date(text), i
                continue
            else:
                continue
            if key not in values and value:
                values[key], rows[key] = value, i
        return values, rows

    def period(self) -> tuple[str | None, str | None, int | None]:
        for passage in self.passages():
            m = _PERIOD.search(passage.value or "")
            if m:
                return iso_date(m.group("start")), iso_date(m.group("end")), passage.row_at(m.start())
        return None, None, None

    def goal(self) -> tuple[str | None, int | None]:
        for i in self.free(end=self.body_end):
            m = _GOAL.search(self.text[i])
            if not m:
                continue
            if m.group("rest").strip():
                passage = self.paragraph(i)
                value = passage.value or ""
                return value[value.index(m.group("rest")):], i
            following = self.free(i + 1, self.body_end)
            if following:
                passage = self.paragraph(following[0], self.body_end)
                return passage.value, passage.first_row
        return None, None

    def total_score_statements(self) -> list[tuple[str, str | None, int]]:
        """(score, grade, row) for every statement of the total score in the body, in order."""
        found: list[tuple[str, str | None, int]] = []
        seen: set[tuple[int, str]] = set()
        for passage in self.passages(end=self.body_end):
            value = passage.value or ""
            for m in _TOTAL_SCORE.finditer(value):
                row = passage.row_at(m.start("score"))
                score = number(m.group("score"))
                if row is None or score is None or (row, score) in seen:
                    continue
                seen.add((row, score))
                grade = _GRADE.search(value, m.end())
                found.append((score, grade.group("grade") if grade else None, row))
        return found

    def score_table(self, table: tbl.Table) -> ScoreTable:
        labels = table.columns
        order = sorted((col, label) for col, label in labels.items())
        max_first = True
        positions = {label: col for col, label in order}
        max_col = next((positions[k] for k in positions if k in ("分值", "权重", "满分", "标准分")), None)
        score_col = next((positions[k] for k in positions if k in ("得分", "评价得分", "实际得分")), None)
        if max_col is not None and score_col is not None:
            max_first = max_col < score_col
        parsed = ScoreTable(self.section_of(table.header), table.header, dict(labels))
        for i in table.rows:
            numbers: list[str] = []
            kind: str | None = None
            code: str | None = None
            name: str | None = None
            for cell in self.rows[i].filled:
                text = clean(cell.text)
                key = compact(text)
                if is_number(key):
                    numbers.append(key)
                    continue
                if tbl.is_total(key):
                    kind, code, name = "total", None, text
                elif m := _SUBTOTAL.match(key):
                    kind, code, name = "subtotal", m.group("code"), (m.group("name") or None)
                elif m := _LEVEL3.match(key):
                    kind, code, name = "level3", m.group("code"), m.group("name")
                elif m := _LEVEL2.match(key):
                    parsed.level2.setdefault(m.group("code"), (m.group("name"), number(m.group("max")), i))
                elif m := _LEVEL1.match(key):
                    parsed.level1.setdefault(m.group("code"), (m.group("name"), number(m.group("max")), i))
            if kind is None:
                if numbers:
                    parsed.unknown.append((i, self.text.get(i, "")))
                continue
            first, second = (numbers + [None, None])[:2]
            weight, score = (first, second) if max_first else (second, first)
            parsed.rows.append(TableRow(kind, code, name, number(weight), number(score), i))
        return parsed

    def details(self) -> dict[str, Detail]:
        """The 具体绩效分析 sections of the body, by code (the first heading of a code counts)."""
        found: dict[str, Detail] = {}
        rows = self.free(end=self.body_end)
        for n, i in enumerate(rows):
            m = _DETAIL.match(self.text[i])
            if not m or m.group("code") in found:
                continue
            detail = Detail(m.group("code"), m.group("name"), number(m.group("max")) or "",
                            number(m.group("score")) or "", i)
            found[detail.code] = detail
            key: str | None = None
            previous = i
            for j in rows[n + 1:]:
                text = self.text[j]
                if self.is_heading(j) or self.rows[j].in_table:
                    break
                label = _DETAIL_LABEL.match(text)
                if label:
                    key = dict(_DETAIL_LABELS)[label.group("label")]
                    text = label.group("rest").strip()
                    passage = detail.fields.setdefault(key, Passage())
                    passage.add(j, text, joined=False)
                elif key is not None:
                    detail.fields[key].add(j, text, joined=True if self.wraps(previous) else None)
                previous = j
        return found

    def workpapers(self) -> dict[str, Workpaper]:
        found: dict[str, Workpaper] = {}
        titles = [(i, m) for i in range(self.body_end, self.end) if i in self.text
                  and (m := _WORKPAPER.match(self.text[i]))]
        for n, (i, m) in enumerate(titles):
            stop = titles[n + 1][0] if n + 1 < len(titles) else self.end
            stop = min([stop] + [row for row, _ in self.annexes if row > i])
            paper = Workpaper(m.group("code"), m.group("title"), i, stop - 1)
            if paper.code not in found:
                found[paper.code] = paper
            group: str | None = None
            for j in range(i + 1, stop):
                if j not in self.text:
                    continue
                row = self.rows[j]
                first = compact(row.filled[0].text).rstrip("：:")
                if first.startswith("日期") or (not row.in_table and self.text[j].startswith("日期")):
                    date = iso_date(self.text[j])
                    if date:
                        paper.fields["date"] = Passage([(j, date)], [""])
                    continue
                if not row.in_table:
                    continue  # 绩效项目名称：…, 评价机构：… (the cover of every workpaper)
                cells = row.filled
                # A row label stands in the row's first cell; a blank first cell continues the
                # label above (a merged cell: 评价标准 over its three rows).
                if not row.cells[0].blank and first in _WORKPAPER_ROWS:
                    group = _WORKPAPER_ROWS[first]
                    cells = cells[1:]
                if group is None:
                    continue
                paper.group_last[group] = j
                key = _WORKPAPER_DEFAULT.get(group, "reasoning")
                value = _SUBLABEL_INSIDE.sub("\n", clean("\n".join(c.text for c in cells)))
                for line in value.split("\n"):
                    sub = _WORKPAPER_SUBLABEL.match(line)
                    if sub:
                        key = dict(_WORKPAPER_SUBLABELS)[sub.group("label")]
                        line = sub.group("rest").strip()
                    if line:
                        # A new sub-label starts a field; its lines follow the paragraph rule
                        # (``<p>`` paragraphs end sentences; a PDF cell's wrapped lines do not).
                        paper.fields.setdefault(key, Passage()).add(j, line, joined=False if sub else None)
        return found

    def statements(self) -> list[Statement]:
        """计划…N…实际…M… statements of the prose, in order."""
        found = []
        for passage in self.passages():
            found += statements_in(passage.value or "", passage)
        return found

    def money_unit(self, header: int, values: list[Decimal]) -> tuple[str | None, int | None]:
        """The money unit of a table: printed in its header or just above it (单位：万元), else the
        unit the prose gives for the first of the table's totals it states."""
        for i in [header] + [j for j in range(header - 1, max(self.start, header - 3) - 1, -1) if j in self.text]:
            text = self.text.get(i, "")
            m = _MONEY_UNIT.search(text)
            if m and (i == header or "单位" in text):
                return m.group(1), i
        passages = self.passages()
        for value in values:
            for passage in passages:
                for m in _MONEY_MENTION.finditer(passage.value or ""):
                    if decimal_of(m.group("num")) == value:
                        return m.group("unit"), passage.row_at(m.start("num"))
        return None, None


def statements_in(text: str, where: int | Passage) -> list[Statement]:
    """The statements of ``text``, each at its row (``where`` a row, or the passage ``text`` is)."""
    found = []
    for m in _PLAN_ACTUAL.finditer(text):
        planned, actual = decimal_of(m.group("planned")), decimal_of(m.group("actual"))
        row = where if isinstance(where, int) else where.row_at(m.start("planned"))
        if planned is None or actual is None or row is None:
            continue
        found.append(Statement(planned, actual, measure_word(m.group("unit2")) or measure_word(m.group("unit1")),
                               row))
    return found


def measure_word(text: str) -> str | None:
    """The unit word after a count (``包``, ``份``, ``台自助查询机`` → ``台``, ``人次``)."""
    text = text.strip()
    if not text or not regex.match(r"\p{Han}", text):
        return None
    for word in _MEASURE_WORDS:
        if text.startswith(word):
            return word
    return text[0]


def cell_value(row: Row, col: int) -> str | None:
    return next((c.text for c in row.cells if c.col == col), None)


def value_or_null(text: str | None) -> str | None:
    return None if text is None or is_null_cell(text) else number(text)
