"""The clerks' web app through FastAPI's TestClient: login, roles, CSRF on every state-changing
route, escaping, the queue, the form page beside its source, and edits recorded as corrections."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from goalforms.pipeline import users
from goalforms.pipeline.web import create_app
from goalforms.schema.db import connect
from tests.conftest import SAMPLES
from tests.test_corrections import (
    SEED_003,
    SEED_2026,
    copy_samples,
    indicator,
    open_issue_count,
    reimport,
    rows,
)

SCRIPT_TARGET = "<script>window.__xss = 1</script>"


@dataclass
class Site:
    url: str
    engine: Engine
    app: Any
    seed: Path
    damaged: Path
    docx: Path
    pdf: Path
    hostile: Path  # a copy of the 2026 seed with a <script> in a target cell

    def client(self) -> TestClient:
        return TestClient(self.app, base_url="http://127.0.0.1")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Site:
    """An archive and a database with it imported and two users, made once (parsing a PDF is slow);
    each test gets a copy of the database."""
    folder = tmp_path_factory.mktemp("web")
    url = f"sqlite:///{folder / 'web.db'}"
    engine = connect(url)
    archive = folder / "archive"
    seed, damaged = copy_samples(archive, SEED_2026, SEED_003)
    docx = Path(shutil.copy(SAMPLES / "docx" / "003_cca29bee0b231de8.docx", archive))
    pdf = Path(shutil.copy(SAMPLES / "pdf" / "003_cca29bee0b231de8.pdf", archive))
    hostile = archive / "hostile" / SEED_2026
    hostile.parent.mkdir()
    lines = seed.read_text(encoding="utf-8").split("\n")
    assert lines[121].endswith("\t=100.00(%)\t\t\t")  # 应用软件开发计划完成率 of form 3
    lines[121] = lines[121].replace("=100.00(%)", SCRIPT_TARGET)
    hostile.write_text("\n".join(lines), encoding="utf-8")
    reimport(engine, [seed, damaged, docx, pdf, hostile])
    with Session(engine) as session, session.begin():
        users.add_user(session, "alice", "clerk", "alice's password")
        users.add_user(session, "bob", "analyst", "bob's password")
    engine.dispose()
    return Site(url, engine, None, seed, damaged, docx, pdf, hostile)


@pytest.fixture
def site(template: Site, tmp_path: Path) -> Iterator[Site]:
    database = tmp_path / "web.db"
    shutil.copy(str(template.url.removeprefix("sqlite:///")), database)
    url = f"sqlite:///{database}"
    engine = connect(url)
    yield replace(template, url=url, engine=engine, app=create_app(engine, "s" * 48))
    engine.dispose()


def token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None, "no CSRF token on the page"
    return found.group(1)


def login(client: TestClient, name: str = "alice", password: str | None = None) -> str:
    """Log in; returns the session's CSRF token."""
    page = client.get("/login")
    response = client.post("/login", data={"name": name, "password": password or f"{name}'s password",
                                           "csrf_token": token(page.text), "next": "/"})
    assert response.status_code == 200 and response.url.path == "/", response.text[:500]
    return token(response.text)


def form_page(client: TestClient, path: Path, ordinal: int, **params: Any) -> Any:
    return client.get("/form", params={"path": str(path.resolve()), "n": ordinal, **params})


def edit(client: TestClient, csrf: str, path: Path, ordinal: int, **fields: str) -> Any:
    """Submit the form page's edit form as shown, with ``fields`` (field path → typed text) changed."""
    page = form_page(client, path, ordinal)
    data = dict(re.findall(r'name="([vo]:[^"]+)" value="([^"]*)"', page.text))
    data = {k: _unescape(v) for k, v in data.items()}
    for path_, text in fields.items():
        data[f"v:{path_}"] = text
    data.update({"csrf_token": csrf, "path": str(path.resolve()), "n": str(ordinal)})
    return client.post("/form/save", data=data)


def _unescape(text: str) -> str:
    return (text.replace("&#34;", '"').replace("&#39;", "'").replace("&lt;", "<").replace("&gt;", ">")
            .replace("&amp;", "&"))


