"""A date Touchbase can't place is asked about, never stored as today; Edit and Undo after the
fact; the person's locale decides what 3/11 means. On the console, Slack (signed HTTP, the
fake Web API) and Teams (the fake connector), on both engines."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from bot.domain import Platform
from bot.inbound import ActionIn, CommandIn, Identity
from bot.messages import Message
from store.repositories import SqlStore
from tests.slack_helpers import (  # noqa: F401  (fixtures)
    USER,
    Harness,
    slack_fake_fixture,
    slack_fixture,
)
from tests.teams_helpers import Teams, card_text, submits, teams

from .conftest import Chat

__all__ = ["teams"]  # the fixture

TODAY = date(2026, 11, 23)  # the test clock's Monday
YESTERDAY = date(2026, 11, 22)


async def _touches(store: SqlStore, platform: Platform = Platform.CONSOLE, key: str = "local"):  # type: ignore[no-untyped-def]
    ws = await store.workspace(platform, key)
    async with store.unit(ws.id) as uow:
        return await uow.touches.all()


async def _clients(store: SqlStore) -> list[str]:
    ws = await store.workspace(Platform.CONSOLE, "local")
    async with store.unit(ws.id) as uow:
        return [c.name for c in await uow.clients.list()]


def _labels(chat: Chat) -> list[str]:
    return [a.label for a in chat.console.choices]


# --- the console ---------------------------------------------------------------------------------


async def test_an_unreadable_date_is_asked_about_and_never_stored_as_today(
    chat: Chat, store: SqlStore
) -> None:
    await chat.say("/client add Globex")
    for line in (
        "/touch Globex lunch with Dana 31/31",
        "/touch Globex lunch with Dana the 45th",
        "/touch Globex lunch with Dana on 13/13",
    ):
        out = await chat.say(line)
        assert "couldn't tell which day" in out, out
        assert _labels(chat) == ["Today", "Yesterday", "Pick a date…"]
        assert await _touches(store) == []
    out = await chat.say("2")  # Yesterday: the text is kept, nothing typed again
    assert "Logged lunch with Dana at Globex, yesterday." in out
    [touch] = await _touches(store)
    assert touch.occurred_on == YESTERDAY
    assert "13/13" in touch.note  # the words it could not place stay in the note


async def test_a_misspelt_weekday_offers_the_day_it_probably_meant(
    chat: Chat, store: SqlStore
) -> None:
    await chat.say("/client add Globex")
    out = await chat.say("/touch Globex call with Dana thrusday, no answer")
    assert "Did you mean Thursday 19 November?" in out
    assert _labels(chat) == ["Thursday 19 Nov", "Today", "Yesterday", "Pick a date…"]
    assert await _touches(store) == []
    out = await chat.say("1")
    assert "Logged call with Dana at Globex" in out
    [touch] = await _touches(store)
    assert (touch.occurred_on, touch.contact, touch.awaiting_reply) == (
        date(2026, 11, 19),
        "Dana",
        True,
    )


async def test_pick_a_date_opens_the_form_filled_in_from_the_line(
    chat: Chat, store: SqlStore
) -> None:
    await chat.say("/client add Acme")
    await chat.say("/touch Acme coffee with the CFO wendsday")
    assert await _touches(store) == []
    assert _labels(chat) == ["Wednesday 18 Nov", "Today", "Yesterday", "Pick a date…"]
    # The form: client, kind, contact, date (asked), note, awaiting; Enter keeps each value.
    out = await chat.say("4", "", "", "", "2026-11-18", "", "")
    assert "Kind" in out and "[coffee]" in out and "[CFO]" in out
    assert "Logged coffee with CFO at Acme" in out
    [touch] = await _touches(store)
    assert (touch.occurred_on, touch.kind.value, touch.contact) == (
        date(2026, 11, 18),
        "coffee",
        "CFO",
    )


async def test_future_dates_are_still_refused(chat: Chat, store: SqlStore) -> None:
    await chat.say("/client add Acme")
    out = await chat.say("/touch Acme lunch with the CFO next Friday")
    assert "still to come" in out
    assert await _touches(store) == []


async def test_the_confirmation_says_which_words_were_read_as_what(chat: Chat) -> None:
    await chat.say("/client add St. Mary's")
    out = await chat.say("/touch saint marys lunch with the CFO yday, no reply yet")
    assert '"saint marys" as the client' in out
    assert '"yday" as the day' in out
    assert '"lunch" as the kind' in out
    assert '"CFO" as who' in out
    assert '"no reply yet" as waiting for a reply' in out
    assert "Edit" in _labels(chat)


async def test_edit_changes_the_touch_and_an_older_undo_no_longer_applies(
    chat: Chat, store: SqlStore
) -> None:
    await chat.say("/client add Acme")
    await chat.say("/client add Globex")
    await chat.say("/touch Acme lunch with Dana")
    first = list(chat.console.choices)
    old_undo = next(a for a in first if a.action_id == "touch_undo")
    edit = str(first.index(next(a for a in first if a.action_id == "touch_edit")) + 1)
    # Client, kind, contact, date, note, awaiting: the form comes prefilled with each.
    out = await chat.say(edit, "Globex", "dinner", "", "2026-11-20", "dinner with Dana", "yes")
    assert "[Acme]" in out and "[lunch]" in out and "[Dana]" in out and "[2026-11-23]" in out
    assert "Updated dinner with Dana at Globex" in out
    [touch] = await _touches(store)
    assert (touch.kind.value, touch.occurred_on, touch.awaiting_reply, touch.revision) == (
        "dinner",
        date(2026, 11, 20),
        True,
        1,
    )
    stale = await chat.console.app.action(
        chat.console.identity(), ActionIn("touch_undo", old_undo.value)
    )
    assert isinstance(stale, Message) and "no longer applies" in stale.text
    assert len(await _touches(store)) == 1
    # The newest Undo does work, and says what it removed; then an old one finds nothing.
    new_undo = next(a for a in chat.console.choices if a.action_id == "touch_undo")
    out = await chat.say(str(chat.console.choices.index(new_undo) + 1))
    assert "Removed the dinner with Dana at Globex (Friday (3 days ago))" in out
    assert await _touches(store) == []
    gone = await chat.console.app.action(
        chat.console.identity(), ActionIn("touch_undo", new_undo.value)
    )
    assert isinstance(gone, Message) and "already removed" in gone.text


async def test_undo_removes_a_client_added_only_for_that_touch(chat: Chat, store: SqlStore) -> None:
    out = await chat.say("/touch tyrell biotech intro call")
    assert "Add tyrell biotech and log it" in out
    out = await chat.say("1")
    assert "Logged call at tyrell biotech" in out
    out = await chat.say("1")  # Undo
    assert "Removed the call at tyrell biotech (today), and tyrell biotech" in out
    assert await _clients(store) == []
    assert await _touches(store) == []


async def test_undo_keeps_a_client_that_was_there_before(chat: Chat, store: SqlStore) -> None:
    await chat.say("/client add Massive Dynamic")
    await chat.say("/touch Massive Dynamic cold call")
    out = await chat.say("1")
    assert "Removed the call at Massive Dynamic (today). It is no longer in the history." in out
    assert await _clients(store) == ["Massive Dynamic"]


async def test_undo_keeps_an_added_client_that_was_touched_again(
    chat: Chat, store: SqlStore
) -> None:
    await chat.say("/touch Nakatomi Trading kickoff meeting")
    await chat.say("1")  # added and logged
    undo = next(a for a in chat.console.choices if a.action_id == "touch_undo")
    await chat.say("/touch Nakatomi lunch with Joe")
    out = await chat.console.app.action(chat.console.identity(), ActionIn("touch_undo", undo.value))
    assert isinstance(out, Message) and "Removed the meeting at Nakatomi Trading" in out.text
    assert await _clients(store) == ["Nakatomi Trading"]


async def test_an_unclear_date_after_adding_a_client_still_asks_and_undo_still_tidies(
    chat: Chat, store: SqlStore
) -> None:
    await chat.say("/touch Virtucon call with Number Two fridya")
    out = await chat.say("1")  # Add Virtucon and log it: then which day?
    assert "Did you mean Friday 20 November?" in out
    assert await _touches(store) == []
    out = await chat.say("1")
    assert "Logged call with Number Two at Virtucon" in out
    await chat.say("1")  # Undo
    assert await _clients(store) == []


async def test_the_locale_decides_what_a_numeric_date_means(chat: Chat, store: SqlStore) -> None:
    await chat.say("/client add Acme")
    app = chat.console.app
    base = chat.console.identity()
    uk = Identity(base.platform, base.workspace_key, "uk-person", "Una", locale="en-GB")
    us = Identity(base.platform, base.workspace_key, "us-person", "Sam", locale="en-US")
    await app.command(uk, CommandIn("touch", "Acme lunch 3/11", source_id="uk-1"))
    await app.command(us, CommandIn("touch", "Acme lunch 3/11", source_id="us-1"))
    await app.command(base, CommandIn("touch", "Acme lunch 3/11", source_id="firm-1"))
    days = sorted(t.occurred_on for t in await _touches(store))
    # 3 November for the British colleague; 11 March for the American and the firm default.
    assert days == [date(2026, 3, 11), date(2026, 3, 11), date(2026, 11, 3)]
    ws = await store.workspace(Platform.CONSOLE, "local")
    async with store.unit(ws.id) as uow:
        person = await uow.people.by_platform_id("uk-person")
    assert person is not None and person.locale == "en-GB"


# --- Slack ---------------------------------------------------------------------------------------


def _buttons(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for b in blocks for e in b.get("elements", []) if e.get("type") == "button"]


async def test_slack_asks_about_an_unreadable_date_and_logs_the_day_chosen(
    slack: Harness,
) -> None:
    await slack.command("add Globex", command="/client")
    status, body = await slack.command("Globex lunch with Dana 31/31")
    assert status == 200
    assert "couldn't tell which day" in json.dumps(body)
    buttons = _buttons(body["blocks"])
    assert [b["text"]["text"] for b in buttons] == ["Today", "Yesterday", "Pick a date…"]
    assert await slack.touches() == []
    yesterday = buttons[1]
    status, _ = await slack.post(
        slack.block_actions_body(yesterday["action_id"], yesterday["value"])
    )
    assert status == 200
    await slack.settle()
    [touch] = await slack.touches()
    assert touch.occurred_on == YESTERDAY and touch.contact == "Dana"
    [reply] = [c for c in slack.fake.calls("response_url") if "Logged" in c.params["text"]]
    assert "yesterday" in reply.params["text"]


async def test_slack_pick_a_date_opens_the_modal_with_a_date_picker(slack: Harness) -> None:
    await slack.command("add Globex", command="/client")
    _status, body = await slack.command("Globex coffee with Dana tuesdy")
    pick = next(b for b in _buttons(body["blocks"]) if b["text"]["text"] == "Pick a date…")
    await slack.post(slack.block_actions_body(pick["action_id"], pick["value"], trigger_id="1.2.x"))
    await slack.settle()
    [call] = slack.fake.calls("views.open")
    view = call.params["view"]
    view = view if isinstance(view, dict) else json.loads(view)
    blocks = {b["block_id"]: b["element"] for b in view["blocks"]}
    assert blocks["date"]["type"] == "datepicker" and "initial_date" not in blocks["date"]
    assert blocks["contact"]["initial_value"] == "Dana"
    assert blocks["kind"]["initial_option"]["value"] == "coffee"
    assert await slack.touches() == []


async def test_slack_reads_dates_in_the_persons_locale(slack: Harness) -> None:
    slack.fake.add_user("U0UNA", "una", tz="Europe/London", locale="en-GB")
    await slack.command("add Acme", command="/client")
    await slack.command("Acme lunch 3/11", user="U0UNA", user_name="una")
    [touch] = await slack.touches()
    assert touch.occurred_on == date(2026, 11, 3)
    infos = [c for c in slack.fake.calls("users.info") if c.params.get("user") == "U0UNA"]
    assert infos and all(
        str(c.params.get("include_locale")).lower() in {"1", "true"} for c in infos
    )


async def test_slack_edit_and_undo_after_an_edit(slack: Harness) -> None:
    await slack.command("add Acme", command="/client")
    _status, body = await slack.command("Acme lunch with Dana")
    buttons = {b["action_id"].split("::")[0]: b for b in _buttons(body["blocks"])}
    edit, old_undo = buttons["touch_edit"], buttons["touch_undo"]
    await slack.post(slack.block_actions_body(edit["action_id"], edit["value"], trigger_id="1.2.y"))
    await slack.settle()
    [call] = slack.fake.calls("views.open")
    view = call.params["view"]
    view = view if isinstance(view, dict) else json.loads(view)
    assert view["callback_id"] == "edit_touch"
    state = {
        "client": {
            "client_search": {
                "type": "external_select",
                "selected_option": {"value": "Acme", "text": {"type": "plain_text", "text": "A"}},
            }
        },
        "kind": {
            "value": {
                "type": "static_select",
                "selected_option": {"value": "dinner", "text": {"type": "plain_text", "text": "d"}},
            }
        },
        "contact": {"value": {"type": "plain_text_input", "value": "Dana"}},
        "date": {"value": {"type": "datepicker", "selected_date": "2026-11-20"}},
        "note": {"value": {"type": "plain_text_input", "value": "dinner with Dana"}},
        "awaiting": {"value": {"type": "checkboxes", "selected_options": []}},
    }
    status, answer = await slack.post(slack.view_submission_body(view, state, view_id="VED"))
    assert status == 200 and answer == ""
    await slack.settle()
    [touch] = await slack.touches()
    assert (touch.kind.value, touch.occurred_on, touch.revision) == (
        "dinner",
        date(2026, 11, 20),
        1,
    )
    await slack.post(slack.block_actions_body(old_undo["action_id"], old_undo["value"]))
    await slack.settle()
    assert len(await slack.touches()) == 1
    assert any("no longer applies" in c.params["text"] for c in slack.fake.calls("response_url"))


# --- Teams ---------------------------------------------------------------------------------------


async def test_teams_asks_about_an_unreadable_date_and_logs_the_day_chosen(teams: Teams) -> None:
    await teams.post(teams.personal("client add Globex"))
    await teams.post(teams.personal("touch Globex lunch with Dana the 45th"))
    card = await teams.last_card(2)
    assert "couldn't tell which day" in card_text(card)
    assert await teams.touches() == []
    days = [s for s in submits(card) if s["data"]["action_id"] == "touch_on_day"]
    assert [s["title"] for s in days] == ["Today", "Yesterday"]
    assert any(s["data"]["action_id"] == "touch_pick_day" for s in submits(card))
    assert await teams.post(teams.submit(days[1]["data"])) == 201
    [touch] = await teams.touches()
    assert touch.occurred_on == YESTERDAY
    assert "Logged lunch with Dana at Globex, yesterday." in card_text(await teams.last_card(3))


async def test_teams_reads_dates_in_the_activity_locale(teams: Teams) -> None:
    await teams.post(teams.personal("client add Acme"))
    await teams.post(teams.personal("touch Acme lunch 3/11"))  # the activity says en-GB
    [touch] = await teams.touches()
    assert touch.occurred_on == date(2026, 11, 3)
    await teams.post(teams.personal("touch Acme coffee 3/10", locale="en-US"))
    days = sorted(t.occurred_on for t in await teams.touches())
    assert days == [date(2026, 3, 10), date(2026, 11, 3)]


async def test_teams_edit_then_the_old_undo_no_longer_applies(teams: Teams) -> None:
    await teams.post(teams.personal("client add Globex"))
    await teams.post(teams.personal("touch Globex call with Hank"))
    card = await teams.last_card(2)
    [edit] = [s for s in submits(card) if s["data"]["action_id"] == "touch_edit"]
    [old_undo] = [s for s in submits(card) if s["data"]["action_id"] == "touch_undo"]
    await teams.post(teams.submit(edit["data"]))
    form = await teams.last_card(3)
    assert "Edit the touch" in card_text(form)
    [save] = submits(form)
    values = {
        **save["data"],
        "client": "Globex",
        "kind": "call",
        "contact": "Hank Scorpio",
        "date": "2026-11-21",
        "note": "call with Hank",
        "awaiting": "false",
    }
    assert await teams.post(teams.submit(values)) == 201
    [touch] = await teams.touches()
    assert (touch.contact, touch.occurred_on, touch.revision) == (
        "Hank Scorpio",
        date(2026, 11, 21),
        1,
    )
    assert await teams.post(teams.submit(old_undo["data"])) == 201
    assert len(await teams.touches()) == 1
    assert "no longer applies" in card_text(await teams.last_card(5))
