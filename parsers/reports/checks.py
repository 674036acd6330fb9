"""A report checked against itself (docs/reports.md, Issues).

Sums: every 小计 / 总分 / 合计 against its rows. Copies: the duplicate scoring table cell by cell,
the 具体绩效分析 headings and the workpapers against the chosen table. Rates: 执行率 and 完成率 against
the report's own numbers. Cross-tables: the multi-year table against the year's budget table.
Nothing is corrected: a difference is an issue with what was found and what it should equal.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from difflib import SequenceMatcher
from typing import Any

import regex

from goalforms.parsers.reports.evaluation import (
    _COMPLETION_RATE,
    _STATED_SCORE,
    WORKPAPER_KEYS,
    Detail,
    ReportParser,
    ScoreTable,
    Workpaper,
)
from goalforms.parsers.reports.text import canonical, compact, decimal_of, percent

_WORKPAPER_GROUP = {"explanation": "explanation", "weight": "weight", "benchmark": "standard",
                    "benchmark_basis": "standard", "criteria": "standard", "data_source": "data_source",
                    "reasoning": "result", "score": "score"}
_WORKPAPER_LABEL = {"explanation": "指标解释", "weight": "指标权重", "benchmark": "指标标杆值",
                    "benchmark_basis": "指标标杆值依据", "criteria": "指标评分细则", "data_source": "数据来源",
                    "reasoning": "评价结果", "score": "指标得分", "date": "日期"}
# Wording that does not change a scoring rule: punctuation, 一项/1项, a leading source phrase.
_RULE_NOISE = regex.compile(r"[\p{P}\s]")
_RULE_PREFIX = regex.compile(r"^(?:根据访谈|根据问卷|根据基础数据表计算|根据基础数据表)")
_CHINESE_ONE = regex.compile(r"一(?=项|分|题)")
_METADATA_KEYS = ("project_name", "unit", "department", "commissioned_by", "evaluator", "report_number",
                  "report_date", "total_score", "grade")


@dataclass
class Context:
    parser: ReportParser
    chosen: ScoreTable | None
    duplicate: ScoreTable | None
    details: dict[str, Detail]
    workpapers: dict[str, Workpaper]
    report: dict[str, Any]


def run(ctx: Context) -> None:
    metadata(ctx)
    score_sums(ctx)
    duplicate_table(ctx)
    details(ctx)
    workpapers(ctx)
    completion_rates(ctx)
    budget(ctx)
    financial_years(ctx)
    satisfaction(ctx)


def _d(value: Any) -> Decimal | None:
    return decimal_of(value) if isinstance(value, str) else None


def _s(value: Decimal | None) -> str | None:
    return None if value is None else canonical(value)


def _sum(values: list[Any]) -> Decimal | None:
    """The sum of printed values; None when one is missing (a sum cannot be checked then)."""
    numbers = [_d(v) for v in values]
    if not numbers or any(n is None for n in numbers):
        return None
    return sum((n for n in numbers if n is not None), Decimal(0))


def rate_agrees(stated: Decimal, numerator: Decimal, denominator: Decimal) -> bool:
    """A printed rate agrees with numerator/denominator rounded to 2 decimals, or to as many
    decimals as it was printed with (``74%`` for 74.37% is rounding, not a contradiction)."""
    exact = percent(numerator, denominator, 10)
    if exact is None:
        return True
    places = max(0, -stated.normalize().as_tuple().exponent)  # type: ignore[operator]
    candidates = {percent(numerator, denominator, 2)}
    if places < 2:
        candidates.add(exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))
    return any(c is not None and c == stated for c in candidates)


def metadata(ctx: Context) -> None:
    p, meta = ctx.parser, ctx.report["metadata"]
    for key in _METADATA_KEYS:
        if meta.get(key) is None:
            p.issue(p.start, "missing_value", "warning", f"the report states no {key}", f"metadata.{key}", None, None)
    total = ctx.report.get("score_total")
    conclusion = meta.get("_conclusion")
    for score, _grade, row in meta.get("_statements", []):
        if total is None or score == total:
            continue
        where = "the conclusion" if conclusion and row == conclusion[2] else "the text"
        p.issue(row, "score_mismatch", "error",
                f"{where} states a total score of {score}; the scoring table's 总分 is {total}",
                "metadata.total_score", score, total)


def score_sums(ctx: Context) -> None:
    p, scores, subtotals = ctx.parser, ctx.report["scores"], ctx.report["subtotals"]
    # A row with numbers but no code (A11, A1 小计, 总分) cannot be placed: it is in no sum.
    for row, text in ctx.chosen.unknown if ctx.chosen is not None else []:
        p.issue(row, "unknown_label", "warning",
                f"a row of the scoring table has numbers but no indicator code: {text}", "score_table", text, None)
    level1_subtotals = [s for s in subtotals if s["level"] == "level1"]
    for j, st in enumerate(subtotals):
        code = st["code"]
        if st["level"] == "level2":
            members = [s for s in scores if s["level2_code"] == code]
            parts = "its indicators"
            weights, points = [s["weight"] for s in members], [s["score"] for s in members]
        elif st["level"] == "level1":
            children = [s for s in subtotals if s["level"] == "level2" and s["code"].startswith(code)]
            if children:
                parts, weights, points = "its 小计 rows", [s["max"] for s in children], [s["score"] for s in children]
            else:
                members = [s for s in scores if s["level1_code"] == code]
                parts = "its indicators"
                weights, points = [s["weight"] for s in members], [s["score"] for s in members]
        else:
            if level1_subtotals:
                parts = "the 一级 小计 rows"
                weights, points = [s["max"] for s in level1_subtotals], [s["score"] for s in level1_subtotals]
            else:
                parts = "all indicators"
                weights, points = [s["weight"] for s in scores], [s["score"] for s in scores]
        label = code or st["name"]
        for key, values in (("max", weights), ("score", points)):
            expected, found = _sum(values), _d(st[key])
            if expected is not None and found is not None and expected != found:
                word = "分值" if key == "max" else "得分"
                p.issue(st["_row"], "sum_mismatch", "error",
                        f"{label}: the printed {word} {st[key]} is not the sum of {parts} ({_s(expected)})",
                        f"subtotals[{j}].{key}", st[key], _s(expected))
    # A level-2 label's (分值) against the weights of its indicators.
    if ctx.chosen is not None:
        for code, (_name, maximum, row) in ctx.chosen.level2.items():
            members = [k for k, s in enumerate(scores) if s["level2_code"] == code]
            expected = _sum([scores[k]["weight"] for k in members])
            if members and maximum is not None and expected is not None and _d(maximum) != expected:
                p.issue(row, "sum_mismatch", "error",
                        f"{code}: the label gives 分值 {maximum}, its indicators add up to {_s(expected)}",
                        f"scores[{members[0]}].level2_max", maximum, _s(expected))


def _subtotal_index(ctx: Context, kind: str, code: str | None) -> int | None:
    for j, st in enumerate(ctx.report["subtotals"]):
        if (kind == "total" and st["level"] == "total") or (kind != "total" and st["code"] == code):
            return j
    return None


def duplicate_table(ctx: Context) -> None:
    p, chosen, dup = ctx.parser, ctx.chosen, ctx.duplicate
    if chosen is None or dup is None:
        return
    theirs = f"the {_table_name(dup.source)} scoring table ({p.where(dup.header)})"
    ours = f"the {_table_name(chosen.source)} table"
    # Header: a label one copy prints and the other lacks.
    mine, other = set(chosen.header_labels.values()), set(dup.header_labels.values())
    for label in sorted(other - mine, key=lambda x: list(dup.header_labels.values()).index(x)):
        col = next(c for c, v in dup.header_labels.items() if v == label)
        found = chosen.header_labels.get(col, "")
        p.issue(chosen.header, "duplicate_table_mismatch", "info",
                f"header of {ours} has {'an empty cell' if not found else found} where {theirs} reads {label}",
                "score_table", found if found not in other else "", label)
    for label in sorted(mine - other, key=lambda x: list(chosen.header_labels.values()).index(x)):
        col = next(c for c, v in chosen.header_labels.items() if v == label)
        found = dup.header_labels.get(col, "")
        p.issue(dup.header, "duplicate_table_mismatch", "info",
                f"header of {theirs} lacks {label}, which {ours} ({p.where(chosen.header)}) prints",
                "score_table", found if found not in mine else "", label)
    scores = ctx.report["scores"]
    for k, s in enumerate(scores):
        twin = dup.find("level3", s["code"])
        if twin is None:
            p.issue(dup.header, "duplicate_table_mismatch", "warning",
                    f"{s['code']} is missing from {theirs}", f"scores[{k}]", None, s["level3"])
            continue
        if compact(twin.name) != compact(s["level3"]):
            others = _also_named(ctx, k, s["level3"])
            p.issue(twin.row, "duplicate_table_mismatch", "warning",
                    f"{s['code']}: {theirs} says {twin.name}; {others} say {s['level3']}",
                    f"scores[{k}].level3", twin.name, s["level3"])
        for key, value in (("weight", twin.max), ("score", twin.score)):
            if value != s[key]:
                p.issue(twin.row, "duplicate_table_mismatch", "error",
                        f"{s['code']}: {theirs} gives {'分值' if key == 'weight' else '得分'} {value}, "
                        f"{ours} ({s['where']}) {s[key]}", f"scores[{k}].{key}", value, s[key])
    known = {s["code"] for s in scores}
    for r in dup.rows:
        if r.kind == "level3" and r.code not in known:
            p.issue(r.row, "duplicate_table_mismatch", "warning",
                    f"{r.code} {r.name} is in {theirs} only", "score_table", r.name, None)
    for r in chosen.rows:
        if r.kind == "level3":
            continue
        j = _subtotal_index(ctx, r.kind, r.code)
        twin = dup.find(r.kind, r.code)
        label = r.code or "总分"
        if twin is None or j is None:
            if j is not None:
                p.issue(dup.header, "duplicate_table_mismatch", "warning",
                        f"{label} 小计 is missing from {theirs}", f"subtotals[{j}]", None, r.score)
            continue
        for key, value, want in (("max", twin.max, r.max), ("score", twin.score, r.score)):
            if value != want:
                p.issue(twin.row, "duplicate_table_mismatch", "error",
                        f"{label}: {theirs} gives {'分值' if key == 'max' else '得分'} {value}, {ours} {want}",
                        f"subtotals[{j}].{key}", value, want)
    for level, mine_labels, their_labels in (("level1", chosen.level1, dup.level1),
                                             ("level2", chosen.level2, dup.level2)):
        for code, (name, maximum, _row) in mine_labels.items():
            if code not in their_labels:
                continue
            their_name, their_max, their_row = their_labels[code]
            j = _subtotal_index(ctx, "subtotal", code)
            path = f"subtotals[{j}]" if j is not None else "score_table"
            if compact(their_name) != compact(name):
                p.issue(their_row, "duplicate_table_mismatch", "warning",
                        f"{code}: {theirs} names the {level} {their_name}; {ours} {name}",
                        f"{path}.name" if j is not None else path, their_name, name)
            if their_max != maximum and their_max is not None and maximum is not None:
                p.issue(their_row, "duplicate_table_mismatch", "error",
                        f"{code}: {theirs} gives the {level} 分值 {their_max}; {ours} {maximum}",
                        f"{path}.max" if j is not None else path, their_max, maximum)


def _table_name(source: str) -> str:
    return "body" if source == "body" else source.replace("annex", "附件")


def _also_named(ctx: Context, k: int, name: str) -> str:
    """Which other places print the chosen table's name for scores[k] (for a message)."""
    s = ctx.report["scores"][k]
    places = [f"the {_table_name(ctx.chosen.source) if ctx.chosen else 'body'} table ({s['where']})"]
    if s["detail_name"] and compact(s["detail_name"]) == compact(name):
        places.append(f"the heading ({s['detail_where']})")
    paper = s.get("workpaper")
    if paper and compact(paper["title"]) == compact(name):
        places.append(f"the workpaper ({paper['where']})")
    return ", ".join(places[:-1]) + (" and " if len(places) > 1 else "") + places[-1]


