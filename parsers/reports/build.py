"""One report's parts into the shape of docs/reports.md, then checked against itself.

Rendered rows carry their row index under private keys (``_row``…) while the checks run; the keys
are removed before the report leaves this module.
"""

from __future__ import annotations

from typing import Any

import regex

from goalforms.parsers.reports import checks
from goalforms.parsers.reports import tables as tbl
from goalforms.parsers.reports.evaluation import (
    _ADJUSTMENT,
    _RESPONDENTS,
    KIND,
    WORKPAPER_KEYS,
    ReportParser,
    ScoreTable,
    Statement,
    Workpaper,
    cell_value,
    statements_in,
    value_or_null,
)
from goalforms.parsers.reports.text import canonical, clean, decimal_of, is_null_cell, number

METADATA_KEYS = ("title", "project_name", "year", "unit", "department", "commissioned_by", "evaluator",
                 "report_number", "report_date", "plan_start", "plan_end", "goal", "total_score", "grade")
_YEAR_OF_NAME = regex.compile(r"^(\d{4})\s*年")


def build_report(p: ReportParser) -> dict[str, Any]:
    tables = tbl.find_tables(p.rows, p.start, p.end, p.is_heading)
    score_tables = [p.score_table(t) for t in tables if t.kind == "score"]
    chosen, duplicate = _choose(score_tables)
    details = p.details()
    workpapers = p.workpapers()

    metadata = _metadata(p, chosen)
    scores = _scores(p, chosen, duplicate, details, workpapers)
    subtotals = _subtotals(p, chosen, duplicate, details)
    score_total = next((s["score"] for s in subtotals if s["level"] == "total"), None)
    budget = _budget_execution(p, [t for t in tables if t.kind == "budget" and t.header < p.body_end])
    years = _financial_years(p, next((t for t in tables if t.kind == "years"), None))
    outputs = _outputs(p, next((t for t in tables if t.kind == "outputs"), None), scores, details, workpapers)
    schedule = _schedule(p, next((t for t in tables if t.kind == "schedule"), None), scores, workpapers)
    satisfaction = _satisfaction(p, next((t for t in tables if t.kind == "satisfaction"), None), scores)

    report: dict[str, Any] = {
        "kind": KIND,
        "where": p.where(p.start),
        "metadata": metadata,
        "score_table": _score_table_ref(p, chosen, duplicate),
        "scores": scores,
        "subtotals": subtotals,
        "score_total": score_total,
        "budget_execution": budget,
        "financial_years": years,
        "outputs": outputs,
        "schedule": schedule,
        "satisfaction": satisfaction,
    }
    checks.run(checks.Context(p, chosen, duplicate, details, workpapers, report))
    report["issues"] = [i.to_dict() for i in sorted(p.issues, key=lambda i: i.row)]
    return _public(report)


def _public(value: Any) -> Any:
    """The value without the private (``_``) keys used by the checks."""
    if isinstance(value, dict):
        return {k: _public(v) for k, v in value.items() if not k.startswith("_")}
    if isinstance(value, list):
        return [_public(v) for v in value]
    return value


def _choose(tables: list[ScoreTable]) -> tuple[ScoreTable | None, ScoreTable | None]:
    """The body table, unless it is missing or damaged (a score row without its numbers) while
    another copy is whole; the first other copy is the duplicate compared with it."""
    if not tables:
        return None, None
    body = [t for t in tables if t.source == "body"]
    chosen = body[0] if body else tables[0]
    if not chosen.complete:
        chosen = next((t for t in tables if t.complete), chosen)
    duplicate = next((t for t in tables if t is not chosen), None)
    return chosen, duplicate


def _score_table_ref(p: ReportParser, chosen: ScoreTable | None, duplicate: ScoreTable | None) -> dict[str, Any]:
    return {
        "source": chosen.source if chosen else None,
        "where": p.where(chosen.header) if chosen else None,
        "duplicate": duplicate.source if duplicate else None,
        "duplicate_where": p.where(duplicate.header) if duplicate else None,
    }


