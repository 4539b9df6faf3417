"""The Teams contract: the same scenarios and the same assertions for both Teams adapters
(botbuilder and the Microsoft 365 Agents SDK), through real HTTP against the fake connector and
the local OpenID issuer, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

from bot.domain import TouchKind
from tests.contract.harness import Contract
from tests.teams_helpers import card_text


async def test_a_touch_in_the_personal_chat(teams: Contract) -> None:
    assert await teams.post(teams.personal("client add Acme")) == 201
    assert await teams.post(teams.personal("touch Acme lunch with the CFO yesterday")) == 201

    [touch] = await teams.touches()
    assert (touch.kind, touch.contact, touch.occurred_on) == (
        TouchKind.LUNCH,
        "CFO",
        date(2026, 11, 22),
    )
    reply = (await teams.replies(2))[1]
    assert reply["type"] == "message"
    assert reply["conversation"]["id"] == "a:1personal-ada"
    assert "Logged lunch with CFO at Acme" in card_text(reply["attachments"][0]["content"])