def details(ctx: Context) -> None:
    p = ctx.parser
    any_detail = bool(ctx.details)
    for k, s in enumerate(ctx.report["scores"]):
        detail = ctx.details.get(s["code"])
        if detail is None:
            if any_detail:
                p.issue(s["_row"], "missing_value", "warning", f"{s['code']} has no 具体绩效分析 section",
                        f"scores[{k}].detail_name", None, s["level3"])
            continue
        _heading(ctx, detail, f"scores[{k}]", s["code"], s["level3"], s["weight"], s["score"])
        for key, label in (("explanation", "指标解释"), ("criteria", "评分标准"), ("reasoning", "得分")):
            if s[key] is None:
                p.issue(detail.row, "missing_value", "warning", f"{s['code']}: the section has no {label} paragraph",
                        f"scores[{k}].{key}", None, None)
        reasoning = detail.fields.get("reasoning")
        if reasoning is not None and reasoning.value:
            for m in _STATED_SCORE.finditer(reasoning.value):
                stated = canonical(Decimal(m.group("score")))
                if s["score"] is not None and stated != s["score"]:
                    p.issue(reasoning.row_at(m.start("score")), "score_mismatch", "error",
                            f"{s['code']}: the 得分 text says 得{stated}分; the scoring table gives {s['score']}",
                            f"scores[{k}].reasoning", stated, s["score"])
    for j, st in enumerate(ctx.report["subtotals"]):
        if st["level"] == "total" or st["code"] is None:
            continue
        detail = ctx.details.get(st["code"])
        if detail is None:
            if any(len(code) == len(st["code"]) for code in ctx.details):
                p.issue(st["_row"], "missing_value", "warning", f"{st['code']} has no 具体绩效分析 heading",
                        f"subtotals[{j}].detail_name", None, st["name"])
            continue
        _heading(ctx, detail, f"subtotals[{j}]", st["code"], st["name"], st["max"], st["score"])