def _metadata(p: ReportParser, chosen: ScoreTable | None) -> dict[str, Any]:
    values, rows = p.cover()
    values["title"], rows["title"] = clean(p.rows[p.start].text(" ")), p.start
    name = values.get("project_name")
    year_match = _YEAR_OF_NAME.match(name or "")
    start, end, period_row = p.period()
    if start is not None:
        values["plan_start"], values["plan_end"] = start, end
        rows["plan_start"] = rows["plan_end"] = period_row  # type: ignore[assignment]
    if year_match:
        values["year"], rows["year"] = int(year_match.group(1)), rows["project_name"]
    elif start is not None and period_row is not None:
        values["year"], rows["year"] = int(start[:4]), period_row
    goal, goal_row = p.goal()
    if goal:
        values["goal"], rows["goal"] = goal, goal_row  # type: ignore[assignment]
    statements = p.total_score_statements()
    conclusion = None
    if statements:
        # The conclusion states the total just above the table it cites (各部分得分情况见下表).
        before = [s for s in statements if chosen is not None and chosen.source == "body" and s[2] < chosen.header]
        conclusion = before[-1] if before else statements[0]
        values["total_score"], values["grade"] = conclusion[0], conclusion[1]
        rows["total_score"] = conclusion[2]
        if conclusion[1] is not None:
            rows["grade"] = conclusion[2]
    metadata: dict[str, Any] = {key: values.get(key) for key in METADATA_KEYS}
    metadata["where"] = {key: p.where(rows[key]) if rows.get(key) is not None else None for key in METADATA_KEYS}
    metadata["_rows"] = rows
    metadata["_statements"] = statements
    metadata["_conclusion"] = conclusion
    return metadata


def _level_names(table: ScoreTable, details: dict[str, Any], code: str, level: str) -> tuple[str | None, str | None]:
    """Name and 分值 of a level-1 or level-2 code: its label in the table, else its 小计 row, else
    its 具体绩效分析 heading."""
    labels = table.level1 if level == "level1" else table.level2
    subtotal = table.find("subtotal", code)
    label = labels.get(code)
    name = label[0] if label else None
    if not name and subtotal is not None:
        name = subtotal.name
    if not name and code in details:
        name = details[code].name
    if level == "level1":
        maximum = subtotal.max if subtotal is not None else (label[1] if label else None)
    else:
        maximum = label[1] if label and label[1] is not None else (subtotal.max if subtotal else None)
    return name, maximum


def _scores(p: ReportParser, chosen: ScoreTable | None, duplicate: ScoreTable | None, details: dict[str, Any],
            workpapers: dict[str, Workpaper]) -> list[dict[str, Any]]:
    if chosen is None:
        return []
    scores = []
    for r in chosen.rows:
        if r.kind != "level3" or r.code is None:
            continue
        code = r.code
        level1, level1_max = _level_names(chosen, details, code[0], "level1")
        level2, level2_max = _level_names(chosen, details, code[:2], "level2")
        detail = details.get(code)
        twin = duplicate.find("level3", code) if duplicate else None
        paper = workpapers.get(code)
        scores.append({
            "code": code,
            "level1_code": code[0],
            "level1": level1,
            "level1_max": level1_max,
            "level2_code": code[:2],
            "level2": level2,
            "level2_max": level2_max,
            "level3": r.name,
            "weight": r.max,
            "score": r.score,
            "explanation": detail.fields["explanation"].value if detail and "explanation" in detail.fields else None,
            "criteria": detail.fields["criteria"].value if detail and "criteria" in detail.fields else None,
            "reasoning": detail.fields["reasoning"].value if detail and "reasoning" in detail.fields else None,
            "detail_name": detail.name if detail else None,
            "detail_max": detail.max if detail else None,
            "detail_score": detail.score if detail else None,
            "where": p.where(r.row),
            "detail_where": p.where(detail.row) if detail else None,
            "annex_where": p.where(twin.row) if twin else None,
            "workpaper": _workpaper(p, paper) if paper else None,
            "_row": r.row,
        })
    return scores


