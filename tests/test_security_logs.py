"""Nothing secret reaches the logs, even at DEBUG, from any library.

A representative flow on Slack (seeded bot token and signing secret, a refused signature, a
response_url, a failed send), Teams and the console, with a distinctive note text. Every record
any logger emits (message, args, extras, exception text) is scanned. The Slack-only check in
test_slack_http looks at the adapter's and Slack libraries' loggers; this one at all of them,
the database driver's included.
"""

from __future__ import annotations

import contextlib
import logging
import traceback
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from app.bootstrap import configure_logging
from bot.domain import Platform
from bot.messages import Message
from bot.ports import DeliveryError
from tests.conftest import Chat
from tests.slack_helpers import (  # noqa: F401  (fixtures)
    BOT_TOKEN,
    SIGNING_SECRET,
    Harness,
    signed_headers,
    slack_fake_fixture,
    slack_fixture,
)
from tests.teams_helpers import Teams, teams

__all__ = ["teams"]  # the fixture

pytestmark = pytest.mark.security

NOTE = "zebra-quartz-9931"
SECRETS = (NOTE, BOT_TOKEN, SIGNING_SECRET, "resp-secret-42", "/response/")


def everything_in(record: logging.LogRecord) -> str:
    parts = [record.name, str(record.msg), repr(record.args)]
    with contextlib.suppress(Exception):  # a malformed record is still scanned by its parts
        parts.append(record.getMessage())
    parts.append(repr(record.__dict__))
    if record.exc_info and record.exc_info[1] is not None:
        parts.extend(traceback.format_exception(record.exc_info[1]))
    if record.exc_text:
        parts.append(record.exc_text)
    return "\n".join(parts)


@pytest.fixture
def restore_logging() -> Iterator[None]:
    names = ("alembic", "slack_bolt", "aiosqlite", "sqlalchemy.engine", "sqlalchemy.pool")
    levels = {n: logging.getLogger(n).level for n in names}
    yield
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


@pytest.mark.usefixtures("restore_logging")
async def test_no_secret_or_note_in_any_log_record(
    slack: Harness, teams: Teams, chat: Chat, caplog: pytest.LogCaptureFixture
) -> None:
    configure_logging("DEBUG")  # as `LOG_LEVEL=DEBUG touchbase serve` sets it up
    caplog.set_level(logging.DEBUG)  # every record that reaches the root logger

    # Slack: a command, a forged copy, an unhandled button, a send that fails.
    await slack.command("add Acme", command="/client")
    body = slack.command_body(f"Acme lunch with Dana {NOTE}", response_id="resp-secret-42")
    assert (await slack.post(body, headers=signed_headers(body, secret="wrong"), sign=False))[
        0
    ] == 401
    status, text = await slack.post(body)
    assert status == 200 and NOTE in text  # the person sees their note; the log must not
    await slack.post(slack.block_actions_body("nobody_listens", NOTE, response_id="resp-2"))
    slack.fake.fail_next("chat.postMessage", error="channel_not_found")
    with pytest.raises(DeliveryError):
        await slack.services.messengers[Platform.SLACK].send(
            {"channel": "C0GONE"}, Message(text=NOTE)
        )
    await slack.settle()

    # Teams.
    assert await teams.post(teams.personal("client add Acme")) == 201
    assert await teams.post(teams.personal(f"touch Acme call with Dana {NOTE}")) == 201
    await teams.replies(2)

    # The console.
    await chat.say("/client add Acme")
    assert NOTE in await chat.say(f"/touch Acme coffee with Dana {NOTE}")

    records = caplog.records
    assert len(records) > 10  # the flow did log
    leaked = [(r.name, s) for r in records for s in SECRETS if s in everything_in(r)]
    assert leaked == [], sorted(set(leaked))


async def test_a_failed_statement_does_not_quote_its_parameters(engine: AsyncEngine) -> None:
    """The core logs a failed unit of work with its exception: that text must hold no note."""
    with pytest.raises(DBAPIError) as failure:
        async with engine.begin() as conn:
            # a NOT NULL violation: the row is refused with the note in it
            await conn.execute(text("INSERT INTO touch (note) VALUES (:note)"), {"note": NOTE})
    assert NOTE not in str(failure.value)
