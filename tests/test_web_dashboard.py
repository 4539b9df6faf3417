"""The firm dashboard: figures checked against a hand count on seeded data, and the CSV export.

The seed (today is Monday 2026-11-23; clients added 2026-08-01 unless said otherwise):

    client   owner  cadence  touches (who, day)                  status
    Acme     Ann    30       Ben 10-01, Ann 11-20 (secret note)  active
    Beta     Ann    14       Ann 10-15                           active, repair under way
    Gamma    Ben    30       none                                active
    Delta    Ben    60       Ben 11-02                           active, handoff under way
    Hotel    Ben    7        Cy 11-10                            active
    Echo     nobody 30       none (added 11-10)                  active
    Foxtrot  Cy     30       Cy 11-20                            inactive: left out of everything
"""

from __future__ import annotations

import csv
import html as htmllib
import io
import re
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.web import dashboard
from adapters.web.dashboard import PAGE_SIZE
from app.settings import Settings, WebSettings
from bot.clock import FixedClock
from bot.config import CoreConfig, LoadTarget
from bot.dashboard import firm_dashboard
from bot.domain import ClientStatus, NewTouch, Platform, Role, TouchKind
from store.models import HandoffRow, RepairRow
from store.reports import SqlReports
from store.repositories import SqlStore
from tests.conftest import T0
from tests.web_helpers import WebUser, make_services, start_client

SECRET = "Secret merger talk <script>"
CONFIG = CoreConfig(
    load_targets={
        Role.STAFF: LoadTarget(1, 2),
        Role.SENIOR: LoadTarget(1, 5),
        Role.PRINCIPAL: LoadTarget(2, 4),
    }
)
WEEKS = [
    "2026-09-07", "2026-09-14", "2026-09-21", "2026-09-28", "2026-10-05", "2026-10-12",
    "2026-10-19", "2026-10-26", "2026-11-02", "2026-11-09", "2026-11-16", "2026-11-23",
]  # fmt: skip
# Within cadence at each week's end, by hand (see the module docstring):
#   Acme  0 0 0 1 1 1 1 0 0 0 1 1     Beta  0 0 0 0 0 1 1 0 0 0 0 0
#   Gamma 0 ...                       Delta 0 0 0 0 0 0 0 0 1 1 1 1
#   Hotel 0 0 0 0 0 0 0 0 0 1 0 0     Echo  exists from 11-10: . . . . . . . . . 0 0 0
# A client never contacted is not covered (Delta until 2 Nov, Echo, Gamma), however new.
WITHIN = [0, 0, 0, 1, 1, 2, 2, 0, 1, 2, 2, 2]
CLIENTS = [5] * 9 + [6] * 3


async def seed(store: SqlStore, clock: FixedClock) -> int:
    ws = await store.workspace(Platform.CONSOLE, "local", "This computer")
    clock.set(datetime(2026, 8, 1, 12, tzinfo=UTC))
    async with store.unit(ws.id) as uow:
        ann = await uow.people.ensure("ann", "Ann")
        ben = await uow.people.ensure("ben", "Ben")
        cy = await uow.people.ensure("cy", "Cy")
        await uow.people.update(ann.id, role=Role.PRINCIPAL)
        await uow.people.update(cy.id, role=Role.SENIOR)
        ids = {}
        for name, owner, cadence in (
            ("Acme", ann.id, 30),
            ("Beta", ann.id, 14),
            ("Gamma", ben.id, 30),
            ("Delta", ben.id, 60),
            ("Hotel", ben.id, 7),
            ("Foxtrot", cy.id, 30),
        ):
            ids[name] = (await uow.clients.add(name, owner_id=owner, cadence_days=cadence)).id
        await uow.clients.update(ids["Foxtrot"], status=ClientStatus.INACTIVE)
        clock.set(datetime(2026, 11, 10, 9, tzinfo=UTC))
        ids["Echo"] = (await uow.clients.add("Echo", cadence_days=30)).id
        for client, person, day, note in (
            ("Acme", ben.id, date(2026, 10, 1), ""),
            ("Acme", ann.id, date(2026, 11, 20), SECRET),
            ("Beta", ann.id, date(2026, 10, 15), "fine"),
            ("Delta", ben.id, date(2026, 11, 2), ""),
            ("Hotel", cy.id, date(2026, 11, 10), ""),
            ("Foxtrot", cy.id, date(2026, 11, 20), ""),
        ):
            await uow.touches.add(NewTouch(ids[client], person, TouchKind.LUNCH, day, note=note))
        await uow.commit()
    clock.set(T0)
    async with store.sessions() as s:
        s.add_all(
            [
                RepairRow(workspace_id=ws.id, client_id=ids["Beta"], status="active",
                          started_at=T0, updated_at=T0),
                RepairRow(workspace_id=ws.id, client_id=ids["Gamma"], status="done",
                          started_at=T0, updated_at=T0),
                HandoffRow(workspace_id=ws.id, client_id=ids["Delta"], started_at=T0),
                HandoffRow(workspace_id=ws.id, client_id=ids["Acme"], started_at=T0, done_at=T0),
            ]
        )  # fmt: skip
        await s.commit()
    return ws.id