def _workpaper(p: ReportParser, paper: Workpaper) -> dict[str, Any]:
    out: dict[str, Any] = {"title": paper.title}
    for key in WORKPAPER_KEYS:
        value = paper.text(key)
        out[key] = number(value) if key in ("weight", "score") and value is not None and number(value) else value
    out["where"] = p.where(paper.row)
    return out


def _subtotals(p: ReportParser, chosen: ScoreTable | None, duplicate: ScoreTable | None,
               details: dict[str, Any]) -> list[dict[str, Any]]:
    if chosen is None:
        return []
    out = []
    for r in chosen.rows:
        if r.kind == "level3":
            continue
        if r.kind == "total" or r.code is None:
            level, name = "total", r.name
        else:
            level = "level2" if len(r.code) == 2 else "level1"
            name = _level_names(chosen, details, r.code, level)[0]
        detail = details.get(r.code) if r.code else None
        twin = duplicate.find(r.kind, r.code) if duplicate else None
        out.append({
            "level": level,
            "code": r.code if level != "total" else None,
            "name": name,
            "max": r.max,
            "score": r.score,
            "detail_name": detail.name if detail else None,
            "detail_max": detail.max if detail else None,
            "detail_score": detail.score if detail else None,
            "where": p.where(r.row),
            "detail_where": p.where(detail.row) if detail else None,
            "annex_where": p.where(twin.row) if twin else None,
            "_row": r.row,
        })
    return out


def _cells(p: ReportParser, table: tbl.Table, i: int, section: str, index: str, keys: tuple[str, ...],
           raw: bool = False) -> dict[str, Any]:
    """The values of row ``i`` by the table's columns; a blank cell where a value belongs is a
    missing_value issue (``-`` is not: it means "no such line")."""
    row = p.rows[i]
    values: dict[str, Any] = {}
    by_key = {key: col for col, key in table.columns.items()}
    for key in keys:
        col = by_key.get(key)
        if col is None:  # the table has no such column (no 调整后预算数): null, not missing
            values[key] = None
            continue
        text = cell_value(row, col)
        if raw:
            values[key] = clean(text) if text is not None and not is_null_cell(text) else None
        else:
            values[key] = value_or_null(text)
        if text is None or not text.strip():
            p.issue(i, "missing_value", "warning", f"{section}: the {key} cell of this row is blank",
                    f"{section}{index}.{key}", None, None)
        values[f"_{key}_raw"] = text
    return values


def _budget_execution(p: ReportParser, tables: list[tbl.Table]) -> dict[str, Any] | None:
    if not tables:
        return None
    main = next((t for t in tables if any(tbl.is_total(tbl.item_and_cells(p.rows[i])[0]) for i in t.rows)),
                tables[0])
    keys = ("budget", "adjusted_budget", "spent", "execution_rate")
    rows: list[dict[str, Any]] = []
    total: dict[str, Any] | None = None
    for i in main.rows:
        item = tbl.item_and_cells(p.rows[i])[0]
        if tbl.is_total(item):
            total = {**_cells(p, main, i, "budget_execution", ".total", keys), "where": p.where(i), "_row": i}
            continue
        values = _cells(p, main, i, "budget_execution", f".rows[{len(rows)}]", keys)
        rows.append({"item": item, **values, "where": p.where(i), "also_at": [], "_row": i, "_repeats": []})
    # The same rows repeated under the sections of 实施情况: verbatim repeats are noted, others checked.
    for other in tables:
        if other is main:
            continue
        for i in other.rows:
            item = tbl.item_and_cells(p.rows[i])[0]
            values = {k: value_or_null(cell_value(p.rows[i], c)) for c, k in other.columns.items()}
            target = total if tbl.is_total(item) else next((r for r in rows if r["item"] == item), None)
            if target is None:
                continue
            if all(target.get(k) == v for k, v in values.items()):
                if "also_at" in target:
                    target["also_at"].append(p.where(i))
            else:
                target.setdefault("_repeats", []).append((i, values))
    totals = [decimal_of(total.get(k)) for k in keys[:3]] if total else []
    unit, unit_row = p.money_unit(main.header, [v for v in totals if v is not None])
    out: dict[str, Any] = {"unit": unit, "unit_where": p.where(unit_row) if unit_row is not None else None,
                           "where": p.where(main.header), "rows": rows, "total": total,
                           "adjustments": _adjustments(p, [r["item"] for r in rows]), "_unit": unit}
    return out


