"""Replaying the intake journal: a command a killed process answered "Saving…" is completed once
and its outcome told once, however many replays run and wherever one dies. On both engines.

The entry is left on disk as a process killed after its ack leaves it (its writer's pid dead);
the replays are real Slack adapters, each with its own core and database connections, as two
processes on one host would be, against the fake Slack API and its response_url endpoint.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from adapters.intake_journal import IntakeJournal
from adapters.slack.runtime import SLACK, SlackAdapter
from app.bootstrap import Services
from app.server import create_app
from bot.app import Touchbase
from bot.clock import FixedClock
from bot.commands import default_registry
from store.db import create_engine
from store.models import OutboxRow
from store.repositories import SqlStore
from tests.fakes.slack_api import FakeSlackApi
from tests.slack_helpers import (  # noqa: F401  (fixtures)
    TEAM,
    USER,
    Harness,
    slack_fake_fixture,
    slack_fixture,
    trigger,
)

NOTE = "call with Dana before the crash"


def dead_pid() -> int:
    """The id of a process that has exited, as a killed writer's is."""
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout)


def leave_entry(directory: Path, fake: FakeSlackApi, *, age: float = 5.0) -> Path:
    """What the adapter journals for `/touch Acme <NOTE>` before answering "Saving…", left by a
    process that died `age` seconds after it."""
    directory.mkdir(parents=True, exist_ok=True)
    data: dict[str, Any] = {
        "command": "/touch",
        "text": f"Acme {NOTE}",
        "user_id": USER,
        "user_name": "ada",
        "team_domain": "fake-workspace",
        "channel_id": "C0GENERAL",
        "platform": "slack",
        "workspace": TEAM,
        "trigger_id": trigger(),
        "response_url": fake.response_url("crash"),
        "received_at": time.time() - age,
    }
    path = directory / "0f3c5e1d2b4a49c8a7e6d5c4b3a29180.json"
    path.write_text(json.dumps({"pid": dead_pid(), "data": data}), encoding="utf-8")
    return path


async def another_process(
    slack: Harness, db_url: str, clock: FixedClock, directory: Path
) -> AsyncIterator[SlackAdapter]:
    """A second Touchbase on the same database and the same host (the same journal directory):
    its own engine, core, journal and Slack adapter."""
    engine = create_engine(db_url)
    try:
        store = SqlStore(engine, clock)
        settings = slack.services.settings
        app = Touchbase(store, clock, settings.core(), default_registry())
        services = Services(
            settings=settings,
            engine=engine,
            store=store,
            clock=clock,
            app=app,
            intake=IntakeJournal(directory),
        )
        adapter = create_app(services)[SLACK]
        yield adapter
        await adapter.drain()
    finally:
        await engine.dispose()


def journal_on(slack: Harness, directory: Path) -> None:
    slack.services.intake = IntakeJournal(directory)


async def stored_notes(slack: Harness) -> list[str]:
    return [t.note for t in await slack.touches()]


@pytest.fixture
async def acme(slack: Harness) -> Harness:
    status, _ = await slack.command("add Acme", command="/client")
    assert status == 200
    await slack.settle()
    slack.fake.clear_calls()
    return slack


async def test_two_replays_at_once_complete_the_command_once_and_tell_the_person_once(
    acme: Harness, db_url: str, clock: FixedClock, tmp_path: Path
) -> None:
    directory = tmp_path / "intake"
    leave_entry(directory, acme.fake)
    journal_on(acme, directory)
    async for other in another_process(acme, db_url, clock, directory):
        done = await asyncio.gather(acme.adapter.replay_intake(), other.replay_intake())
        await acme.settle()
        assert sorted(done) == [0, 1]  # one of them took it, the other saw it taken
    [told] = acme.fake.calls("response_url")
    assert told.path.endswith("/crash")
    assert "Logged call with Dana at Acme" in str(told.params.get("text")), told.params
    assert told.params.get("replace_original") is True  # in place of "Saving…"
    assert acme.fake.calls("chat.postMessage") == []
    assert (await stored_notes(acme)).count(NOTE) == 1
    assert list(directory.glob("*.json")) == []


async def test_a_replay_killed_after_telling_the_person_is_not_told_again(
    acme: Harness, db_url: str, clock: FixedClock, tmp_path: Path
) -> None:
    directory = tmp_path / "intake"
    entry = leave_entry(directory, acme.fake)
    kept = tmp_path / "entry-as-it-was.json"
    shutil.copy(entry, kept)
    journal_on(acme, directory)
    assert await acme.adapter.replay_intake() == 1
    await acme.settle()
    assert len(acme.fake.calls("response_url")) == 1
    # Killed after Slack took the reply, before the entry was removed: the entry is still there.
    shutil.copy(kept, entry)
    async for restarted in another_process(acme, db_url, clock, directory):
        assert await restarted.replay_intake() == 1  # completed: nothing left to do but remove it
    [told] = acme.fake.calls("response_url")
    assert "Logged call with Dana at Acme" in str(told.params.get("text")), told.params
    assert acme.fake.calls("chat.postMessage") == []
    assert (await stored_notes(acme)).count(NOTE) == 1
    assert list(directory.glob("*.json")) == []


async def test_a_replay_never_takes_an_entry_its_live_writer_is_still_working_on(
    acme: Harness, tmp_path: Path
) -> None:
    directory = tmp_path / "intake"
    writer = IntakeJournal(directory)
    key = await writer.write({"platform": "slack", "command": "/touch", "text": "Acme call"})
    other = IntakeJournal(directory)  # another replica's journal on the same host
    assert other.claim() == []
    await writer.done(key)
    assert other.claim() == []
    assert list(directory.iterdir()) == []


async def test_a_reply_past_the_response_url_window_goes_by_dm_once(
    acme: Harness, store: SqlStore, tmp_path: Path
) -> None:
    directory = tmp_path / "intake"
    leave_entry(directory, acme.fake, age=26 * 60)  # Slack takes response_url posts for 30 min
    journal_on(acme, directory)
    assert await acme.adapter.replay_intake() == 1
    await acme.settle()
    assert acme.fake.calls("response_url") == []
    [dm] = acme.fake.calls("chat.postMessage")
    assert dm.params.get("channel") == USER
    assert "Logged call with Dana at Acme" in str(dm.params.get("text")), dm.params
    async with store.sessions() as s:
        [row] = list(await s.scalars(select(OutboxRow).where(OutboxRow.kind.like("reply:%"))))
    assert row.status == "sent"


async def test_a_reply_slack_refuses_at_the_response_url_goes_by_dm_once(
    acme: Harness, tmp_path: Path
) -> None:
    directory = tmp_path / "intake"
    leave_entry(directory, acme.fake)
    acme.fake.fail_next("response_url", status=404, error="expired_url")
    journal_on(acme, directory)
    assert await acme.adapter.replay_intake() == 1
    await acme.settle()
    [refused] = acme.fake.calls("response_url")
    assert refused.status == 404
    [dm] = acme.fake.calls("chat.postMessage")
    assert dm.params.get("channel") == USER
    assert "Logged call with Dana at Acme" in str(dm.params.get("text")), dm.params
    assert await acme.adapter.replay_intake() == 0
    assert len(acme.fake.calls("chat.postMessage")) == 1
