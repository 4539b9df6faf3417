"""The SQL behind nudges and the morning digest: due lists, snoozes, digest claims, deliveries.

The regularity due list is computed whole in the database (each client's latest touch, its
cadence, the first-contact rule, the owners asked about), so a sweep never loads the touch
history, nor a client that is not due.
Digest claims are rows unique per (person, local date), inserted with ON CONFLICT DO NOTHING:
however many processes sweep at once, one of them wins each person's morning.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from bot.clock import Clock
from bot.domain import Person, Platform, Role
from bot.nudge_ports import AwaitingReply, ClientDue, DigestCandidate, DigestClaim, Snooze
from store.db import database_now, insert_for
from store.mappers import as_date
from store.models import (
    RESTING,
    ClientRow,
    DeliveryRow,
    DigestRow,
    PersonRow,
    SegmentRow,
    SnoozeRow,
    TouchRow,
    WorkspaceRow,
)


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def created_date(dialect: str) -> ColumnElement[Any]:
    """The UTC calendar date a client was added."""
    if dialect == "postgresql":
        return cast(func.timezone("UTC", ClientRow.created_at), Date)
    return func.date(ClientRow.created_at)


def one_of(dialect: str, column: Any, ids: Sequence[int]) -> ColumnElement[bool]:
    """`column` is one of `ids`, as ONE bound parameter whatever their number: an array on
    PostgreSQL (`IN unnest`), a JSON list on SQLite (`IN json_each`). The database filters;
    nothing is loaded to be dropped in Python, and the statement is the same for 3 ids or
    30,000."""
    listed: ColumnElement[Any]
    if dialect == "postgresql":
        # A subquery rather than `= ANY(array)`: hashed in every plan, generic ones included.
        listed = func.unnest(literal(list(ids), ARRAY(Integer)))
    else:
        listed = func.json_each(literal(json.dumps(list(ids)))).table_valued("value").c.value
    found: ColumnElement[bool] = column.in_(select(listed))
    return found


def due_clients_query(
    dialect: str,
    workspace_id: int,
    by: date,
    default_cadence: int,
    *,
    owner_ids: Sequence[int] | None = None,
    include: Sequence[int] = (),
) -> Any:
    """Owned, not inactive clients due for contact on or before `by` (and those in `include`),
    with the date each fell due: the whole rule of `bot.rules.next_due`, in SQL.

    Each client's latest touch is one backward probe of the (client_id, occurred_on) index,
    so the cost follows the number of clients, not the length of the touch history."""
    touch = aliased(TouchRow)
    probe: Any = None
    last: ColumnElement[Any]
    if dialect == "postgresql":
        # A lateral join: probed once per client, and the rows flow straight on to the
        # filter (no materialised table in between).
        probe = (
            select(func.max(touch.occurred_on).label("touched"))
            .where(touch.client_id == ClientRow.id)
            .lateral("probe")
        )
        last = probe.c.touched
    else:
        last = (
            select(func.max(touch.occurred_on))
            .where(touch.client_id == ClientRow.id)
            .scalar_subquery()
        )
    cadence = func.coalesce(ClientRow.cadence_days, SegmentRow.cadence_days, default_cadence)
    inner = (
        select(
            ClientRow.id.label("id"),
            ClientRow.name.label("name"),
            ClientRow.owner_id.label("owner_id"),
            cadence.label("cadence"),
            last.label("touched"),
            ClientRow.last_contact_on.label("known"),
            created_date(dialect).label("since"),
        )
        .select_from(ClientRow if probe is None else ClientRow.__table__.outerjoin(probe, true()))
        .outerjoin(
            SegmentRow,
            and_(
                SegmentRow.workspace_id == ClientRow.workspace_id,
                SegmentRow.name == ClientRow.segment,
            ),
        )
        .where(
            ClientRow.workspace_id == workspace_id,
            ClientRow.owner_id.is_not(None),
            ClientRow.status.not_in(RESTING),
        )
    )
    if owner_ids is not None:
        inner = inner.where(one_of(dialect, ClientRow.owner_id, owner_ids))
    # SQLite: materialised, so each client's latest touch is looked up once, not again for the
    # output. PostgreSQL probes in the lateral join, once per client, and inlines the rest.
    c = inner.cte("client_last").prefix_with(
        "MATERIALIZED" if probe is None else "NOT MATERIALIZED"
    )
    # The latest touch, or the last contact known from an import when that is later.
    latest = case(
        (c.c.known.is_(None), c.c.touched),
        (c.c.touched.is_(None), c.c.known),
        (c.c.known > c.c.touched, c.c.known),
        else_=c.c.touched,
    )
    # rules.next_due: a cadence (at least a day) after the latest contact, unless that is not
    # after the day the client was added (or it was never touched): then its first contact
    # date, 1 + id % cadence days after it was added (rules.first_contact_due).
    if dialect == "postgresql":
        every = func.greatest(c.c.cadence, 1)
        after = latest + every
        due_on: ColumnElement[Any] = case(
            (after > c.c.since, after), else_=c.c.since + (1 + c.c.id % every)
        )
        due = due_on <= literal(by, Date)
    else:
        every = func.max(c.c.cadence, 1)
        start = func.julianday(c.c.since)
        after = func.julianday(latest) + every
        day = case((after > start, after), else_=start + 1 + c.c.id % every)
        due_on = func.date(day)
        due = day <= func.julianday(literal(by.isoformat()))
    if include:
        due = or_(due, c.c.id.in_(list(include)))
    return select(
        c.c.id,
        c.c.name,
        c.c.owner_id,
        c.c.cadence,
        latest.label("last"),
        c.c.since,
        due_on.label("due_on"),
    ).where(due)


class SqlNudges:
    """The nudge repository of one unit of work: every query filters on its workspace."""

    def __init__(self, session: AsyncSession, workspace_id: int, clock: Clock) -> None:
        self.s = session
        self.ws = workspace_id
        self.clock = clock
        # Zones the caller read already, in this sweep (`know_zones`): not asked for again.
        self.known_zones: dict[int, str] = {}

    async def due_clients(
        self,
        owner_ids: Sequence[int] | None,
        by: date,
        default_cadence: int,
        *,
        include: Sequence[int] = (),
    ) -> list[ClientDue]:
        query = due_clients_query(
            _dialect(self.s), self.ws, by, default_cadence, owner_ids=owner_ids, include=include
        )
        # A plain Core result (no ORM row processing): a sweep reads every client due.
        rows = (await (await self.s.connection()).execute(query)).all()
        if _dialect(self.s) == "postgresql":  # dates come back as dates: the rows are the tuples
            return list(map(ClientDue._make, rows))
        out: list[ClientDue] = []
        for client_id, name, owner_id, cadence, last, since, due_on in rows:
            # SQLite hands computed dates back as text.
            if last is not None and not isinstance(last, date):
                last = date.fromisoformat(last[:10])
            if not isinstance(since, date):
                since = as_date(since) or by
            if due_on is not None and not isinstance(due_on, date):
                due_on = date.fromisoformat(due_on)
            out.append(ClientDue(client_id, name, owner_id, cadence, last, since, due_on))
        return out

    def know_zones(self, zones: Mapping[int, str]) -> None:
        self.known_zones.update(zones)

    async def zones(self, person_ids: Sequence[int] | None) -> dict[int, str]:
        known = self.known_zones
        if person_ids is not None and known and all(p in known for p in person_ids):
            return {p: known[p] for p in person_ids}
        query = select(PersonRow.id, PersonRow.tz).where(PersonRow.workspace_id == self.ws)
        if person_ids is not None:
            query = query.where(one_of(_dialect(self.s), PersonRow.id, person_ids))
        return {pid: tz for pid, tz in await (await self.s.connection()).execute(query)}

    async def awaiting_replies(self, person_ids: Sequence[int] | None) -> list[AwaitingReply]:
        later = aliased(TouchRow)
        query = (
            select(
                TouchRow.id,
                TouchRow.client_id,
                ClientRow.name,
                TouchRow.person_id,
                TouchRow.kind,
                TouchRow.occurred_on,
                TouchRow.contact,
            )
            .join(ClientRow, ClientRow.id == TouchRow.client_id)
            .where(
                TouchRow.workspace_id == self.ws,
                TouchRow.awaiting_reply.is_(True),
                TouchRow.replied_at.is_(None),
                ClientRow.status != "archived",
                # Settled by a later touch with the same contact, or naming nobody when the
                # pending one named nobody (rules.settles, on the stored rules.contact_key).
                ~exists().where(
                    later.workspace_id == self.ws,
                    later.client_id == TouchRow.client_id,
                    or_(
                        later.occurred_on > TouchRow.occurred_on,
                        and_(later.occurred_on == TouchRow.occurred_on, later.id > TouchRow.id),
                    ),
                    or_(
                        and_(later.contact_key.is_(None), TouchRow.contact_key.is_(None)),
                        later.contact_key == TouchRow.contact_key,
                    ),
                ),
            )
            .order_by(TouchRow.id)
        )
        if person_ids is not None:
            query = query.where(one_of(_dialect(self.s), TouchRow.person_id, person_ids))
        rows = await self.s.execute(query)
        return [
            AwaitingReply(
                touch_id=r[0],
                client_id=r[1],
                client_name=r[2],
                person_id=r[3],
                kind=r[4],
                occurred_on=r[5],
                contact=r[6],
            )
            for r in rows
        ]

    async def owned_counts(self, person_ids: Sequence[int] | None) -> dict[int, int]:
        query = (
            select(ClientRow.owner_id, func.count())
            .where(
                ClientRow.workspace_id == self.ws,
                ClientRow.owner_id.is_not(None),
                ClientRow.status.not_in(RESTING),
            )
            .group_by(ClientRow.owner_id)
        )
        counts = {owner: n for owner, n in await self.s.execute(query) if owner is not None}
        if person_ids is None:
            return counts
        return {p: counts.get(p, 0) for p in person_ids}

    async def snoozes(self, person_ids: Sequence[int] | None, now: datetime) -> list[Snooze]:
        query = select(
            SnoozeRow.person_id, SnoozeRow.until, SnoozeRow.client_id, SnoozeRow.nudge_key
        ).where(SnoozeRow.workspace_id == self.ws, SnoozeRow.until > now)
        if person_ids is not None:
            query = query.where(one_of(_dialect(self.s), SnoozeRow.person_id, person_ids))
        rows = await (await self.s.connection()).execute(query)
        return [
            Snooze(person_id=person, until=until, client_id=client, nudge_key=key)
            for person, until, client, key in rows
        ]

    async def snooze(
        self,
        person_id: int,
        until: datetime,
        *,
        client_id: int | None = None,
        nudge_key: str | None = None,
    ) -> None:
        self.s.add(
            SnoozeRow(
                workspace_id=self.ws,
                person_id=person_id,
                client_id=client_id,
                nudge_key=nudge_key,
                until=until,
                created_at=self.clock.now(),
            )
        )
        await self.s.flush()

    async def claim_digest(
        self, person_id: int, local_date: date, worker: str, now: datetime, lease: timedelta
    ) -> DigestClaim | None:
        clock = await database_now(self.s)
        values = {
            "workspace_id": self.ws,
            "person_id": person_id,
            "local_date": local_date,
            "claimed_at": clock,
            "heartbeat_at": clock,
            "claimed_by": worker,
            "status": "claimed",
            "item_count": 0,
            "attempts": 0,
        }
        insert = insert_for(self.s)
        stmt = (
            insert(DigestRow)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["person_id", "local_date"])
            .returning(DigestRow.id)
        )
        new_id = await self.s.scalar(stmt)
        if new_id is not None:
            return DigestClaim(new_id, 0)
        # Taken already: take it over only if its worker stopped heartbeating (by the database's
        # clock) or a retry is due.
        again = (
            update(DigestRow)
            .where(
                DigestRow.workspace_id == self.ws,
                DigestRow.person_id == person_id,
                DigestRow.local_date == local_date,
                reclaimable(clock, now, lease),
            )
            .values(claimed_at=clock, heartbeat_at=clock, claimed_by=worker, status="claimed")
            .returning(DigestRow.id, DigestRow.attempts)
        )
        row = (await self.s.execute(again)).first()
        return DigestClaim(row[0], row[1]) if row else None

    async def heartbeat_digest(self, digest_id: int, worker: str) -> bool:
        clock = await database_now(self.s)
        done = await self.s.execute(
            update(DigestRow)
            .where(
                DigestRow.workspace_id == self.ws,
                DigestRow.id == digest_id,
                DigestRow.claimed_by == worker,
                DigestRow.status == "claimed",
            )
            .values(heartbeat_at=clock)
            .returning(DigestRow.id)
        )
        return done.first() is not None

    async def finish_digest(
        self,
        digest_id: int,
        status: str,
        *,
        item_count: int = 0,
        attempts: int = 0,
        sent_at: datetime | None = None,
        retry_at: datetime | None = None,
        worker: str | None = None,
    ) -> bool:
        held = []
        if worker is not None:
            held = [DigestRow.claimed_by == worker, DigestRow.status == "claimed"]
        done = await self.s.execute(
            update(DigestRow)
            .where(DigestRow.workspace_id == self.ws, DigestRow.id == digest_id, *held)
            .values(
                status=status,
                item_count=item_count,
                attempts=attempts,
                sent_at=sent_at,
                retry_at=retry_at,
            )
            .returning(DigestRow.id)
        )
        return done.first() is not None

    async def record_delivery(
        self,
        *,
        person_id: int | None,
        digest_id: int | None,
        kind: str,
        attempt: int,
        outcome: str,
        detail: str,
        at: datetime,
    ) -> None:
        self.s.add(
            DeliveryRow(
                workspace_id=self.ws,
                person_id=person_id,
                digest_id=digest_id,
                kind=kind,
                attempt=attempt,
                outcome=outcome,
                detail=detail[:300],
                at=at,
            )
        )
        await self.s.flush()


_CANDIDATE_COLUMNS = (
    PersonRow.id,
    PersonRow.workspace_id,
    PersonRow.platform_user_id,
    PersonRow.display_name,
    PersonRow.role,
    PersonRow.email,
    PersonRow.tz,
    PersonRow.workdays,
    PersonRow.address,
)


def candidate_person(row: Sequence[Any]) -> Person:
    """A Person with what a digest needs (profile lists left empty), from `_CANDIDATE_COLUMNS`.
    Building it from plain values costs a tenth of loading ORM objects for thousands of people."""
    pid, ws, user, name, role, email, tz, workdays, address = row[:9]
    return Person(
        id=pid,
        workspace_id=ws,
        platform_user_id=user,
        display_name=name,
        role=Role(role),
        email=email,
        tz=tz,
        workdays=_workdays(workdays or ""),
        address=address,
    )


@functools.lru_cache(maxsize=256)
def _workdays(text: str) -> tuple[int, ...]:
    """The stored week, "0,1,2,3,4", as (0, 1, 2, 3, 4): a firm has few distinct ones."""
    return tuple(int(d) for d in text.split(",") if d.strip())


def reclaimable(
    clock: datetime | ColumnElement[Any], now: datetime, lease: timedelta
) -> ColumnElement[bool]:
    """A claim whose owner stopped heartbeating `lease` ago by `clock` (the database's), or a
    retry whose time has come by `now` (the sweep's planning time)."""
    beat = func.coalesce(DigestRow.heartbeat_at, DigestRow.claimed_at)
    return or_(
        and_(DigestRow.status == "claimed", beat < clock - lease),
        and_(DigestRow.status == "retry", DigestRow.retry_at <= now),
    )


class SqlSweepQueries:
    """The sweep's cross-workspace reads: which people may be due for their digest now."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    def _reachable(self) -> list[ColumnElement[bool]]:
        return [WorkspaceRow.active.is_(True), PersonRow.unreachable_since.is_(None)]

    async def digest_candidates(
        self, local_date: Callable[[str], date | None], now: datetime, lease: timedelta
    ) -> list[DigestCandidate]:
        zones = (
            select(PersonRow.tz)
            .distinct()
            .join(WorkspaceRow, WorkspaceRow.id == PersonRow.workspace_id)
            .where(*self._reachable())
        )
        async with self.sessions() as s:
            conn = await s.connection()
            local_dates: dict[str, date] = {}
            for (tz,) in await conn.execute(zones):
                day = local_date(tz) if tz is not None else None
                if day is not None:
                    local_dates[tz] = day
            if not local_dates:
                return []
            # The database's clock judges leases: inline on PostgreSQL (the transaction's
            # now()), read first on SQLite.
            clock: datetime | ColumnElement[Any] = (
                func.now() if conn.dialect.name == "postgresql" else await database_now(s)
            )
            # Each person's claim on their own local date, unless it may be re-taken.
            day_of = case(
                {tz: literal(day, Date) for tz, day in local_dates.items()}, value=PersonRow.tz
            )
            held = exists().where(
                DigestRow.person_id == PersonRow.id,
                DigestRow.local_date == day_of,
                ~reclaimable(clock, now, lease),
            )
            query = (
                select(*_CANDIDATE_COLUMNS, WorkspaceRow.platform)
                .join(WorkspaceRow, WorkspaceRow.id == PersonRow.workspace_id)
                .where(*self._reachable(), PersonRow.tz.in_(list(local_dates)), ~held)
                .order_by(PersonRow.workspace_id, PersonRow.id)
            )
            # A plain Core result (no ORM row processing): one row per person of the firm.
            rows = (await conn.execute(query)).all()
        out: list[DigestCandidate] = []
        platforms = {p.value: p for p in Platform}
        for row in rows:
            out.append(
                DigestCandidate(candidate_person(row), platforms[row[9]], local_dates[row[6]])
            )
        return out