def _heading(ctx: Context, detail: Detail, path: str, code: str, name: str | None, maximum: str | None,
             score: str | None) -> None:
    p = ctx.parser
    tables = _tables_phrase(ctx, code)
    paper = ctx.workpapers.get(code)
    if paper is not None and compact(paper.title) == compact(name):
        tables += f" and the workpaper ({p.where(paper.row)})"
    if compact(detail.name) != compact(name):
        p.issue(detail.row, "label_mismatch", "info",
                f"{code}: the 具体绩效分析 heading says {detail.name}; {tables} say {name}",
                f"{path}.detail_name", detail.name, name)
    if maximum is not None and detail.max != maximum:
        p.issue(detail.row, "score_mismatch", "error",
                f"{code}: the 具体绩效分析 heading says 满分{detail.max}分; {tables} give {maximum}",
                f"{path}.detail_max", detail.max, maximum)
    if score is not None and detail.score != score:
        p.issue(detail.row, "score_mismatch", "error",
                f"{code}: the 具体绩效分析 heading says 得{detail.score}分; {tables} give {score}",
                f"{path}.detail_score", detail.score, score)


def _tables_phrase(ctx: Context, code: str) -> str:
    p = ctx.parser
    rows = []
    for table in (ctx.chosen, ctx.duplicate):
        if table is None:
            continue
        found = table.find("level3", code) if len(code) == 3 else table.find("subtotal", code)
        label = (table.level2 if len(code) == 2 else table.level1).get(code) if len(code) < 3 else None
        row = label[2] if label else (found.row if found else None)
        if row is not None:
            rows.append(p.where(row).replace("line ", ""))
    if len(rows) == 2:
        return f"both scoring tables (lines {rows[0]}, {rows[1]})"
    return "the scoring table" + (f" (line {rows[0]})" if rows else "")


