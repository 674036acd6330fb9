"""The clerks' web app in a real browser: Playwright for Python driving Debian's headless Chromium
(``/usr/bin/chromium``; Playwright's own browser download does not work here).

A clerk logs in, opens a flagged form from the queue, fills the 2026 seed's missing targets,
resolves the issues, repairs the damaged third form of 003; the files are imported again (changed,
so they are parsed and stored anew) and the fixes are still there. An unauthenticated request
changes nothing, and a ``<script>`` in a document shows as text.

The server runs in a thread of this process, on 127.0.0.1 only, on a free port. Every wait is
bounded (Playwright's timeouts, the server's start). Without Playwright or Chromium the tests are
skipped, unless ``CI`` is set: on CI a missing browser is a failure, never a silent skip.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from goalforms.pipeline import users
from goalforms.schema.db import connect
from tests.conftest import SAMPLES
from tests.test_corrections import (
    REPAIR_003,
    SEED_003,
    SEED_2026,
    copy_samples,
    open_issue_count,
    reimport,
    rows,
)
from tests.test_web import SCRIPT_TARGET

pytestmark = pytest.mark.browser

CHROMIUM = Path(os.environ.get("GOALFORMS_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
WAIT_MS = 20_000  # any one step: a page load, a click, an expectation
START_SECONDS = 20  # the server thread must be listening by then
PASSWORD = "correct horse battery"


def _unavailable(reason: str) -> None:
    message = f"browser tests need {reason}"
    if os.environ.get("CI"):
        pytest.fail(f"{message} (CI is set, so this fails instead of skipping)", pytrace=False)
    pytest.skip(message)


@dataclass
class Server:
    base: str
    url: str  # the database
    engine: Engine
    seed: Path
    damaged: Path
    pdf: Path
    hostile: Path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    import uvicorn

    from goalforms.pipeline.web import create_app

    folder = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{folder / 'clerks.db'}"
    engine = connect(url)
    archive = folder / "archive"
    seed, damaged = copy_samples(archive, SEED_2026, SEED_003)
    pdf = Path(shutil.copy(SAMPLES / "pdf" / "003_cca29bee0b231de8.pdf", archive))
    hostile = archive / "hostile" / SEED_2026
    hostile.parent.mkdir()
    hostile.write_text(seed.read_text(encoding="utf-8").replace("\t=100.00(%)\t\t\t", f"\t{SCRIPT_TARGET}\t\t\t", 1),
                       encoding="utf-8")
    reimport(engine, [seed, damaged, pdf, hostile])
    with Session(engine) as session, session.begin():
        users.add_user(session, "alice", "clerk", PASSWORD)
    config = uvicorn.Config(create_app(engine, "b" * 48), host="127.0.0.1", port=_free_port(), log_level="warning")
    web = uvicorn.Server(config)
    thread = threading.Thread(target=web.run, name="goalforms-web", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_SECONDS
    while not web.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            web.should_exit = True
            pytest.fail("the web app did not start", pytrace=False)
        time.sleep(0.05)
    try:
        yield Server(f"http://127.0.0.1:{config.port}", url, engine, seed, damaged, pdf, hostile)
    finally:
        web.should_exit = True
        thread.join(timeout=START_SECONDS)
        engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        _unavailable("the playwright package (pip install playwright)")
    expect.set_options(timeout=WAIT_MS)
    if not CHROMIUM.exists():
        _unavailable(f"Chromium at {CHROMIUM} (apt-get install -y chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=60_000)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context (no cookies) and page; dialogs are recorded, never left open."""
    context = browser.new_context(viewport={"width": 1500, "height": 1000})
    context.set_default_timeout(WAIT_MS)
    context.set_default_navigation_timeout(WAIT_MS)
    tab = context.new_page()
    tab.dialogs = []

    def on_dialog(dialog: Any) -> None:
        tab.dialogs.append(dialog.message)
        dialog.dismiss()

    tab.on("dialog", on_dialog)
    try:
        yield tab
    finally:
        context.close()


def _login(page: Any, server: Server) -> None:
    from playwright.sync_api import expect

    page.goto(server.base + "/")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.fill("input[name=name]", "alice")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Queue")


def _changed(path: Path) -> None:
    """Change the file (a blank line at its end) so that the import parses and stores it again."""
    path.write_text(path.read_text(encoding="utf-8") + "\n", encoding="utf-8")