async def test_figures_match_the_hand_count(store: SqlStore, clock: FixedClock) -> None:
    ws_id = await seed(store, clock)
    d = await firm_dashboard(SqlReports(store.sessions, ws_id), date(2026, 11, 23), CONFIG)

    assert [w.isoformat() for w in d.weeks] == WEEKS
    assert [p.within for p in d.coverage] == WITHIN
    assert [p.clients for p in d.coverage] == CLIENTS
    assert d.coverage[-1].week_end == date(2026, 11, 23)
    assert d.coverage[0].week_end == date(2026, 9, 13)
    assert d.active_clients == 6

    overdue = [(o.owner, [(c.name, c.days_overdue) for c in o.clients]) for o in d.overdue_by_owner]
    # Echo (client 7, added 10 Nov) was due its first contact 8 days later.
    assert overdue == [
        ("Ben", [("Gamma", 110), ("Hotel", 6)]),
        ("Ann", [("Beta", 25)]),
        ("Nobody owns", [("Echo", 5)]),
    ]

    assert [(s.client, s.person) for s in d.single_threaded] == [
        ("Beta", "Ann"),
        ("Delta", "Ben"),
        ("Hotel", "Cy"),
    ]
    assert [(p.person, p.owned, p.status) for p in d.load] == [
        ("Ben", 3, "over"),
        ("Ann", 2, "within"),
        ("Cy", 0, "under"),
    ]
    heat = {r.client: r.counts for r in d.heatmap}
    assert [r.client for r in d.heatmap] == ["Echo", "Gamma", "Beta", "Delta", "Hotel", "Acme"]
    assert heat["Acme"] == (0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0)
    assert heat["Beta"][5] == 1 and sum(heat["Beta"]) == 1
    assert sum(heat["Gamma"]) == 0
    assert "Foxtrot" not in heat
    assert d.repairs == ("Beta",)
    assert d.handoffs == ("Delta",)


@pytest.fixture
async def client(
    db_url: str, engine: AsyncEngine, store: SqlStore, clock: FixedClock
) -> AsyncIterator[TestClient[Any, Any]]:
    services = make_services(
        Settings(
            database_url=db_url,
            scheduler_enabled=False,
            web=WebSettings(_env_file=None, workspaces="slack:T0123"),  # type: ignore[call-arg]
        ),
        engine,
        store,
        clock,
        CONFIG,
    )
    client = await start_client(services)
    yield client
    await client.close()


