"""The morning digest end to end, through the console messenger, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from adapters.console import ConsoleMessenger
from bot.clock import FixedClock
from bot.config import CoreConfig
from bot.digest import run_sweep
from bot.domain import Platform, Role
from bot.ports import DeliveryError
from store.models import DeliveryRow, DigestRow, PersonRow
from store.repositories import SqlStore
from tests.nudge_fixtures import RecordingMessenger, add_client, add_person, add_touch, workspace

MON = datetime(2026, 11, 23, 8, 30, tzinfo=UTC)


@pytest.fixture
async def firm(store: SqlStore, clock: FixedClock) -> dict[str, int]:
    ws = await workspace(store)
    alice = await add_person(store, ws, "alice", tz="UTC")
    bob = await add_person(store, ws, "bob", tz="America/New_York")
    carol = await add_person(store, ws, "carol", tz="UTC")  # owns nothing due
    long_ago = MON - timedelta(days=60)
    acme = await add_client(store, clock, ws, "Acme Corp", alice, added=long_ago)
    beta = await add_client(store, clock, ws, "Beta LLP", alice, added=long_ago)
    gamma = await add_client(store, clock, ws, "Gamma Ltd", alice, added=long_ago)
    delta = await add_client(store, clock, ws, "Delta Inc", bob, added=long_ago)
    calm = await add_client(store, clock, ws, "Calm Co", carol, added=long_ago)
    await add_client(store, clock, ws, "Nobody's", None, added=long_ago)  # unowned: skipped
    for client in (acme, delta):  # touched the day they were added: 30 days overdue
        await add_touch(store, ws, client, alice, long_ago.date())
    await add_touch(store, ws, beta, alice, date(2026, 10, 14))  # 40 days ago, cadence 30
    # Gamma: touched recently, but the email waits for a reply since last Monday.
    await add_touch(store, ws, gamma, alice, date(2026, 11, 16), awaiting=True)
    await add_touch(store, ws, calm, carol, date(2026, 11, 20))
    return {
        "ws": ws,
        "alice": alice.id,
        "bob": bob.id,
        "carol": carol.id,
        "acme": acme,
        "delta": delta,
    }


async def sweep(store: SqlStore, messenger: object, at: datetime) -> object:
    return await run_sweep(
        store,
        {Platform.CONSOLE: messenger},
        FixedClock(at),
        CoreConfig(),
        "test",  # type: ignore[dict-item]
    )


async def test_console_digest_once_per_person_per_morning(
    store: SqlStore, firm: dict[str, int]
) -> None:
    out = io.StringIO()
    console = ConsoleMessenger(out)
    await sweep(store, console, MON)
    # 08:30 in London is 03:30 in New York: only alice now; carol has nothing due.
    assert [a["user"] for a, _ in console.sent] == ["alice"]
    text = out.getvalue()
    assert "message for alice" in text
    lines = text.splitlines()
    order = [
        i
        for i, line in enumerate(lines)
        if line.strip().startswith(("Gamma Ltd:", "Acme Corp:", "Beta LLP:"))
    ]
    titles = [lines[i].strip() for i in order]
    assert titles == [
        "Gamma Ltd: no reply for 5 business days",
        "Acme Corp: 30 days overdue",
        "Beta LLP: 10 days overdue",
    ]
    assert "They replied" in text and "Snooze" in text and "Log touch" in text
    assert "Nobody's" not in text

    await sweep(store, console, MON + timedelta(minutes=1))
    assert len(console.sent) == 1  # the same morning again: nothing

    await sweep(store, console, MON + timedelta(hours=5))  # 08:30 in New York
    assert [a["user"] for a, _ in console.sent] == ["alice", "bob"]

    async with store.sessions() as s:
        rows = {(r.person_id, r.status) for r in await s.scalars(select(DigestRow))}
    assert rows == {(firm["alice"], "sent"), (firm["bob"], "sent"), (firm["carol"], "empty")}


async def test_saturday_sends_nothing(store: SqlStore, firm: dict[str, int]) -> None:
    m = RecordingMessenger()
    await sweep(store, m, datetime(2026, 11, 28, 8, 30, tzinfo=UTC))
    assert m.sent == []


async def test_before_the_hour_and_after_catch_up_nothing(
    store: SqlStore, firm: dict[str, int]
) -> None:
    m = RecordingMessenger()
    await sweep(store, m, datetime(2026, 11, 23, 7, 59, tzinfo=UTC))
    await sweep(store, m, datetime(2026, 11, 23, 12, 0, tzinfo=UTC))
    assert m.recipients() == []
    await sweep(store, m, datetime(2026, 11, 23, 11, 59, tzinfo=UTC))  # late, still that morning
    assert m.recipients() == ["alice"]


async def test_transient_failure_is_retried_with_backoff(
    store: SqlStore, firm: dict[str, int]
) -> None:
    m = RecordingMessenger(fail_with=[DeliveryError("rate limited", retry_after=90)])
    await sweep(store, m, MON)
    assert m.sent == []
    await sweep(store, m, MON + timedelta(seconds=80))  # the platform asked for 90 s
    assert m.sent == []
    await sweep(store, m, MON + timedelta(seconds=95))
    assert m.recipients() == ["alice"]
    async with store.sessions() as s:
        outcomes = [
            (r.attempt, r.outcome)
            for r in await s.scalars(select(DeliveryRow).order_by(DeliveryRow.id))
        ]
    assert outcomes == [(1, "retry"), (2, "sent")]


async def test_permanent_failure_stops_and_marks_unreachable(
    store: SqlStore, firm: dict[str, int]
) -> None:
    m = RecordingMessenger(fail_with=[DeliveryError("user_not_found", permanent=True)])
    await sweep(store, m, MON)
    await sweep(store, m, MON + timedelta(minutes=30))
    await sweep(store, m, datetime(2026, 11, 24, 8, 30, tzinfo=UTC))  # not the next day either
    assert m.sent == []
    async with store.sessions() as s:
        alice = await s.get(PersonRow, firm["alice"])
        assert alice is not None and alice.unreachable_since == MON
        outcomes = [r.outcome for r in await s.scalars(select(DeliveryRow))]
    assert outcomes == ["permanent"]


async def test_snoozed_items_stay_out(store: SqlStore, firm: dict[str, int]) -> None:
    async with store.unit(firm["ws"]) as uow:
        await uow.nudges.snooze(
            firm["bob"], MON + timedelta(days=3), nudge_key="due:client:" + str(firm["delta"])
        )
        await uow.commit()
    m = RecordingMessenger()
    await sweep(store, m, MON + timedelta(hours=5))
    assert "bob" not in m.recipients()
    await sweep(store, m, datetime(2026, 11, 26, 13, 30, tzinfo=UTC))  # snooze over on Thursday
    assert "bob" in m.recipients()


async def test_workdays_are_the_persons_own(store: SqlStore, firm: dict[str, int]) -> None:
    async with store.unit(firm["ws"]) as uow:
        await uow.people.update(firm["alice"], workdays=(1, 2, 3, 4, 5), role=Role.SENIOR)
        await uow.commit()
    m = RecordingMessenger()
    await sweep(store, m, MON)
    assert m.sent == []
    await sweep(store, m, datetime(2026, 11, 28, 8, 30, tzinfo=UTC))  # her Saturday
    assert m.recipients() == ["alice"]


async def test_dry_run_claims_nothing(store: SqlStore, firm: dict[str, int]) -> None:
    report = await run_sweep(store, {}, FixedClock(MON), CoreConfig(), "t", dry_run=True)
    assert sorted(p.platform_user_id for p, m in report.planned if m) == ["alice"]
    async with store.sessions() as s:
        assert list(await s.scalars(select(DigestRow))) == []


async def test_a_hanging_send_is_given_up_and_retried(
    store: SqlStore, firm: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    import bot.digest

    class Hanging:
        async def send(self, address: object, message: object) -> None:
            await asyncio.Event().wait()  # a platform that never answers

    monkeypatch.setattr(bot.digest, "SEND_TIMEOUT", timedelta(milliseconds=50))
    await sweep(store, Hanging(), MON)
    async with store.sessions() as s:
        outcomes = {(r.outcome, r.detail) for r in await s.scalars(select(DeliveryRow))}
        statuses = {r.status for r in await s.scalars(select(DigestRow))}
    assert outcomes == {("retry", "timed out")}
    assert "retry" in statuses and "sent" not in statuses
    m = RecordingMessenger()
    await sweep(store, m, MON + timedelta(minutes=30))  # the retry, through a working platform
    assert m.sent


async def test_a_claim_blocks_only_its_own_local_date(store: SqlStore, clock: FixedClock) -> None:
    """People a day apart are swept together, each for their own local date: a digest done for
    one date does not hold back the same person's digest for the other."""
    ws = await workspace(store)
    east = await add_person(store, ws, "east", tz="Pacific/Kiritimati")  # UTC+14
    west = await add_person(store, ws, "west", tz="Pacific/Pago_Pago")  # UTC-11
    at = datetime(2026, 11, 24, 19, 30, tzinfo=UTC)  # Wed 09:30 east, Tue 08:30 west
    tue, wed = date(2026, 11, 24), date(2026, 11, 25)
    async with store.sessions() as s:
        for person, day in ((east, tue), (west, wed)):  # each done for the OTHER date
            s.add(
                DigestRow(
                    workspace_id=ws,
                    person_id=person.id,
                    local_date=day,
                    claimed_at=at - timedelta(hours=12),
                    heartbeat_at=at - timedelta(hours=12),
                    claimed_by="earlier",
                    status="sent",
                    item_count=1,
                    attempts=1,
                )
            )
        await s.commit()
    report = await run_sweep(store, {}, FixedClock(at), CoreConfig(), "test", dry_run=True)
    assert sorted((p.platform_user_id, p.tz) for p, _ in report.planned) == [
        ("east", "Pacific/Kiritimati"),
        ("west", "Pacific/Pago_Pago"),
    ]
    async with store.sessions() as s:  # the dry run claimed nothing
        assert len((await s.scalars(select(DigestRow))).all()) == 2

    # Once each is done for their own date, neither is due again.
    async with store.sessions() as s:
        for person, day in ((east, wed), (west, tue)):
            s.add(
                DigestRow(
                    workspace_id=ws,
                    person_id=person.id,
                    local_date=day,
                    claimed_at=at,
                    heartbeat_at=at,
                    claimed_by="other",
                    status="sent",
                    item_count=1,
                    attempts=1,
                )
            )
        await s.commit()
    report = await run_sweep(store, {}, FixedClock(at), CoreConfig(), "test", dry_run=True)
    assert report.planned == []