def test_a_clerk_fills_the_missing_targets_resolves_and_the_fix_survives_reimport(page: Any, server: Server) -> None:
    from playwright.sync_api import expect

    _login(page, server)
    page.select_option("select[name=code]", "missing_target")
    page.select_option("select[name=file]", str(server.seed.resolve()))
    page.click("button:has-text('Filter')")
    links = page.locator("a.form-link")
    expect(links).to_have_count(2)
    links.filter(has_text="信息化建设项目").click()

    row = page.locator("tr.row[data-key='indicators[1]']")  # 产品软件购置完成率 (its name is in an input)
    expect(row.locator("input[name='v:indicators[1].level3']")).to_have_value("产品软件购置完成率")
    expect(row).to_have_class(re.compile("flagged"))
    expect(page.locator(".row-issues")).to_contain_text("has no target value")
    row.locator("td.where a").click()  # the row's source line is shown and highlighted
    expect(page.locator("#L121")).to_have_class(re.compile(r"\bsel\b"))
    expect(page.locator("#L121")).to_have_class(re.compile(r"\bflag\b"))

    target = page.locator("input[name='v:indicators[1].raw']")
    expect(target).to_have_value("")
    target.fill("=100.00(%)")
    page.fill("#edit input[name=note]", "from the signed copy")
    page.click("#save")
    expect(page.locator(".flash.ok")).to_contain_text("saved 1 correction(s)")
    expect(target).to_have_value("=100.00(%)")
    expect(row.locator("td.reads")).to_have_text(re.compile(r"numeric: = 100 %"))

    resolve = page.locator("form.resolve")
    resolve.locator("input[name=note]").fill("target filled from the signed copy")
    resolve.locator("button").click()
    expect(page.locator("#open-count")).to_have_text("0 open issues")
    expect(page.locator("table.issues tr.resolved")).to_contain_text("resolved by alice")

    # The other form of the seed with a row without target (line 215).
    page.click("nav.siblings >> text='6'")
    page.fill("input[name='v:indicators[1].raw']", "=100(%)")
    page.click("#save")
    expect(page.locator(".flash.ok")).to_contain_text("saved 1 correction(s)")

    _changed(server.seed)
    assert reimport(server.engine, [server.seed]) == []
    page.reload()
    expect(page.locator("input[name='v:indicators[1].raw']")).to_have_value("=100(%)")
    page.click("nav.siblings >> text='3'")
    expect(page.locator("input[name='v:indicators[1].raw']")).to_have_value("=100.00(%)")
    expect(page.locator("#open-count")).to_have_text("0 open issues")
    expect(page.locator("tr.row[data-key='indicators[1]'] .was")).to_contain_text("parsed:")
    assert open_issue_count(server.url, server.seed, 3) == 0
    assert rows(server.url, "SELECT raw, kind FROM v_indicators WHERE level3 IN ('产品软件购置完成率', '户外招牌检测完成率') "
                            f"AND source_path = '{server.seed.resolve()}' ORDER BY form_ordinal") == [
        ("=100.00(%)", "numeric"), ("=100(%)", "numeric")]
    assert page.dialogs == []


