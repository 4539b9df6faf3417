"""What a reply is, the same on both SDKs: the activity each SDK builds from
:func:`adapters.teams.handler.reply_json` goes on the wire as that JSON, no field lost."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.teams import cards
from adapters.teams.handler import message_json, reply_json
from adapters.teams.universal import REFRESH
from bot.messages import Action, Message

CARD = cards.message_card(
    Message(text="Logged lunch with Dana at Acme.", title="Acme", actions=(Action("undo", "Undo"),))
)


def on_the_wire(sdk: str, data: dict[str, Any]) -> dict[str, Any]:
    """The SDK's activity for ``data``, serialized as it would be sent to the connector."""
    if sdk == "agents":
        from adapters.agents.bot import activity_of as agents_activity

        sent: dict[str, Any] = agents_activity(data).model_dump(
            mode="json", by_alias=True, exclude_none=True
        )
        return sent
    from adapters.teams.bot import activity_of as botbuilder_activity

    serialized: dict[str, Any] = botbuilder_activity(data).serialize()
    return serialized


@pytest.mark.parametrize(
    "summary,expected",
    [
        ("Logged lunch with Dana at Acme.", "Logged lunch with Dana at Acme."),
        ("a\x07b", "ab"),  # control characters go: Teams shows the summary as plain text
        ("x" * 250, "x" * 200),
        ("", None),
        ("   ", None),  # a blank summary is left out, not sent as spaces
    ],
)
def test_a_reply_is_the_card_with_its_summary(sdk: str, summary: str, expected: str | None) -> None:
    sent = on_the_wire(sdk, reply_json(CARD, summary, "29:1ada-teams-id"))
    assert sent.get("type") == "message"
    assert sent.get("summary") == expected
    [attachment] = sent["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    content = attachment["content"]
    assert content["version"] == "1.5"
    assert content["refresh"]["action"]["verb"] == REFRESH
    assert content["refresh"]["userIds"] == ["29:1ada-teams-id"]
    [undo] = [a for a in content["actions"] if a.get("title") == "Undo"]
    assert undo["type"] == "Action.Execute"
    assert undo["fallback"]["type"] == "Action.Submit"
    assert undo["data"] == undo["fallback"]["data"] == {"action_id": "undo", "value": ""}


def test_a_message_for_everyone_has_no_refresh(sdk: str) -> None:
    sent = on_the_wire(sdk, message_json(Message(text="Something went wrong.")))
    assert sent["summary"] == "Something went wrong."
    assert "refresh" not in sent["attachments"][0]["content"]
