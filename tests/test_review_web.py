"""The target review in the web app: the form's findings beside its fields (apart from the parse
issues), accept with a reason and reopen, the queue filtered by finding, all within the user's units."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from goalforms.pipeline import users
from goalforms.pipeline.web import create_app
from goalforms.schema.db import connect
from tests.test_corrections import SEED_003, SEED_2026, copy_samples, reimport
from tests.test_web import login, token

UNIT_2026 = "上海市社会保险事业管理中心"


@dataclass
class Site:
    engine: Engine
    app: Any
    seed: Path  # the 2026 seed: form 3 has 产品软件购置完成率 without a target (measurability.placeholder)
    other: Path  # seed 003, another unit

    def client(self) -> TestClient:
        return TestClient(self.app, base_url="http://127.0.0.1")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("review-web")
    engine = connect(f"sqlite:///{folder / 'web.db'}")
    reimport(engine, copy_samples(folder / "archive", SEED_2026, SEED_003))
    with Session(engine) as session, session.begin():
        users.add_user(session, "alice", "clerk", "alice's password")
        users.add_user(session, "bob", "analyst", "bob's password")
        users.add_user(session, "carol", "clerk", "carol's password", units=["上海市普陀区社会保障管理服务中心"])
    engine.dispose()
    return folder


@pytest.fixture
def site(template: Path, tmp_path: Path) -> Iterator[Site]:
    shutil.copy(template / "web.db", tmp_path / "web.db")
    engine = connect(f"sqlite:///{tmp_path / 'web.db'}")
    yield Site(engine, create_app(engine, "s" * 48), template / "archive" / SEED_2026, template / "archive" / SEED_003)
    engine.dispose()


def page(client: TestClient, path: Path, n: int) -> Any:
    return client.get("/form", params={"path": str(path.resolve()), "n": n})


def finding_id(site: Site, rule: str, path: Path, n: int) -> int:
    with Session(site.engine) as session:
        value = session.execute(text("SELECT finding_id FROM v_findings WHERE rule_id = :r AND source_path = :p "
                                     "AND form_ordinal = :n"), {"r": rule, "p": str(path.resolve()), "n": n}).scalar()
    assert value is not None
    return int(value)


def section(html: str, anchor: str) -> str:
    start = html.index(f'id="{anchor}"')
    return html[start:html.index("<h2", start + 1)]


def test_the_form_page_shows_findings_beside_the_row_and_apart_from_issues(site: Site) -> None:
    client = site.client()
    login(client)
    html = page(client, site.seed, 3).text
    findings = section(html, "findings")
    assert "measurability.placeholder" in findings and "产品软件购置完成率" in findings
    assert "measurability.placeholder" not in section(html, "issues")  # issues stay the parse's
    row = re.search(r'id="row-2".*?</tr>\s*(?:<tr class="row-issues">.*?</tr>\s*)?<tr class="row-findings">(.*?)</tr>',
                    html, re.S)
    assert row is not None and "measurability.placeholder" in row.group(1)


def test_a_clerk_accepts_a_finding_with_a_reason_and_reopens_it(site: Site) -> None:
    client = site.client()
    csrf = login(client)
    fid = finding_id(site, "measurability.placeholder", site.seed, 3)
    data = {"csrf_token": csrf, "path": str(site.seed.resolve()), "n": "3", "finding": str(fid)}
    refused = client.post("/form/accept-finding", data=dict(data, note=" "))
    assert "say in a note why" in refused.text
    done = client.post("/form/accept-finding", data=dict(data, note="the software was bought in 2025"))
    assert done.status_code == 200 and "accepted by alice: the software was bought in 2025" in done.text
    with Session(site.engine) as session:
        assert session.execute(text("SELECT status FROM v_findings WHERE finding_id = :f"), {"f": fid}).scalar() == "accepted"
    reopened = client.post("/form/reopen-finding", data=data)
    assert "is open again" in reopened.text
    with Session(site.engine) as session:
        assert session.execute(text("SELECT status FROM v_findings WHERE finding_id = :f"), {"f": fid}).scalar() == "open"


def test_an_analyst_cannot_accept_and_nobody_without_the_token(site: Site) -> None:
    fid = finding_id(site, "measurability.placeholder", site.seed, 3)
    data = {"path": str(site.seed.resolve()), "n": "3", "finding": str(fid), "note": "x"}
    client = site.client()
    csrf = login(client)
    assert client.post("/form/accept-finding", data=data).status_code == 403  # no CSRF token
    analyst = site.client()
    csrf = login(analyst, "bob")
    assert analyst.post("/form/accept-finding", data=dict(data, csrf_token=csrf)).status_code == 403
    with Session(site.engine) as session:
        assert session.execute(text("SELECT count(*) FROM finding_acceptances")).scalar() == 0


def test_another_units_findings_are_not_found(site: Site) -> None:
    client = site.client()
    csrf = login(client, "carol")
    fid = finding_id(site, "measurability.placeholder", site.seed, 3)
    response = client.post("/form/accept-finding", data={"csrf_token": csrf, "path": str(site.seed.resolve()), "n": "3",
                                                         "finding": str(fid), "note": "mine now"})
    assert response.status_code == 404
    queue = client.get("/", params={"finding": "measurability.placeholder"}).text
    assert "产品软件购置完成率" not in queue and UNIT_2026 not in queue


def test_the_queue_filters_by_finding(site: Site) -> None:
    client = site.client()
    login(client)
    html = client.get("/", params={"finding": "measurability.placeholder"}).text
    listed = re.findall(r'class="form-link" href="[^"]*n=(\d+)"', html)
    assert sorted(listed) == ["3", "6"], listed  # 004's forms 3 and 6 have a target left blank
    assert 'option value="measurability.placeholder" selected' in html
    assert token(html)


def test_a_form_not_yet_reviewed_says_so(site: Site) -> None:
    with site.engine.begin() as connection:
        connection.execute(text("DELETE FROM findings"))
        connection.execute(text("DELETE FROM form_reviews"))
    client = site.client()
    login(client)
    assert "Not reviewed yet" in section(page(client, site.seed, 3).text, "findings")
