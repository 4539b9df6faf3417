"""/clients: each client's status, and the load against the role's target; the client profile."""

from __future__ import annotations

import io
from datetime import date, timedelta

from bot.clock import FixedClock
from bot.commands.profile import parse_key_person, rhythm_days
from bot.domain import Platform
from bot.ownership import Health, client_health
from store.models import RepairRow, SegmentRow
from store.repositories import SqlStore

from .conftest import T0, Chat


async def test_portfolio_statuses(chat: Chat, store: SqlStore, clock: FixedClock) -> None:
    ada = chat.as_user("ada")
    await ada.say("/clients")  # ada is the admin
    jane, bob = chat.as_user("jane"), chat.as_user("bob")
    await bob.say("/clients")
    clock.set(T0 - timedelta(days=40))
    await jane.say("/client add Overdue Co")
    await jane.say("/touch Overdue Co lunch with Pat")
    clock.set(T0 - timedelta(days=25))
    await jane.say("/client add Due Co")
    await jane.say("/touch Due Co call with Lee")
    clock.set(T0)
    for name in ("Healthy Co", "Waiting Co", "Repair Co"):
        await jane.say(f"/client add {name}")
    await bob.say("/client add Handoff Co")
    await jane.say("/touch Healthy lunch with Dana")
    await jane.say("/touch Waiting emailed Sam, no reply yet")
    await bob.say("/owner Handoff Co @jane")
    ws = await store.workspace(Platform.CONSOLE, "local")
    async with store.unit(ws.id) as uow:
        repair = await uow.clients.by_name("Repair Co")
        assert repair is not None
    async with store.sessions() as s:
        s.add(
            RepairRow(
                workspace_id=ws.id,
                client_id=repair.id,
                status="paused",
                started_at=T0,
                updated_at=T0,
            )
        )
        await s.commit()

    out = await jane.say("/clients")
    assert "== Your portfolio ==" in out
    assert (
        "You own 6 clients: 1 in repair, 1 in handoff, 1 awaiting reply, 1 overdue, 1 due." in out
    )
    for heading in ("In repair (1)", "In handoff (1)", "Awaiting reply (1)", "Overdue (1)"):
        assert heading in out
    assert "Due (1)" in out and "Healthy (1)" in out
    assert "Overdue Co: overdue, next due Fri 13 Nov, last touch Wed 14 Oct" in out
    assert "Due Co: due soon, next due Saturday (in 5 days), last touch Thu 29 Oct" in out
    assert "Healthy Co: on schedule" in out
    assert "Load: 6 clients, within the 4 to 6 a staff member usually holds" in out
    assert out.index("In repair") < out.index("In handoff") < out.index("Overdue (1)")

    out = await ada.say("/clients")
    assert "You don't own any clients yet." in out
    assert "no target for your role (admin)" in out
    out = await ada.say("/clients @jane")
    assert "jane's portfolio" in out and "Owns 6 clients" in out
    assert "Only principals and admins" in await bob.say("/clients @jane")


async def test_the_new_owners_touch_ends_in_handoff(
    chat: Chat, store: SqlStore, clock: FixedClock
) -> None:
    bob, jane = chat.as_user("bob"), chat.as_user("jane")
    await bob.say("/clients")
    await jane.say("/clients")
    await bob.say("/client add Acme")
    await bob.say("/owner Acme @jane")
    assert "In handoff (1)" in await jane.say("/clients")
    clock.advance(timedelta(minutes=30))  # her call, logged after the handoff began
    await jane.say("/touch Acme call with Dana")
    out = await jane.say("/clients")
    assert "In handoff" not in out and "Healthy (1)" in out


def test_health_prefers_what_needs_most_care() -> None:
    today = date(2026, 11, 23)
    late = today - timedelta(days=3)
    assert client_health(late, today, in_repair=True, in_handoff=True, awaiting=True) is (
        Health.IN_REPAIR
    )
    assert client_health(late, today, in_repair=False, in_handoff=False, awaiting=True) is (
        Health.AWAITING
    )
    assert client_health(late, today, in_repair=False, in_handoff=False, awaiting=False) is (
        Health.OVERDUE
    )
    soon = today + timedelta(days=6)
    assert client_health(soon, today, in_repair=False, in_handoff=False, awaiting=False) is (
        Health.DUE
    )
    later = today + timedelta(days=7)
    assert client_health(later, today, in_repair=False, in_handoff=False, awaiting=False) is (
        Health.HEALTHY
    )


# --- the client profile ----------------------------------------------------------------------


def test_key_people_and_rhythms_are_read() -> None:
    dana = parse_key_person(
        "Dana Scully, CFO, decision maker, cares about predictability, no surprises"
    )
    assert dana is not None
    assert (dana.name, dana.title, dana.influence, dana.notes) == (
        "Dana Scully",
        "CFO",
        "decision maker",
        "cares about predictability, no surprises",
    )
    sam = parse_key_person("Sam, influencer")
    assert sam is not None and (sam.title, sam.influence, sam.notes) == (None, "influencer", None)
    assert rhythm_days("weekly email updates") == 7
    assert rhythm_days("a call every 2 weeks") == 14
    assert rhythm_days("monthly") == 30
    assert rhythm_days("whenever something changes") is None