def test_a_clerk_repairs_the_damaged_third_form_of_003(page: Any, server: Server) -> None:
    from playwright.sync_api import expect

    _login(page, server)
    page.fill("input[name=q]", "征地养老医药费报销管理系统")
    page.click("button:has-text('Filter')")
    page.locator("tr", has_text=SEED_003).locator("a.form-link").click()
    expect(page.locator("#open-count")).to_have_text("23 open issues")
    expect(page.locator("tr.field.flagged", has_text="header.plan_end")).to_contain_text("is not a date")

    # First a value that is not a date: refused, nothing saved, the typing kept.
    page.fill("input[name='v:header.plan_end']", "2020-12-32")
    page.fill("input[name='v:budget.current_year']", "28万")
    page.click("#save")
    expect(page.locator("#errors")).to_contain_text("'2020-12-32' is not a date")
    expect(page.locator("#errors")).to_contain_text("'28万' is not an amount of money")
    expect(page.locator("input[name='v:header.plan_end']")).to_have_value("2020-12-32")
    assert rows(server.url, f"SELECT COUNT(*) FROM corrections WHERE document_path = '{server.damaged.resolve()}'") == [(0,)]

    for field, value in REPAIR_003.items():
        page.fill(f"[name='v:{field}']", value)
    page.fill("#edit input[name=note]", "repaired from the fragments after the table")
    page.click("#save")
    expect(page.locator(".flash.ok")).to_contain_text(f"saved {len(REPAIR_003)} correction(s)")
    page.fill("form.resolve-all input[name=note]", "cut-off values restored from the fragments")
    page.click("form.resolve-all button")
    expect(page.locator("#open-count")).to_have_text("0 open issues")

    _changed(server.damaged)
    assert reimport(server.engine, [server.damaged]) == []
    page.reload()
    expect(page.locator("#open-count")).to_have_text("0 open issues")
    expect(page.locator("input[name='v:header.plan_end']")).to_have_value("2020-12-31")
    expect(page.locator("input[name='v:indicators[0].raw']")).to_have_value(">90%")
    assert rows(server.url, "SELECT plan_end, current_year, open_issue_count FROM v_forms "
                            f"WHERE source_path = '{server.damaged.resolve()}' AND form_ordinal = 3") == [
        ("2020-12-31", "280000", 0)]


def test_an_unauthenticated_request_cannot_change_anything(page: Any, server: Server) -> None:
    before = rows(server.url, "SELECT COUNT(*) FROM corrections")
    attack = {"path": str(server.seed.resolve()), "n": "6", "v:budget.total": "1", "o:budget.total": ""}
    # No session: refused by the CSRF check.
    response = page.request.post(server.base + "/form/save", form=attack)
    assert response.status == 403
    # A session with a valid token but nobody logged in: sent to the login page.
    page.goto(server.base + "/login")
    csrf = page.locator("input[name=csrf_token]").get_attribute("value")
    response = page.request.post(server.base + "/form/save", form={**attack, "csrf_token": csrf}, max_redirects=0)
    assert response.status == 303 and "/login" in response.headers["location"]
    # The same from a page's script (as a cross-site form would post it): refused too.
    status = page.evaluate("""async ([url, body]) => {
        const r = await fetch(url, {method: "POST", body: new URLSearchParams(body), redirect: "manual"});
        return r.status; }""", [server.base + "/form/row", {"path": attack["path"], "n": "6", "op": "delete:indicators[0]"}])
    assert status == 403
    assert rows(server.url, "SELECT COUNT(*) FROM corrections") == before


def test_a_script_in_a_document_shows_as_text(page: Any, server: Server) -> None:
    from playwright.sync_api import expect

    _login(page, server)
    page.goto(f"{server.base}/form?path={server.hostile.resolve()}&n=3")
    expect(page.locator("input[name='v:indicators[2].raw']")).to_have_value(SCRIPT_TARGET)
    expect(page.locator("#L122 .t")).to_contain_text(SCRIPT_TARGET)
    assert page.evaluate("window.__xss") is None
    assert page.locator("script").count() == 1  # the app's own script file
    page.goto(f"{server.base}/form?path={server.seed.resolve()}&n=2")
    expect(page.locator("#L89 .t")).to_contain_text("<p>1.委托第三方专业机构")
    assert page.locator(".source p").count() == 0
    assert page.dialogs == []


def test_a_pdf_form_shows_its_page_with_the_rows_outlined(page: Any, server: Server) -> None:
    from playwright.sync_api import expect

    _login(page, server)
    page.goto(f"{server.base}/form?path={server.pdf.resolve()}&n=2")
    image = page.locator("figure.page img").first
    expect(image).to_be_visible()
    page.wait_for_function("() => document.querySelector('figure.page img').naturalWidth > 0", timeout=WAIT_MS)
    expect(page.locator("rect.box.flag").first).to_be_attached()
    row = page.locator("tr.row[data-key='indicators[0]']")
    row.locator("td.where a").click()  # 预算执行率
    # Its cells (level names, 三级 name, target: one box each, from the stored provenance) are selected.
    loc = row.get_attribute("data-loc")
    cells = page.locator(f"rect.box[data-loc='{loc}']")
    expect(page.locator("rect.box.sel")).to_have_count(cells.count())
    assert cells.count() >= 2 and page.locator("rect.box.sel[data-field='indicators[0].raw']").count() >= 1