def correction_count(site: Site) -> int:
    return rows(site.url, "SELECT COUNT(*) FROM corrections")[0][0]


# --- who may do what ------------------------------------------------------------------------------


def test_every_page_needs_a_login(site: Site) -> None:
    client = site.client()
    for url in ("/", "/corrections", f"/form?path={site.seed}&n=3", "/source/page?doc=1&page=1"):
        response = client.get(url, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("http://127.0.0.1/login?next=")
    page = client.get("/login")
    wrong = client.post("/login", data={"name": "alice", "password": "nope", "csrf_token": token(page.text)})
    assert wrong.status_code == 401 and "wrong name or password" in wrong.text
    unknown = client.post("/login", data={"name": "mallory", "password": "nope", "csrf_token": token(page.text)})
    assert unknown.status_code == 401 and "wrong name or password" in unknown.text


def test_login_goes_back_only_to_this_site(site: Site) -> None:
    client = site.client()
    page = client.get("/login")
    for target, landed in (("//evil.example/x", "/"), ("https://evil.example/", "/"), ("/corrections", "/corrections")):
        client.cookies.clear()
        page = client.get("/login")
        response = client.post("/login", data={"name": "alice", "password": "alice's password",
                                               "csrf_token": token(page.text), "next": target}, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == landed


def _routes(routes: list[Any]) -> Iterator[Any]:
    for route in routes:
        inner = getattr(route, "original_router", None)  # newer FastAPI wraps included routers
        yield from _routes(inner.routes) if inner is not None else [route]


def _post_routes(site: Site) -> list[str]:
    found = sorted({route.path for route in _routes(site.app.routes) if "POST" in getattr(route, "methods", set())})
    assert found == ["/account/password", "/form/accept-finding", "/form/add-row", "/form/reopen-finding",
                     "/form/resolve", "/form/resolve-all", "/form/row", "/form/save", "/form/undo", "/login", "/logout"]
    return found


def _fingerprint(site: Site) -> tuple[Any, ...]:
    return (rows(site.url, "SELECT COUNT(*) FROM corrections"), rows(site.url, "SELECT COUNT(*) FROM users"),
            rows(site.url, "SELECT * FROM v_indicators ORDER BY indicator_id"),
            rows(site.url, "SELECT * FROM v_issues ORDER BY issue_id"),
            rows(site.url, "SELECT COUNT(*) FROM finding_acceptances"))


def _attack(site: Site) -> dict[str, str]:
    """Form data that would change things, were it accepted."""
    return {"path": str(site.seed.resolve()), "n": "3", "v:indicators[1].raw": "=1%", "o:indicators[1].raw": "",
            "op": "delete:indicators[0]", "level3": "intruder", "issue_id": "1", "note": "x", "correction": "1",
            "name": "alice", "password": "alice's password", "finding": "1"}


def test_an_unauthenticated_request_cannot_change_anything(site: Site) -> None:
    before = _fingerprint(site)
    for route in _post_routes(site):
        # No session at all: refused by the CSRF check, whatever the route.
        anonymous = site.client()
        response = anonymous.post(route, data=_attack(site), follow_redirects=False)
        assert response.status_code == 403, route
        assert "security token" in response.text
        # A session with a valid token (from the login page) but nobody logged in: sent to log in.
        visitor = site.client()
        csrf = token(visitor.get("/login").text)
        if route in ("/login", "/logout"):
            continue
        response = visitor.post(route, data={**_attack(site), "csrf_token": csrf}, follow_redirects=False)
        assert response.status_code == 303 and "/login" in response.headers["location"], route
    assert _fingerprint(site) == before


def test_a_clerk_needs_the_session_token_to_change_anything(site: Site) -> None:
    client = site.client()
    csrf = login(client)
    before = _fingerprint(site)
    for route in _post_routes(site):
        if route == "/login":
            continue
        for wrong in ({}, {"csrf_token": "forged"}, {"csrf_token": csrf[:-1]}):
            response = client.post(route, data={**_attack(site), **wrong}, follow_redirects=False)
            assert response.status_code == 403, (route, wrong)
    assert _fingerprint(site) == before
    assert client.get("/").status_code == 200  # still logged in: the refused logout did nothing either


def test_an_analyst_may_read_but_not_change(site: Site) -> None:
    client = site.client()
    csrf = login(client, "bob")
    page = form_page(client, site.seed, 3)
    assert page.status_code == 200 and "产品软件购置完成率" in page.text
    assert 'name="v:' not in page.text and "Resolve" not in page.text and "Save changes" not in page.text
    before = _fingerprint(site)
    for route in _post_routes(site):
        if route in ("/login", "/logout", "/account/password"):  # anyone may change their own password
            continue
        response = client.post(route, data={**_attack(site), "csrf_token": csrf}, follow_redirects=False)
        assert response.status_code == 403 and "analysts may read" in response.text, route
    assert _fingerprint(site) == before


def test_pages_carry_a_strict_content_security_policy_and_a_safe_cookie(site: Site) -> None:
    client = site.client()
    page = client.get("/login")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "'unsafe-inline'" not in page.headers["content-security-policy"]
    cookie = page.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie


# --- document text is text ------------------------------------------------------------------------


def test_document_text_is_escaped_never_rendered(site: Site) -> None:
    client = site.client()
    login(client)
    page = form_page(client, site.hostile, 3)
    assert page.status_code == 200
    assert "<script>window" not in page.text
    assert "&lt;script&gt;window.__xss = 1&lt;/script&gt;" in page.text  # in the target's input and the source line
    assert page.text.count("<script") == 1  # the app's own script file, nothing else
    form2 = form_page(client, site.seed, 2)
    assert "&lt;p&gt;1.委托第三方专业机构" in form2.text and "<p>1.委托" not in form2.text
    queue = client.get("/", params={"q": "<b>"})
    assert "&lt;b&gt;" in queue.text and 'value="<b>"' not in queue.text


# --- the queue ------------------------------------------------------------------------------------


def test_queue_puts_forms_with_open_issues_first_and_filters_with_counts(site: Site) -> None:
    client = site.client()
    login(client)
    queue = client.get("/")
    names = re.findall(r'class="form-link" href="[^"]+">([^<]+)</a>', queue.text)
    flagged = [name for name, cls in zip(names, re.findall(r'<tr class="(has-issues|clean)">', queue.text),
                                         strict=True) if cls == "has-issues"]
    assert names[:len(flagged)] == flagged and len(flagged) < len(names)
    assert f"{9 + 9 + 3 + 3 + 3} forms" in queue.text  # the seed and its hostile copy, three files of 3 forms
    by_code = client.get("/", params={"code": "missing_target"})
    assert re.findall(r'class="form-link" href="[^"]+">([^<]+)</a>', by_code.text) == [
        "信息化建设项目", "办公用房修缮及装修经费", "信息化建设项目", "办公用房修缮及装修经费"]
    assert "missing_target (4 in 4 forms)" in by_code.text
    one_file = client.get("/", params={"code": "missing_target", "file": str(site.seed.resolve())})
    assert len(re.findall(r'class="form-link"', one_file.text)) == 2
    assert ">2020 (" in client.get("/", params={"year": "2020"}).text
    search = client.get("/", params={"q": "信息化", "year": "2026"})
    assert set(re.findall(r'class="form-link" href="[^"]+">([^<]+)</a>', search.text)) == {"信息化建设项目", "信息化运维项目"}
    assert "No form matches." in client.get("/", params={"q": "没有这个项目"}).text


# --- the form page and edits ----------------------------------------------------------------------


def test_a_clerk_fills_a_target_resolves_the_issue_and_undoes(site: Site) -> None:
    client = site.client()
    csrf = login(client)
    page = form_page(client, site.seed, 3)
    assert "missing_target" in page.text and 'id="L121" data-loc="line 121" class="flag"' in page.text
    saved = edit(client, csrf, site.seed, 3, **{"indicators[1].raw": "=100.00(%)"})
    assert saved.status_code == 200 and "saved 1 correction(s)" in saved.text
    assert "corrected" in saved.text and "parsed: <q></q>" in saved.text
    assert indicator(site.url, site.seed, 3, "产品软件购置完成率")[3:8] == ("=100.00(%)", "numeric", "=", "100", "%")
    issue_id = re.search(r'name="issue_id" value="(\d+)"', saved.text)
    assert issue_id is not None
    refused = client.post("/form/resolve", data={"csrf_token": csrf, "path": str(site.seed.resolve()), "n": "3",
                                                 "issue_id": issue_id.group(1), "note": " "})
    assert "say in a note" in refused.text and open_issue_count(site.url, site.seed, 3) == 1
    resolved = client.post("/form/resolve", data={"csrf_token": csrf, "path": str(site.seed.resolve()), "n": "3",
                                                  "issue_id": issue_id.group(1), "note": "target from the signed copy"})
    assert "resolved missing_target" in resolved.text and "0 open issues" in resolved.text
    assert open_issue_count(site.url, site.seed, 3) == 0
    raw = form_page(client, site.seed, 3, raw=1)
    assert "raw parse" in raw.text and 'name="v:' not in raw.text and "1 open issues" in raw.text
    fix = rows(site.url, "SELECT id FROM corrections WHERE action = 'set'")[0][0]
    undone = client.post("/form/undo", data={"csrf_token": csrf, "correction": str(fix),
                                             "path": str(site.seed.resolve()), "n": "3"})
    assert f"undid correction {fix}" in undone.text
    assert indicator(site.url, site.seed, 3, "产品软件购置完成率")[3] == ""


def test_a_refused_save_says_why_keeps_the_typing_and_saves_nothing(site: Site) -> None:
    client = site.client()
    csrf = login(client)
    response = edit(client, csrf, site.seed, 6, **{"budget.total": "五万", "header.plan_end": "2026-02-30x",
                                                   "indicators[1].raw": "=100(%)"})
    assert response.status_code == 400
    assert "Not saved" in response.text and "nothing was changed" in response.text
    assert "&#39;五万&#39; is not an amount of money" in response.text
    assert "&#39;2026-02-30x&#39; is not a date" in response.text
    assert 'value="五万"' in response.text and 'value="=100(%)"' in response.text
    assert correction_count(site) == 0


def test_header_and_budget_edits_and_row_operations(site: Site) -> None:
    client = site.client()
    csrf = login(client)
    path = str(site.seed.resolve())
    edit(client, csrf, site.seed, 6, **{"budget.total": "54,700.00", "header.plan_end": "2026/6/30",
                                        "header.plan_start": "2026-01-01", "indicators[2].level2": "时效指标"})
    assert rows(site.url, f"SELECT total, plan_end FROM v_forms WHERE source_path = '{path}' AND form_ordinal = 6") == [
        ("54700", "2026-06-30")]
    moved = indicator(site.url, site.seed, 6, "检测验收合格率")
    assert moved[1:3] == ("产出指标", "时效指标") and moved[8] == "output.timeliness"
    assert rows(site.url, "SELECT action, field FROM corrections ORDER BY id") == [
        ("set", "header.plan_end"), ("set", "budget.total"), ("move", "indicators[2]")]
    base = {"csrf_token": csrf, "path": path, "n": "6"}
    client.post("/form/add-row", data={**base, "level1": "产出指标", "level2": "数量指标", "level3": "新增指标",
                                       "raw": "≥2 (个)", "after": "indicators[0]"})
    assert indicator(site.url, site.seed, 6, "新增指标")[0:8] == (2, "产出指标", "数量指标", "≥2 (个)", "numeric", "≥",
                                                                "2", "个")
    client.post("/form/row", data={**base, "op": "up:indicators[0]"})  # first row: nothing to do
    client.post("/form/row", data={**base, "op": "down:indicators[0]"})
    assert indicator(site.url, site.seed, 6, "户外招牌检测数")[0] == 2
    client.post("/form/row", data={**base, "op": "delete:indicators[0]"})
    assert not rows(site.url, "SELECT * FROM v_indicators WHERE level3 = '户外招牌检测数' "
                              f"AND source_path = '{path}'")
    page = form_page(client, site.seed, 6)
    assert "新增指标" in page.text and page.text.count('id="row-') == 11


def test_the_source_beside_the_form_for_text_word_and_pdf(site: Site) -> None:
    client = site.client()
    login(client)
    text = form_page(client, site.damaged, 3)
    assert 'id="L85"' in text.text and 'id="L84"' not in text.text  # the form's own lines
    assert "cells of this form lost their right part" in text.text
    word = form_page(client, site.docx, 3)
    assert "<caption>table 9</caption>" in word.text and 'data-loc="table 9, row 2"' in word.text
    pdf = form_page(client, site.pdf, 2)
    assert '<rect x="' in pdf.text and 'class="box flag"' in pdf.text
    image = re.search(r'<img src="([^"]+)"', pdf.text)
    assert image is not None
    png = client.get(_unescape(image.group(1)))
    assert png.status_code == 200 and png.headers["content-type"] == "image/png" and png.content[:4] == b"\x89PNG"
    assert client.get("/source/page", params={"doc": 9999, "n": 2, "page": 1}).status_code == 404
    assert form_page(client, site.seed, 99).status_code == 404


def test_the_source_file_gone_is_said_not_crashed(site: Site) -> None:
    client = site.client()
    login(client)
    moved = site.damaged.with_suffix(".moved")
    site.damaged.rename(moved)  # the archive is shared by the module's tests: put it back after
    try:
        page = form_page(client, site.damaged, 3)
    finally:
        moved.rename(site.damaged)
    assert page.status_code == 200 and "the source file cannot be read" in page.text


def test_serve_listens_on_this_machine_only_by_default_and_keeps_its_secret_beside_the_database(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import typer
    import uvicorn
    from typer.testing import CliRunner

    from goalforms.pipeline import cli_clerk
    from goalforms.pipeline.web import load_secret

    started: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: started.update(options, app=app))
    cli = typer.Typer()
    cli_clerk.register(cli)
    database = tmp_path / "served.db"
    result = CliRunner().invoke(cli, ["serve", "--db", str(database)])
    assert result.exit_code == 0, result.output
    assert (started["host"], started["port"]) == ("127.0.0.1", 8000)
    assert "no users yet" in result.output and "http://127.0.0.1:8000/" in result.output
    secret = tmp_path / "served.db.secret"
    assert secret.stat().st_mode & 0o777 == 0o600
    assert load_secret(secret) == load_secret(secret) == secret.read_text(encoding="utf-8").strip()
    result = CliRunner().invoke(cli, ["serve", "--db", str(database), "--host", "0.0.0.0", "--port", "8123"])
    assert "warning: listening on 0.0.0.0 without TLS" in result.output and started["port"] == 8123


@pytest.mark.parametrize("sample", ["xlsx/003_cca29bee0b231de8.xlsx", "html/003_cca29bee0b231de8.html"])
def test_the_source_beside_the_form_for_spreadsheets_and_html(tmp_path: Path, sample: str) -> None:
    """Grid formats show the tables the reader found, each row keyed by its location (a sheet's
    cell for spreadsheets), so flagged rows are marked beside the form."""
    engine = connect(f"sqlite:///{tmp_path / 'grid.db'}")
    path = Path(shutil.copy(SAMPLES / sample, tmp_path))
    reimport(engine, [path])
    with Session(engine) as session, session.begin():
        users.add_user(session, "alice", "clerk", "alice's password")
    client = TestClient(create_app(engine, "s" * 48), base_url="http://127.0.0.1")
    login(client)
    page = form_page(client, path, 3)  # the form whose cells lost their right part: flagged rows
    assert page.status_code == 200 and "no source view" not in page.text
    if path.suffix == ".xlsx":
        assert re.search(r"<caption>sheet [^<]+</caption>", page.text)
        assert re.search(r'<tr data-loc="[^"]+![A-Z]+\d+" class="flag"', page.text)
    else:
        assert re.search(r"<caption>table \d+</caption>", page.text)
        assert re.search(r'<tr data-loc="line \d+" class="flag"', page.text)
    engine.dispose()
