"""The review of an imported file built from its parse in memory (pipeline/review/batch.py) stores
exactly what the form-by-form review (every form read back from the database, its corrections
replayed) stores: the same findings with the same ids, the same scorecards, the same re-review of
a project's next year — and a file with corrections still has them replayed and reviewed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from goalforms.pipeline import transaction
from goalforms.pipeline.corrections import SET, Change
from goalforms.pipeline.importer import import_paths
from goalforms.pipeline.load import find_by_path
from goalforms.pipeline.parse import parse_file
from goalforms.pipeline.review import batch
from goalforms.pipeline.review.batch import forms_of
from goalforms.pipeline.review.rules import default_rule_sets
from goalforms.pipeline.review.store import FindingFilter, findings, form_of, live_findings, review_document
from goalforms.schema.db import connect
from tests.conftest import SAMPLES
from tests.test_corrections import SEED_2026, copy_samples, record
from tests.test_review_store import SEED_2020

# Target forms of four layouts (two years of four projects among them), the issue-12 siblings
# (self-evaluations with funds and scores, department and local forms), and Word copies of two
# text samples (the same projects and years imported twice: compared once).
FILES = [*sorted((SAMPLES / "text").glob("*.txt")), *sorted((SAMPLES / "siblings" / "text").glob("*.txt")),
         SAMPLES / "docx" / "000_914c13d346301e8d.docx", SAMPLES / "docx" / "004_dca627b1a6ea1aa7.docx"]

FINDINGS = ("SELECT id, form_id, rule_id, rule_set, rule_set_version, severity, message, subject, field, position, "
            "level3, indicator_id FROM findings ORDER BY id")
REVIEWS = ("SELECT form_id, rule_sets, indicator_count, quantified_count, quantified_share, groups_required, "
           "groups_covered, groups_missing FROM form_reviews ORDER BY form_id")


def _table(engine: Engine, sql: str) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        return [tuple(r) for r in connection.execute(text(sql))]


def _import_one_by_one(engine: Engine, paths: list[Path]) -> None:
    for path in paths:  # one file at a time: a project's next year is reviewed again when its past arrives
        outcome = import_paths([path], engine).outcomes[0]
        assert outcome.status in ("loaded", "replaced"), (path, outcome.reason)


def _slow(monkeypatch: pytest.MonkeyPatch) -> None:
    """The importer as before: every form rebuilt from the database (no ``parsed``)."""
    monkeypatch.setattr(transaction, "review_imported",
                        lambda session, document, parsed, prepared=None: review_document(session, document))


def _count_fast(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Files the in-memory review handled (it did not hand them to the form-by-form review)."""
    handled: list[int] = []
    real: Callable[..., int | None] = batch.review_parsed

    def spy(*args: Any, **kwargs: Any) -> int | None:
        done = real(*args, **kwargs)
        if done is not None:
            handled.append(done)
        return done

    monkeypatch.setattr(batch, "review_parsed", spy)
    return handled


@pytest.mark.parametrize("order", ["forward", "backward"])
def test_the_in_memory_review_stores_what_the_form_by_form_review_stores(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, order: str) -> None:
    paths = FILES if order == "forward" else FILES[::-1]  # backward: later years first, re-reviewed later
    slow = connect(f"sqlite:///{tmp_path / 'slow.db'}")
    fast = connect(f"sqlite:///{tmp_path / 'fast.db'}")
    try:
        with monkeypatch.context() as m:
            _slow(m)
            _import_one_by_one(slow, paths)
        handled = _count_fast(monkeypatch)
        _import_one_by_one(fast, paths)
        assert len(handled) == len(paths)  # every file took the in-memory review
        found = _table(fast, FINDINGS)
        assert found == _table(slow, FINDINGS)  # same rows, same ids, same order
        assert _table(fast, REVIEWS) == _table(slow, REVIEWS)
        rules = {r[2] for r in found}
        # The review was not vacuous: across years, self-evaluations and money were all exercised.
        assert {"series.target_lowered", "measurability.placeholder"} <= rules, rules
        assert any(r.startswith("self_evaluation.") for r in rules), rules
        assert _table(fast, "SELECT count(*) FROM form_reviews") == _table(fast, "SELECT count(*) FROM forms")
        # What `goalforms review --rules` computes now from the store (every form rebuilt from the
        # database, stored nowhere) is what the import stored.
        with Session(fast) as session:
            shown = ("source_path", "form_ordinal", "rule_id", "severity", "message", "subject", "field", "position",
                     "level3", "indicator_id")
            stored = sorted(tuple(r[k] for k in shown) for r in findings(session, FindingFilter()))
            live = sorted(tuple(r[k] for k in shown) for r in live_findings(session, list(default_rule_sets())))
            assert stored == live and stored
    finally:
        slow.dispose()
        fast.dispose()


