"""Calendar feeds over real HTTP: `/touchbase calendar`, the public-address rule, one capture pass
(and its hourly claim across replicas), the `touchbase capture` command, and every source off
until configured."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from adapters.capture import build_sources
from adapters.capture.feeds import FeedError, IcsFeedSource, PublicOnlyResolver, fetch_feed
from app.settings import CaptureSettings
from bot.app import Touchbase
from bot.capture import feed_problem, run_capture
from bot.clock import FixedClock
from bot.commands import default_registry
from bot.config import CoreConfig
from bot.domain import Platform
from store.repositories import SqlStore
from tests.conftest import SECRET_KEY, T0, Chat
from tests.fakes.calendar_feed import FakeCalendarFeed
from tests.test_capture_core import MARKER, YESTERDAY, dump, ics, setup, vevent


def test_only_public_addresses_unless_allowed() -> None:
    for url in (
        "http://127.0.0.1/x.ics",
        "https://10.0.0.8/x.ics",
        "https://192.168.1.2/x.ics",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/x.ics",
        "https://localhost/x.ics",
        "https://printer.local/x.ics",
    ):
        assert feed_problem(url, allow_local=False) is not None, url
        assert feed_problem(url, allow_local=True) is None, url
    assert feed_problem("ftp://example.com/x.ics", allow_local=True) is not None
    assert (
        feed_problem("webcal://outlook.office365.com/owa/calendar/x/y.ics", allow_local=False)
        is None
    )


async def test_a_name_that_resolves_to_a_private_address_is_refused() -> None:
    with pytest.raises(FeedError, match="not a public address"):
        await PublicOnlyResolver().resolve("localhost", 80)
    async with FakeCalendarFeed() as feed:
        with pytest.raises(FeedError):
            await fetch_feed(feed.url, allow_local=False)
        local_name = feed.url.replace("127.0.0.1", "localhost")
        with pytest.raises(FeedError) as caught:
            await fetch_feed(local_name, allow_local=False)
        assert feed.secret not in str(caught.value)  # errors never name the secret address
        assert feed.hits == 0
        feed.redirect_to = "http://127.0.0.1:9/private.ics"
        with pytest.raises(FeedError):  # a redirect is checked like the first address
            await fetch_feed(feed.url, allow_local=True, seconds=5)


async def test_calendar_command_then_a_pass_captures_once(
    chat: Chat, store: SqlStore, clock: FixedClock, app: Touchbase
) -> None:
    ws, jane, globex = await setup(chat, store)
    async with FakeCalendarFeed() as feed:
        feed.body = ics(vevent("m1", YESTERDAY.replace(hour=10), "dana@globex.example"))
        out = await chat.say(f"/touchbase calendar {feed.url}")
        assert "public addresses" in out and feed.secret not in out
        app.config = CoreConfig(capture_allow_local_feeds=True)
        out = await chat.say(f"/touchbase calendar {feed.url}")
        assert "Saved your calendar's address" in out and feed.secret not in out
        assert "Calendar feed: set" in await chat.say("/touchbase capture")
        sources = [IcsFeedSource(allow_local=True)]
        first = await run_capture(store, clock, app.config, sources, claim="hour:1")
        assert (first.people, first.ingested.added) == (1, 1)
        # Another replica, the same hour: claimed already, reads nothing.
        again = await run_capture(store, clock, app.config, sources, claim="hour:1")
        assert again.skipped == 1 and feed.hits == 1
        # The next hour reads again and adds nothing new.
        clock.advance(timedelta(hours=1))
        later = await run_capture(store, clock, app.config, sources, claim="hour:2")
        assert later.ingested.added == 0 and feed.hits == 2
        assert "Yesterday: meeting with Dana Whitfield (Globex)" in await chat.say("/due")
        assert "forgotten" in await chat.say("/touchbase calendar off")
        await run_capture(store, clock, app.config, sources, claim="hour:3")
        assert feed.hits == 2
    assert MARKER not in await dump(store)
    _ = (ws, jane, globex)


async def test_a_failing_feed_is_counted_and_kept_for_next_time(
    chat: Chat, store: SqlStore, clock: FixedClock, app: Touchbase
) -> None:
    ws, jane, _ = await setup(chat, store)
    async with store.unit(ws) as uow:
        from dataclasses import replace

        s = await uow.capture.setup(jane.id)
        await uow.capture.save_setup(replace(s, feed_url="http://127.0.0.1:9/nothing.ics"))
        await uow.commit()
    report = await run_capture(store, clock, app.config, [IcsFeedSource(allow_local=True)])
    assert report.failed == 1 and report.ingested.added == 0


async def test_every_source_is_off_until_configured(
    chat: Chat, store: SqlStore, clock: FixedClock, tmp_path: Path
) -> None:
    await setup(chat, store)
    settings = CaptureSettings(_env_file=None)  # type: ignore[call-arg]
    assert not settings.graph_configured and not settings.google_configured
    assert not settings.subjects and not settings.allow_local_feeds
    sources = build_sources(settings)
    assert [s.name for s in sources] == ["ics"]
    core = Touchbase(store, clock, CoreConfig(), default_registry())
    report = await run_capture(core.store, clock, core.config, sources)
    assert report.workspaces == 1 and report.people == 0  # nobody has given a calendar
    graph = CaptureSettings(
        _env_file=None,  # type: ignore[call-arg]
        graph_tenant_id="t",
        graph_client_id="c",
        graph_client_secret="s",  # type: ignore[arg-type]
    )
    assert [s.name for s in build_sources(graph)] == ["ics", "graph"]
    from tests.fakes.google import FakeGoogle

    key = FakeGoogle().key_file(tmp_path)
    google = CaptureSettings(_env_file=None, google_credentials_file=str(key))  # type: ignore[call-arg]
    assert [s.name for s in build_sources(google)] == ["ics", "google"]


def test_capture_ics_command_reads_a_file_for_one_person(tmp_path: Path) -> None:
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'touchbase.db'}",
        "TOUCHBASE_SCHEDULER": "false",
        "PATH": "/usr/bin:/bin",
    }

    def touchbase(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "app.cli", *args],
            input=stdin, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60,
        )  # fmt: skip

    run = touchbase(
        "console", "--user", "jane",
        stdin="/client add Globex\n/client Globex domain globex.example\n",
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    day = T0.replace(year=2030)  # a fixed "now" for the command, a meeting the day before
    (tmp_path / "week.ics").write_text(
        ics(
            vevent("a", day - timedelta(days=1), "dana@globex.example"),
            vevent("b", day - timedelta(days=1), "someone@elsewhere.example"),
        )
    )
    args = ("capture", "ics", "week.ics", "--person", "jane", "--now", day.isoformat())
    run = touchbase(*args)
    assert run.returncode == 0, run.stderr
    assert "Read 2 events for jane" in run.stdout and "1 new" in run.stdout
    assert "1 not with a client" in run.stdout
    assert MARKER not in run.stdout + run.stderr
    again = touchbase(*args)
    assert "0 new" in again.stdout
    nobody = touchbase("capture", "ics", "week.ics", "--person", "zed")
    assert nobody.returncode == 2 and "Nobody" in nobody.stderr
    whole = touchbase("capture", "--now", day.isoformat())
    assert whole.returncode == 0, whole.stderr
    assert "0 people read in 1 workspaces" in whole.stdout


async def test_hourly_job_reads_each_feed_once_per_hour_across_replicas(tmp_path: Path) -> None:
    from dataclasses import replace

    from app.bootstrap import bootstrap
    from app.settings import Settings
    from scheduler.jobs import capture_tick

    url = f"sqlite:///{tmp_path / 'tb.db'}"
    capture = CaptureSettings(_env_file=None, allow_local_feeds=True)  # type: ignore[call-arg]
    settings = Settings(database_url=url, capture=capture, secret_keys=SecretStr(SECRET_KEY))
    clock = FixedClock(T0)
    one = await bootstrap(settings, clock=clock)
    two = await bootstrap(settings, clock=clock, migrate=False)
    try:
        async with FakeCalendarFeed() as feed:
            feed.body = ics(vevent("m1", YESTERDAY, "dana@globex.example"))
            ws = await one.store.workspace(Platform.CONSOLE, "local", "Here")
            async with one.store.unit(ws.id) as uow:
                jane = await uow.people.ensure("jane", "Jane", email="jane@firm.example")
                globex = await uow.clients.add("Globex")
                await uow.contacts.add(globex.id, "Dana", email="dana@globex.example")
                s = await uow.capture.setup(jane.id)
                await uow.capture.save_setup(replace(s, feed_url=feed.url))
                await uow.commit()
            await capture_tick(one)
            await capture_tick(two)
            assert feed.hits == 1
            async with one.store.unit(ws.id) as uow:
                assert len(await uow.capture.pending(None)) == 1
    finally:
        await one.close()
        await two.close()


async def test_a_calendar_address_is_refused_where_others_read(
    app: Touchbase, store: SqlStore
) -> None:
    from bot.inbound import CommandIn, Identity
    from bot.messages import Message
    from bot.privacy import Conversation, ConversationKind

    who = Identity(Platform.SLACK, "T1", "U1", "Jane")
    url = "https://outlook.office365.com/owa/calendar/abc/SECRETPART/calendar.ics"
    channel = Conversation(ConversationKind.CHANNEL)
    reply = await app.command(who, CommandIn("touchbase", f"calendar {url}", conversation=channel))
    assert isinstance(reply, Message) and "direct message" in reply.text
    assert "SECRETPART" not in repr(reply)
    ws = await store.workspace(Platform.SLACK, "T1")
    async with store.unit(ws.id) as uow:
        assert all(s.feed_url is None for s in await uow.capture.setups())
    personal = await app.command(who, CommandIn("touchbase", f"calendar {url}"))
    assert isinstance(personal, Message) and "Saved" in personal.text
    assert "SECRETPART" not in repr(personal)
