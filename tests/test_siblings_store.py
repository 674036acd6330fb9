"""The store and views of issue 12 (self-evaluations, department forms, local target forms), on
SQLite and PostgreSQL, from crafted parsed documents loaded through pipeline/load.py — so these
tests do not depend on the parser.

The crafted forms carry the contract's keys of /work/wt/CONTRACT-12.md in their JSON form
(``to_dict``), which is what the loader reads (pipeline/load_siblings.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from goalforms.pipeline import analysis, model
from goalforms.pipeline import corrections as corr
from goalforms.pipeline.cli import app
from goalforms.pipeline.load import store_document
from goalforms.pipeline.normalise import parse_target
from goalforms.schema import models
from goalforms.schema.db import alembic_config, connect

BACKENDS = ["sqlite", "postgresql"]
UNIT = "上海市闵行区社会保障服务中心"
OTHER_UNIT = "上海市普陀区社会保障管理服务中心"



# --- crafted parsed documents, in the shape of the contract -----------------------------------------


def _value(raw: str | None) -> dict[str, Any] | None:
    if raw is None:
        return None
    t = parse_target(raw)
    return {"raw": t.raw, "kind": t.kind, "op": t.op, "value": t.value, "unit": t.unit}


@dataclass
class Row(model.Indicator):
    """An indicator with the issue-12 keys (the contract's JSON carries them)."""

    actual: dict[str, Any] | None = None
    weight: str | None = None
    score: str | None = None
    note: str | None = None
    prior_year: dict[str, Any] | None = None
    period: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data.update(actual=self.actual, weight=self.weight, score=self.score, note=self.note,
                    prior_year=self.prior_year, period=self.period)
        return data


@dataclass
class Sheet(model.Form):
    """A form with the issue-12 keys."""

    kind: str = "target"
    funds: list[dict[str, Any]] = field(default_factory=list)
    tasks: list[dict[str, Any]] = field(default_factory=list)
    points: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        for key in ("outcome", "total_score", "grade"):
            data["header"][key] = self.header.get(key)
        data.update(kind=self.kind, funds=self.funds, tasks=self.tasks, points=self.points)
        return data


DIMENSIONS = {("产出指标", "数量指标"): "output.quantity", ("产出指标", "质量指标"): "output.quality",
              ("产出指标", "时效指标"): "output.timeliness", ("成本指标", "经济成本指标"): "cost.economic",
              ("效益指标", "社会效益指标"): "effect.social", ("满意度指标", "服务对象满意度指标"): "satisfaction"}


def row(n: int, level1: str, level2: str, level3: str, target: str, actual: str | None = None,
        **extra: Any) -> Row:
    t = parse_target(target)
    return Row(level1, level2, level3, t.raw, t.kind, t.op, t.value, t.unit, DIMENSIONS.get((level1, level2)),
               n, f"line {n}", actual=_value(actual), **extra)


def header(name: str, unit: str, **more: Any) -> dict[str, Any]:
    return {"project_name": name, "unit": unit, "department": "上海市闵行区人力资源和社会保障局", "goal": "目标",
            **more}


def target_form(name: str = "征地养老费支出", unit: str = UNIT, year: int = 2024) -> Sheet:
    rows = [
        row(1, "产出指标", "数量指标", "征地养老资金应发实发率", "=100.00(%)"),
        row(2, "产出指标", "质量指标", "征地养老资金发放准确率", "≥95%"),
        row(3, "产出指标", "时效指标", "征地养老资金发放及时率", "与政策规定一致"),
        row(4, "成本指标", "经济成本指标", "项目成本控制", "≤90万元"),
        row(5, "成本指标", "经济成本指标", "资金拨付金额", "≥1000万元"),
        row(6, "效益指标", "社会效益指标", "社会保障制度完善情况", "完善"),
        row(7, "满意度指标", "服务对象满意度指标", "受补对象满意度", "≥85.00(%)"),
        row(8, "产出指标", "数量指标", "补贴发放人数", "≥95%"),
        row(9, "产出指标", "数量指标", "档案整理卷数", "=2500本"),
    ]
    return Sheet("2024", year, header(name, unit, project_nature="经常性项目"),
                 {"current_year": "1094910000", "fiscal_appropriation": "1094910000"}, rows, where="line 1")


def self_evaluation(name: str = "2024年征地养老费支出", unit: str = UNIT, year: int = 2024) -> Sheet:
    rows = [
        row(11, "产出指标", "数量指标", "征地养老资金应发实发率", "=100%", "100%", weight="10", score="10"),
        row(12, "产出指标", "质量指标", "征地养老资金发放准确率", "≥95%", "97.2%", weight="10", score="10"),
        row(13, "成本指标", "经济成本指标", "项目成本控制数", "≤90万元", "93万元", weight="10", score="8",
            note="物价上涨，下年度优化采购"),
        row(14, "成本指标", "经济成本指标", "资金拨付金额", "≥1000万元", "9,500,000元", weight="5", score="4"),
        row(15, "效益指标", "社会效益指标", "社会保障制度完善情况", "完善", "达成预期指标", weight="10", score="10"),
        row(16, "满意度指标", "服务对象满意度指标", "受补对象满意率", "≥85%", "83%", weight="10", score="9",
            note="个别对象对发放时间有意见"),
        row(17, "产出指标", "数量指标", "宣传活动次数", "≥4次", "3次", weight="5", score="3"),
        row(18, "产出指标", "数量指标", "补贴发放人数", "≥95%", "52个", weight="5", score="5"),
        row(19, "产出指标", "数量指标", "档案整理卷数", "=2500本", "", weight="5", score="0"),
    ]
    funds = [{"item": "total", "initial": "1000000", "full_year": "1200000", "executed": "1182000", "rate": "98.5",
              "weight": "10", "score": "9.8"},
             {"item": "fiscal_appropriation", "initial": "1000000", "full_year": "1200000", "executed": "1182000",
              "rate": "98.5", "weight": None, "score": None}]
    return Sheet("self_eval", year, header(name, unit, outcome="基本完成", total_score="88.8", grade="良"),
                 {"total": "1200000", "fiscal_appropriation": "1200000"}, rows, where="line 10",
                 kind="self_evaluation", funds=funds, points={"产出指标": "50", "效益指标": "30", "满意度指标": "10"})


def department_form() -> Sheet:
    rows = [row(31, "产出指标", "数量指标", "参保登记办理量", "≥100万件", period="annual"),
            row(32, "履职效能", "管理效率", "业务办结率", "≥99%", prior_year=_value("98%"), note="办结数/受理数")]
    tasks = [{"name": "社会保险经办", "content": "参保登记、待遇核定", "total": "52000000",
              "fiscal_appropriation": "50000000", "other_funds": "2000000"}]
    return Sheet("dept", 2024, header(None, "上海市社会保险事业管理中心"),  # type: ignore[arg-type]
                 {"total": "52000000", "fiscal_appropriation": "50000000", "other_funds": "2000000"}, rows,
                 where="line 30", kind="department", tasks=tasks)


def document(path: str, forms: list[model.Form]) -> model.ParsedDocument:
    return model.ParsedDocument(model.Source(path, f"sha-{path}", "txt"), None, forms)


def load(engine: Engine, docs: list[model.ParsedDocument]) -> None:
    with Session(engine) as session, session.begin():
        for doc in docs:
            store_document(session, doc, doc.source.path, 100)


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'siblings.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    engine = connect(url)
    load(engine, [
        document("/archive/targets-2024.txt", [target_form(), target_form(unit=OTHER_UNIT)]),
        document("/archive/self-eval-2024.txt", [self_evaluation(), self_evaluation("外省市差旅费")]),
        document("/archive/dept-2024.txt", [department_form()]),
    ])
    engine.dispose()
    yield url


def rows(db: str, sql: str) -> list[dict[str, Any]]:
    result = analysis.query(db, sql)
    return [dict(zip(result.columns, r, strict=True)) for r in result.rows]


def exact(value: Any) -> str | None:
    return None if value is None else format(Decimal(str(value)).normalize(), "f")


# --- the tables -------------------------------------------------------------------------------------


def test_forms_store_kind_key_outcome_score_grade_points(db: str) -> None:
    forms = rows(db, "SELECT form_id, kind, project_key, outcome, total_score, grade FROM v_forms "
                     "ORDER BY source_path, form_ordinal")
    assert [(f["kind"], f["project_key"], f["outcome"], exact(f["total_score"]), f["grade"]) for f in forms] == [
        ("department", None, None, None, None),
        ("self_evaluation", "征地养老费支出", "基本完成", "88.8", "良"),
        ("self_evaluation", "外省市差旅费", "基本完成", "88.8", "良"),
        ("target", "征地养老费支出", None, None, None),
        ("target", "征地养老费支出", None, None, None),
    ]
    engine = connect(db)
    with Session(engine) as session:
        evaluation = session.scalars(select(models.Form).where(models.Form.kind == "self_evaluation")
                                     .order_by(models.Form.id)).first()
        assert evaluation is not None
        assert evaluation.points == {"产出指标": "50", "效益指标": "30", "满意度指标": "10"}
        assert [(f.item, f.initial, f.full_year, f.executed, f.rate, f.weight, f.score) for f in evaluation.funds] == [
            ("total", Decimal("1000000"), Decimal("1200000"), Decimal("1182000"), Decimal("98.5"), Decimal("10"),
             Decimal("9.8")),
            ("fiscal_appropriation", Decimal("1000000"), Decimal("1200000"), Decimal("1182000"), Decimal("98.5"),
             None, None)]
        dept = session.scalars(select(models.Form).where(models.Form.kind == "department")).one()
        assert [(t.name, t.content, t.total, t.fiscal_appropriation, t.other_funds) for t in dept.tasks] == [
            ("社会保险经办", "参保登记、待遇核定", Decimal("52000000"), Decimal("50000000"), Decimal("2000000"))]
    engine.dispose()


def test_v_indicators_carries_actual_weight_score_note_prior_year_period(db: str) -> None:
    got = rows(db, "SELECT level3, form_kind, actual_raw, actual_kind, actual_value, actual_unit, weight, score, "
                   "score_num, note, prior_year_raw, prior_year_value, period FROM v_indicators "
                   "WHERE level3 IN ('项目成本控制数', '档案整理卷数', '业务办结率', '参保登记办理量') "
                   "ORDER BY source_path, form_ordinal, position")
    assert [(r["level3"], r["form_kind"], r["actual_raw"], r["actual_kind"], exact(r["actual_value"]),
             r["actual_unit"], exact(r["weight"]), exact(r["score"]), r["note"], r["prior_year_raw"],
             exact(r["prior_year_value"]), r["period"]) for r in got] == [
        ("参保登记办理量", "department", None, None, None, None, None, None, None, None, None, "annual"),
        ("业务办结率", "department", None, None, None, None, None, None, "办结数/受理数", "98%", "98", None),
        ("项目成本控制数", "self_evaluation", "93万元", "numeric", "93", "万元", "10", "8", "物价上涨，下年度优化采购",
         None, None, None),
        ("档案整理卷数", "self_evaluation", "", "missing", None, None, "5", "0", None, None, None, None),
        ("项目成本控制数", "self_evaluation", "93万元", "numeric", "93", "万元", "10", "8", "物价上涨，下年度优化采购",
         None, None, None),
        ("档案整理卷数", "self_evaluation", "", "missing", None, None, "5", "0", None, None, None, None),
        ("档案整理卷数", "target", None, None, None, None, None, None, None, None, None, None),
        ("档案整理卷数", "target", None, None, None, None, None, None, None, None, None, None),
    ]
    assert got[2]["score_num"] == 8.0


# --- v_target_vs_actual -----------------------------------------------------------------------------

TVA = ("SELECT match_kind, target_from, target_level3, target_raw, eval_level3, actual_raw, met, shortfall, "
       "reason, weight, score, note, eval_grade, eval_total_score FROM v_target_vs_actual "
       "WHERE project_key = '征地养老费支出' "
       "ORDER BY CASE WHEN eval_indicator_id IS NULL THEN 1 ELSE 0 END, eval_indicator_id, target_indicator_id")


def test_target_vs_actual_lines_up_and_judges(db: str) -> None:
    got = [(r["match_kind"], r["target_from"], r["target_level3"], r["target_raw"], r["eval_level3"], r["actual_raw"],
            r["met"], r["shortfall"], r["reason"]) for r in rows(db, TVA)]
    assert got == [
        ("exact", "target_form", "征地养老资金应发实发率", "=100.00(%)", "征地养老资金应发实发率", "100%", 1, 0.0, None),
        ("exact", "target_form", "征地养老资金发放准确率", "≥95%", "征地养老资金发放准确率", "97.2%", 1, 0.0, None),
        # ≤90万元 vs 93万元: missed by 3 (万元); a near name (项目成本控制 / 项目成本控制数)
        ("near", "target_form", "项目成本控制", "≤90万元", "项目成本控制数", "93万元", 0, 3.0, None),
        # units convert: ≥1000万元 vs 9,500,000元 is 50万元 short
        ("exact", "target_form", "资金拨付金额", "≥1000万元", "资金拨付金额", "9,500,000元", 0, 50.0, None),
        ("exact", "target_form", "社会保障制度完善情况", "完善", "社会保障制度完善情况", "达成预期指标", None, None,
         "target not numeric"),
        ("near", "target_form", "受补对象满意度", "≥85.00(%)", "受补对象满意率", "83%", 0, 2.0, None),
        # no target form row: judged against the self-evaluation's own 年度指标值
        ("evaluation_only", "self_evaluation", "宣传活动次数", "≥4次", "宣传活动次数", "3次", 0, 1.0, None),
        ("exact", "target_form", "补贴发放人数", "≥95%", "补贴发放人数", "52个", None, None, "units differ: % vs 个"),
        ("exact", "target_form", "档案整理卷数", "=2500本", "档案整理卷数", "", None, None, "no actual"),
        ("not_evaluated", "target_form", "征地养老资金发放及时率", "与政策规定一致", None, None, None, None,
         "no self-evaluation row"),
    ]
    first = rows(db, TVA)[2]
    assert (exact(first["weight"]), exact(first["score"]), first["note"], first["eval_grade"],
            exact(first["eval_total_score"])) == ("10", "8", "物价上涨，下年度优化采购", "良", "88.8")


def test_another_unit_or_year_is_not_lined_up(db: str) -> None:
    # The 普陀 target form of the same name is not evaluated by the 闵行 self-evaluation; 外省市差旅费
    # has a self-evaluation and no target form: its rows are judged against its own targets.
    units = {r["org_unit"] for r in rows(db, "SELECT org_unit FROM v_target_vs_actual")}
    assert units == {UNIT}
    other = rows(db, "SELECT match_kind, target_from FROM v_target_vs_actual WHERE project_key = '外省市差旅费'")
    assert {(r["match_kind"], r["target_from"]) for r in other} == {("evaluation_only", "self_evaluation")}
    assert len(other) == 9


def test_the_analyst_question_in_one_query(db: str) -> None:
    got = rows(db, "SELECT project_name, target_level3, target_raw, actual_raw, shortfall, target_unit "
                   "FROM v_target_vs_actual WHERE year = 2024 AND met = 0 AND project_key = '征地养老费支出' "
                   "ORDER BY eval_indicator_id")
    assert [(r["target_level3"], r["shortfall"], r["target_unit"]) for r in got] == [
        ("项目成本控制", 3.0, "万元"), ("资金拨付金额", 50.0, "万元"), ("受补对象满意度", 2.0, "%"), ("宣传活动次数", 1.0, "次")]


def test_corrected_copy_keeps_the_actuals(db: str) -> None:
    """A clerk's correction makes a corrected copy; the views read it and still show the actuals."""
    engine = connect(db)
    with Session(engine) as session, session.begin():
        corr.record(session, "/archive/self-eval-2024.txt", 1,
                    [corr.Change(corr.SET, "indicators[2].raw", "≤95万元", expected="≤90万元")], "alice")
    engine.dispose()
    got = rows(db, "SELECT raw, actual_raw, actual_value, score, note FROM v_indicators "
                   "WHERE source_path = '/archive/self-eval-2024.txt' AND form_ordinal = 1 AND position = 3")
    assert [(r["raw"], r["actual_raw"], exact(r["actual_value"]), exact(r["score"]), r["note"]) for r in got] == [
        ("≤95万元", "93万元", "93", "8", "物价上涨，下年度优化采购")]
    # the self-evaluation's own target changed; the target form's (which v_target_vs_actual uses) did not
    tva = rows(db, "SELECT eval_target_raw, target_raw, met FROM v_target_vs_actual WHERE eval_level3 = '项目成本控制数' "
                   "AND project_key = '征地养老费支出'")
    assert [(r["eval_target_raw"], r["target_raw"], r["met"]) for r in tva] == [("≤95万元", "≤90万元", 0)]
    forms = rows(db, "SELECT grade, total_score, project_key FROM v_forms "
                     "WHERE source_path = '/archive/self-eval-2024.txt' AND form_ordinal = 1")
    assert [(f["grade"], exact(f["total_score"]), f["project_key"]) for f in forms] == [("良", "88.8", "征地养老费支出")]


def test_goalforms_project_shows_targets_beside_actuals(db: str) -> None:
    result = CliRunner().invoke(app, ["project", "征地养老费支出", "--unit", UNIT, "--db", db, "--format", "json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    kinds = [d["document"] for d in out["documents"]]
    assert kinds == ["target form", "self-evaluation"]
    evaluated = out["documents"][1]
    assert (evaluated["score"], evaluated["grade"]) == ("88.8", "良")
    lines = [(a["target"], a["actual_raw"], a["met"], a["shortfall"]) for a in out["targets_vs_actuals"]]
    assert ("项目成本控制", "93万元", "missed", "3万元") in lines
    assert ("征地养老资金发放准确率", "97.2%", "met", "") in lines
    assert ("征地养老资金发放及时率", "", "", "") in lines
    table = CliRunner().invoke(app, ["project", "征地养老费支出", "--unit", UNIT, "--db", db])
    assert table.exit_code == 0 and "targets and self-evaluated actuals" in table.stdout


def test_downgrade_and_upgrade_keep_kinds_and_keys(db: str) -> None:
    """Below 0008 the issue-12 columns are gone; upgrading again restores each form's kind (from its
    layout) and project key (from its name); actuals, funds and tasks are lost with their columns."""
    engine = connect(db)
    cfg = alembic_config(db)
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0006_sessions_units")
    engine.dispose()
    connect(db).dispose()  # upgrades to head again
    forms = rows(db, "SELECT layout, kind, project_key FROM v_forms ORDER BY source_path, form_ordinal")
    assert [(f["layout"], f["kind"], f["project_key"]) for f in forms] == [
        ("dept", "department", None), ("self_eval", "self_evaluation", "征地养老费支出"),
        ("self_eval", "self_evaluation", "外省市差旅费"), ("2024", "target", "征地养老费支出"),
        ("2024", "target", "征地养老费支出")]
    assert rows(db, "SELECT COUNT(*) AS n FROM v_indicators WHERE actual_raw IS NOT NULL")[0]["n"] == 0
