"""Teams end to end over HTTP: the real botbuilder CloudAdapter (development mode, no token),
activities shaped as Teams sends them, replies and proactive sends caught by a fake connector."""

from __future__ import annotations

import json
from datetime import date

from adapters.teams.activity import command_of
from bot.domain import Platform, TouchKind
from bot.messages import Message
from tests.teams_helpers import (
    ADA,
    BEN,
    CHANNEL_ID,
    PERSONAL_CONVERSATION,
    TENANT,
    Teams,
    card_text,
    submits,
    teams,
    unescape,
)

__all__ = ["teams"]  # the fixture


async def test_channel_mention_logs_a_touch_and_replies_with_a_card(teams: Teams) -> None:
    assert await teams.post(teams.personal("client add Acme")) == 201
    await teams.replies(1)

    activity = teams.in_channel("<at>Touchbase</at> touch Acme lunch with CFO")
    assert await teams.post(activity) == 201

    [touch] = await teams.touches()
    assert (touch.kind, touch.contact, touch.occurred_on) == (
        TouchKind.LUNCH,
        "CFO",
        date(2026, 11, 23),
    )
    # The confirmation is private: it goes to Ada's personal chat; the channel gets a pointer.
    private, pointer = (await teams.replies(3))[1:3]
    assert private["conversation"]["id"] == PERSONAL_CONVERSATION
    assert pointer["conversation"]["id"] == activity["conversation"]["id"]
    assert pointer["replyToId"] == activity["id"]
    assert card_text(pointer["attachments"][0]["content"]) == "I've sent you a DM."
    card = private["attachments"][0]["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.5"
    assert "Logged lunch with CFO at Acme, today." in card_text(card)
    assert private["summary"] == "Logged lunch with CFO at Acme, today."
    undo = next(s for s in submits(card) if s["data"]["action_id"] == "touch_undo")
    assert json.loads(undo["data"]["value"]) == {"id": touch.id, "rev": 0}


async def test_a_retried_activity_logs_the_touch_once(teams: Teams) -> None:
    await teams.post(teams.personal("/client add Acme"))
    activity = teams.personal("/touch Acme call with Dana")
    assert await teams.post(activity) == 201
    assert await teams.post(activity) == 201  # Teams redelivers with the same id
    assert len(await teams.touches()) == 1


async def test_people_are_keyed_by_aad_object_id_with_their_time_zone(teams: Teams) -> None:
    await teams.post(teams.personal("help"))
    person = await teams.person(ADA["aadObjectId"])
    assert person is not None
    assert person.display_name == "Ada Lovelace"
    assert person.tz == "Europe/London"
    assert person.address is not None
    reference = person.address["reference"]
    assert reference["conversation"]["id"] == PERSONAL_CONVERSATION
    assert reference["serviceUrl"] == teams.connector.service_url
    assert "activityId" not in reference  # a DM later is a new message, not a reply
    ws = await teams.services.store.workspace(Platform.TEAMS, TENANT)
    assert ws.external_id == TENANT


async def test_channel_messages_do_not_become_a_persons_address(teams: Teams) -> None:
    await teams.post(teams.in_channel("<at>Touchbase</at> help"))
    person = await teams.person(ADA["aadObjectId"])
    assert person is not None
    assert person.address is None


async def test_bot_added_stores_the_reference_and_a_dm_works_after_a_restart(
    teams: Teams,
) -> None:
    assert await teams.post(teams.bot_added()) == 201
    welcome = await teams.last_card(1)  # the welcome is the help card
    assert "Touchbase keeps you in regular touch" in card_text(welcome)

    await teams.restart()  # nothing kept in memory: the reference comes from the database
    teams.connector.clear_calls()
    person = await teams.person(ADA["aadObjectId"])
    assert person is not None and person.address is not None
    messenger = teams.services.messengers[Platform.TEAMS]

    await messenger.send(person.address, Message(text="Acme is due for contact today."))

    [call] = [c for c in teams.connector.calls() if c.operation in ("send", "reply")]
    assert call.conversation_id == PERSONAL_CONVERSATION
    assert call.body["recipient"]["id"] == ADA["id"]
    card = call.body["attachments"][0]["content"]
    assert "Acme is due for contact today." in card_text(card)


async def test_undo_button_removes_the_touch(teams: Teams) -> None:
    await teams.post(teams.personal("client add Globex"))
    await teams.post(teams.personal("touch Globex call with Hank"))
    [touch] = await teams.touches()
    card = await teams.last_card(2)
    [undo] = [s for s in submits(card) if s["data"]["action_id"] == "touch_undo"]

    assert await teams.post(teams.submit(undo["data"])) == 201

    assert await teams.touches() == []
    assert "Removed" in card_text(await teams.last_card(3))
    assert touch.id == json.loads(undo["data"]["value"])["id"]


async def test_form_submit_with_a_bad_date_comes_back_with_the_error(teams: Teams) -> None:
    await teams.post(teams.personal("client add Initech"))
    added = await teams.last_card(1)
    [open_form] = [s for s in submits(added) if s["data"]["action_id"] == "log_touch_open"]
    await teams.post(teams.submit(open_form["data"]))
    form = await teams.last_card(2)
    [save] = submits(form)
    assert save["data"]["form_id"] == "log_touch"
    inputs = {i["id"]: i for i in form["body"] if i["type"].startswith("Input.")}
    assert inputs["client"]["value"] == "Initech"
    assert inputs["date"]["type"] == "Input.Date"

    filled = {
        "client": "Initech",
        "kind": "coffee",
        "contact": "Bob",
        "date": "23/11/2026",
        "note": "",
        "awaiting": "false",
    }
    assert await teams.post(teams.submit({**save["data"], **filled})) == 201

    again = await teams.last_card(3)
    assert await teams.touches() == []
    assert "Use a date like 2026-11-03." in unescape(card_text(again))
    inputs = {i["id"]: i for i in again["body"] if i["type"].startswith("Input.")}
    assert inputs["date"]["errorMessage"] == "Use a date like 2026-11-03."
    assert "value" not in inputs["date"]  # the date picker cannot show "23/11/2026"
    assert inputs["contact"]["value"] == "Bob"
    [save_again] = submits(again)
    assert save_again["data"]["form_id"] == "log_touch"

    fixed = {**filled, "date": "2026-11-20", "awaiting": "true"}
    assert await teams.post(teams.submit({**save_again["data"], **fixed})) == 201

    [touch] = await teams.touches()
    assert (touch.kind, touch.contact, touch.occurred_on, touch.awaiting_reply) == (
        TouchKind.COFFEE,
        "Bob",
        date(2026, 11, 20),
        True,
    )
    assert "Logged coffee with Bob at Initech" in card_text(await teams.last_card(4))


async def test_mentions_of_people_reach_the_core_in_neutral_form(teams: Teams) -> None:
    ben = {
        "type": "mention",
        "text": "<at>Ben Okafor</at>",
        "mentioned": {"id": BEN["id"], "name": "Ben Okafor", "aadObjectId": BEN["aadObjectId"]},
    }
    raw = teams.in_channel("<at>Touchbase</at>&nbsp;owner Acme <at>Ben Okafor</at>", mentions=[ben])
    command = command_of(raw)
    assert (command.name, command.text) == ("owner", f"Acme <@{BEN['aadObjectId']}>")
    assert command.mentions == {BEN["aadObjectId"]: "Ben Okafor"}

    # Without an entity, <at> is only formatting: it never becomes a mention.
    forged = command_of(teams.personal("touch Acme <at>Ben Okafor</at>"))
    assert forged.mentions == {}
    assert forged.text == "Acme Ben Okafor"
    # What a person typed arrives HTML-escaped and reaches the core as typed.
    typed = teams.personal("<p>touch Acme call &lt;at&gt;x&lt;/at&gt; &lt;@U1&gt; A&amp;B</p>")
    command = command_of(typed)
    assert (command.name, command.text) == ("touch", "Acme call <at>x</at> < @U1> A&B")
    assert command.mentions == {}


async def test_non_json_and_non_activities_are_refused(teams: Teams) -> None:
    async with teams.session.post(
        teams.server.url, data=b"nope", headers={"Content-Type": "application/json"}
    ) as response:
        assert response.status == 400
    async with teams.session.post(teams.server.url, json=[1, 2]) as response:
        assert response.status == 400
    async with teams.session.post(teams.server.url, json={"text": "no type"}) as response:
        assert response.status == 400
    assert teams.connector.calls() == []


async def test_channel_address_reaches_the_core(teams: Teams) -> None:
    command = command_of(teams.in_channel("<at>Touchbase</at> touchbase channel"))
    assert (command.name, command.text) == ("touchbase", "channel")
    assert command.channel is not None
    assert command.channel["kind"] == "channel"
    assert command.channel["name"] == "Client relationships"
    assert command.channel["reference"]["conversation"]["id"] == CHANNEL_ID


async def test_installation_update_remembers_the_chat_without_a_reply(teams: Teams) -> None:
    activity = teams.personal()
    activity.update(type="installationUpdate", action="add")
    assert await teams.post(activity) == 201
    person = await teams.person(ADA["aadObjectId"])
    assert person is not None and person.address is not None
    assert person.address["reference"]["conversation"]["id"] == PERSONAL_CONVERSATION
    # A first-timer is looked up in the roster (are they a guest?); nothing is posted.
    assert [c.operation for c in teams.connector.calls()] == ["get_member"]


async def test_someone_else_joining_a_team_is_ignored(teams: Teams) -> None:
    activity = teams.bot_added()
    activity["membersAdded"] = [{"id": BEN["id"], "aadObjectId": BEN["aadObjectId"]}]
    assert await teams.post(activity) == 201
    assert teams.connector.calls() == []
    assert await teams.person(ADA["aadObjectId"]) is None


async def test_an_activity_without_a_tenant_is_ignored_outside_development(teams: Teams) -> None:
    from adapters.teams.activity import identity_of

    activity = teams.personal("help")
    activity["conversation"].pop("tenantId")
    activity["channelData"] = {}
    assert identity_of(activity, development=False) is None
    emulator = identity_of(activity, development=True)
    assert emulator is not None and emulator.workspace_key == "emulator"


async def test_the_server_mounts_teams_in_development_mode(teams: Teams) -> None:
    from aiohttp import web

    from app.server import create_app

    app = create_app(teams.services)
    paths = {r.resource.canonical for r in app.router.routes() if r.resource is not None}
    assert "/api/messages" in paths
    assert isinstance(app, web.Application)