async def test_the_csv_has_the_figures_and_no_note_text(
    client: TestClient[Any, Any], store: SqlStore, clock: FixedClock
) -> None:
    await seed(store, clock)
    response = await client.get("/dashboard.csv")
    assert response.status == 200
    assert response.content_type == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = await response.text()
    assert "Secret merger" not in text and "fine" not in text
    rows = list(csv.DictReader(io.StringIO(text)))
    within = [int(r["value"]) for r in rows if r["subject"] == "clients within cadence"]
    assert within == WITHIN
    assert [r["week"] for r in rows if r["subject"] == "active clients"] == WEEKS
    assert {(r["subject"], r["value"]) for r in rows if r["detail"] == "clients overdue"} == {
        ("Ben", "2"),
        ("Ann", "1"),
        ("Nobody owns", "1"),
    }
    assert {(r["subject"], r["detail"]) for r in rows if r["figure"] == "single_threaded"} == {
        ("Beta", "only Ann"),
        ("Delta", "only Ben"),
        ("Hotel", "only Cy"),
    }
    load = {r["subject"]: (r["value"], r["detail"]) for r in rows if r["figure"] == "load"}
    assert load["Ben"] == ("3", "staff; target 1 to 2; over")
    acme = [int(r["value"]) for r in rows if r["figure"] == "touches" and r["subject"] == "Acme"]
    assert acme == [0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0]
    only = await (await client.get("/dashboard.csv?figure=coverage")).text()
    assert {r["figure"] for r in csv.DictReader(io.StringIO(only))} == {"coverage"}
    assert (await client.get("/dashboard.csv?figure=notes")).status == 400


async def test_the_page_and_its_chart_data(
    client: TestClient[Any, Any], store: SqlStore, clock: FixedClock
) -> None:
    await seed(store, clock)
    page = await client.get("/dashboard")
    assert page.status == 200
    html = await page.text()
    assert "Secret merger" not in html
    gamma = re.search(r'<a class="client-link" href="/\?client=(\d+)">Gamma</a> \(110 d\)', html)
    assert gamma, "the overdue client links to its card"
    assert 'src="/static/plotly.min.js"' in html
    assert "script-src 'self';" in page.headers["Content-Security-Policy"]
    data = await (await client.get("/dashboard/data.json")).json()
    assert data["coverage"]["within"] == WITHIN
    assert data["overdue"] == {"owners": ["Ben", "Ann", "Nobody owns"], "counts": [2, 1, 1]}
    assert data["heatmap"]["clients"][-1] == "Echo"  # quietest drawn at the top
    assert "Secret merger" not in str(data)
    js = await client.get("/static/plotly.min.js")
    assert js.status == 200 and js.content_type == "text/javascript"
    assert (await client.get("/static/../auth.py")).status == 404


async def test_a_workspace_picker_when_there_are_several(
    client: TestClient[Any, Any], store: SqlStore, clock: FixedClock
) -> None:
    ws_id = await seed(store, clock)
    other = await store.workspace(Platform.SLACK, "T0123", "Acme Legal")
    html = await (await client.get("/dashboard")).text()
    assert f'<option value="{ws_id}" selected>' in html
    assert "Acme Legal (Slack)" in html
    data = await (await client.get(f"/dashboard/data.json?workspace={other.id}")).json()
    assert data["coverage"]["clients"] == [0] * 12
    # A firm not named in TOUCHBASE_WEB_WORKSPACES is never shown, whatever the address asks.
    hidden = await store.workspace(Platform.SLACK, "T0999", "Other Firm")
    html = await (await client.get(f"/dashboard?workspace={hidden.id}")).text()
    assert "Other Firm" not in html


async def test_a_client_name_on_the_dashboard_opens_its_card_in_the_chat(
    client: TestClient[Any, Any], store: SqlStore, clock: FixedClock
) -> None:
    await seed(store, clock)
    user = WebUser(client)
    html = await user.open("/dashboard")
    hrefs = dict(
        (name, int(client_id))
        for client_id, name in re.findall(r'href="/\?client=(\d+)">([^<]+)</a>', html)
    )
    assert {"Gamma", "Hotel", "Beta", "Echo", "Delta"} <= set(hrefs)  # overdue, single-threaded
    await user.open("/")
    card = await user.click("Ann", "client_open", str(hrefs["Hotel"]))
    assert card["kind"] == "message" and "Hotel" in card["html"] and "Next due" in card["html"]


