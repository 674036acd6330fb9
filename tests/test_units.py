"""Users limited to units (docs/security.md): a limited user sees, changes, exports and queries
only the forms of their units — in the web app (queue, facets, form pages, source pages,
corrections, issues, undo) and in the clerk commands run ``--user`` them — through one
goalforms.pipeline.scope.Scope; another unit's form is a 404, as if it did not exist."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
import typer
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from goalforms.pipeline import cli_clerk, users
from goalforms.pipeline import corrections as corr
from goalforms.pipeline.corrections import SET, Change
from goalforms.pipeline.scope import Scope
from goalforms.pipeline.web import create_app
from goalforms.schema.db import connect
from tests.conftest import SAMPLES
from tests.test_corrections import SEED_003, SEED_2026, copy_samples, reimport, rows
from tests.test_web import _unescape, edit, form_page, login

UNIT_A = "上海市社会保险事业管理中心"  # the 9 forms of the 2026 seed
UNIT_B = "上海市普陀区社会保障管理服务中心"  # the 3 forms of 003 (text and PDF)


@dataclass
class Site:
    url: str
    engine: Engine
    app: Any
    seed: Path  # unit A
    damaged: Path  # unit B
    pdf: Path  # unit B

    def client(self) -> TestClient:
        return TestClient(self.app, base_url="http://127.0.0.1")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Site:
    folder = tmp_path_factory.mktemp("units")
    url = f"sqlite:///{folder / 'units.db'}"
    engine = connect(url)
    seed, damaged = copy_samples(folder / "archive", SEED_2026, SEED_003)
    pdf = Path(shutil.copy(SAMPLES / "pdf" / "003_cca29bee0b231de8.pdf", folder / "archive"))
    reimport(engine, [seed, damaged, pdf])
    with Session(engine) as session, session.begin():
        users.add_user(session, "alice", "clerk", "alice's password")  # every unit
        users.add_user(session, "anna", "clerk", "anna's password", [UNIT_A])
        users.add_user(session, "bert", "analyst", "bert's password", [UNIT_B])
        users.add_user(session, "carl", "clerk", "carl's password", [UNIT_A, UNIT_B])
    engine.dispose()
    return Site(url, engine, None, seed, damaged, pdf)


@pytest.fixture
def site(template: Site, tmp_path: Path) -> Iterator[Site]:
    database = tmp_path / "units.db"
    shutil.copy(template.url.removeprefix("sqlite:///"), database)
    url = f"sqlite:///{database}"
    engine = connect(url)
    yield replace(template, url=url, engine=engine, app=create_app(engine, "s" * 48))
    engine.dispose()


def queue_names(html: str) -> list[str]:
    return re.findall(r'class="form-link" href="[^"]+">([^<]+)</a>', html)


def correction_count(site: Site) -> int:
    return int(rows(site.url, "SELECT COUNT(*) FROM corrections")[0][0])


def cli() -> typer.Typer:
    app = typer.Typer()
    cli_clerk.register(app)
    return app


# --- the web app ----------------------------------------------------------------------------------


def test_the_queue_shows_only_the_users_units_counts_and_filters_included(site: Site) -> None:
    anna = site.client()
    login(anna, "anna")
    queue = anna.get("/")
    assert "9 forms" in queue.text and UNIT_B not in queue.text
    assert "征地养老费用" not in queue.text and "社会保险经办业务费" in queue.text
    assert queue_names(anna.get("/", params={"unit": UNIT_B}).text) == []  # asking for B shows nothing
    assert "No form matches." in anna.get("/", params={"q": "医药费报销"}).text
    assert str(site.damaged.resolve()) not in queue.text  # not even the file name in the filters
    bert = site.client()
    login(bert, "bert")
    assert set(queue_names(bert.get("/").text)) == {"社管中心工伤异地调查、劳动能力鉴定费用", "征地养老费用",
                                                    "征地养老医药费报销管理系统"}
    assert "6 forms" in bert.get("/").text
    carl, alice = site.client(), site.client()
    login(carl, "carl")
    login(alice, "alice")
    assert "15 forms" in carl.get("/").text and "15 forms" in alice.get("/").text


def test_another_units_form_is_not_found(site: Site) -> None:
    anna = site.client()
    login(anna, "anna")
    assert form_page(anna, site.seed, 3).status_code == 200
    for path, n in ((site.damaged, 3), (site.pdf, 2)):
        response = form_page(anna, path, n)
        assert response.status_code == 404 and "no form" in response.text
        assert "征地养老" not in response.text
    # The same answer as for a form that does not exist at all.
    assert form_page(anna, site.damaged, 3).text == form_page(anna, site.damaged, 99).text.replace("form 99", "form 3")


def test_source_pages_of_another_unit_are_not_served(site: Site) -> None:
    bert = site.client()
    login(bert, "bert")
    page = form_page(bert, site.pdf, 2)
    image = re.search(r'<img src="([^"]+)"', page.text)
    assert page.status_code == 200 and image is not None
    url = _unescape(image.group(1))
    assert bert.get(url).status_code == 200
    doc = re.search(r"doc=(\d+)", url)
    assert doc is not None
    anna = site.client()
    login(anna, "anna")
    assert anna.get(url).status_code == 404
    # Nor a page of the file outside the form's own pages (form 1 ends where form 2 begins).
    starts = dict(rows(site.url, f"SELECT ordinal, source_location FROM forms WHERE document_id = {doc.group(1)}"))
    second = int(re.findall(r"page (\d+)", starts[2])[0])
    assert int(re.findall(r"page (\d+)", starts[3])[0]) > second
    own = {"doc": doc.group(1), "n": 1}
    assert bert.get("/source/page", params={**own, "page": second}).status_code == 200
    assert bert.get("/source/page", params={**own, "page": second + 1}).status_code == 404
    assert bert.get("/source/page", params={**own, "page": 99}).status_code == 404


def test_a_limited_clerk_cannot_change_another_units_form(site: Site) -> None:
    anna = site.client()
    csrf = login(anna, "anna")
    path = str(site.damaged.resolve())
    base = {"csrf_token": csrf, "path": path, "n": "3"}
    issue = rows(site.url, f"SELECT issue_id FROM v_issues WHERE source_path = '{path}' AND form_ordinal = 3")[0][0]
    attacks = {
        "/form/save": {**base, "v:header.project_name": "改了", "o:header.project_name": "征地养老医药费报销管理系统"},
        "/form/add-row": {**base, "level1": "产出指标", "level2": "数量指标", "level3": "x", "raw": "=1"},
        "/form/row": {**base, "op": "delete:indicators[0]"},
        "/form/resolve": {**base, "issue_id": str(issue), "note": "x"},
        "/form/resolve-all": {**base, "note": "x"},
    }
    for route, data in attacks.items():
        response = anna.post(route, data=data, follow_redirects=False)
        assert response.status_code == 404, route
    assert correction_count(site) == 0
    # Its own unit's forms: as any clerk.
    saved = edit(anna, csrf, site.seed, 3, **{"indicators[1].raw": "=100.00(%)"})
    assert saved.status_code == 200 and "saved 1 correction(s)" in saved.text
    assert correction_count(site) == 1


def test_corrections_and_undo_stay_within_the_units(site: Site) -> None:
    alice = site.client()
    csrf = login(alice)
    edit(alice, csrf, site.damaged, 3, **{"header.plan_end": "2020-12-31"})
    edit(alice, csrf, site.seed, 3, **{"indicators[1].raw": "=100.00(%)"})
    b_fix = rows(site.url, "SELECT id FROM corrections WHERE field = 'header.plan_end'")[0][0]
    a_fix = rows(site.url, "SELECT id FROM corrections WHERE field = 'indicators[1].raw'")[0][0]
    anna = site.client()
    csrf = login(anna, "anna")
    listed = anna.get("/corrections")
    assert "indicators[1].raw" in listed.text and "header.plan_end" not in listed.text
    assert "2020-12-31" not in listed.text
    refused = anna.post("/form/undo", data={"csrf_token": csrf, "correction": str(b_fix)}, follow_redirects=False)
    assert refused.status_code == 404
    assert rows(site.url, f"SELECT status FROM corrections WHERE id = {b_fix}") == [("active",)]
    anna.post("/form/undo", data={"csrf_token": csrf, "correction": str(a_fix)})
    assert rows(site.url, f"SELECT status FROM corrections WHERE id = {a_fix}") == [("undone",)]


def test_a_limited_clerk_cannot_hand_a_form_to_another_unit(site: Site) -> None:
    anna = site.client()
    csrf = login(anna, "anna")
    response = edit(anna, csrf, site.seed, 9, **{"header.unit": UNIT_B})
    assert response.status_code == 400 and "is not one of your units" in response.text
    assert correction_count(site) == 0
    carl = site.client()  # limited to both: may move it between them
    csrf = login(carl, "carl")
    assert "saved 1 correction(s)" in edit(carl, csrf, site.seed, 9, **{"header.unit": UNIT_B}).text
    # The unit is the corrected one: form 9 of the seed is now B's, though its file is A's.
    assert form_page(anna, site.seed, 9).status_code == 404
    siblings = form_page(anna, site.seed, 8).text
    assert "社保档案资料管理费" not in siblings  # form 9's name, not even in the list of the file's forms
    bert = site.client()
    login(bert, "bert")
    assert form_page(bert, site.seed, 9).status_code == 200
    assert "7 forms" in bert.get("/").text


def test_the_account_page_names_the_users_units(site: Site) -> None:
    anna, alice = site.client(), site.client()
    login(anna, "anna")
    login(alice)
    assert UNIT_A in anna.get("/account").text and UNIT_B not in anna.get("/account").text
    assert "Forms of every unit." in alice.get("/account").text


# --- the library and the clerk commands ------------------------------------------------------------


def test_the_scope_of_a_user_without_units_is_everything_and_an_empty_limit_is_nothing(site: Site) -> None:
    with Session(site.engine) as session:
        alice, anna = users.find_user(session, "alice"), users.find_user(session, "anna")
        assert alice is not None and anna is not None
        assert not Scope.for_user(session, alice).limited
        assert Scope.for_user(session, anna).units == {UNIT_A}
        assert len(corr.open_issues(session, scope=Scope.for_user(session, alice))) == len(corr.open_issues(session))
        assert corr.open_issues(session, scope=Scope.of_units([])) == []
        assert {i.org_unit for i in corr.open_issues(session, scope=Scope.for_user(session, anna))} == {UNIT_A}
        with pytest.raises(corr.NotFound):
            corr.record(session, str(site.damaged.resolve()), 3, [Change(SET, "header.goal", "x")], "anna",
                        scope=Scope.for_user(session, anna))


def test_clerk_commands_run_as_a_user_see_and_change_only_their_units(site: Site, tmp_path: Path) -> None:
    runner = CliRunner()
    listed = runner.invoke(cli(), ["issues", "--db", site.url, "--user", "anna", "--format", "json"])
    assert listed.exit_code == 0, listed.output
    assert {i["org_unit"] for i in json.loads(listed.output)} == {UNIT_A}
    everything = runner.invoke(cli(), ["issues", "--db", site.url, "--format", "json"])
    assert {i["org_unit"] for i in json.loads(everything.output)} == {UNIT_A, UNIT_B}
    sheet = tmp_path / "fixes.csv"
    sheet.write_text("path,form,action,field,level3,old_value,new_value,note\n"
                     f"{site.seed},3,set,indicators[1].raw,产品软件购置完成率,,=100.00(%),signed copy\n"
                     f"{site.damaged},3,set,header.plan_end,,,2020-12-31,signed copy\n", encoding="utf-8")
    refused = runner.invoke(cli(), ["corrections", "apply", str(sheet), "--db", site.url, "--user", "anna"])
    assert refused.exit_code == 1 and "row 2: no form 3 in" in refused.output and "row 1" not in refused.output
    assert correction_count(site) == 0
    applied = runner.invoke(cli(), ["corrections", "apply", str(sheet), "--db", site.url, "--user", "carl"])
    assert applied.exit_code == 0, applied.output
    assert rows(site.url, "SELECT DISTINCT author FROM corrections") == [("carl",)]
    exported = runner.invoke(cli(), ["corrections", "export", "--db", site.url, "--user", "bert", "--format", "json"])
    assert [c["field"] for c in json.loads(exported.output)] == ["header.plan_end"]
    a_fix = rows(site.url, "SELECT id FROM corrections WHERE field = 'indicators[1].raw'")[0][0]
    undo = runner.invoke(cli(), ["corrections", "undo", str(a_fix), "--db", site.url, "--user", "bert"])
    assert undo.exit_code == 1 and f"error: no correction {a_fix}" in undo.output
    unknown = runner.invoke(cli(), ["issues", "--db", site.url, "--user", "nobody"])
    assert unknown.exit_code == 1 and "error: no user 'nobody'" in unknown.output


def test_user_units_are_added_removed_and_listed(site: Site) -> None:
    runner = CliRunner()

    def run(*words: str, stdin: str | None = None) -> Any:
        return runner.invoke(cli(), [*words, "--db", site.url], input=stdin)

    added = run("user", "add", "dora", "--role", "clerk", "--unit", UNIT_A, "--unit", UNIT_B, stdin="dora's pass\n")
    assert added.exit_code == 0 and f"units: {UNIT_A}, {UNIT_B}" in added.output
    assert f"dora: units: {UNIT_A}\n" == run("user", "units", "dora", "--remove", UNIT_B).output
    last = run("user", "units", "dora", "--remove", UNIT_A)
    assert last.exit_code == 1 and "would let them see every unit's forms" in last.output
    assert run("user", "units", "dora", "--remove", "某某单位").exit_code == 1
    assert f"dora: units: {', '.join(sorted([UNIT_A, UNIT_B]))}\n" == run("user", "units", "dora", "--add", UNIT_B).output
    assert run("user", "units", "dora", "--all-units").output == "dora: every unit\n"
    listed = run("user", "list").output
    assert "dora\tclerk" in listed and "anna\tclerk\t" in listed and f"units: {UNIT_A}" in listed
    assert run("user", "units", "nobody", "--add", UNIT_A).exit_code == 1
    for words in (["user", "units"], ["user", "remove"], ["issues"], ["corrections", "apply"]):
        shown = runner.invoke(cli(), [*words, "--help"])
        assert shown.exit_code == 0 and "--db" in shown.output, words
    assert "--user" in runner.invoke(cli(), ["corrections", "export", "--help"]).output


def test_a_change_of_units_applies_at_the_next_request(site: Site) -> None:
    anna = site.client()
    login(anna, "anna")
    assert form_page(anna, site.damaged, 3).status_code == 404
    assert CliRunner().invoke(cli(), ["user", "units", "anna", "--add", UNIT_B, "--db", site.url]).exit_code == 0
    assert form_page(anna, site.damaged, 3).status_code == 200  # no new login needed: read on every request
    assert CliRunner().invoke(cli(), ["user", "units", "anna", "--remove", UNIT_B, "--db", site.url]).exit_code == 0
    assert form_page(anna, site.damaged, 3).status_code == 404


def test_a_saved_cookie_records_no_correction_after_logout_or_a_password_change(site: Site) -> None:
    for end in ("logout", "passwd"):
        client = site.client()
        csrf = login(client, "anna")
        saved = TestClient(site.app, base_url="http://127.0.0.1", cookies=dict(client.cookies))
        if end == "logout":
            client.post("/logout", data={"csrf_token": csrf})
        else:
            result = CliRunner().invoke(cli(), ["user", "passwd", "anna", "--db", site.url], input="anna's password\n")
            assert result.exit_code == 0, result.output
        assert form_page(saved, site.seed, 3).url.path == "/login"
        response = saved.post("/form/save", data={"csrf_token": csrf, "path": str(site.seed.resolve()), "n": "3",
                                                  "v:indicators[1].raw": "=1%", "o:indicators[1].raw": ""},
                              follow_redirects=False)
        assert response.status_code == 303 and "/login" in response.headers["location"], end
    assert correction_count(site) == 0



def test_the_scope_on_postgresql(site: Site, pg_url: str) -> None:
    engine = connect(pg_url)
    try:
        reimport(engine, [site.seed, site.damaged])
        with Session(engine) as session, session.begin():
            anna = users.add_user(session, "anna", "clerk", "anna's password", [UNIT_A])
            scope = Scope.for_user(session, anna)
            for path in (site.seed, site.damaged):
                corr.record(session, str(path.resolve()), 3, [Change(SET, "header.goal", "改过的目标")], "alice")
            assert {i.org_unit for i in corr.open_issues(session, scope=scope)} == {UNIT_A}
            assert [c["path"] for c in corr.export_corrections(session, scope=scope)] == [str(site.seed.resolve())]
            assert corr.find_form(session, str(site.damaged.resolve()), 3, scope) is None
            assert corr.find_form(session, str(site.seed.resolve()), 3, scope) is not None
    finally:
        engine.dispose()


def test_every_route_that_shows_or_changes_forms_goes_through_the_scope(site: Site) -> None:
    """A new page cannot forget the units: every route but logging in and out and the account's
    own pages depends on the Scope."""
    from goalforms.pipeline.web.app import scope_of
    from tests.test_web import _routes

    def calls(dependant: Any) -> Iterator[Any]:
        for inner in dependant.dependencies:
            yield inner.call
            yield from calls(inner)

    own = {"/login", "/logout", "/account", "/account/password"}
    checked = []
    for route in _routes(site.app.routes):
        if not hasattr(route, "dependant") or route.path in own:
            continue
        assert scope_of in set(calls(route.dependant)), route.path
        checked.append(route.path)
    assert {"/", "/corrections", "/form", "/form/save", "/form/undo", "/source/page"} <= set(checked)