def _rule_key(text: str) -> str:
    text = _CHINESE_ONE.sub("1", _RULE_NOISE.sub("", text))
    return _RULE_PREFIX.sub("", text)


def rules_differ(a: str, b: str) -> bool:
    """Two statements of a scoring rule differ when they share less than half their text (after
    wording that changes nothing is set aside)."""
    x, y = _rule_key(a), _rule_key(b)
    if not x or not y or x == y:
        return False
    shared = sum(block.size for block in SequenceMatcher(None, x, y, autojunk=False).get_matching_blocks())
    return shared / max(len(x), len(y)) < 0.5


def workpapers(ctx: Context) -> None:
    p = ctx.parser
    any_paper = bool(ctx.workpapers)
    for k, s in enumerate(ctx.report["scores"]):
        paper = ctx.workpapers.get(s["code"])
        rendered = s["workpaper"]
        if paper is None or rendered is None:
            if any_paper:
                p.issue(s["_row"], "missing_value", "warning", f"{s['code']} has no workpaper in 附件1",
                        f"scores[{k}].workpaper", None, None)
            continue
        path = f"scores[{k}].workpaper"
        if compact(paper.title) != compact(s["level3"]):
            p.issue(paper.row, "label_mismatch", "info",
                    f"{s['code']}: the workpaper title says {paper.title}; {_tables_phrase(ctx, s['code'])} "
                    f"say {s['level3']}", f"{path}.title", paper.title, s["level3"])
        for key, table_key, word in (("weight", "weight", "指标权重"), ("score", "score", "指标得分")):
            value = rendered.get(key)
            if value is not None and s[table_key] is not None and value != s[table_key]:
                p.issue(paper.row_of(key), "score_mismatch", "error",
                        f"{s['code']}: the workpaper's {word} is {value}; the scoring table gives {s[table_key]}",
                        f"{path}.{key}", value, s[table_key])
        for key in WORKPAPER_KEYS:
            if rendered.get(key) is not None:
                continue
            expected = {"criteria": s["criteria"], "explanation": s["explanation"], "weight": s["weight"],
                        "score": s["score"]}.get(key)
            group = _WORKPAPER_GROUP.get(key)
            row = paper.group_last.get(group) if group else None
            if row is None and key in ("score", "reasoning"):
                row = paper.group_last.get("result")
            if row is None:
                row = paper.end if key == "date" else paper.row
            after = f" ({'the row group ends' if group else 'the workpaper ends'} at {p.where(row)})"
            detail = ctx.details.get(s["code"])
            source = detail.fields.get(key) if detail and key in ("criteria", "explanation") else None
            body = f"; the body gives the {'评分标准' if key == 'criteria' else '指标解释'} at " \
                   f"{p.where(source.first_row)}" if source is not None and expected else ""
            p.issue(row, "missing_value", "warning",
                    f"{s['code']}: the workpaper has no {_WORKPAPER_LABEL[key]}{after}{body}",
                    f"{path}.{key}", None, expected)
        criteria, body = rendered.get("criteria"), s["criteria"]
        if criteria and body and rules_differ(criteria, body):
            repeats = f" repeats the 指标解释 ({p.where(paper.row_of('explanation'))}) instead of" \
                if compact(criteria) == compact(rendered.get("explanation")) else " states another rule than"
            detail = ctx.details.get(s["code"])
            source = detail.fields.get("criteria") if detail else None
            at = p.where(source.first_row) if source is not None else s["detail_where"]
            p.issue(paper.row_of("criteria"), "criteria_mismatch", "warning",
                    f"{s['code']}: the workpaper 指标评分细则{repeats} the scoring rule of the body's 评分标准 ({at})",
                    f"{path}.criteria", criteria, body)


