"""A person's secret calendar address is encrypted at rest with the Slack tokens' Fernet cipher
(TOUCHBASE_SECRET_KEYS), never stored without a key, never logged or shown back.

Addresses kept in plain text before this release are read as they are and encrypted again the
next time they are read or saved (a command, a capture pass), or all at once by `touchbase db
rotate-keys`; a key put first in TOUCHBASE_SECRET_KEYS takes over the same way.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import Touchbase
from bot.capture import Collected, run_capture, without_secret
from bot.capture_ports import CaptureSetup, SecretUnavailable
from bot.clock import FixedClock
from bot.commands import default_registry
from bot.config import CoreConfig
from bot.domain import Person
from store.capture import rotate_feed_keys
from store.models import CaptureSetupRow
from store.repositories import SqlStore
from store.secrets import PREFIX, TokenCipher
from tests.conftest import SECRET_KEY, Chat
from tests.test_capture_core import dump

SECRET_PART = "private-5f2c9e0d7a3b41c6"
FEED = f"https://calendar.example/{SECRET_PART}/basic.ics"
NEW_KEY = TokenCipher.new_key()


def other_store(store: SqlStore, *keys: str) -> SqlStore:
    """The same database seen by a server with these keys (none: TOUCHBASE_SECRET_KEYS unset)."""
    return SqlStore(store.engine, store.clock, cipher=TokenCipher(keys) if keys else None)


def chat_on(store: SqlStore, user: str = "jane") -> Chat:
    assert isinstance(store.clock, FixedClock)
    return Chat(Touchbase(store, store.clock, CoreConfig(), default_registry()), user)


async def stored(engine: AsyncEngine) -> list[str | None]:
    async with engine.connect() as conn:
        return list(await conn.scalars(select(CaptureSetupRow.feed_url)))


async def jane_setup(store: SqlStore) -> CaptureSetup:
    ws = (await store.workspaces())[0].id
    async with store.unit(ws) as uow:
        jane = await uow.people.by_platform_id("jane")
        assert jane is not None
        return await uow.capture.setup(jane.id)


async def plain_text_row(chat: Chat, store: SqlStore) -> None:
    """Jane's address as releases before this one kept it: in plain text."""
    await chat.say(f"/touchbase calendar {FEED}")
    async with store.engine.begin() as conn:
        await conn.execute(update(CaptureSetupRow).values(feed_url=FEED))
    assert await stored(store.engine) == [FEED]


async def test_the_address_is_encrypted_at_rest_and_read_back(chat: Chat, store: SqlStore) -> None:
    out = await chat.say(f"/touchbase calendar {FEED}")
    assert "Saved your calendar's address" in out and SECRET_PART not in out
    [row] = await stored(store.engine)
    assert row is not None and row.startswith(PREFIX)
    everything = await dump(store)
    assert SECRET_PART not in everything and "calendar.example" not in everything
    assert (await jane_setup(store)).feed_url == FEED
    assert "Calendar feed: set" in await chat.say("/touchbase capture")
    # Changing the mode keeps the address, still encrypted; "off" forgets it.
    await chat.say("/touchbase capture auto")
    assert (await jane_setup(store)).feed_url == FEED
    assert SECRET_PART not in await dump(store)
    await chat.say("/touchbase calendar off")
    assert await stored(store.engine) == [None]


async def test_a_new_first_key_takes_over_and_rotate_keys_finishes(
    chat: Chat, store: SqlStore
) -> None:
    await chat.say(f"/touchbase calendar {FEED}")
    [under_old] = await stored(store.engine)
    rotated = other_store(store, NEW_KEY, SECRET_KEY)
    assert (await jane_setup(rotated)).feed_url == FEED  # read under the old key
    assert await stored(store.engine) == [under_old]  # a read alone commits nothing
    await chat_on(rotated).say("/touchbase capture")  # a command reads it, and commits
    [under_new] = await stored(store.engine)
    assert under_new != under_old
    assert (await jane_setup(other_store(store, NEW_KEY))).feed_url == FEED  # old key gone

    # rotate-keys does every row at once, and only those that need it.
    assert rotated.cipher is not None
    assert await rotate_feed_keys(store.sessions, rotated.cipher) == 0
    newer = TokenCipher.new_key()
    assert await rotate_feed_keys(store.sessions, TokenCipher([newer, NEW_KEY])) == 1
    assert (await jane_setup(other_store(store, newer))).feed_url == FEED