def test_every_form_built_from_the_parse_is_the_form_read_back_from_the_database(tmp_path: Path) -> None:
    """Field by field, decimals' scale included (repr): header, budget, every row with its id,
    actual, weight and score, the funds' scores, the line-up with the year before."""
    engine = connect(f"sqlite:///{tmp_path / 'forms.db'}")
    try:
        _import_one_by_one(engine, FILES)
        compared = 0
        for path in FILES:
            doc = parse_file(path)
            with Session(engine) as session:
                document = find_by_path(session, str(path.resolve()))
                assert document is not None
                built = forms_of(session, document, doc)
                assert built is not None
                stored = [form_of(session, form) for form in document.forms]
                assert [repr(f) for f in built] == [repr(f) for f in stored], path
                compared += len(built)
        assert compared == len(_table(engine, "SELECT id FROM forms"))
    finally:
        engine.dispose()


def _assert_same_as_read_back(engine: Engine, path: Path) -> None:
    with Session(engine) as session:
        document = find_by_path(session, str(path.resolve()))
        assert document is not None
        built = forms_of(session, document, parse_file(path))
        assert built is not None
        assert [repr(f) for f in built] == [repr(form_of(session, form)) for form in document.forms]


def test_a_corrected_form_of_the_year_before_is_lined_up_as_corrected(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A form's previous year stored in another file and corrected there: the in-memory review
    lines the form up with the corrected copy (its corrections replayed), as form_of does."""
    engine = connect(f"sqlite:///{tmp_path / 'years.db'}")
    try:
        seed, old = copy_samples(tmp_path / "archive", SEED_2026, SEED_2020)
        _import_one_by_one(engine, [old, seed])
        with Session(engine) as session:
            rows = session.execute(text(
                "SELECT b.ordinal, b.indicator FROM (SELECT f.ordinal, f.project_name, f.unit, min(i.position) - 1 "
                "AS indicator FROM forms f JOIN source_documents d ON d.id = f.document_id JOIN indicators i "
                "ON i.form_id = f.id WHERE d.path = :old GROUP BY f.id) b JOIN forms a ON a.project_name = "
                "b.project_name AND a.unit = b.unit JOIN source_documents d ON d.id = a.document_id WHERE d.path = :seed "
                "ORDER BY b.ordinal"), {"old": str(old.resolve()), "seed": str(seed.resolve())}).all()
        assert rows  # projects of 2020 the 2026 file has again
        for ordinal, index in rows:  # every 2020 form of such a project: its first target changed
            record(engine, old, ordinal, Change(SET, f"indicators[{index}].raw", "≥1个"))
        seed.write_text(seed.read_text(encoding="utf-8") + "\n", encoding="utf-8")
        handled = _count_fast(monkeypatch)
        assert import_paths([seed], engine).outcomes[0].status == "replaced"
        assert handled  # the 2026 file itself has no correction: reviewed in memory
        _assert_same_as_read_back(engine, seed)
    finally:
        engine.dispose()


def test_a_file_with_corrections_has_them_replayed_and_reviewed_on_reimport(tmp_path: Path) -> None:
    engine = connect(f"sqlite:///{tmp_path / 'clerks.db'}")
    try:
        seed, old = copy_samples(tmp_path / "archive", SEED_2026, SEED_2020)
        _import_one_by_one(engine, [old, seed])
        placeholder = ("measurability.placeholder", 2)

        def of_form(ordinal: int) -> list[tuple[Any, ...]]:
            with Session(engine) as session:
                return [(r["rule_id"], r["position"]) for r in
                        findings(session, FindingFilter(path=str(seed.resolve()), ordinal=ordinal))]

        assert placeholder in of_form(3)  # 产品软件购置完成率 has no target
        record(engine, seed, 3, Change(SET, "indicators[1].raw", "=100%"))
        record(engine, seed, 6, Change(SET, "budget.current_year", "54800"))
        assert placeholder not in of_form(3)
        # The file changes (form 6's amount reads otherwise): the file's rows are replaced.
        lines = seed.read_text(encoding="utf-8").split("\n")
        assert lines[206].endswith("54,700.00\t")
        lines[206] = lines[206].replace("54,700.00", "55,000.00")
        seed.write_text("\n".join(lines), encoding="utf-8")
        outcome = import_paths([seed], engine).outcomes[0]
        assert outcome.status == "replaced"
        assert "1 correction(s) no longer apply" in outcome.reason and "budget.current_year" in outcome.reason
        assert placeholder not in of_form(3)  # the target the clerk filled in was replayed and reviewed
        with Session(engine) as session:
            applied = session.execute(text("SELECT c.applied FROM corrected_forms c JOIN forms f ON f.id = c.form_id "
                                           "JOIN source_documents d ON d.id = f.document_id "
                                           "WHERE d.path = :p AND f.ordinal = 3"), {"p": str(seed.resolve())}).all()
            assert applied == [(1,)]
        # The stored review is what reviewing the stored forms again gives.
        before = _table(engine, FINDINGS.replace("id, form_id", "form_id"))
        with Session(engine) as session, session.begin():
            document = find_by_path(session, str(seed.resolve()))
            assert document is not None
            review_document(session, document)
        assert sorted(_table(engine, FINDINGS.replace("id, form_id", "form_id"))) == sorted(before)
    finally:
        engine.dispose()


# --- the two steps: before the transaction (no database), in it -------------------------------------


def _no_database(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any way to the database fails the test: a new connection (either driver, an engine) or a
    statement on one already open."""
    def refused(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the step before the transaction touched the database")

    import sqlite3

    import psycopg
    from sqlalchemy.engine import Connection, Engine

    monkeypatch.setattr(sqlite3, "connect", refused)
    monkeypatch.setattr(psycopg, "connect", refused)
    for name in ("connect", "begin", "raw_connection"):
        monkeypatch.setattr(Engine, name, refused)
    for name in ("execute", "exec_driver_sql", "scalar", "scalars"):
        monkeypatch.setattr(Connection, name, refused)
    for name in ("execute", "scalar", "scalars", "get", "flush", "connection"):
        monkeypatch.setattr(Session, name, refused)


def _prepared_without_database(monkeypatch: pytest.MonkeyPatch, paths: list[Path]) -> dict[str, batch.PreparedReview]:
    """prepare_review of every file, under _no_database, by content hash."""
    docs = [parse_file(path) for path in paths]
    with monkeypatch.context() as m:
        _no_database(m)
        prepared = {doc.source.sha256: batch.prepare_review(doc) for doc in docs}
    assert [len(prepared[doc.source.sha256].forms) for doc in docs] == [len(doc.forms) for doc in docs]
    return prepared


def test_the_step_before_the_transaction_needs_no_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """prepare_review runs with no engine, session or connection anywhere (every way to one fails),
    and what it made, finished in the file's transaction, stores the findings and scorecards of the
    form-by-form review (ids included), on files whose projects have other years in other files."""
    prepared = _prepared_without_database(monkeypatch, FILES)
    assert len(prepared) == len(FILES)
    assert any(found for p in prepared.values() for f in p.forms for found in f.found)
    # The trap works: the same call on a session is refused.
    with monkeypatch.context() as m, pytest.raises(AssertionError, match="touched the database"):
        _no_database(m)
        connect(f"sqlite:///{tmp_path / 'trap.db'}")
    used: list[str] = []

    def handed_over(doc: Any) -> batch.PreparedReview:
        used.append(doc.source.sha256)
        return prepared[doc.source.sha256]

    slow = connect(f"sqlite:///{tmp_path / 'slow.db'}")
    fast = connect(f"sqlite:///{tmp_path / 'fast.db'}")
    try:
        with monkeypatch.context() as m:
            _slow(m)
            _import_one_by_one(slow, FILES[::-1])
        handled = _count_fast(monkeypatch)
        monkeypatch.setattr(transaction, "prepare_review", handed_over)
        _import_one_by_one(fast, FILES[::-1])
        assert sorted(used) == sorted(prepared) and len(handled) == len(FILES)
        found = _table(fast, FINDINGS)
        assert found == _table(slow, FINDINGS) and found
        assert {"series.target_lowered", "series.dropped_last_quantified"} & {r[2] for r in found}
        assert _table(fast, REVIEWS) == _table(slow, REVIEWS)
    finally:
        slow.dispose()
        fast.dispose()


def test_only_the_series_rules_wait_for_the_transaction(tmp_path: Path) -> None:
    """Every check that is run before the transaction (not in SERIES_CHECKS) finds the same on a
    form whether its series (other files' rows), form id and row ids are known or not: on every
    stored sample form, lined up with its year before."""
    from goalforms.pipeline.review.checks import CHECKS, INDICATOR, SERIES_CHECKS
    from goalforms.pipeline.review.rules import reads_series

    engine = connect(f"sqlite:///{tmp_path / 'years.db'}")
    try:
        _import_one_by_one(engine, FILES)
        shipped = {rule.check: rule.params for s in default_rule_sets() for rule in s.rules}
        assert {rule.check for s in default_rule_sets() for rule in s.rules if reads_series(rule)} == SERIES_CHECKS
        with_series = 0
        for path in FILES:
            with Session(engine) as session:
                document = find_by_path(session, str(path.resolve()))
                assert document is not None
                built = forms_of(session, document, parse_file(path))
            assert built is not None
            for form in built:
                with_series += bool(form.series)
                bare = form_of_parse_only(form)
                for name, check in CHECKS.items():
                    if name in SERIES_CHECKS:
                        continue
                    params = {**check.params, **shipped.get(name, {})}
                    if check.level == INDICATOR:
                        got = [check.function(form, i, params) for i in form.indicators]
                        bare_got = [check.function(bare, i, params) for i in bare.indicators]
                    else:
                        got = [(h.subject, h.field, h.values, h.indicator and h.indicator.position)
                               for h in check.function(form, params)]
                        bare_got = [(h.subject, h.field, h.values, h.indicator and h.indicator.position)
                                    for h in check.function(bare, params)]
                    assert got == bare_got, (path, name)
        assert with_series  # some forms had a year before
    finally:
        engine.dispose()


def form_of_parse_only(form: Any) -> Any:
    """The form as the step before the transaction has it: no series, no ids."""
    import copy

    bare = copy.deepcopy(form)
    bare.series, bare.form_id = None, None
    for row in bare.indicators:
        row.indicator_id = None
    return bare


@pytest.mark.pg
def test_the_two_steps_on_postgresql_store_what_the_form_by_form_review_stores(
        pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The reads of the transaction go through the driver's own cursor (its parameter style):
    PostgreSQL stores the findings (ids included) and scorecards the form-by-form review stores."""
    slow = connect(f"sqlite:///{tmp_path / 'slow.db'}")
    fast = connect(pg_url)
    try:
        with monkeypatch.context() as m:
            _slow(m)
            _import_one_by_one(slow, FILES[::-1])
        handled = _count_fast(monkeypatch)
        _import_one_by_one(fast, FILES[::-1])
        assert len(handled) == len(FILES)
        assert _table(fast, FINDINGS) == _table(slow, FINDINGS)
        assert _table(fast, REVIEWS) == _table(slow, REVIEWS)
    finally:
        slow.dispose()
        fast.dispose()


def test_row_ids_that_do_not_follow_the_positions_are_read_row_by_row(tmp_path: Path) -> None:
    """The ids of a file's rows come from one row per form when they follow the positions (rows
    inserted in order); a form whose ids do not (here: two rows' ids swapped, one row's moved far)
    has them read row by row — the same ids as one row per indicator gives."""
    engine = connect(f"sqlite:///{tmp_path / 'ids.db'}")
    per_row = ("SELECT f.id, f.ordinal, i.id FROM forms f JOIN indicators i ON i.form_id = f.id "
               "JOIN source_documents d ON d.id = f.document_id WHERE d.path = :p ORDER BY f.ordinal, i.position")
    try:
        path = FILES[0]
        _import_one_by_one(engine, [path])
        with Session(engine) as session, session.begin():
            forms = session.execute(text("SELECT f.id FROM forms f ORDER BY f.ordinal")).scalars().all()
            first, second = forms[0], forms[1]
            a, b = session.execute(text("SELECT id FROM indicators WHERE form_id = :f ORDER BY position LIMIT 2"),
                                   {"f": first}).scalars().all()
            for old, new in ((a, -1), (b, a), (-1, b)):
                session.execute(text("UPDATE indicators SET id = :new WHERE id = :old"), {"new": new, "old": old})
            session.execute(text("UPDATE indicators SET id = 100000 WHERE form_id = :f AND position = 3"), {"f": second})
        with Session(engine) as session:
            document = find_by_path(session, str(path.resolve()))
            assert document is not None
            corrected, stored = batch._stored_ids(session, document)
            expected: dict[tuple[int, int], list[int]] = {}
            for fid, ordinal, ident in session.execute(text(per_row), {"p": document.path}):
                expected.setdefault((fid, ordinal), []).append(ident)
        assert not corrected
        assert {(fid, ordinal): ids for fid, ordinal, ids in stored} == expected
        assert 100000 in expected[(second, 2)] and expected[(first, 1)][:2] == [b, a]
    finally:
        engine.dispose()