def completion_rates(ctx: Context) -> None:
    """A 完成率 stated in an indicator's reasoning against actual/planned of its outputs."""
    p, outputs = ctx.parser, ctx.report.get("outputs")
    if not outputs:
        return
    for k, s in enumerate(ctx.report["scores"]):
        rows = [r for r in outputs["rows"] if r["indicator"] == s["code"]]
        planned = _sum([r["planned"] for r in rows])
        actual = _sum([r["actual"] for r in rows])
        if not rows or planned is None or actual is None or not planned:
            continue
        expected = percent(actual, planned)
        lines = ", ".join(r["where"].replace("line ", "") for r in rows)
        quoted = f"{_plus([r['actual'] for r in rows])}/{_plus([r['planned'] for r in rows])}"
        weight, score = _d(s["weight"]), _d(s["score"])
        sources: list[tuple[str, Any, str]] = []
        detail = ctx.details.get(s["code"])
        if detail and "reasoning" in detail.fields:
            sources.append(("", detail.fields["reasoning"], f"scores[{k}].reasoning"))
        paper = ctx.workpapers.get(s["code"])
        if paper and "reasoning" in paper.fields:
            sources.append((" workpaper", paper.fields["reasoning"], f"scores[{k}].workpaper.reasoning"))
        for what, passage, path in sources:
            value = passage.value or ""
            for m in _COMPLETION_RATE.finditer(value):
                stated = Decimal(m.group("value"))
                op = m.group("op")
                exact = actual * 100 / planned
                if op:
                    holds = {">": exact > stated, "＞": exact > stated, "≥": exact >= stated, ">=": exact >= stated,
                             "<": exact < stated, "＜": exact < stated, "≤": exact <= stated, "<=": exact <= stated,
                             "=": rate_agrees(stated, actual, planned)}[op]
                    if holds:
                        continue
                elif rate_agrees(stated, actual, planned):
                    continue
                reflects = ""
                if weight is not None and score is not None and expected is not None:
                    by_outputs = (expected * weight / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
                    by_text = (stated * weight / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
                    if by_outputs == score and by_text != score:
                        # A "rate" that is the true rate times the weight is the score ×100, misread.
                        why = (f"{m.group('value')} is {expected}×{s['weight']}, not a rate"
                               if (expected * weight).quantize(Decimal("0.01")) == stated
                               else f"{m.group('value')}%×{s['weight']} would be {by_text}")
                        reflects = f"; the score {s['score']} is {expected}%×{s['weight']} ({why})"
                p.issue(passage.row_at(m.start("value")), "rate_mismatch", "warning",
                        f"{s['code']}{what}: 完成率 stated as {op or ''}{m.group('value')}%, but the outputs "
                        f"(line{'s' if len(rows) > 1 else ''} {lines}) give {quoted} = {expected}%{reflects}",
                        path, canonical(stated), _s(expected))


def _plus(values: list[Any]) -> str:
    """``a+b`` of printed numbers, parenthesised when there are several (a quotient's operand)."""
    text = "+".join(_s(_d(v)) or "?" for v in values)
    return f"({text})" if len(values) > 1 else text


def budget(ctx: Context) -> None:
    p, table = ctx.parser, ctx.report.get("budget_execution")
    if not table:
        return
    rows, total = table["rows"], table["total"]
    keys = ("budget", "adjusted_budget", "spent")
    if total is not None:
        for key in keys:
            if key not in total:
                continue
            expected, found = _sum([r.get(key) for r in rows]), _d(total[key])
            if expected is not None and found is not None and expected != found:
                p.issue(total["_row"], "sum_mismatch", "error",
                        f"budget table 合计 {key} {total[key]} is not the sum of its rows ({_s(expected)})",
                        f"budget_execution.total.{key}", total[key], _s(expected))
    for path, row in [(f"budget_execution.rows[{n}]", r) for n, r in enumerate(rows)] + \
            ([("budget_execution.total", total)] if total else []):
        base = _d(row.get("adjusted_budget")) if row.get("adjusted_budget") is not None else _d(row.get("budget"))
        spent, stated = _d(row.get("spent")), _d(row.get("execution_rate"))
        if base and spent is not None and stated is not None and not rate_agrees(stated, spent, base):
            p.issue(row["_row"], "rate_mismatch", "warning",
                    f"执行率 {row['execution_rate']}% of {row.get('item', '合计')} is not 支出数/"
                    f"{'调整后预算数' if row.get('adjusted_budget') is not None else '预算数'} = {percent(spent, base)}%",
                    f"{path}.execution_rate", row["execution_rate"], _s(percent(spent, base)))
        for i, values in row.get("_repeats", []):
            for key, value in values.items():
                if row.get(key) != value:
                    p.issue(i, "cross_table_mismatch", "warning",
                            f"{row.get('item', '合计')}: this repeat of the budget table gives {key} {value}, "
                            f"the budget table ({row['where']}) {row.get(key)}", f"{path}.{key}", value, row.get(key))
    for n, adj in enumerate(table["adjustments"]):
        target = next((r for r in rows if r["item"] == adj["item"]), None)
        if target is None or adj["_unit"] != table.get("_unit"):
            continue
        before, after = _d(target.get("budget")), _d(target.get("adjusted_budget"))
        if before is None or after is None:
            continue
        if after - before != _d(adj["amount"]):
            p.issue(adj["_row"], "cross_table_mismatch", "warning",
                    f"预算调整 of {adj['item']} stated as {adj['amount']}, but the budget table ({target['where']}) "
                    f"goes from {target['budget']} to {target['adjusted_budget']}",
                    f"budget_execution.adjustments[{n}].amount", adj["amount"], _s(after - before))


def financial_years(ctx: Context) -> None:
    p, table = ctx.parser, ctx.report.get("financial_years")
    if not table:
        return
    rows, totals = table["rows"], table["totals"]
    for t, total in enumerate(totals):
        members = [r for r in rows if r["year"] == total["year"]]
        for key in ("budget", "adjusted_budget", "spent"):
            if key not in total:
                continue
            values = [r.get(key) for r in members if r.get(key) is not None]
            expected, found = _sum(values) if values else None, _d(total[key])
            if expected is not None and found is not None and expected != found:
                p.issue(total["_row"], "sum_mismatch", "error",
                        f"附件2 {total['year']} 合计 {key} {total[key]} is not the sum of its rows ({_s(expected)})",
                        f"financial_years.totals[{t}].{key}", total[key], _s(expected))
    for path, row in [(f"financial_years.rows[{n}]", r) for n, r in enumerate(rows)] + \
            [(f"financial_years.totals[{t}]", r) for t, r in enumerate(totals)]:
        base = _d(row.get("adjusted_budget")) if row.get("adjusted_budget") is not None else _d(row.get("budget"))
        spent, stated = _d(row.get("spent")), _d(row.get("execution_rate"))
        if base and spent is not None and stated is not None and not rate_agrees(stated, spent, base):
            p.issue(row["_row"], "rate_mismatch", "warning",
                    f"附件2 {row['year']} 执行率 {row['execution_rate']}% of {row.get('item', '合计')} is not "
                    f"执行数/预算数 = {percent(spent, base)}%", f"{path}.execution_rate", row["execution_rate"],
                    _s(percent(spent, base)))
    _years_against_budget(ctx)


def _years_against_budget(ctx: Context) -> None:
    """The evaluated year's column of the multi-year table against the year's budget table."""
    p = ctx.parser
    table, body, year = ctx.report["financial_years"], ctx.report.get("budget_execution"), \
        ctx.report["metadata"].get("year")
    if not body or year is None:
        return
    labels = {"budget": "预算数", "adjusted_budget": "调整后预算数", "spent": "执行数", "execution_rate": "执行率"}
    pairs = [(f"financial_years.rows[{n}]", r, next((b for b in body["rows"] if b["item"] == r["item"]), None))
             for n, r in enumerate(table["rows"]) if r["year"] == year]
    pairs += [(f"financial_years.totals[{t}]", r, body["total"]) for t, r in enumerate(table["totals"])
              if r["year"] == year]
    for path, row, other in pairs:
        if other is None:
            continue
        name = row.get("item", "合计")
        for key, label in labels.items():
            mine, theirs = row.get(key), other.get(key)
            if key not in row or key not in other or mine is None or theirs is None or _d(mine) == _d(theirs):
                continue
            also = next((f", the {labels[k]} of the body budget table ({other['where']}), whose {label} is {theirs}"
                         for k in ("adjusted_budget", "budget", "spent") if k != key and _d(other.get(k)) == _d(mine)),
                        f"; the body budget table ({other['where']}) gives {theirs}")
            p.issue(row["_row"], "cross_table_mismatch", "warning",
                    f"附件2 {year}年{label} {'合计' if name == '合计' else 'of ' + name} is {mine}{also}",
                    f"{path}.{key}", mine, theirs)


def satisfaction(ctx: Context) -> None:
    p, table = ctx.parser, ctx.report.get("satisfaction")
    if not table:
        return
    rows, total = table["rows"], table["total"]
    if total is not None:
        for key in ("max", "score"):
            expected, found = _sum([r.get(key) for r in rows]), _d(total.get(key))
            if expected is not None and found is not None and expected != found:
                p.issue(total["_row"], "sum_mismatch", "error",
                        f"satisfaction 合计 {key} {total[key]} is not the sum of its rows ({_s(expected)})",
                        f"satisfaction.total.{key}", total[key], _s(expected))
    for path, row in [(f"satisfaction.rows[{n}]", r) for n, r in enumerate(rows)] + \
            ([("satisfaction.total", total)] if total else []):
        maximum, score, stated = _d(row.get("max")), _d(row.get("score")), _d(row.get("rate"))
        if maximum and score is not None and stated is not None and not rate_agrees(stated, score, maximum):
            p.issue(row["_row"], "rate_mismatch", "warning",
                    f"满意度 {row['rate']}% of {row.get('item', '合计')} is not 得分/分值 = {percent(score, maximum)}%",
                    f"{path}.rate", row["rate"], _s(percent(score, maximum)))
    code = table.get("indicator")
    score = next((s for s in ctx.report["scores"] if s["code"] == code), None)
    if total is not None and score is not None and score["score"] != total.get("score"):
        k = ctx.report["scores"].index(score)
        p.issue(score["_row"], "score_mismatch", "error",
                f"{code} is scored {score['score']}, but the satisfaction survey ({total['where']}) totals "
                f"{total.get('score')}", f"scores[{k}].score", score["score"], total.get("score"))
