"""Microsoft Graph through msgraph-sdk against a local Graph and token endpoint over real HTTP:
app-only tokens, calendar view deltas with paging and delta links, message headers selected
without subjects, follow-ups from unanswered mail, and nothing of a subject stored."""

from __future__ import annotations

from datetime import timedelta

from adapters.capture.graph import MAIL_FIELDS, GraphSource
from bot.app import Touchbase
from bot.capture import run_capture
from bot.clock import FixedClock
from store.repositories import SqlStore
from tests.conftest import T0, Chat
from tests.fakes.graph import FakeGraph, graph_event, graph_message
from tests.test_capture_core import MARKER, YESTERDAY, dump, setup

JANE = ("Jane", "jane@firm.example")
DANA = ("Dana Whitfield", "dana@globex.example")


def source(graph: FakeGraph, secret: str | None = None) -> GraphSource:
    return GraphSource(
        tenant_id=graph.tenant,
        client_id=graph.client_id,
        client_secret=secret or graph.client_secret,
        base_url=graph.base_url,
        authority=graph.authority,
    )


async def test_meetings_and_mail_from_graph(
    chat: Chat, store: SqlStore, clock: FixedClock, app: Touchbase
) -> None:
    await setup(chat, store)
    async with FakeGraph() as graph:
        cal = graph.collection(JANE[1], "calendar")
        cal.put(graph_event("ev-1", YESTERDAY.replace(hour=10), [DANA], organizer=JANE,
                            subject=MARKER, teams=True))  # fmt: skip
        cal.put(graph_event("ev-2", YESTERDAY.replace(hour=11), [("Bob", "bob@firm.example")],
                            organizer=JANE, subject=MARKER))  # fmt: skip
        cal.put(graph_event("ev-3", YESTERDAY.replace(hour=12), [("X", "x@unknown.example")],
                            organizer=JANE, subject=MARKER))  # fmt: skip
        graph.collection(JANE[1], "sentitems").put(
            graph_message("msg-1", T0 - timedelta(days=7), sender=JANE, to=[DANA], subject=MARKER)
        )
        graph_source = source(graph)
        first = await run_capture(store, clock, app.config, [graph_source])
        assert first.failed == 0 and first.ingested.added == 2  # one meeting, one e-mail
        assert all(r.authorised for r in graph.requests if r.method == "GET")
        assert any("$skiptoken" in r.query for r in graph.requests)  # paged with nextLink
        mail = [r for r in graph.requests if "messages" in r.path]
        assert mail and all(set(r.query["$select"].split(",")) == set(MAIL_FIELDS)
                            for r in mail if "$select" in r.query)  # fmt: skip
        assert all("subject" not in r.query.get("$select", "") for r in mail)
        out = await chat.say("/due")
        assert "Yesterday: video call with Dana Whitfield (Globex)" in out
        assert "Globex: no reply to your e-mail to Dana Whitfield for 5 business days" in out
        # Again: resumed from the delta links, nothing new.
        graph.requests.clear()
        again = await run_capture(store, clock, app.config, [graph_source])
        assert again.ingested.added == 0 and again.ingested.updated == 0
        assert all("$deltatoken" in r.query for r in graph.requests if r.method == "GET")
        # Dana replies; the meeting is deleted from the calendar.
        graph.collection(JANE[1], "inbox").put(
            graph_message("msg-2", T0 - timedelta(days=1), sender=DANA, to=[JANE], subject=MARKER)
        )
        cal.remove("ev-1")
        third = await run_capture(store, clock, app.config, [graph_source])
        assert third.ingested.added == 1 and third.ingested.updated == 1
        out = await chat.say("/due")
        assert "no reply to your e-mail" not in out and "video call with Dana" not in out
        await graph_source.credential.close()
    assert MARKER not in await dump(store)


async def test_a_wrong_secret_reads_nothing(
    chat: Chat, store: SqlStore, clock: FixedClock, app: Touchbase
) -> None:
    await setup(chat, store)
    async with FakeGraph() as graph:
        graph.collection(JANE[1], "calendar").put(
            graph_event("ev-1", YESTERDAY, [DANA], organizer=JANE, subject=MARKER)
        )
        wrong = source(graph, secret="not-the-secret")
        report = await run_capture(store, clock, app.config, [wrong])
        assert report.failed == 1 and report.ingested.added == 0
        assert not [r for r in graph.requests if r.method == "GET"]  # no token, no Graph call
        await wrong.credential.close()