def _adjustments(p: ReportParser, items: list[str]) -> list[dict[str, Any]]:
    """预算调整 stated in the prose: ``…印发费调增 124 万元`` (a 调减 is negative)."""
    found: list[dict[str, Any]] = []
    for passage in p.passages(end=p.body_end):
        text = passage.value or ""
        for m in _ADJUSTMENT.finditer(text):
            i = passage.row_at(m.start()) or p.start
            before = text[: m.start()]
            item = max((it for it in items if it and it in before), default=None,
                       key=lambda it: (before.rfind(it) + len(it), len(it)))
            if item is None:
                tail = regex.split(r"[，。；;,：:、系为]", before)[-1].strip()
                item = tail or None
            amount = decimal_of(m.group("amount"))
            if amount is None:
                continue
            value = canonical(-amount if m.group("dir") == "减" else amount)
            same = next((a for a in found if a["item"] == item and a["amount"] == value), None)
            if same is not None:
                same["also_at"].append(p.where(i))
                continue
            found.append({"item": item, "amount": value, "where": p.where(i), "also_at": [], "_row": i,
                          "_unit": m.group("unit")})
    return found


def _financial_years(p: ReportParser, table: tbl.Table | None) -> dict[str, Any] | None:
    if table is None:
        return None
    years: list[int] = []
    for key in table.columns.values():
        year = int(key.split(":")[0])
        if year not in years:
            years.append(year)
    wanted = ["budget", "spent", "execution_rate"]
    if any(key.endswith(":adjusted_budget") for key in table.columns.values()):
        wanted.insert(1, "adjusted_budget")
    rows: list[dict[str, Any]] = []
    totals: list[dict[str, Any]] = []
    for i in table.rows:
        item = tbl.item_and_cells(p.rows[i])[0]
        is_total = tbl.is_total(item)
        for year in years:
            values: dict[str, Any] = {}
            for col, key in table.columns.items():
                y, name = key.split(":")
                if int(y) != year or name not in wanted:
                    continue
                text = cell_value(p.rows[i], col)
                values[name] = value_or_null(text)
                values[f"_{name}_raw"] = text
                if text is None or not text.strip():
                    where = f"financial_years.{'totals' if is_total else 'rows'}[{len(totals if is_total else rows)}]"
                    p.issue(i, "missing_value", "warning", f"附件2 {year}: a blank cell", f"{where}.{name}", None, None)
            entry = {k: values.get(k) for k in wanted} | {k: v for k, v in values.items() if k.startswith("_")}
            if is_total:
                totals.append({"year": year, **entry, "where": p.where(i), "_row": i})
            else:
                rows.append({"item": item, "year": year, **entry, "where": p.where(i), "_row": i})
    first_totals = [decimal_of(t.get(k)) for t in totals for k in wanted if k != "execution_rate"]
    unit, unit_row = p.money_unit(table.header, [v for v in first_totals if v is not None])
    return {"unit": unit, "unit_where": p.where(unit_row) if unit_row is not None else None,
            "where": p.where(table.header), "rows": rows, "totals": totals}


