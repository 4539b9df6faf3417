"""The client book: cadence, rename, merge, archive, delete; from the console, Slack and Teams."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import func, select

from bot.backup import export_data
from bot.clock import FixedClock
from bot.commands.book import CadenceError, parse_cadence
from bot.config import CoreConfig
from bot.domain import ClientStatus, Platform
from bot.sources import all_nudges
from store.models import ClientEventRow, ContactRow, MatterRow, TouchRow
from store.repositories import SqlStore
from tests.conftest import Chat
from tests.slack_helpers import (  # noqa: F401  (fixtures)
    USER,
    Harness,
    slack_fake_fixture,
    slack_fixture,
)
from tests.teams_helpers import (
    TENANT,
    Teams,
    card_text,
    submits,
    teams,
    unescape,
)

__all__ = ["teams"]  # the fixture


async def _clients(store: SqlStore, platform: Platform = Platform.CONSOLE, key: str = "local"):  # type: ignore[no-untyped-def]
    ws = await store.workspace(platform, key)
    async with store.unit(ws.id) as uow:
        return {c.name: c for c in await uow.clients.list()}


# --- cadence -------------------------------------------------------------------------------------


def test_cadence_phrases() -> None:
    assert parse_cadence("14") == 14
    assert parse_cadence("14 days") == 14
    assert parse_cadence("weekly") == 7
    assert parse_cadence("every 2 weeks") == 14
    assert parse_cadence("monthly") == 30
    assert parse_cadence("quarterly") == 91
    assert parse_cadence("every 3 months") == 90
    assert parse_cadence("default") is None
    for bad in ("0", "400 days", "sometimes", "every blue moon", ""):
        try:
            parse_cadence(bad)
        except CadenceError:
            continue
        raise AssertionError(f"{bad!r} was accepted")


async def test_cadence_on_the_card_and_in_the_export(chat: Chat, store: SqlStore) -> None:
    await chat.say("/client add Acme Corp")
    out = await chat.say("/client Acme cadence 14")
    assert "Acme Corp is now to be contacted every 14 days" in out
    assert "Cadence: every 14 days" in await chat.say("/client Acme Corp")
    assert "every 14 days" in await chat.say("/client Acme Corp cadence every 2 weeks")
    await chat.say("/client Acme Corp cadence quarterly")
    ws = await store.workspace(Platform.CONSOLE, "local")
    async with store.unit(ws.id) as uow:
        [row] = (await export_data(uow))["clients"]
    assert row["cadence_days"] == 91
    out = await chat.say("/client Acme cadence every blue moon")
    assert "didn't understand" in out and "weekly" in out
    await chat.say("/client Acme cadence default")
    assert "Cadence: every 30 days (the firm's default)" in await chat.say("/client Acme")
    # Not read as an unknown client "Acme cadence 14".
    assert "I don't know a client" not in await chat.say("/client Acme cadence 14")


async def test_only_the_owner_or_a_principal_changes_the_cadence(
    chat: Chat, outbox: io.StringIO
) -> None:
    await chat.say("/touchbase help")  # jane is the admin
    bob, cy = chat.as_user("bob"), chat.as_user("cy")
    await bob.say("/client add Acme")
    assert "Only Acme's owner" in await cy.say("/client Acme cadence weekly")
    assert "every 7 days" in await chat.say("/client Acme cadence weekly")
    assert "--- message for bob ---" in outbox.getvalue()
    assert "jane set Acme's contact cadence every 7 days." in outbox.getvalue()


# --- rename --------------------------------------------------------------------------------------


async def test_rename_keeps_the_old_name_as_an_alias(chat: Chat, store: SqlStore) -> None:
    await chat.say("/client add Acme Crop")
    await chat.say("/touch Acme Crop lunch with Dana")
    out = await chat.say("/client Acme Crop rename Acme Corp")
    assert 'Renamed "Acme Crop" to "Acme Corp"' in out
    clients = await _clients(store)
    assert list(clients) == ["Acme Corp"] and clients["Acme Corp"].aliases == ("Acme Crop",)
    out = await chat.say("/client Acme Crop")
    assert "Acme Corp" in out and 'renamed "Acme Crop" to "Acme Corp"' in out
    await chat.say("/client add Globex")
    out = await chat.say("/client Globex rename Acme Corp")
    assert "already Acme Corp" in out and "merge into" in out


# --- merge ---------------------------------------------------------------------------------------


async def test_merge_asks_first_then_moves_everything(chat: Chat, store: SqlStore) -> None:
    await chat.say("/client add Acme Corp")
    await chat.say("/client add Acme Crop, ACC")
    await chat.say("/touch Acme Crop emailed Dana, no reply yet")
    await chat.say("/touch Acme Corp lunch with Sam")
    await chat.say("/client Acme Crop people add Dana Scully, CFO")
    await chat.say("/matter Acme Crop Q3 audit")
    out = await chat.say("/client Acme Crop merge into Acme Corp")
    assert "Merge Acme Crop into Acme Corp?" in out
    assert "[1] Merge into Acme Corp  [2] Cancel" in out
    assert "Nothing changed" in await chat.say("2")
    assert set(await _clients(store)) == {"Acme Corp", "Acme Crop"}

    await chat.say("/client Acme Crop merge into Acme Corp")
    out = await chat.say("1")
    assert "Merged Acme Crop into Acme Corp: 1 touch, 1 key person, 1 matter moved" in out
    clients = await _clients(store)
    assert list(clients) == ["Acme Corp"]
    acme = clients["Acme Corp"]
    assert set(acme.aliases) == {"Acme Crop", "ACC"}
    async with store.sessions() as s:
        for table in (TouchRow, ContactRow, MatterRow):
            owners = set(await s.scalars(select(table.client_id)))
            assert owners == {acme.id}, table
        merged = await s.scalar(
            select(func.count()).select_from(ClientEventRow).where(ClientEventRow.kind == "merged")
        )
    assert merged == 1
    card = await chat.say("/client ACC")
    assert "Acme Corp" in card and "merged Acme Crop into Acme Corp" in card
    assert "Awaiting reply: email to Dana" in card  # the follow-up moved with its touch


async def test_merge_of_an_unknown_client_offers_close_matches(chat: Chat) -> None:
    await chat.say("/client add Acme Corp")
    await chat.say("/client add Globex")
    # A typo still finds the client, and merging asks first with the name it found.
    assert "Merge Globex into Acme Corp?" in await chat.say("/client Globex merge into Acme Crp")
    out = await chat.say("/client Globex merge into Nobody Inc")
    assert 'I don\'t know a client called "Nobody Inc"' in out


# --- archive -------------------------------------------------------------------------------------


async def test_archive_stops_nudges_and_lists_but_keeps_history(
    chat: Chat, store: SqlStore, clock: FixedClock
) -> None:
    now = clock.now()
    clock.set(now - timedelta(days=90))
    await chat.say("/client add Stark")
    await chat.say("/touch Stark emailed Dana, no reply yet")
    clock.set(now)
    assert "Stark" in await chat.say("/due")
    out = await chat.say("/client Stark archive")
    assert "Archived Stark" in out
    assert "Stark" not in await chat.say("/due")
    assert "Stark" not in await chat.say("/clients")
    card = await chat.say("/client Stark")
    assert "Status: archived" in card and "archived the client" in card
    ws = await store.workspace(Platform.CONSOLE, "local")
    async with store.unit(ws.id) as uow:
        data = await export_data(uow)
    assert data["clients"][0]["status"] == "archived" and len(data["touches"]) == 1
    assert "is back" in await chat.say("/client Stark unarchive")
    assert (await _clients(store))["Stark"].status is ClientStatus.ACTIVE
    assert "Stark" in await chat.say("/due")


# --- delete --------------------------------------------------------------------------------------


async def test_delete_is_for_admins_asks_first_and_erases_everything(
    chat: Chat, store: SqlStore
) -> None:
    await chat.say("/touchbase help")  # jane is the admin
    bob = chat.as_user("bob")
    await bob.say("/client add Hooli Secret")
    await bob.say("/touch Hooli lunch with Gavin")
    await bob.say("/client Hooli people add Gavin Belson, CEO")
    assert "Only an admin" in await bob.say("/client Hooli delete")
    out = await chat.say("/client Hooli delete")
    assert "Delete Hooli Secret for good?" in out and "[2] Cancel" in out
    out = await chat.say("1")
    assert "Deleted Hooli Secret" in out
    assert await _clients(store) == {}
    ws = await store.workspace(Platform.CONSOLE, "local")
    async with store.sessions() as s:
        for table in (TouchRow, ContactRow, ClientEventRow):
            assert await s.scalar(select(func.count()).select_from(table)) == 0
    async with store.unit(ws.id) as uow:
        [(_at, who, action, detail)] = await uow.history.audit_log()
        jane = await uow.people.by_platform_id("jane")
    assert jane is not None and who == jane.id and action == "client_erased"
    assert "Hooli" not in detail and "Gavin" not in detail and "touch 1" in detail


# --- Slack and Teams -----------------------------------------------------------------------------


def _button(blocks: list[dict[str, Any]], action_id: str) -> dict[str, Any]:
    for block in blocks:
        for element in [*block.get("elements", []), block.get("accessory") or {}]:
            if element.get("type") == "button" and element["action_id"].startswith(action_id):
                return dict(element)
    raise AssertionError(f"no {action_id} button in {json.dumps(blocks)[:400]}")


async def test_slack_cadence_merge_and_archive(slack: Harness, store: SqlStore) -> None:
    await slack.command("add Acme Corp", command="/client")
    await slack.command("add Acme Crop", command="/client")
    status, body = await slack.command("Acme Corp cadence every 2 weeks", command="/client")
    assert status == 200 and "every 14 days" in json.dumps(body)
    status, body = await slack.command("Acme Crop merge into Acme Corp", command="/client")
    assert "Merge Acme Crop into Acme Corp?" in json.dumps(body)
    merge = _button(body["blocks"], "client_merge")
    await slack.post(slack.block_actions_body(merge["action_id"], merge["value"]))
    await slack.settle()
    said = " ".join(c.params.get("text", "") for c in slack.fake.calls("response_url"))
    assert "Merged Acme Crop into Acme Corp" in said
    clients = await _clients(store, Platform.SLACK, slack.team)
    assert list(clients) == ["Acme Corp"] and clients["Acme Corp"].cadence_days == 14
    status, body = await slack.command("Acme Crop archive", command="/client")
    assert "Archived Acme Corp" in json.dumps(body)
    clients = await _clients(store, Platform.SLACK, slack.team)
    assert clients["Acme Corp"].status is ClientStatus.ARCHIVED


async def test_teams_rename_and_merge(teams: Teams) -> None:
    await teams.post(teams.personal("client add Acme Crop"))
    await teams.post(teams.personal("client add Acme Corp"))
    await teams.post(teams.personal("client Acme Crop rename Acme Corporation"))
    card = unescape(card_text(await teams.last_card(3)))
    assert 'Renamed "Acme Crop" to "Acme Corporation"' in card
    await teams.post(teams.personal("client Acme Corporation merge into Acme Corp"))
    ask = await teams.last_card(4)
    assert "Merge Acme Corporation into Acme Corp?" in unescape(card_text(ask))
    [merge] = [s for s in submits(ask) if s["data"]["action_id"] == "client_merge"]
    await teams.post(teams.submit(merge["data"]))
    assert "Merged Acme Corporation into Acme Corp" in unescape(card_text(await teams.last_card(5)))
    clients = await _clients(teams.services.store, Platform.TEAMS, TENANT)
    assert list(clients) == ["Acme Corp"]
    assert set(clients["Acme Corp"].aliases) == {"Acme Corporation", "Acme Crop"}


async def test_slack_follow_up_stays_until_the_same_contact(slack: Harness) -> None:
    await slack.command("add Globex", command="/client")
    _, body = await slack.command("Globex", command="/client")
    assert "Globex: never contacted" in json.dumps(body)
    await slack.command("Globex emailed the GC about renewal, no reply yet", command="/touch")
    await slack.command("Globex lunch with Hank", command="/touch")
    await slack.settle()
    _, body = await slack.command("Globex", command="/client")
    said = json.dumps(body)
    assert "(awaiting reply)" in said and "Awaiting reply" in said and "email to GC" in said
    await slack.command("Globex call with the GC", command="/touch")
    await slack.settle()
    _, body = await slack.command("Globex", command="/client")
    assert "awaiting reply" not in json.dumps(body).casefold()


async def test_teams_cadence_archive_and_follow_up(teams: Teams) -> None:
    await teams.post(teams.personal("client add Globex"))
    await teams.post(teams.personal("client Globex cadence monthly"))
    assert "every 30 days" in unescape(card_text(await teams.last_card(2)))
    await teams.post(teams.personal("touch Globex left voicemail for Dana"))
    await teams.post(teams.personal("touch Globex coffee with Sam"))
    await teams.post(teams.personal("client Globex"))
    card = unescape(card_text(await teams.last_card(5)))
    assert "Awaiting reply" in card and "voicemail to Dana" in card
    await teams.post(teams.personal("client Globex archive"))
    assert "Archived Globex" in unescape(card_text(await teams.last_card(6)))
    clients = await _clients(teams.services.store, Platform.TEAMS, TENANT)
    assert clients["Globex"].status is ClientStatus.ARCHIVED
    assert clients["Globex"].cadence_days == 30


async def _kinds_for(store: SqlStore, clock: FixedClock, client: str) -> set[str]:
    ws = await store.workspace(Platform.CONSOLE, "local")
    async with store.unit(ws.id) as uow:
        ids = {c.id for c in await uow.clients.list() if c.name == client}
        found = await all_nudges(uow, None, clock.now(), CoreConfig())
    return {n.kind for items in found.values() for n in items if n.client_id in ids}


async def test_archive_mutes_repair_handoff_care_and_matter_steps_until_unarchived(
    chat: Chat, store: SqlStore, clock: FixedClock
) -> None:
    ada, bob, jane = (chat.as_user(name) for name in ("ada", "bob", "jane"))
    for person in (ada, bob, jane):
        await person.say("/clients")  # ada, the first, is the admin
    await bob.say("/client add Acme Corp")
    await bob.say("/client add Globex")
    await bob.say("/matter Acme Series B financing")
    await bob.say("/repair Acme missed the filing deadline")
    await bob.say("/owner Acme @jane")
    await ada.say("/client Acme closeout Q3 audit delivered")
    await bob.say("/repair Globex fees dispute")
    clock.advance(timedelta(days=14))
    steps = {"repair", "handoff", "care", "matter"}
    before = await _kinds_for(store, clock, "Acme Corp")
    assert steps <= before, before
    assert "repair" in await _kinds_for(store, clock, "Globex")

    assert "Archived Acme Corp" in await ada.say("/client Acme archive")
    assert await _kinds_for(store, clock, "Acme Corp") == set()
    assert "repair" in await _kinds_for(store, clock, "Globex")  # only the archived one rests
    assert (await jane.say("/due")).startswith("• Nothing")

    assert "is back" in await ada.say("/client Acme unarchive")
    assert steps <= await _kinds_for(store, clock, "Acme Corp")


def _suggestion(slack: Harness, typed: str) -> str:
    """A block_suggestion as Slack sends it while someone types in the log-touch modal."""
    payload = {
        "type": "block_suggestion",
        "user": {"id": USER, "username": "jane", "name": "jane", "team_id": slack.team},
        "container": {"type": "view", "view_id": "V0PICK"},
        "api_app_id": slack.fake.app_id,
        "token": "legacy-verification-token",
        "action_id": "client_search",
        "block_id": "client",
        "value": typed,
        "team": {"id": slack.team, "domain": "fake-workspace"},
        "enterprise": None,
        "is_enterprise_install": False,
        "view": {"id": "V0PICK", "type": "modal", "callback_id": "log_touch", "blocks": []},
    }
    return urlencode({"payload": json.dumps(payload)})


async def test_archived_clients_are_not_offered_in_the_picker(slack: Harness) -> None:
    for name in ("Acme Corp", "Acme Labs", "Globex"):
        await slack.command(f"add {name}", command="/client")
    await slack.command("Acme Labs archive", command="/client")

    async def offered(typed: str) -> list[str]:
        status, body = await slack.post(_suggestion(slack, typed))
        assert status == 200
        return [o["text"]["text"] for o in json.loads(body)["options"]]

    assert await offered("acm") == ["Acme Corp"]
    assert await offered("") == ["Acme Corp", "Globex"]
    assert await offered("Acme Lab") == []  # not even as a close match
    await slack.command("Acme Labs unarchive", command="/client")
    assert await offered("acm") == ["Acme Corp", "Acme Labs"]


# --- one resolver ---------------------------------------------------------------------------------


async def test_every_command_says_an_unclear_client_the_same_way(chat: Chat) -> None:
    await chat.say("/client add Hooli")
    await chat.say("/client add Acme Corp")
    said = 'I don\'t know a client called "Hooly". Did you mean "Hooli"?'
    for line in (
        "/client Hooly",
        "/match Hooly",
        "/owner Hooly @jane",
        "/client Acme Corp merge into Hooly",
        "/client Hooly cadence weekly",
    ):
        assert said in await chat.say(line), line
    out = await chat.say("/repair Hooly fee dispute")
    assert "I don't know a client called \"Hooly" in out and 'Did you mean "Hooli"?' in out
    out = await chat.say("/client Nobody Inc")
    assert 'I don\'t know a client called "Nobody Inc".' in out
    assert "Did you mean" not in out and "/client add Nobody Inc" in out


async def test_an_ambiguous_name_is_asked_about_alike(chat: Chat) -> None:
    await chat.say("/client add Wayne Enterprises")
    await chat.say("/client add Wayne Foods")
    for line in ("/client Wayne", "/match Wayne", "/owner Wayne @jane"):
        out = await chat.say(line)
        assert 'More than one client matches "Wayne": did you mean' in out, line
        assert "Wayne Enterprises" in out and "Wayne Foods" in out


async def test_a_typed_name_means_one_person_or_is_asked(chat: Chat) -> None:
    await chat.say("/client add Acme Corp")
    await chat.as_user("dana").say("/touchbase help")
    await chat.say("/client add Globex")
    out = await chat.say("/owner Acme Corp dana")
    assert "dana" in out and "owner" in out.lower()
    # The same rule as /owner: an e-mail's local part or a first name finds a person, a
    # name two people share is not guessed.
    await chat.as_user("dana smith").say("/touchbase help")
    out = await chat.say("/matter Globex filing lead @dana")
    assert "led by dana" in out  # "dana" is exactly one person's name
    await chat.as_user("sam jones").say("/touchbase help")
    await chat.as_user("sam lee").say("/touchbase help")
    out = await chat.say("/matter Globex review lead @sam")
    assert "I don't know who @sam is here." in out


# --- follow-ups and key people, compared as people write them ------------------------------------


async def _awaiting(store: SqlStore) -> list[str | None]:
    ws = await store.workspace(Platform.CONSOLE, "local")
    async with store.unit(ws.id) as uow:
        return [a.contact for a in await uow.nudges.awaiting_replies(None)]


async def test_a_follow_up_is_settled_by_the_same_contact_however_written(
    chat: Chat, store: SqlStore
) -> None:
    await chat.say("/client add Globex")
    await chat.say("/touch Globex emailed José, no reply yet")
    await chat.say("/touch Globex lunch with Hank")
    assert "Awaiting reply: email to José" in await chat.say("/client Globex")
    assert await _awaiting(store) == ["José"]
    await chat.say("/touch Globex call with Jose")  # no accent this time
    assert "Awaiting reply" not in await chat.say("/client Globex")
    assert await _awaiting(store) == []  # the digest's query agrees with the card


def test_contact_keys_fold_case_accents_and_spacing() -> None:
    from bot.rules import contact_key, settles

    assert contact_key("José") == contact_key("JOSE") == contact_key("  jose ") == "jose"
    assert contact_key("Straße") == contact_key("STRASSE")
    assert settles("Zoë Müller", "zoe  muller")
    assert not settles("José", "Josefina")
    assert contact_key("   ") is None and settles(None, "  ")


async def test_merge_keeps_each_key_person_once(chat: Chat, store: SqlStore) -> None:
    await chat.say("/client add Acme Corp")
    await chat.say("/client add Acme Crop")
    await chat.say("/client Acme Corp people add Dana Scully, CFO")
    await chat.say("/client Acme Crop people add DANA SCULLY")
    await chat.say("/client Acme Crop people add Walter Skinner, General Counsel")
    await chat.say("/client Acme Crop merge into Acme Corp")
    out = await chat.say("1")
    assert "1 key person" in out  # Dana was already known to Acme Corp
    async with store.sessions() as s:
        rows = (await s.execute(select(ContactRow.name, ContactRow.title))).all()
    assert sorted(rows) == [("Dana Scully", "CFO"), ("Walter Skinner", "General Counsel")]


def test_same_person_by_email_or_by_name() -> None:
    from bot.commands.book import same_person
    from bot.domain import Contact

    def c(name: str, email: str | None = None) -> Contact:
        return Contact(id=1, workspace_id=1, client_id=1, name=name, email=email)

    assert same_person(c("J. Doe", "jd@acme.com"), c("Jane Doe", "JD@acme.com"))
    assert same_person(c("Jane Doe"), c("jane  DOE", "jd@acme.com"))
    assert not same_person(c("Jane Doe", "jane@a.com"), c("Jane Doe", "jane@b.com"))
    assert not same_person(c("Jane Doe"), c("John Doe"))


# --- every book command on Slack and Teams --------------------------------------------------------


async def test_slack_rename_unarchive_and_delete(slack: Harness, store: SqlStore) -> None:
    await slack.command("add Hooli", command="/client")  # the first person here: the admin
    _, body = await slack.command("Hooli rename Hooli XYZ", command="/client")
    assert 'Renamed \\"Hooli\\" to \\"Hooli XYZ\\"' in json.dumps(body)
    await slack.command("Hooli XYZ archive", command="/client")
    _, body = await slack.command("Hooli unarchive", command="/client")  # the old name finds it
    assert "Hooli XYZ is back" in json.dumps(body)
    clients = await _clients(store, Platform.SLACK, slack.team)
    assert clients["Hooli XYZ"].status is ClientStatus.ACTIVE
    await slack.command("Hooli XYZ lunch with Gavin", command="/touch")
    _, body = await slack.command("Hooli XYZ delete", command="/client")
    assert "Delete Hooli XYZ for good?" in json.dumps(body)
    erase = _button(body["blocks"], "client_erase")
    await slack.post(slack.block_actions_body(erase["action_id"], erase["value"]))
    await slack.settle()
    said = " ".join(c.params.get("text", "") for c in slack.fake.calls("response_url"))
    assert "Deleted Hooli XYZ" in said
    assert await _clients(store, Platform.SLACK, slack.team) == {}
    async with store.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(TouchRow)) == 0


async def test_slack_unclear_client_reads_the_same_as_everywhere(slack: Harness) -> None:
    await slack.command("add Hooli", command="/client")
    for command, text in (("/client", "Hooly"), ("/match", "Hooly"), ("/client", "Hooly archive")):
        _, body = await slack.command(text, command=command)
        said = json.dumps(body)
        assert 'I don\'t know a client called \\"Hooly\\". Did you mean \\"Hooli\\"?' in said, (
            command,
            said[:300],
        )


async def test_teams_archive_unarchive_delete_and_cadence_default(teams: Teams) -> None:
    await teams.post(teams.personal("client add Initech"))  # the first person: the admin
    await teams.post(teams.personal("client Initech cadence weekly"))
    await teams.post(teams.personal("client Initech cadence default"))
    assert "back on the default cadence" in unescape(card_text(await teams.last_card(3)))
    await teams.post(teams.personal("client Initech archive"))
    await teams.post(teams.personal("client Initech unarchive"))
    assert "Initech is back" in unescape(card_text(await teams.last_card(5)))
    await teams.post(teams.personal("client Initech delete"))
    ask = await teams.last_card(6)
    assert "Delete Initech for good?" in unescape(card_text(ask))
    [erase] = [s for s in submits(ask) if s["data"]["action_id"] == "client_erase"]
    await teams.post(teams.submit(erase["data"]))
    assert "Deleted Initech" in unescape(card_text(await teams.last_card(7)))
    assert await _clients(teams.services.store, Platform.TEAMS, TENANT) == {}
