"""A slow `/touchbase calendar <address>` on Slack: the intake journal never holds the address.

The command is answered "Saving…" and journaled, as every slow command is, but the journal entry
carries the text with the address withheld and the original only encrypted with the key of the
secrets at rest. The command completes exactly once: in the process that took it, or after a
crash from the sealed copy; with no key to seal it, the person is asked to send it again.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest

from adapters.intake_journal import IntakeJournal
from bot.app import Reply
from bot.domain import Platform
from bot.inbound import CommandIn, Identity
from store.secrets import TokenCipher
from tests.conftest import SECRET_KEY
from tests.slack_helpers import (  # noqa: F401  (fixtures)
    Harness,
    slack_fake_fixture,
    slack_fixture,
)

pytestmark = pytest.mark.security

SECRET_PART = "private-77d1e0c4b9a2f358"
FEED = f"https://calendar.example/{SECRET_PART}/basic.ics"
DM = "D0ADA"  # typed in the direct message with the bot, as the command asks


def journal_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.json")) + sorted(directory.glob(".*.tmp"))


def assert_no_address(directory: Path) -> list[dict[str, Any]]:
    entries = []
    for path in journal_files(directory):
        raw = path.read_text(encoding="utf-8")
        assert SECRET_PART not in raw and "calendar.example" not in raw, raw
        entries.append(json.loads(raw))
    return entries


async def feed_of(slack: Harness) -> str | None:
    ws = await slack.store.workspace(Platform.SLACK, slack.team)
    async with slack.store.unit(ws.id) as uow:
        ada = await uow.people.by_platform_id("U0ADA")
        assert ada is not None
        return (await uow.capture.setup(ada.id)).feed_url


def as_if_dead(journal: IntakeJournal | None) -> None:
    """The process that wrote the entries is gone, and its locks on them with it: the next
    start replays them."""
    assert journal is not None
    for path in journal.directory.glob("*.json"):
        journal.release(path.stem)


async def test_a_slow_calendar_command_completes_once_and_the_journal_never_holds_it(
    slack: Harness, tmp_path: Path
) -> None:
    directory = tmp_path / "intake"
    slack.services.intake = IntakeJournal(directory, TokenCipher([SECRET_KEY]))
    slack.adapter.ack_budget = 0.2
    release = asyncio.Event()
    inner = slack.services.app.command
    ran: list[str] = []

    async def slow(who: Identity, cmd: CommandIn) -> Reply:
        ran.append(cmd.text)
        await release.wait()
        return await inner(who, cmd)

    slack.services.app.command = slow  # type: ignore[method-assign]
    status, body = await slack.command(
        f"calendar {FEED}", command="/touchbase", channel_id=DM, response_id="cal1"
    )
    assert status == 200 and body["text"].startswith("Saving"), body
    [entry] = assert_no_address(directory)
    assert entry["data"]["text"] == "calendar [secret address]"
    assert entry["data"]["sealed"]["text"].startswith("fernet:")

    release.set()
    [posted] = await slack.fake.wait_for("response_url", 1)
    assert posted.path.endswith("/cal1")
    assert "Saved your calendar's address" in str(posted.params["text"])
    assert SECRET_PART not in json.dumps(posted.params)
    await slack.settle()
    assert journal_files(directory) == []  # done: nothing left to replay
    assert await feed_of(slack) == FEED
    assert ran == [f"calendar {FEED}"]  # once
    assert await slack.adapter.replay_intake() == 0
    assert len(slack.fake.calls("response_url")) == 1


def command_dict(slack: Harness, text: str, response_id: str) -> dict[str, str]:
    body = slack.command_body(text, command="/touchbase", channel_id=DM, response_id=response_id)
    return dict(parse_qsl(body))


async def test_after_a_crash_the_sealed_copy_completes_it_once(
    slack: Harness, tmp_path: Path
) -> None:
    await slack.command("capture", command="/touchbase", channel_id=DM)  # Ada and her workspace
    directory = tmp_path / "intake"
    slack.services.intake = IntakeJournal(directory, TokenCipher([SECRET_KEY]))
    assert await slack.adapter.journal(command_dict(slack, f"calendar {FEED}", "crash"), slack.team)
    assert_no_address(directory)
    as_if_dead(slack.services.intake)

    assert await slack.adapter.replay_intake() == 1
    [told] = await slack.fake.wait_for("response_url", 1)
    assert told.path.endswith("/crash")
    assert "Saved your calendar's address" in str(told.params["text"])
    assert await feed_of(slack) == FEED
    assert journal_files(directory) == []
    assert await slack.adapter.replay_intake() == 0  # a second start finds nothing to do
    assert len(slack.fake.calls("response_url")) == 1


async def test_without_a_key_the_journal_keeps_no_copy_and_the_person_is_asked_again(
    slack: Harness, tmp_path: Path
) -> None:
    await slack.command("capture", command="/touchbase", channel_id=DM)
    directory = tmp_path / "intake"
    slack.services.intake = IntakeJournal(directory)  # TOUCHBASE_SECRET_KEYS unset
    assert await slack.adapter.journal(command_dict(slack, f"calendar {FEED}", "nokey"), slack.team)
    [entry] = assert_no_address(directory)
    assert entry["data"]["sealed"] == {"text": None}
    # Other commands are journaled as they came.
    assert await slack.adapter.journal(command_dict(slack, "calendar off", "off"), slack.team)
    texts = sorted(e["data"]["text"] for e in assert_no_address(directory))
    assert texts == ["calendar [secret address]", "calendar off"]
    as_if_dead(slack.services.intake)

    assert await slack.adapter.replay_intake() == 2
    told = {c.path.rsplit("/", 1)[1]: c for c in await slack.fake.wait_for("response_url", 2)}
    assert "Please send it again" in str(told["nokey"].params["text"])
    assert SECRET_PART not in json.dumps(told["nokey"].params)
    assert "forgotten your calendar address" in str(told["off"].params["text"])
    assert await feed_of(slack) is None
    assert journal_files(directory) == []
