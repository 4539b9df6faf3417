"""The tenancy boundary on Teams, on both SDKs and both engines, through real HTTP: who may act
(guests, other tenants), where a private reply goes (channels, group chats), who a mention is
(the roster), invokes answered, an unreachable serviceUrl."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import timedelta
from typing import Any

import pytest

from bot.privacy import COULD_NOT_DM, REFUSAL, SENT_PRIVATELY
from tests.contract.harness import Contract
from tests.teams_helpers import (
    ADA,
    BEN,
    OTHER_TENANT,
    PERSONAL_CONVERSATION,
    TENANT,
    card_text,
    execute,
    group_chat,
    invoke,
    mention,
)

BOB = {"id": "29:1bob-teams-id", "name": "Bob Brown", "aadObjectId": "aad-bob-0003"}
SECRET = "the Zephyr merger"


def texts(activities: list[dict[str, Any]]) -> str:
    """Everything readable in these activities: text, summaries and card contents."""
    return json.dumps(activities)


async def in_conversation(teams: Contract, conversation_id: str) -> list[dict[str, Any]]:
    return [
        a
        for a in teams.connector.activities()
        if a["conversation"]["id"].startswith(conversation_id)
    ]


async def ada_with_a_client(teams: Contract) -> None:
    """Ada speaks to Touchbase in her personal chat, adds Acme and logs a touch with a note."""
    assert await teams.post(teams.personal("client add Acme")) == 201
    assert await teams.post(teams.personal(f"touch Acme lunch with the CFO about {SECRET}")) == 201
    await teams.replies(2)


# --- who may act --------------------------------------------------------------------------------


async def test_someone_of_another_tenant_is_refused_and_nothing_is_stored(teams: Contract) -> None:
    stranger = {
        "id": "29:1eve",
        "name": "Eve Outsider",
        "aadObjectId": "aad-eve",
        "tenantId": OTHER_TENANT,
    }
    for text in ("<at>Touchbase</at> touchbase channel", "<at>Touchbase</at> client add Evil"):
        assert await teams.post(teams.in_channel(text, sender=stranger)) == 201
    replies = await teams.replies(2)
    assert [card_text(r["attachments"][0]["content"]) for r in replies] == [REFUSAL, REFUSAL]
    assert await teams.person("aad-eve") is None
    async with teams.services.store.unit(
        (await teams.services.store.workspace(teams_platform(), TENANT)).id
    ) as uow:
        assert await uow.people.list() == []  # nobody became the firm's admin
        assert await uow.clients.list() == []


async def test_a_guest_is_refused_whatever_they_press(teams: Contract) -> None:
    guest = {"id": "29:1gus", "name": "Gus Guest", "aadObjectId": "aad-gus"}
    teams.connector.add_member(
        guest["id"], guest["name"], aad_object_id="aad-gus", tenant_id=TENANT, user_role="guest"
    )
    assert await teams.post(teams.in_channel("<at>Touchbase</at> clients", sender=guest)) == 201
    status, body = await teams.post_raw(
        execute(teams, {"action_id": "client_open", "value": "1"}, **{"from": guest})
    )
    assert status == 200
    assert json.loads(body)["value"] == REFUSAL
    [reply] = await teams.replies(1)
    assert card_text(reply["attachments"][0]["content"]) == REFUSAL
    assert await teams.person("aad-gus") is None


# --- private stays private ----------------------------------------------------------------------


async def test_a_private_reply_in_a_channel_goes_to_the_personal_chat(teams: Contract) -> None:
    await ada_with_a_client(teams)
    asked = teams.in_channel("<at>Touchbase</at> client Acme")
    assert await teams.post(asked) == 201
    await teams.replies(4)

    [pointer] = await in_conversation(teams, "19:relationships")
    assert card_text(pointer["attachments"][0]["content"]) == SENT_PRIVATELY
    assert pointer["replyToId"] == asked["id"]
    assert SECRET not in texts([pointer])
    private = (await in_conversation(teams, PERSONAL_CONVERSATION))[-1]
    assert "Acme" in card_text(private["attachments"][0]["content"])
    assert SECRET in texts([private])


async def test_a_group_chat_gets_only_a_pointer_or_a_way_to_reach_us(teams: Contract) -> None:
    await ada_with_a_client(teams)
    assert (
        await teams.post(group_chat(teams, f"<at>Touchbase</at> touch Acme call about {SECRET}"))
        == 201
    )
    # Ben never opened a personal chat with Touchbase: nothing can be sent to him privately.
    assert await teams.post(group_chat(teams, "<at>Touchbase</at> help", sender=BEN)) == 201
    await teams.replies(5)

    in_group = await in_conversation(teams, "19:meeting_group-chat")
    assert [card_text(a["attachments"][0]["content"]) for a in in_group] == [
        SENT_PRIVATELY,
        COULD_NOT_DM,
    ]
    assert SECRET not in texts(in_group)
    assert len(await teams.touches()) == 2


# --- people are who the roster says --------------------------------------------------------------


async def test_a_mention_without_an_aad_id_is_resolved_through_the_roster(teams: Contract) -> None:
    await ada_with_a_client(teams)
    assert await teams.post(teams.personal("touchbase help", sender=BOB)) == 201  # Bob said hi once
    teams.connector.add_member(
        BOB["id"], BOB["name"], aad_object_id=BOB["aadObjectId"], tenant_id=TENANT
    )
    asked = teams.in_channel(
        "<at>Touchbase</at> owner Acme <at>Bob Brown</at>", mentions=[mention(BOB)]
    )
    assert await teams.post(asked) == 201
    await teams.replies(5)

    bob = await teams.person(BOB["aadObjectId"])
    assert bob is not None
    assert await teams.person(BOB["id"]) is None  # no phantom "29:..." person
    async with teams.services.store.unit(
        (await teams.services.store.workspace(teams_platform(), TENANT)).id
    ) as uow:
        [acme] = await uow.clients.list()
        assert acme.owner_id == bob.id
    to_bob = await in_conversation(teams, "a:1personal-Bob Brown")
    assert any("Acme" in card_text(a["attachments"][0]["content"]) for a in to_bob[1:])


async def test_someone_touchbase_does_not_know_is_not_invented(teams: Contract) -> None:
    await ada_with_a_client(teams)
    carol = {"id": "29:1carol", "name": "Carol Chen", "aadObjectId": "aad-carol"}
    teams.connector.add_member(
        carol["id"], carol["name"], aad_object_id="aad-carol", tenant_id=TENANT
    )
    for person in (carol, BOB):  # Carol is in the roster but never spoke; Bob is not even there
        text = f"owner Acme <at>{person['name']}</at>"
        assert await teams.post(teams.personal(text, entities=[mention(person)])) == 201
    replies = await teams.replies(4)
    said = [card_text(r["attachments"][0]["content"]) for r in replies[2:]]
    assert said[0].startswith("I don't know Carol Chen yet: ask them to say hi to Touchbase once")
    assert said[1].startswith("I don't know Bob Brown yet: ask them to say hi to Touchbase once")
    assert "let" not in " ".join(said)
    for user in ("aad-carol", carol["id"], BOB["id"], BOB["aadObjectId"]):
        assert await teams.person(user) is None


# --- invokes --------------------------------------------------------------------------------------


async def test_invokes_are_answered_with_a_body(teams: Contract) -> None:
    await ada_with_a_client(teams)
    status, body = await teams.post_raw(execute(teams, {"action_id": "clients_list", "value": ""}))
    assert status == 200
    answer = json.loads(body)
    assert answer["statusCode"] == 200 and answer["type"].startswith("application/vnd.microsoft")

    status, body = await teams.post_raw(invoke(teams, "task/fetch", {"data": {"action_id": "x"}}))
    assert status == 200 and json.loads(body)["task"]["type"] == "message"

    query = {"commandId": "searchClients", "parameters": [{"name": "query", "value": "Ac"}]}
    status, body = await teams.post_raw(invoke(teams, "composeExtension/query", query))
    assert status == 200 and json.loads(body)["composeExtension"]["type"] == "result"


async def test_an_execute_form_with_errors_comes_back_in_place(teams: Contract) -> None:
    await ada_with_a_client(teams)
    status, body = await teams.post_raw(execute(teams, {"form_id": "no_such_form"}))
    assert status == 200
    assert json.loads(body)["statusCode"] == 200


# --- the connector -------------------------------------------------------------------------------


async def test_an_unreachable_service_url_does_not_hold_the_request(teams: Contract) -> None:
    activity = teams.personal("help", serviceUrl="http://127.0.0.1:9/")  # nothing listens there
    started = time.monotonic()
    status, _ = await teams.post_raw(activity)
    took = time.monotonic() - started
    assert status in (201, 200, 502)
    assert took < 3.0, f"held {took:.1f} s"


def teams_platform() -> Any:
    from bot.domain import Platform

    return Platform.TEAMS


__all__ = ["ADA"]


async def test_a_button_pressed_in_a_channel_answers_in_the_personal_chat(teams: Contract) -> None:
    await ada_with_a_client(teams)
    pressed = teams.in_channel("")
    pressed.pop("text")
    data = {"action_id": "client_open", "value": str((await teams.touches())[0].client_id)}
    pressed.update(
        type="invoke",
        name="adaptiveCard/action",
        value={"action": {"type": "Action.Execute", "verb": "touchbase", "data": data}},
    )
    status, body = await teams.post_raw(pressed)
    assert status == 200
    assert json.loads(body)["value"] == SENT_PRIVATELY
    await teams.replies(4)
    in_channel = await in_conversation(teams, "19:relationships")
    assert [card_text(a["attachments"][0]["content"]) for a in in_channel] == [SENT_PRIVATELY]
    private = (await in_conversation(teams, PERSONAL_CONVERSATION))[-1]
    assert SECRET in texts([private]) and SECRET not in texts(in_channel)


async def test_a_service_url_that_never_answers_does_not_hold_the_request(
    teams: Contract, monkeypatch: pytest.MonkeyPatch
) -> None:
    from adapters.teams import limits

    monkeypatch.setattr(limits, "READ_TIMEOUT", 0.5)  # read at each call

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(65536)  # takes the request and never answers
        await asyncio.sleep(30)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    took: list[float] = []
    try:
        # Ada writing for the first time (her roster entry is asked for), then again (known)
        for _ in range(2):
            activity = teams.personal("help", serviceUrl=f"http://127.0.0.1:{port}/")
            started = time.monotonic()
            status, _ = await teams.post_raw(activity)
            took.append(time.monotonic() - started)
            assert status in (200, 201, 502)
            assert await teams.post(teams.personal("touchbase help")) == 201  # now known
    finally:
        server.close()
    # each time one wait of 0.5 s (the roster lookup, or the reply), then nothing more on that
    # connector: no reply after a roster lookup timed out, no apology, no retries
    assert max(took) < 1.5, f"held {max(took):.1f} s"


async def test_a_shared_channel_cannot_be_the_relationships_channel(teams: Contract) -> None:
    assert await teams.post(teams.personal("touchbase help")) == 201  # Ada, the firm's admin
    asked = teams.in_channel("<at>Touchbase</at> touchbase channel")
    asked["channelData"]["channel"]["membershipType"] = "shared"  # Teams Connect
    assert await teams.post(asked) == 201
    said = texts(await teams.replies(3))
    assert "shared with another organisation" in said
    async with teams.services.store.unit(
        (await teams.services.store.workspace(teams_platform(), TENANT)).id
    ) as uow:
        assert await uow.ownership.channel() is None


async def test_a_member_who_became_a_guest_is_refused_from_the_next_day(teams: Contract) -> None:
    teams.connector.add_member(
        ADA["id"],
        ADA["name"],
        aad_object_id=ADA["aadObjectId"],
        tenant_id=TENANT,
        email="ada@firm.example",
    )
    assert await teams.post(teams.personal("client add Acme")) == 201
    assert await teams.post(teams.personal("clients")) == 201
    assert len(teams.connector.calls("get_member")) == 1  # asked once, not at every message
    ada = await teams.person(ADA["aadObjectId"])
    assert ada is not None and ada.email == "ada@firm.example"

    teams.connector.add_member(
        ADA["id"],
        ADA["name"],
        aad_object_id=ADA["aadObjectId"],
        tenant_id=TENANT,
        user_role="guest",
    )
    teams.clock.advance(timedelta(days=1, minutes=1))
    assert await teams.post(teams.personal("clients")) == 201
    replies = await teams.replies(3)
    assert card_text(replies[2]["attachments"][0]["content"]) == REFUSAL