async def test_another_workspaces_names_are_not_links_the_chat_cannot_open(
    client: TestClient[Any, Any], store: SqlStore, clock: FixedClock
) -> None:
    await seed(store, clock)
    other = await store.workspace(Platform.SLACK, "T0123", "Acme Legal")
    async with store.unit(other.id) as uow:
        pat = await uow.people.ensure("U1", "Pat")
        far = await uow.clients.add("Faraway", owner_id=pat.id, cadence_days=7)
        await uow.touches.add(NewTouch(far.id, pat.id, TouchKind.CALL, date(2026, 9, 1)))
        await uow.commit()
    html = await (await client.get(f"/dashboard?workspace={other.id}")).text()
    assert "Faraway" in html and "?client=" not in html


async def _many_single_threaded(store: SqlStore, clock: FixedClock, count: int) -> None:
    ws = await store.workspace(Platform.CONSOLE, "local", "This computer")
    clock.set(datetime(2026, 8, 1, 12, tzinfo=UTC))
    async with store.unit(ws.id) as uow:
        ann = await uow.people.ensure("ann", "Ann")
        for n in range(count):
            c = await uow.clients.add(f"Client {n:03d}", owner_id=ann.id, cadence_days=365)
            await uow.touches.add(NewTouch(c.id, ann.id, TouchKind.CALL, date(2026, 11, 2)))
        await uow.commit()
    clock.set(T0)


def _rows(html: str, section: str) -> list[str]:
    part = html.split(f'id="{section}"', 1)[1].split("</section>", 1)[0]
    return re.findall(r">(Client \d{3})</a>", part)


async def test_long_tables_come_fifty_rows_a_page_with_next_and_previous(
    client: TestClient[Any, Any], store: SqlStore, clock: FixedClock
) -> None:
    await _many_single_threaded(store, clock, 120)
    first = await (await client.get("/dashboard")).text()
    names = _rows(first, "single")
    assert len(names) == PAGE_SIZE and "1–50 of 120" in first
    assert 'rel="prev"' not in first.split('id="single"', 1)[1]
    nxt = re.search(r'<a href="([^"]+)" rel="next">', first.split('id="single"', 1)[1])
    assert nxt and "single_page=2" in nxt.group(1)
    second = await (await client.get(htmllib.unescape(nxt.group(1)).split("#")[0])).text()
    more = _rows(second, "single")
    assert len(more) == PAGE_SIZE and not set(more) & set(names) and "51–100 of 120" in second
    assert 'rel="prev"' in second and 'rel="next"' in second
    last = await (await client.get("/dashboard?single_page=3")).text()
    rest = _rows(last, "single")
    assert len(rest) == 20 and sorted(names + more + rest) == [
        f"Client {n:03d}" for n in range(120)
    ]
    assert 'rel="next"' not in last.split('id="single"', 1)[1]
    # Past the end, or nonsense: the nearest real page, never an error.
    assert _rows(await (await client.get("/dashboard?single_page=99")).text(), "single") == rest
    assert _rows(await (await client.get("/dashboard?single_page=x")).text(), "single") == names


async def test_the_csv_streams_in_chunks_and_reads_the_same(
    client: TestClient[Any, Any],
    store: SqlStore,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await _many_single_threaded(store, clock, 60)
    whole = await (await client.get("/dashboard.csv")).text()
    monkeypatch.setattr(dashboard, "CSV_CHUNK_ROWS", 100)
    response = await client.get("/dashboard.csv")
    assert response.status == 200
    assert response.headers.get("Transfer-Encoding") == "chunked"
    assert "Content-Length" not in response.headers
    chunks = [chunk async for chunk, _ in response.content.iter_chunks()]
    streamed = b"".join(chunks).decode("utf-8")
    assert streamed == whole
    rows = list(csv.DictReader(io.StringIO(streamed)))
    assert sum(1 for r in rows if r["figure"] == "touches") == 60 * 12
    assert sum(1 for r in rows if r["figure"] == "single_threaded") == 60
