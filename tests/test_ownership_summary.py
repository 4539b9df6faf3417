"""The weekly firm summary: figures against a hand count, once a week, never a note."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

from adapters.console import ConsoleMessenger
from bot.clock import FixedClock
from bot.config import CoreConfig, LoadTarget
from bot.domain import ClientStatus, NewTouch, Platform, Role, TouchKind
from bot.messages import Message
from bot.ownership import post_weekly_summaries, summary_day, weekly_figures
from bot.ports import DeliveryError
from store.models import RepairRow
from store.repositories import SqlStore
from tests.nudge_fixtures import age_claims

from .conftest import T0

SECRET = "SECRET-NOTE"
TODAY = date(2026, 11, 23)  # Monday
CONFIG = CoreConfig(
    load_targets={
        Role.STAFF: LoadTarget(1, 2),
        Role.SENIOR: LoadTarget(1, 1),
        Role.PRINCIPAL: LoadTarget(1, 3),
    }
)


async def _seed(store: SqlStore, clock: FixedClock) -> int:
    """The firm, by hand:

    client    owner   status    touches (days ago, by)         cadence  next due
    Acme      bob     active    5 bob                           30       in 25 days: within
    Globex    bob     active    45 bob, 100 jane                30       15 days overdue
    Initech   jane    active    10 jane, 20 carol               30       within
    Umbrella  -       active    200 carol                       30       overdue, no owner
    Hooli     carol   active    60 carol                        90       within
    Vandelay  jane    inactive  -                               -        not counted
    Stark     bob     active    never, added 40 days ago        30       38 days overdue (first
                                                                         contact due on day 2)

    Counted 6, within 3 (Acme, Initech, Hooli): 50%. Overdue by owner: bob: Stark, Globex.
    No owner: Umbrella. Single-threaded over 180 days: Acme (bob), Hooli (carol); Globex has
    bob and jane, Initech jane and carol, Umbrella nobody since. Load: bob 3 (staff 1-2: over),
    jane 1 (within), carol 1 (senior 1: within), pat 0 (principal 1-3: under), ada admin.
    Repairs: Globex active, Initech closed. Handoff under way: Initech, carol to jane.
    """
    ws = await store.workspace(Platform.CONSOLE, "local")
    await store.update_workspace(ws.id, channel={"channel": "relationships"})
    clock.set(T0 - timedelta(days=40))
    async with store.unit(ws.id) as uow:
        ids = {}
        for name in ("ada", "bob", "jane", "carol", "pat"):
            ids[name] = (await uow.people.ensure(name, name, address={"user": name})).id
        await uow.people.update(ids["carol"], role=Role.SENIOR)
        await uow.people.update(ids["pat"], role=Role.PRINCIPAL)
        stark = await uow.clients.add("Stark", owner_id=ids["bob"])
        await uow.commit()
    clock.set(T0 - timedelta(days=300))
    async with store.unit(ws.id) as uow:
        c = {"Stark": stark.id}
        for name, owner, cadence in (
            ("Acme", "bob", None),
            ("Globex", "bob", None),
            ("Initech", "jane", None),
            ("Umbrella", None, None),
            ("Hooli", "carol", 90),
            ("Vandelay", "jane", None),
        ):
            client = await uow.clients.add(
                name, owner_id=ids[owner] if owner else None, cadence_days=cadence
            )
            c[name] = client.id
        await uow.clients.update(
            c["Vandelay"], status=ClientStatus.INACTIVE, preferences=f"{SECRET} prefs"
        )
        for client, days, who in (
            ("Acme", 5, "bob"),
            ("Globex", 45, "bob"),
            ("Globex", 100, "jane"),
            ("Initech", 10, "jane"),
            ("Initech", 20, "carol"),
            ("Umbrella", 200, "carol"),
            ("Hooli", 60, "carol"),
        ):
            await uow.touches.add(
                NewTouch(
                    client_id=c[client],
                    person_id=ids[who],
                    kind=TouchKind.LUNCH,
                    occurred_on=TODAY - timedelta(days=days),
                    note=f"{SECRET} what {who} heard at {client}",
                )
            )
        await uow.ownership.add_key_person(c["Acme"], "Dana", notes=f"{SECRET} about Dana")
        await uow.commit()
    clock.set(T0)
    async with store.unit(ws.id) as uow:
        await uow.ownership.start_handoff(c["Initech"], ids["carol"], ids["jane"])
        await uow.commit()
    async with store.sessions() as s:
        for client, status in (("Globex", "active"), ("Initech", "closed")):
            s.add(
                RepairRow(
                    workspace_id=ws.id,
                    client_id=c[client],
                    reason=f"{SECRET} what went wrong",
                    status=status,
                    started_at=T0,
                    updated_at=T0,
                )
            )
        await s.commit()
    return ws.id


async def test_figures_match_a_hand_count(store: SqlStore, clock: FixedClock) -> None:
    ws = await _seed(store, clock)
    async with store.unit(ws) as uow:
        fig = await weekly_figures(uow, TODAY, CONFIG)
    assert (fig.clients, fig.within_cadence) == (6, 3)
    assert fig.coverage == 0.5
    assert fig.overdue_by_owner == (("bob", ("Stark", "Globex")),)
    assert fig.no_owner == ("Umbrella",)
    assert fig.single_threaded == ("Acme", "Hooli")
    assert [(x.person, x.owned) for x in fig.over_target] == [("bob", 3)]
    assert [(x.person, x.owned) for x in fig.under_target] == [("pat", 0)]
    assert fig.open_repairs == ("Globex",)
    assert fig.handoffs == (("Initech", "carol", "jane"),)


async def test_posted_once_a_week_with_no_note_text(store: SqlStore, clock: FixedClock) -> None:
    ws = await _seed(store, clock)
    out = io.StringIO()
    messenger = ConsoleMessenger(out)
    assert await post_weekly_summaries(store, {Platform.CONSOLE: messenger}, clock, CONFIG) == {
        ws: "sent"
    }
    assert await post_weekly_summaries(store, {Platform.CONSOLE: messenger}, clock, CONFIG) == {}
    [(address, message)] = messenger.sent
    assert address == {"channel": "relationships"}
    assert message.private is False
    text = out.getvalue()
    assert SECRET not in text
    assert "50% of our clients are within their contact plan (3 of 6 clients)" in text
    assert "bob (2): Stark, Globex" in text
    assert "No owner (1)" in text and "Umbrella" in text
    assert "Single-threaded (2)" in text and "Acme, Hooli" in text
    assert "Over: bob, 3 clients (target 1 to 2)" in text
    assert "Under: pat, 0 clients (target 1 to 3)" in text
    assert "Repairs under way (1)" in text and "Globex" in text
    assert "Initech: carol to jane" in text
    clock.advance(timedelta(days=7))  # next Monday: a new week
    await post_weekly_summaries(store, {Platform.CONSOLE: messenger}, clock, CONFIG)
    assert len(messenger.sent) == 2


class Flaky:
    def __init__(self) -> None:
        self.calls = 0
        self.sent: list[Message] = []

    async def send(self, address: dict[str, str], message: Message) -> None:
        self.calls += 1
        if self.calls == 1:
            raise DeliveryError("rate limited")
        self.sent.append(message)


async def test_a_failed_post_is_retried_then_sent_once(store: SqlStore, clock: FixedClock) -> None:
    ws = await _seed(store, clock)
    flaky = Flaky()
    messengers = {Platform.CONSOLE: flaky}
    assert await post_weekly_summaries(store, messengers, clock, CONFIG) == {ws: "retry"}
    assert await post_weekly_summaries(store, messengers, clock, CONFIG) == {ws: "sent"}
    assert await post_weekly_summaries(store, messengers, clock, CONFIG) == {}
    assert len(flaky.sent) == 1


async def test_claims_are_once_per_week(store: SqlStore, clock: FixedClock) -> None:
    ws = await store.workspace(Platform.CONSOLE, "local")
    lease = timedelta(minutes=10)
    async with store.unit(ws.id) as uow:
        assert await uow.ownership.claim_post("summary:2026-W48", T0, lease)
        assert not await uow.ownership.claim_post("summary:2026-W48", T0, lease)
        await uow.commit()
    async with store.unit(ws.id) as uow:  # a caller's own clock cannot end a lease
        assert not await uow.ownership.claim_post("summary:2026-W48", T0 + lease * 2, lease)
    await age_claims(store, lease * 2)
    async with store.unit(ws.id) as uow:  # the database's clock can: a dead worker's claim
        assert await uow.ownership.claim_post("summary:2026-W48", T0 + lease * 2, lease)
        await uow.ownership.finish_post("summary:2026-W48", "sent")
        assert not await uow.ownership.claim_post("summary:2026-W48", T0 + lease * 9, lease)


def test_the_summary_goes_out_on_its_day_from_its_hour() -> None:
    monday_9 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert summary_day(monday_9, CoreConfig()) == TODAY
    assert summary_day(monday_9 - timedelta(minutes=1), CoreConfig()) is None
    assert summary_day(monday_9 + timedelta(days=1), CoreConfig()) is None
    friday = CoreConfig(summary_weekday=4, summary_hour=16, default_tz="America/New_York")
    assert summary_day(datetime(2026, 11, 27, 21, 0, tzinfo=UTC), friday) == date(2026, 11, 27)
    assert summary_day(datetime(2026, 11, 27, 20, 59, tzinfo=UTC), friday) is None


def test_settings_reach_the_core() -> None:
    from app.settings import Settings

    core = Settings(TOUCHBASE_SUMMARY_DAY="fri", TOUCHBASE_SUMMARY_HOUR=16).core()  # type: ignore[call-arg]
    assert (core.summary_weekday, core.summary_hour) == (4, 16)
