"""What a firm relies on, the same on botbuilder and on the Microsoft 365 Agents SDK: a command
with a mention in a channel, Adaptive Card forms (``Action.Submit`` and ``Action.Execute``), the
morning message after a restart from the stored conversation reference, and every bad token a
401. Real HTTP, the fake connector, the local OpenID issuer; SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from bot.clock import FixedClock
from bot.digest import run_sweep
from bot.domain import Platform, TouchKind
from tests.contract.harness import APP_ID, Contract, buttons
from tests.nudge_fixtures import add_client, add_touch
from tests.teams_helpers import (
    ADA,
    PERSONAL_CONVERSATION,
    TENANT,
    card_text,
    execute,
    unescape,
)

# --- channel with a mention, and forms -------------------------------------------------------------


async def test_a_command_in_a_channel_with_the_bot_mentioned(teams: Contract) -> None:
    assert await teams.post(teams.personal("client add Acme")) == 201
    asked = teams.in_channel("<at>Touchbase</at>&nbsp;touch Acme call with Dana")
    assert await teams.post(asked) == 201
    [touch] = await teams.touches()
    assert (touch.kind, touch.contact) == (TouchKind.CALL, "Dana")
    replies = await teams.replies(3)
    assert replies[2]["conversation"]["id"].startswith("19:relationships")
    assert replies[2]["replyToId"] == asked["id"]  # the pointer answers the mention, in thread


async def test_cards_use_universal_actions_with_a_submit_fallback(teams: Contract) -> None:
    assert await teams.post(teams.personal("client add Acme")) == 201
    card = await teams.last_card(1)
    assert card["version"] == "1.5"
    [*_, button] = buttons(card)
    assert button["type"] == "Action.Execute" and button["verb"] == "touchbase"
    assert button["fallback"]["type"] == "Action.Submit"
    assert button["fallback"]["data"] == button["data"]
    # the card refreshes for the person it was sent to, so each sees their own state
    assert card["refresh"]["userIds"] == ["29:1ada-teams-id"]
    assert card["refresh"]["action"]["type"] == "Action.Execute"


async def test_an_adaptive_card_form_submitted_both_ways(teams: Contract) -> None:
    assert await teams.post(teams.personal("client add Initech")) == 201
    [open_form] = [
        b
        for b in buttons(await teams.last_card(1))
        if b["data"].get("action_id") == "log_touch_open"
    ]
    assert await teams.post(teams.submit(open_form["fallback"]["data"])) == 201
    [save] = buttons(await teams.last_card(2))
    assert save["data"]["form_id"] == "log_touch"
    filled = {
        "client": "Initech",
        "kind": "coffee",
        "contact": "Bob",
        "note": "",
        "awaiting": "false",
    }

    # an older client: Action.Submit arrives as a message with a value
    assert (
        await teams.post(teams.submit({**save["fallback"]["data"], **filled, "date": "2026-11-20"}))
        == 201
    )
    await teams.replies(3)
    # a newer one: Action.Execute arrives as an invoke, answered in the HTTP response
    status, body = await teams.post_raw(
        execute(teams, {**save["data"], **filled, "date": "2026-11-21"})
    )
    assert status == 200 and json.loads(body)["statusCode"] == 200
    touches = await teams.touches()
    assert sorted((t.kind, t.contact, t.occurred_on) for t in touches) == [
        (TouchKind.COFFEE, "Bob", date(2026, 11, 20)),
        (TouchKind.COFFEE, "Bob", date(2026, 11, 21)),
    ]

    # a mistake comes back in place, on the card that was pressed, with the error
    status, body = await teams.post_raw(
        execute(teams, {**save["data"], **filled, "date": "23/11/2026"})
    )
    answer = json.loads(body)
    assert status == 200 and answer["type"] == "application/vnd.microsoft.card.adaptive"
    assert "Use a date like 2026-11-03." in unescape(card_text(answer["value"]))
    assert len(await teams.touches()) == 2


# --- the morning message after a restart ---------------------------------------------------------

MON_0830_LONDON = datetime(2026, 11, 23, 8, 30, tzinfo=UTC)  # London is on UTC in November


async def test_the_morning_message_after_a_restart(teams: Contract) -> None:
    assert await teams.post(teams.personal("client add Acme")) == 201
    await teams.replies(1)
    ws = await teams.services.store.workspace(Platform.TEAMS, TENANT)
    ada = await teams.person(ADA["aadObjectId"])
    assert ada is not None and ada.address is not None
    long_ago = MON_0830_LONDON - timedelta(days=90)
    acme = await add_client(
        teams.services.store, teams.clock, ws.id, "Beta LLP", ada, added=long_ago
    )
    await add_touch(teams.services.store, ws.id, acme, ada, long_ago.date())
    await teams.restart()  # nothing in memory survives: the reference comes from the store
    teams.connector.clear_calls()

    services = teams.services
    report = await run_sweep(
        services.store, services.messengers, FixedClock(MON_0830_LONDON), services.app.config, "t"
    )
    assert report.sent == [ada.id], report
    [call] = teams.connector.calls("send") + teams.connector.calls("reply")
    assert call.conversation_id == PERSONAL_CONVERSATION
    assert "Beta LLP" in card_text(call.body["attachments"][0]["content"])


# --- tokens -----------------------------------------------------------------------------------------


async def test_a_valid_token_is_accepted_and_the_reply_is_signed(secured: Contract) -> None:
    assert await secured.post(secured.personal("help"), token=secured.token()) == 201
    await secured.replies(1)
    [reply] = secured.connector.calls("reply")
    assert reply.headers["Authorization"].startswith("Bearer ")


BAD: dict[str, Callable[[Contract], str | None]] = {
    "missing": lambda t: None,
    "expired": lambda t: t.token(exp=int(datetime.now().timestamp()) - 3600),
    "wrong_audience": lambda t: t.token(aud="someone-else"),
    "wrong_issuer": lambda t: t.token(iss="https://issuer.invalid"),
    "bad_signature": lambda t: _issuer(t).sign(
        {"aud": APP_ID, "serviceurl": t.connector.service_url}, key=_issuer(t).wrong_key
    ),
    "not_a_jwt": lambda t: "garbage",
}


def _issuer(teams: Contract) -> Any:
    assert teams.issuer is not None
    return teams.issuer


@pytest.mark.security
@pytest.mark.parametrize("case", list(BAD))
async def test_every_bad_token_is_a_401(secured: Contract, case: str) -> None:
    token = BAD[case](secured)
    assert await secured.post(secured.personal("client add Acme"), token=token) == 401
    assert secured.connector.calls() == []
    assert await secured.touches() == []


async def test_a_card_refresh_is_answered_and_changes_nothing(teams: Contract) -> None:
    assert await teams.post(teams.personal("client add Acme")) == 201
    refresh = (await teams.last_card(1))["refresh"]["action"]
    activity = execute(teams, refresh["data"])
    activity["value"]["action"] = refresh
    activity["value"]["trigger"] = "automatic"
    status, body = await teams.post_raw(activity)
    assert status == 200 and json.loads(body)["statusCode"] == 200
    assert len(teams.connector.activities()) == 1  # nothing new posted
    async with teams.services.store.unit(
        (await teams.services.store.workspace(Platform.TEAMS, TENANT)).id
    ) as uow:
        assert len(await uow.clients.list()) == 1
