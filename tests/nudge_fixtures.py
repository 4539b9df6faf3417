"""Helpers for the nudge, digest and scheduler tests: seed people, clients and touches directly
through the store, and a messenger that records what it was asked to send."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select, update

from bot.clock import FixedClock
from bot.domain import NewTouch, Person, Platform, Role, TouchKind
from bot.messages import Message
from bot.ports import Address, DeliveryError
from store.models import DigestRow, PostRow
from store.repositories import SqlStore


@dataclass
class RecordingMessenger:
    """Records every send; can be told to fail."""

    sent: list[tuple[Address, Message]] = field(default_factory=list)
    fail_with: list[DeliveryError] = field(default_factory=list)  # raised, in order, first
    stop_after: int | None = None  # raise `stop` on the send after this many
    stop: BaseException | None = None

    async def send(self, address: Address, message: Message) -> None:
        if self.fail_with:
            raise self.fail_with.pop(0)
        if self.stop_after is not None and len(self.sent) >= self.stop_after:
            assert self.stop is not None
            raise self.stop
        self.sent.append((address, message))

    def recipients(self) -> list[str]:
        return [str(a["user"]) for a, _ in self.sent]


async def add_person(
    store: SqlStore,
    ws_id: int,
    user: str,
    *,
    tz: str = "UTC",
    role: Role = Role.SENIOR,
    workdays: tuple[int, ...] | None = None,
) -> Person:
    async with store.unit(ws_id) as uow:
        p = await uow.people.ensure(user, user.title(), tz=tz, address={"user": user, "name": user})
        changes: dict[str, object] = {"role": role}
        if workdays is not None:
            changes["workdays"] = workdays
        p = await uow.people.update(p.id, **changes)
        await uow.commit()
    return p


async def add_client(
    store: SqlStore,
    clock: FixedClock,
    ws_id: int,
    name: str,
    owner: Person | None,
    *,
    added: datetime,
    cadence: int | None = None,
    segment: str | None = None,
) -> int:
    saved = clock.now()
    clock.set(added)
    try:
        async with store.unit(ws_id) as uow:
            c = await uow.clients.add(
                name, owner_id=owner.id if owner else None, cadence_days=cadence, segment=segment
            )
            await uow.commit()
    finally:
        clock.set(saved)
    return c.id


async def add_touch(
    store: SqlStore,
    ws_id: int,
    client_id: int,
    person: Person,
    on: date,
    *,
    awaiting: bool = False,
    kind: TouchKind = TouchKind.EMAIL,
    contact: str | None = None,
) -> int:
    async with store.unit(ws_id) as uow:
        t, _ = await uow.touches.add(
            NewTouch(
                client_id=client_id,
                person_id=person.id,
                kind=kind,
                occurred_on=on,
                awaiting_reply=awaiting,
                contact=contact,
            )
        )
        await uow.commit()
    return t.id


async def workspace(
    store: SqlStore, platform: Platform = Platform.CONSOLE, key: str = "local"
) -> int:
    ws = await store.workspace(platform, key, "Test firm")
    return ws.id


def days(n: int) -> timedelta:
    return timedelta(days=n)


async def age_claims(store: SqlStore, by: timedelta) -> None:
    """Let the DATABASE's clock move on by `by`, as far as claims can tell: every digest and
    channel-post claim's lease timestamps move back. Leases are judged by the database's clock,
    which a test cannot set, so it ages the rows instead."""
    async with store.sessions() as s, s.begin():
        for row in (await s.execute(select(DigestRow))).scalars():
            await s.execute(
                update(DigestRow)
                .where(DigestRow.id == row.id)
                .values(
                    claimed_at=row.claimed_at - by,
                    heartbeat_at=None if row.heartbeat_at is None else row.heartbeat_at - by,
                )
            )
        for post in (await s.execute(select(PostRow))).scalars():
            await s.execute(
                update(PostRow).where(PostRow.id == post.id).values(claimed_at=post.claimed_at - by)
            )