def _outputs(p: ReportParser, table: tbl.Table | None, scores: list[dict[str, Any]], details: dict[str, Any],
             workpapers: dict[str, Workpaper]) -> dict[str, Any] | None:
    if table is None:
        return None
    prose = p.statements()
    # The completion-rate indicator of an output is the one whose 得分 text quotes its numbers.
    quoted: list[tuple[str, list[Statement]]] = []
    for score in scores:
        detail = details.get(score["code"])
        found: list[Statement] = []
        if detail and "reasoning" in detail.fields:
            for row, text in detail.fields["reasoning"].parts:
                found += statements_in(text, row)
        paper = workpapers.get(score["code"])
        if paper and "reasoning" in paper.fields:
            for row, text in paper.fields["reasoning"].parts:
                found += statements_in(text, row)
        quoted.append((score["code"], found))
    rows = []
    for i in table.rows:
        name = tbl.item_and_cells(p.rows[i])[0]
        values = _cells(p, table, i, "outputs", f".rows[{len(rows)}]", ("planned", "actual"))
        planned, actual = decimal_of(values.get("planned")), decimal_of(values.get("actual"))
        match = next((s for s in prose if s.planned == planned and s.actual == actual), None)
        indicator = next((code for code, found in quoted
                          if any(s.planned == planned and s.actual == actual for s in found)), None)
        rows.append({"name": name, "planned": values.get("planned"), "actual": values.get("actual"),
                     "unit": match.unit if match else None, "indicator": indicator, "where": p.where(i),
                     "text_where": p.where(match.row) if match else None, "_row": i})
    return {"where": p.where(table.header), "rows": rows}


def _schedule(p: ReportParser, table: tbl.Table | None, scores: list[dict[str, Any]],
              workpapers: dict[str, Workpaper]) -> dict[str, Any] | None:
    if table is None:
        return None
    rows = []
    for i in table.rows:
        name = tbl.item_and_cells(p.rows[i])[0]
        values = _cells(p, table, i, "schedule", f".rows[{len(rows)}]", ("planned", "actual"), raw=True)
        rows.append({"name": name, "planned": values.get("planned"), "actual": values.get("actual"),
                     "where": p.where(i), "_row": i})
    return {"indicator": _timeliness_indicator(scores, workpapers), "where": p.where(table.header), "rows": rows}


def _timeliness_indicator(scores: list[dict[str, Any]], workpapers: dict[str, Workpaper]) -> str | None:
    """The indicator scored on the schedule: its 指标解释 speaks of 完成时间; else a name of 及时/时效/进度
    that is not about money (资金到位及时率 is not the schedule)."""
    for score in scores:
        paper = workpapers.get(score["code"])
        texts = [score.get("explanation") or "", score.get("criteria") or "", paper.text("explanation") or "" if paper
                 else ""]
        if any("完成时间" in t for t in texts):
            return str(score["code"])
    for score in scores:
        name = score.get("level3") or ""
        if regex.search(r"及时|时效|进度", name) and "资金" not in name:
            return str(score["code"])
    return None


def _satisfaction(p: ReportParser, table: tbl.Table | None, scores: list[dict[str, Any]]) -> dict[str, Any] | None:
    if table is None:
        return None
    rows: list[dict[str, Any]] = []
    total: dict[str, Any] | None = None
    keys = ("max", "rate", "score")
    for i in table.rows:
        item = tbl.item_and_cells(p.rows[i])[0]
        if tbl.is_total(item):
            total = {**_cells(p, table, i, "satisfaction", ".total", keys), "where": p.where(i), "_row": i}
            continue
        rows.append({"item": item, **_cells(p, table, i, "satisfaction", f".rows[{len(rows)}]", keys),
                     "where": p.where(i), "_row": i})
    respondents, respondents_row = None, None
    for passage in p.passages():
        text = passage.value or ""
        m = _RESPONDENTS.search(text)
        if m and "有效" in text:
            respondents, respondents_row = m.group("n"), passage.row_at(m.start("n"))
            break
    return {"indicator": _satisfaction_indicator(scores, total), "respondents": respondents,
            "respondents_where": p.where(respondents_row) if respondents_row is not None else None,
            "where": p.where(table.header), "rows": rows, "total": total}


def _satisfaction_indicator(scores: list[dict[str, Any]], total: dict[str, Any] | None) -> str | None:
    """The indicator the survey's total is scored in: same 分值 and 得分, else the 满意度 indicator
    whose text speaks of the questionnaire (问卷)."""
    if total is not None:
        for score in scores:
            if score["weight"] == total.get("max") and score["score"] == total.get("score"):
                return str(score["code"])
    for score in scores:
        texts = " ".join(score.get(k) or "" for k in ("level3", "explanation", "criteria", "reasoning"))
        if "满意" in (score.get("level3") or "") and "问卷" in texts:
            return str(score["code"])
    return None