async def test_plain_text_from_before_is_read_then_encrypted(chat: Chat, store: SqlStore) -> None:
    await plain_text_row(chat, store)
    assert (await jane_setup(store)).feed_url == FEED
    await chat.say("/touchbase capture")
    [row] = await stored(store.engine)
    assert row is not None and row.startswith(PREFIX)
    assert (await jane_setup(store)).feed_url == FEED

    await plain_text_row(chat, store)
    assert store.cipher is not None
    assert await rotate_feed_keys(store.sessions, store.cipher) == 1
    assert SECRET_PART not in await dump(store)


class _Nothing:
    """A source with nothing to read: the pass still reads everyone's setup."""

    name = "none"

    def wants(self, person: Person, setup: CaptureSetup) -> bool:
        return False

    async def collect(self, person: Person, setup: CaptureSetup, now: datetime) -> Collected:
        raise AssertionError("not asked")


async def test_a_capture_pass_encrypts_what_it_reads(
    chat: Chat, store: SqlStore, clock: FixedClock
) -> None:
    await plain_text_row(chat, store)
    report = await run_capture(store, clock, CoreConfig(), [_Nothing()], claim="h1")
    assert report.workspaces == 1
    [row] = await stored(store.engine)
    assert row is not None and row.startswith(PREFIX)


async def test_without_a_key_nothing_new_is_stored(
    store: SqlStore, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    keyless = other_store(store)
    chat = chat_on(keyless)
    out = await chat.say(f"/touchbase calendar {FEED}")
    assert "I didn't save that" in out and "TOUCHBASE_SECRET_KEYS" in out
    assert SECRET_PART not in out
    assert await stored(store.engine) in ([], [None])
    # An address from before stays readable, and a mode change keeps it as it was.
    await plain_text_row(chat_on(store), store)
    assert (await jane_setup(keyless)).feed_url == FEED
    await chat.say("/touchbase capture auto")
    assert await stored(store.engine) == [FEED]
    # An encrypted address cannot be read without its key: said, and the pass skips.
    await chat_on(store).say("/touchbase capture")
    caplog.clear()  # what the test itself wrote, in plain text, through the driver
    with pytest.raises(SecretUnavailable) as raised:
        await jane_setup(keyless)
    assert "TOUCHBASE_SECRET_KEYS" in str(raised.value)
    with pytest.raises(SecretUnavailable):
        await jane_setup(other_store(store, NEW_KEY))  # the key it was encrypted with is gone
    report = await run_capture(keyless, clock, CoreConfig(), [_Nothing()], claim="h1")
    assert report.failed == 1 and report.workspaces == 0
    assert "capture pass skipped" in caplog.text
    assert SECRET_PART not in caplog.text and "calendar.example" not in caplog.text


async def test_never_logged_nor_shown_back_when_saving_fails(
    chat: Chat, store: SqlStore, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from store.capture import SqlCapture

    caplog.set_level(logging.DEBUG)
    await chat.say("/touchbase capture")
    broken = SqlCapture.save_setup

    async def fails(self: SqlCapture, setup: CaptureSetup) -> None:
        await broken(self, replace(setup, mode=setup.mode))
        raise RuntimeError("the database went away")

    monkeypatch.setattr(SqlCapture, "save_setup", fails)
    out = await chat.say(f"/touchbase calendar {FEED}")
    assert "Something went wrong" in out
    assert "/touchbase calendar [secret address]" in out  # the echo, without the address
    assert SECRET_PART not in out
    assert "handler failed" in caplog.text and SECRET_PART not in caplog.text
    for record in caplog.records:
        assert SECRET_PART not in repr(record.__dict__) + record.getMessage()
    assert await stored(store.engine) == []  # not committed


def test_only_the_address_is_withheld() -> None:
    assert without_secret("/touchbase", f"calendar {FEED}") == "calendar [secret address]"
    assert without_secret("touchbase", f"Calendar  <{FEED}>") == "Calendar [secret address]"
    assert without_secret("/touchbase", "calendar off") == "calendar off"
    assert without_secret("/touchbase", "capture auto") == "capture auto"
    assert without_secret("/touch", f"Globex read {FEED}") == f"Globex read {FEED}"