async def test_profile_by_command_shows_on_the_card(chat: Chat, store: SqlStore) -> None:
    bob = chat.as_user("bob")
    await bob.say("/client add Acme Corp")
    out = await bob.say(
        "/client Acme people add Dana Scully, CFO, decision maker, cares about predictability"
    )
    assert "Added Dana Scully, CFO (decision maker): cares about predictability" in out
    out = await bob.say("/client Acme people add Dana Scully, CFO, influencer")
    assert "Updated Dana Scully, CFO (influencer)" in out
    assert "Acme Corp is in the Manufacturing segment" in await bob.say(
        "/client Acme segment Manufacturing"
    )
    out = await bob.say("/client Acme prefers weekly email updates")
    assert "Acme Corp prefers weekly email updates (an update every 7 days)." in out
    carol = chat.as_user("carol")  # anyone at the firm sees the key people
    card = await carol.say("/client Acme")
    assert "Key people:" in card
    assert "Dana Scully, CFO (influencer): cares about predictability" in card
    assert "Segment: Manufacturing" in card
    assert "Edit profile" in card
    assert "Removed Dana Scully" in await bob.say("/client Acme people remove dana scully")
    ws = await store.workspace(Platform.CONSOLE, "local")
    async with store.unit(ws.id) as uow:
        acme = await uow.clients.by_name("Acme Corp")
        assert acme is not None
        assert (acme.segment, acme.update_rhythm_days, acme.preferences) == (
            "Manufacturing",
            7,
            "weekly email updates",
        )
        assert await uow.contacts.for_client(acme.id) == []
        assert list(await uow.ownership.segments()) == ["Manufacturing"]


async def test_profile_form_edits_everything(chat: Chat, store: SqlStore) -> None:
    bob = chat.as_user("bob")
    await bob.say("/client add Acme Corp")
    await bob.say("/client Acme people add Old Contact, COO")
    out = await bob.say(
        "/client Acme profile",
        "Retail",  # segment
        "14",  # rhythm
        "A short email every other Friday",  # preferences
        "Dana Scully, CFO, decision maker, wants no surprises",  # key people (one line here)
    )
    assert "Saved Acme Corp's profile." in out
    ws = await store.workspace(Platform.CONSOLE, "local")
    async with store.unit(ws.id) as uow:
        acme = await uow.clients.by_name("Acme Corp")
        assert acme is not None
        assert (acme.segment, acme.update_rhythm_days) == ("Retail", 14)
        people = await uow.contacts.for_client(acme.id)
        assert [(p.name, p.title, p.influence, p.notes) for p in people] == [
            ("Dana Scully", "CFO", "decision maker", "wants no surprises")
        ]
    out = await bob.say("/client Acme profile", "", "zero", "", "")
    assert "rhythm" in out and "1 to 365" in out


async def test_client_card_still_works_for_names_with_keywords(chat: Chat) -> None:
    await chat.say("/client add People Partners")
    assert "People Partners: never contacted" in await chat.say("/client People Partners")
    await chat.say("/client People Partners segment Legal")
    assert "Segment: Legal" in await chat.say("/client People Partners")
    assert "I don't know a client called" in await chat.say("/client Nobody Inc people")


async def test_a_subcommand_for_an_unknown_client_is_not_offered_as_a_new_client(
    chat: Chat, store: SqlStore
) -> None:
    await chat.say("/client add Hooli")
    out = await chat.say("/client Hooly closeout")
    assert 'I don\'t know a client called "Hooly". Did you mean "Hooli"?' in out
    assert "Or type it: /client Hooli closeout" in out
    assert "/client add Hooly closeout" not in out
    assert "[1] Hooli closeout" in out
    out = await chat.say("1")  # the button does what was asked, for Hooli
    assert "Closed out Hooli." in out

    out = await chat.say("/client Smith segment Legal")
    assert 'I don\'t know a client called "Smith".' in out
    assert "/client add Smith segment Legal" not in out
    assert "add it first with /client add Smith, then: /client Smith segment Legal" in out
    ws = await store.workspace(Platform.CONSOLE, "local")
    async with store.unit(ws.id) as uow:
        assert [c.name for c in await uow.clients.list()] == ["Hooli"]
        assert await uow.ownership.segments() == {}


async def test_a_client_named_like_a_subcommand_opens_its_card(chat: Chat) -> None:
    await chat.say("/client add Data")
    await chat.say("/client add Data Segment Co")
    out = await chat.say("/client Data Segment Co")
    assert "Data Segment Co: never contacted" in out and "Co segment" not in out
    assert "Segment:" not in await chat.say("/client Data")


async def test_the_owner_hears_when_someone_else_edits_their_clients_profile(
    chat: Chat, store: SqlStore, outbox: io.StringIO
) -> None:
    bob, carol = chat.as_user("bob"), chat.as_user("carol")
    await bob.say("/client add Acme Corp")
    await bob.say("/client Acme segment Retail")  # his own change: no message to himself
    assert outbox.getvalue() == ""
    ws = await store.workspace(Platform.CONSOLE, "local")
    async with store.sessions() as s:
        s.add(SegmentRow(workspace_id=ws.id, name="Legal", cadence_days=14))
        await s.commit()

    out = await carol.say("/client Acme segment Legal")
    assert "Acme Corp is in the Legal segment. Its cadence is now every 14 days (was 30)." in out
    sent = outbox.getvalue()
    assert "--- message for bob ---" in sent
    assert (
        "carol put Acme Corp in the Legal segment; it was in Retail. "
        "Its cadence is now every 14 days (was 30)." in sent
    )
    await carol.say("/client Acme prefers monthly calls")
    assert "carol noted how Acme Corp wants updates: Acme Corp prefers monthly calls" in (
        outbox.getvalue()
    )
    await carol.say("/client Acme people add Dana Scully, CFO")
    assert "carol added a key person at Acme Corp: Dana Scully, CFO." in outbox.getvalue()
    await carol.say("/client Acme profile", "Retail", "", "monthly calls", "Dana Scully, CFO")
    assert "carol updated Acme Corp's profile: segment. Segment: Retail; its cadence is now " in (
        outbox.getvalue()
    )
    assert outbox.getvalue().count("--- message for bob ---") == 4
