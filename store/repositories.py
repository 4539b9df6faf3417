"""Repositories over SQLAlchemy. Each unit of work is bound to one workspace at construction, and
every query it makes filters on that workspace: no code path can cross into another firm's data."""

from __future__ import annotations

import builtins
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date, datetime
from functools import cached_property
from typing import Any, Generic, Self, TypeVar, cast

from sqlalchemy import Table, bindparam, delete, event, exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction

from bot.clock import Clock
from bot.domain import (
    Client,
    ClientEvent,
    ClientStatus,
    Contact,
    NewTouch,
    OwnerChange,
    Person,
    Platform,
    Role,
    Touch,
    TouchKind,
    Workspace,
)
from bot.ownership_ports import Handoff
from bot.parsing import ClientIndex, ClientName, client_index
from bot.ports import Address
from bot.repair_ports import OPEN, Repair
from bot.rules import contact_key
from store.archive import SqlArchive
from store.batch import TOUCH_COLUMNS, Batcher
from store.capture import SqlCapture
from store.db import insert_for
from store.mappers import (
    ScopedRepo,
    merge_last_contact,
    to_client,
    to_contact,
    to_person,
    to_touch,
    to_workspace,
)
from store.matters import SqlMatching, SqlMatters
from store.models import (
    AuditRow,
    Base,
    ClientEventRow,
    ClientRow,
    ContactRow,
    HandoffRow,
    OwnerChangeRow,
    PersonRow,
    RepairRow,
    TouchRow,
    WorkspaceRow,
)
from store.nudges import SqlNudges, SqlSweepQueries
from store.outbox import SqlOutbox, SqlOutboxQueue
from store.ownership import SqlOwnership
from store.repairs import SqlRepairs
from store.secrets import TokenCipher

R = TypeVar("R")


def name_key(name: str) -> str:
    return " ".join(name.casefold().split())


# --- caches across requests, kept correct by the versions in the workspace row -----------------
#
# Every request of a workspace needs its person and, for /touch, its whole client list as a
# matching index; loading those through the ORM is most of a command's cost in a firm of
# thousands of clients. Both are kept in memory, tagged with the workspace's `clients_version`
# or `people_version` (bumped by triggers in the same transaction as any change to a column
# they hold, see store/models.py CACHED_COLUMNS). A unit of work reads the two versions once, in
# one small statement, and uses a cached entry only when its version is the one read: a change
# committed by another replica is seen by the next request. Entries are keyed by workspace id,
# so one firm's cache can never answer another's. A unit that has written anything neither reads
# nor fills the shared caches (what it sees may not be committed, or may be rolled back).


class _Session(Session):
    """A session that remembers, in `info`, whether it has written, whether it holds a
    connection, and what versions it read."""


def _wrote(session: Session, *_: object) -> None:
    session.info.pop("versions", None)
    session.info.pop("followups", None)
    session.info["wrote"] = True


def _on_execute(state: ORMExecuteState) -> None:
    if not state.is_select:
        _wrote(state.session)


def _on_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # committed or rolled back: read the versions again
        session.info.pop("versions", None)
        session.info.pop("followups", None)
        session.info.pop("wrote", None)
        session.info.pop("connected", None)


def _on_begin(session: Session, _transaction: SessionTransaction, _connection: object) -> None:
    session.info["connected"] = True


event.listen(_Session, "after_begin", _on_begin)
event.listen(_Session, "after_flush", lambda session, _ctx: _wrote(session))
event.listen(_Session, "do_orm_execute", _on_execute)
event.listen(_Session, "after_transaction_end", _on_transaction_end)


class _ClientList:
    __slots__ = ("_index", "clients")

    def __init__(self, clients: tuple[Client, ...]) -> None:
        self.clients = clients
        self._index: ClientIndex | None = None

    @property
    def index(self) -> ClientIndex:
        if self._index is None:
            self._index = client_index([ClientName(c.id, c.name, c.aliases) for c in self.clients])
        return self._index


class StoreCaches:
    """What one process keeps between requests. Bounded: a process serving very many
    workspaces or people drops everything and starts filling again."""

    MAX_PEOPLE = 50_000
    MAX_CLIENT_LISTS = 500

    def __init__(self) -> None:
        self.clients: dict[int, tuple[int, _ClientList]] = {}
        self.people: dict[tuple[int, str], tuple[int, Person]] = {}
        # The workspaces SqlStore.workspace() answers from memory, by id, and those a unit of
        # work found changed in the database (name, channel): reloaded on their next lookup.
        self.workspaces: dict[int, Workspace] = {}
        self.stale: set[int] = set()

    def keep_clients(self, ws: int, version: int, entry: _ClientList) -> None:
        if len(self.clients) >= self.MAX_CLIENT_LISTS and ws not in self.clients:
            self.clients.clear()
        self.clients[ws] = (version, entry)

    def keep_person(self, ws: int, version: int, person: Person) -> None:
        if len(self.people) >= self.MAX_PEOPLE:
            self.people.clear()
        self.people[(ws, person.platform_user_id)] = (version, person)


# The hot path's statements are built once, with bound parameters: building a statement and
# its cache key on every request cost more CPU than running it.
_VERSIONS = select(
    WorkspaceRow.clients_version,
    WorkspaceRow.people_version,
    WorkspaceRow.name,
    WorkspaceRow.channel,
).where(WorkspaceRow.id == bindparam("ws"))
# The cached client list, in the order it is kept (its order column is one the triggers watch).
_CLIENT_LIST = (
    select(ClientRow).where(ClientRow.workspace_id == bindparam("ws")).order_by(ClientRow.name_key)
)


class _Versions:
    """The workspace's (clients_version, people_version) as this unit of work sees them."""

    __slots__ = ("batcher", "caches", "s", "ws")

    def __init__(
        self, session: AsyncSession, ws: int, caches: StoreCaches, batcher: Batcher | None
    ) -> None:
        self.s, self.ws, self.caches, self.batcher = session, ws, caches, batcher

    @property
    def shared(self) -> bool:
        """Whether this unit may use the caches: it has written nothing yet."""
        return not self.s.info.get("wrote")

    async def get(self) -> tuple[int, int]:
        got: tuple[int, int] | None = self.s.info.get("versions")
        if got is None:
            row: Any = None
            if self.batcher is not None and not self.s.info.get("connected"):
                # Read in the next shared round (store/batch.py), with every other request's.
                shared = await self.batcher.versions(self.ws)
                row = shared[1:] if shared is not None else None
            if row is None:
                row = (await self.s.execute(_VERSIONS, {"ws": self.ws})).one_or_none()
            got = (int(row[0]), int(row[1])) if row is not None else (-1, -1)
            known = self.caches.workspaces.get(self.ws)
            if known is not None and (row is None or (known.name, known.channel) != tuple(row[2:])):
                self.caches.stale.add(self.ws)  # changed elsewhere: the next lookup reloads
            self.s.info["versions"] = got
        return got


def _unchanged(
    person: Person,
    display_name: str,
    tz: str | None,
    email: str | None,
    address: Address | None,
    locale: str | None,
    profile_refreshed_at: datetime | None,
) -> bool:
    """Whether `SqlPeople.ensure` with these would leave the person as they are."""
    return not (
        (display_name and display_name != person.display_name)
        or (tz and tz != person.tz and not person.tz_chosen)
        or (email and email != person.email)
        or (locale and locale != person.locale)
        or (address is not None and address != person.address)
        or (
            profile_refreshed_at is not None and profile_refreshed_at != person.profile_refreshed_at
        )
    )


# --- repositories -------------------------------------------------------------------------------


class _CachedRepo(ScopedRepo):
    """A repository whose reads may come from the process's caches (see above)."""

    def __init__(
        self,
        session: AsyncSession,
        workspace_id: int,
        clock: Clock,
        caches: StoreCaches | None = None,
        batcher: Batcher | None = None,
    ) -> None:
        super().__init__(session, workspace_id, clock)
        self._caches = caches or StoreCaches()
        self._versions = _Versions(session, workspace_id, self._caches, batcher)


class SqlPeople(_CachedRepo):
    async def _row(self, person_id: int) -> PersonRow | None:
        return await self.s.scalar(
            select(PersonRow).where(PersonRow.workspace_id == self.ws, PersonRow.id == person_id)
        )

    async def get(self, person_id: int) -> Person | None:
        row = await self._row(person_id)
        return to_person(row) if row else None

    async def by_platform_id(self, platform_user_id: str) -> Person | None:
        row = await self.s.scalar(
            select(PersonRow).where(
                PersonRow.workspace_id == self.ws, PersonRow.platform_user_id == platform_user_id
            )
        )
        return to_person(row) if row else None

    async def ensure(
        self,
        platform_user_id: str,
        display_name: str,
        *,
        tz: str | None = None,
        email: str | None = None,
        address: Address | None = None,
        locale: str | None = None,
        profile_refreshed_at: datetime | None = None,
    ) -> Person:
        version: int | None = None
        if self._versions.shared:
            version = (await self._versions.get())[1]
            hit = self._caches.people.get((self.ws, platform_user_id))
            if (
                hit is not None
                and hit[0] == version
                and _unchanged(
                    hit[1], display_name, tz, email, address, locale, profile_refreshed_at
                )
            ):
                return hit[1]
        person = await self._ensure(
            platform_user_id,
            display_name,
            tz=tz,
            email=email,
            address=address,
            locale=locale,
            profile_refreshed_at=profile_refreshed_at,
        )
        if version is not None and self._versions.shared:
            self._caches.keep_person(self.ws, version, person)
        return person

    async def _ensure(
        self,
        platform_user_id: str,
        display_name: str,
        *,
        tz: str | None,
        email: str | None,
        address: Address | None,
        locale: str | None,
        profile_refreshed_at: datetime | None,
    ) -> Person:
        row = await self.s.scalar(
            select(PersonRow).where(
                PersonRow.workspace_id == self.ws, PersonRow.platform_user_id == platform_user_id
            )
        )
        placeholder = platform_user_id.startswith("import:")
        if row is None and not placeholder:
            row = await self._placeholder(email)
            if row is not None:  # an owner named in an import, now using Touchbase: adopt
                if not await self._anyone_real():
                    row.role = Role.ADMIN.value
                row.platform_user_id = platform_user_id
        if row is None:
            # The first person to use Touchbase in a workspace is its admin; owners named in an
            # import who have not used it yet do not count, and are never made admin.
            first = not placeholder and not await self._anyone_real()
            row = PersonRow(
                workspace_id=self.ws,
                platform_user_id=platform_user_id,
                display_name=display_name or platform_user_id,
                role=Role.ADMIN.value if first else Role.STAFF.value,
                tz=tz or "UTC",
                email=email,
                locale=locale,
                address=address,
                interests=[],
                practice_areas=[],
                created_at=self.clock.now(),
                profile_refreshed_at=profile_refreshed_at,
            )
            self.s.add(row)
            await self.s.flush()
            return to_person(row)
        if display_name and display_name != row.display_name:
            row.display_name = display_name
        if tz and tz != row.tz and not row.tz_chosen:
            row.tz = tz
        if email and email != row.email:
            row.email = email
        if locale and locale != row.locale:
            row.locale = locale
        if address is not None and address != row.address:
            row.address = address
        if profile_refreshed_at is not None and profile_refreshed_at != row.profile_refreshed_at:
            row.profile_refreshed_at = profile_refreshed_at
        if self.s.dirty:
            await self.s.flush()
        return to_person(row)

    async def _anyone_real(self) -> bool:
        count = await self.s.scalar(
            select(func.count())
            .select_from(PersonRow)
            .where(
                PersonRow.workspace_id == self.ws,
                PersonRow.platform_user_id.not_like("import:%"),
            )
        )
        return bool(count)

    async def _placeholder(self, email: str | None) -> PersonRow | None:
        """The invitation (an owner named in an import) this newcomer takes up: only by the
        e-mail address their platform has verified (Slack's ``users.info`` profile, the Teams
        roster). A display name or user id is whatever someone chose to type, so it never
        claims an imported owner's clients."""
        if not email or "@" not in email:
            return None
        wanted = email.strip().casefold()
        rows = await self.s.scalars(
            select(PersonRow).where(
                PersonRow.workspace_id == self.ws, PersonRow.platform_user_id.startswith("import:")
            )
        )
        for row in rows:
            if row.email and row.email.strip().casefold() == wanted:
                return row
        return None

    async def update(self, person_id: int, **changes: Any) -> Person:
        row = await self._row(person_id)
        if row is None:
            raise LookupError(f"no person {person_id} in this workspace")
        for key, value in changes.items():
            if key == "role" and isinstance(value, Role):
                value = value.value
            elif key == "workdays" and not isinstance(value, str):
                value = ",".join(str(d) for d in value)
            elif key in ("interests", "practice_areas"):
                value = list(value)
            setattr(row, key, value)
        await self.s.flush()
        return to_person(row)

    async def list(self) -> builtins.list[Person]:
        rows = await self.s.scalars(
            select(PersonRow).where(PersonRow.workspace_id == self.ws).order_by(PersonRow.id)
        )
        return [to_person(r) for r in rows]


class SqlClients(_CachedRepo):
    async def _all(self) -> _ClientList:
        """Every client of the workspace, by name: from the cache while the version holds."""
        version: int | None = None
        if self._versions.shared:
            version = (await self._versions.get())[0]
            hit = self._caches.clients.get(self.ws)
            if hit is not None and hit[0] == version:
                return hit[1]
        rows = await self.s.scalars(_CLIENT_LIST, {"ws": self.ws})
        entry = _ClientList(tuple(to_client(r) for r in rows))
        if version is not None and self._versions.shared:
            self._caches.keep_clients(self.ws, version, entry)
        return entry

    async def index(self) -> ClientIndex:
        """The matching index of every client's name and aliases (see bot.parsing)."""
        return (await self._all()).index

    async def _row(self, client_id: int) -> ClientRow | None:
        # From the session's identity map when this unit of work has it, else one query.
        row = await self.s.get(ClientRow, client_id)
        return row if row is not None and row.workspace_id == self.ws else None

    async def get(self, client_id: int) -> Client | None:
        row = await self._row(client_id)
        return to_client(row) if row else None

    async def by_name(self, name: str) -> Client | None:
        row = await self.s.scalar(
            select(ClientRow).where(
                ClientRow.workspace_id == self.ws, ClientRow.name_key == name_key(name)
            )
        )
        return to_client(row) if row else None

    async def list(self, *, owner_id: int | None = None) -> builtins.list[Client]:
        if owner_id is None:
            return builtins.list((await self._all()).clients)
        query = select(ClientRow).where(ClientRow.workspace_id == self.ws)
        if owner_id is not None:
            query = query.where(ClientRow.owner_id == owner_id)
        rows = await self.s.scalars(query.order_by(ClientRow.name_key))
        return [to_client(r) for r in rows]

    async def add(
        self,
        name: str,
        *,
        aliases: Sequence[str] = (),
        owner_id: int | None = None,
        cadence_days: int | None = None,
        segment: str | None = None,
        last_contact_on: date | None = None,
    ) -> Client:
        row = ClientRow(
            workspace_id=self.ws,
            name=name.strip(),
            name_key=name_key(name),
            aliases=[a.strip() for a in aliases if a.strip()],
            owner_id=owner_id,
            cadence_days=cadence_days,
            segment=segment,
            last_contact_on=last_contact_on,
            status=ClientStatus.ACTIVE.value,
            created_at=self.clock.now(),
        )
        self.s.add(row)
        await self.s.flush()
        return to_client(row)

    async def add_many(self, clients: Sequence[Client]) -> builtins.list[Client]:
        now = self.clock.now()
        out: builtins.list[Client] = []
        for start in range(0, len(clients), _BATCH):
            chunk = clients[start : start + _BATCH]
            values = [
                {
                    "workspace_id": self.ws,
                    "name": c.name.strip(),
                    "name_key": name_key(c.name),
                    "aliases": [a.strip() for a in c.aliases if a.strip()],
                    "owner_id": c.owner_id,
                    "cadence_days": c.cadence_days,
                    "segment": c.segment,
                    "last_contact_on": c.last_contact_on,
                    "status": ClientStatus.ACTIVE.value,
                    "created_at": now,
                }
                for c in chunk
            ]
            # One executemany, then the ids by name (unique in a workspace): RETURNING in
            # order would cost a statement a row on SQLite.
            await self.s.execute(insert(ClientRow), values)
            keys = [str(v["name_key"]) for v in values]
            rows = await self.s.execute(
                select(ClientRow.name_key, ClientRow.id).where(
                    ClientRow.workspace_id == self.ws, ClientRow.name_key.in_(keys)
                )
            )
            found: dict[str, int] = {key: row_id for key, row_id in rows}
            ids = [found[key] for key in keys]
            for new_id, c in zip(ids, chunk, strict=True):
                out.append(
                    replace(
                        c,
                        id=new_id,
                        workspace_id=self.ws,
                        name=c.name.strip(),
                        aliases=tuple(a.strip() for a in c.aliases if a.strip()),
                        status=ClientStatus.ACTIVE,
                        created_at=now,
                    )
                )
        return out

    async def update(self, client_id: int, **changes: Any) -> Client:
        row = await self._row(client_id)
        if row is None:
            raise LookupError(f"no client {client_id} in this workspace")
        for key, value in changes.items():
            if key == "aliases":
                value = list(value)
            elif key == "status" and isinstance(value, ClientStatus):
                value = value.value
            elif key == "name":
                row.name_key = name_key(value)
            setattr(row, key, value)
        await self.s.flush()
        return to_client(row)

    async def last_touch_on(self, client_ids: Sequence[int]) -> dict[int, date]:
        if not client_ids:
            return {}
        ids = list(client_ids)
        rows = await self.s.execute(
            select(TouchRow.client_id, func.max(TouchRow.occurred_on))
            .where(TouchRow.workspace_id == self.ws, TouchRow.client_id.in_(ids))
            .group_by(TouchRow.client_id)
        )
        out = {client_id: last for client_id, last in rows if last is not None}
        known = await self.s.execute(
            select(ClientRow.id, ClientRow.last_contact_on).where(
                ClientRow.workspace_id == self.ws,
                ClientRow.id.in_(ids),
                ClientRow.last_contact_on.is_not(None),
            )
        )
        return merge_last_contact(out, known)

    async def archived_ids(self) -> set[int]:
        query = select(ClientRow.id).where(
            ClientRow.workspace_id == self.ws,
            ClientRow.status == ClientStatus.ARCHIVED.value,
        )
        # A plain Core result: every nudge build asks.
        return set((await (await self.s.connection()).execute(query)).scalars())

    async def merge(self, from_id: int, into_id: int) -> dict[str, int]:
        """Move every row of `from_id` (touches, key people, matters, repairs, history...) to
        `into_id`, then remove `from_id`. Counts what moved, by table."""
        if await self._row(from_id) is None or await self._row(into_id) is None:
            raise LookupError("both clients must be in this workspace")
        await self._lock(from_id)
        moved: dict[str, int] = {}
        for table in _client_tables():
            result = await self.s.execute(
                update(table).where(table.c.client_id == from_id).values(client_id=into_id)
            )
            moved[table.name] = int(getattr(result, "rowcount", 0) or 0)
        await self.s.execute(
            delete(ClientRow).where(ClientRow.workspace_id == self.ws, ClientRow.id == from_id)
        )
        self.s.expunge_all()  # rows read before this point may name the client that is gone
        return moved

    async def erase(self, client_id: int) -> dict[str, int]:
        """Remove the client and everything of it, for good. Counts what went, by table."""
        if await self._row(client_id) is None:
            raise LookupError(f"no client {client_id} in this workspace")
        await self._lock(client_id)
        gone: dict[str, int] = {}
        for table in reversed(_client_tables()):
            result = await self.s.execute(delete(table).where(table.c.client_id == client_id))
            gone[table.name] = int(getattr(result, "rowcount", 0) or 0)
        await self.s.execute(
            delete(ClientRow).where(ClientRow.workspace_id == self.ws, ClientRow.id == client_id)
        )
        self.s.expunge_all()
        return gone

    async def _lock(self, client_id: int) -> None:
        """Hold the client's row until this unit of work ends (PostgreSQL; SQLite has one
        writer anyway). A touch being stored for it at the same moment is then either in
        before the rows move (and moves with them) or waits and finds the client gone: never
        stored between the moves and the delete, and deleted with the client."""
        await self.s.execute(
            select(ClientRow.id)
            .where(ClientRow.workspace_id == self.ws, ClientRow.id == client_id)
            .with_for_update()
        )


def _client_tables() -> builtins.list[Table]:
    """Every table holding rows of one client, parents before children."""
    return [
        t
        for t in Base.metadata.sorted_tables
        if "client_id" in t.c and t.name != ClientRow.__tablename__
    ]


class SqlContacts(ScopedRepo):
    async def for_client(self, client_id: int) -> builtins.list[Contact]:
        rows = await self.s.scalars(
            select(ContactRow)
            .where(ContactRow.workspace_id == self.ws, ContactRow.client_id == client_id)
            .order_by(ContactRow.id)
        )
        return [to_contact(r) for r in rows]

    async def add(
        self,
        client_id: int,
        name: str,
        *,
        title: str | None = None,
        email: str | None = None,
        phone: str | None = None,
    ) -> Contact:
        row = ContactRow(
            workspace_id=self.ws,
            client_id=client_id,
            name=name,
            title=title,
            email=email,
            phone=phone,
            created_at=self.clock.now(),
        )
        self.s.add(row)
        await self.s.flush()
        return to_contact(row)

    async def update(self, contact_id: int, **changes: Any) -> Contact:
        row = await self.s.scalar(
            select(ContactRow).where(
                ContactRow.workspace_id == self.ws, ContactRow.id == contact_id
            )
        )
        if row is None:
            raise LookupError(f"no contact {contact_id} in this workspace")
        for key, value in changes.items():
            setattr(row, key, value)
        await self.s.flush()
        return to_contact(row)

    async def add_many(self, contacts: Sequence[Contact]) -> None:
        now = self.clock.now()
        for start in range(0, len(contacts), _BATCH):
            await self.s.execute(
                insert(ContactRow),
                [
                    {
                        "workspace_id": self.ws,
                        "client_id": c.client_id,
                        "name": c.name,
                        "title": c.title,
                        "email": c.email,
                        "phone": c.phone,
                        "created_at": now,
                    }
                    for c in contacts[start : start + _BATCH]
                ],
            )

    async def delete(self, contact_id: int) -> bool:
        result = await self.s.execute(
            delete(ContactRow).where(
                ContactRow.workspace_id == self.ws, ContactRow.id == contact_id
            )
        )
        return bool(getattr(result, "rowcount", 0))


_BATCH = 1000  # rows per statement in an import: within every database's parameter limit

_TOUCH_EDITABLE = frozenset(
    ("client_id", "kind", "contact", "note", "occurred_on", "awaiting_reply", "replied_at")
)


_TOUCH_INSERTS: dict[str, Any] = {}


def _touch_insert(session: AsyncSession) -> Any:
    """INSERT ... ON CONFLICT (workspace_id, source_id) DO NOTHING RETURNING *, built once per
    dialect with bound parameters."""
    name = session.get_bind().dialect.name
    stmt = _TOUCH_INSERTS.get(name)
    if stmt is None:
        table = TouchRow.__table__
        stmt = (
            insert_for(session)(table)
            .values({c: bindparam(c, type_=table.c[c].type) for c in TOUCH_COLUMNS})
            .on_conflict_do_nothing(index_elements=["workspace_id", "source_id"])
            # What the confirmation's repair and handoff features ask next, in the same
            # round trip (see _followups).
            .returning(*table.c, *_open_work("f_ws", "f_client"))
        )
        _TOUCH_INSERTS[name] = stmt
    return stmt


class SqlTouches(ScopedRepo):
    def __init__(
        self, session: AsyncSession, workspace_id: int, clock: Clock, batcher: Batcher | None = None
    ) -> None:
        super().__init__(session, workspace_id, clock)
        self._batcher = batcher

    async def add(self, touch: NewTouch) -> tuple[Touch, bool]:
        # One statement in the common case; a repeat of the same source message (a platform's
        # retry, a double click) conflicts and gets the first touch back.
        params = {
            "workspace_id": self.ws,
            "client_id": touch.client_id,
            "person_id": touch.person_id,
            "kind": touch.kind.value,
            "contact": touch.contact,
            "contact_key": contact_key(touch.contact),
            "note": touch.note,
            "occurred_on": touch.occurred_on,
            "awaiting_reply": touch.awaiting_reply,
            "source_id": touch.source_id,
            "matter_id": touch.matter_id,
            "estimate_on": touch.estimate_on,
            "created_at": self.clock.now(),
        }
        if (
            self._batcher is not None
            and touch.source_id
            and not self.s.info.get("wrote")
            and not self.s.info.get("connected")
        ):
            # Nothing else of this unit of work needs to share the touch's transaction: store
            # it in the next shared round, committed with the touches of concurrent requests.
            shared = await self._batcher.add_touch(params)
            if shared is not None:
                memo = self.s.info.setdefault("followups", {})
                memo[touch.client_id] = (False, False)  # the shared insert checked
                return to_touch(cast(TouchRow, shared)), True
        params.update(f_ws=self.ws, f_client=touch.client_id)
        row = (await self.s.execute(_touch_insert(self.s), params)).first()
        if row is not None:
            memo = self.s.info.setdefault("followups", {})
            memo[touch.client_id] = (bool(row.open_repair), bool(row.open_handoff))
            return to_touch(cast(TouchRow, row)), True  # a Core row: the same names
        existing = await self._by_source(touch.source_id or "")
        if existing is None:
            raise RuntimeError("touch neither stored nor found")
        return to_touch(existing), False

    async def _by_source(self, source_id: str) -> TouchRow | None:
        return await self.s.scalar(
            select(TouchRow).where(
                TouchRow.workspace_id == self.ws, TouchRow.source_id == source_id
            )
        )

    async def get(self, touch_id: int) -> Touch | None:
        row = await self.s.scalar(
            select(TouchRow).where(TouchRow.workspace_id == self.ws, TouchRow.id == touch_id)
        )
        return to_touch(row) if row else None

    async def delete(self, touch_id: int) -> bool:
        result = await self.s.execute(
            delete(TouchRow).where(TouchRow.workspace_id == self.ws, TouchRow.id == touch_id)
        )
        return bool(getattr(result, "rowcount", 0))

    async def update(self, touch_id: int, **changes: Any) -> Touch | None:
        row = await self.s.scalar(
            select(TouchRow).where(TouchRow.workspace_id == self.ws, TouchRow.id == touch_id)
        )
        if row is None:
            return None
        for key, value in changes.items():
            if key not in _TOUCH_EDITABLE:
                raise ValueError(f"a touch's {key} cannot be edited")
            setattr(row, key, value.value if isinstance(value, TouchKind) else value)
            if key == "contact":
                row.contact_key = contact_key(value)
        row.revision = (row.revision or 0) + 1
        await self.s.flush()
        return to_touch(row)

    async def for_client(self, client_id: int, *, limit: int = 10) -> builtins.list[Touch]:
        rows = await self.s.scalars(
            select(TouchRow)
            .where(TouchRow.workspace_id == self.ws, TouchRow.client_id == client_id)
            .order_by(TouchRow.occurred_on.desc(), TouchRow.id.desc())
            .limit(limit)
        )
        return [to_touch(r) for r in rows]

    async def mark_replied(self, touch_id: int, at: datetime) -> Touch | None:
        row = await self.s.scalar(
            select(TouchRow).where(TouchRow.workspace_id == self.ws, TouchRow.id == touch_id)
        )
        if row is None:
            return None
        row.replied_at = at
        await self.s.flush()
        return to_touch(row)

    async def all(self) -> builtins.list[Touch]:
        rows = await self.s.scalars(
            select(TouchRow)
            .where(TouchRow.workspace_id == self.ws)
            .order_by(TouchRow.occurred_on, TouchRow.id)
        )
        return [to_touch(r) for r in rows]


class SqlHistory(ScopedRepo):
    async def audit(self, person_id: int | None, action: str, detail: str) -> None:
        self.s.add(
            AuditRow(
                workspace_id=self.ws,
                person_id=person_id,
                action=action[:40],
                detail=detail[:500],
                at=self.clock.now(),
            )
        )
        await self.s.flush()

    async def audit_log(self) -> builtins.list[tuple[datetime, int | None, str, str]]:
        rows = await self.s.scalars(
            select(AuditRow).where(AuditRow.workspace_id == self.ws).order_by(AuditRow.id)
        )
        return [(r.at, r.person_id, r.action, r.detail) for r in rows]

    async def add_event(
        self,
        client_id: int,
        person_id: int | None,
        kind: str,
        summary: str,
        *,
        private: bool = False,
    ) -> ClientEvent:
        row = ClientEventRow(
            workspace_id=self.ws,
            client_id=client_id,
            person_id=person_id,
            kind=kind,
            summary=summary,
            private=private,
            at=self.clock.now(),
        )
        self.s.add(row)
        await self.s.flush()
        return _to_event(row)

    async def events(self, client_id: int, *, limit: int = 10) -> builtins.list[ClientEvent]:
        rows = await self.s.scalars(
            select(ClientEventRow)
            .where(ClientEventRow.workspace_id == self.ws, ClientEventRow.client_id == client_id)
            .order_by(ClientEventRow.at.desc(), ClientEventRow.id.desc())
            .limit(limit)
        )
        return [_to_event(r) for r in rows]

    async def add_owner_change(
        self, client_id: int, from_id: int | None, to_id: int | None, by_id: int | None
    ) -> OwnerChange:
        row = OwnerChangeRow(
            workspace_id=self.ws,
            client_id=client_id,
            from_person_id=from_id,
            to_person_id=to_id,
            changed_by_id=by_id,
            changed_at=self.clock.now(),
        )
        self.s.add(row)
        await self.s.flush()
        return _to_owner_change(row)

    async def add_owner_changes(
        self, changes: Sequence[tuple[int, int | None, int | None, int | None]]
    ) -> None:
        now = self.clock.now()
        for start in range(0, len(changes), _BATCH):
            await self.s.execute(
                insert(OwnerChangeRow),
                [
                    {
                        "workspace_id": self.ws,
                        "client_id": client_id,
                        "from_person_id": from_id,
                        "to_person_id": to_id,
                        "changed_by_id": by_id,
                        "changed_at": now,
                    }
                    for client_id, from_id, to_id, by_id in changes[start : start + _BATCH]
                ],
            )

    async def owner_changes(self, client_id: int) -> builtins.list[OwnerChange]:
        rows = await self.s.scalars(
            select(OwnerChangeRow)
            .where(OwnerChangeRow.workspace_id == self.ws, OwnerChangeRow.client_id == client_id)
            .order_by(OwnerChangeRow.changed_at, OwnerChangeRow.id)
        )
        return [_to_owner_change(r) for r in rows]


def _to_event(row: ClientEventRow) -> ClientEvent:
    return ClientEvent(
        id=row.id,
        client_id=row.client_id,
        person_id=row.person_id,
        kind=row.kind,
        summary=row.summary,
        at=row.at,
        private=row.private,
    )


def _to_owner_change(row: OwnerChangeRow) -> OwnerChange:
    return OwnerChange(
        id=row.id,
        client_id=row.client_id,
        from_person_id=row.from_person_id,
        to_person_id=row.to_person_id,
        changed_by_id=row.changed_by_id,
        changed_at=row.changed_at,
    )


# --- what a touch's confirmation asks: one query for both features ------------------------------
# After every /touch the repair feature asks for the client's open repair and the ownership
# feature for its open handoffs; nearly always there is neither. The touch's own INSERT answers
# both in its RETURNING (else the first of the two asks both in one statement), and the answers
# are remembered for this unit of work until it writes anything else; a "no" then costs
# nothing, a "yes" runs the feature's own query.


def _open_work(ws: str, client: str) -> tuple[Any, Any]:
    """(an open repair, an open handoff) for the client bound as `client`, labelled."""
    return (
        exists()
        .where(
            RepairRow.workspace_id == bindparam(ws),
            RepairRow.client_id == bindparam(client),
            RepairRow.status.in_([status.value for status in OPEN]),
        )
        .label("open_repair"),
        exists()
        .where(
            HandoffRow.workspace_id == bindparam(ws),
            HandoffRow.client_id == bindparam(client),
            HandoffRow.done_at.is_(None),
        )
        .label("open_handoff"),
    )


_FOLLOWUPS = select(*_open_work("ws", "client"))


async def _followups(session: AsyncSession, ws: int, client_id: int) -> tuple[bool, bool]:
    """(an open repair, an open handoff) for the client, as this unit of work sees them."""
    memo: dict[int, tuple[bool, bool]] = session.info.setdefault("followups", {})
    if client_id not in memo:
        row = (await session.execute(_FOLLOWUPS, {"ws": ws, "client": client_id})).one()
        memo = session.info.setdefault("followups", {})  # a flush may have dropped it
        memo[client_id] = (bool(row[0]), bool(row[1]))
    return memo[client_id]


class _Repairs(SqlRepairs):
    async def open_for(self, client_id: int) -> Repair | None:
        if not (await _followups(self.s, self.ws, client_id))[0]:
            return None
        return await super().open_for(client_id)


class _Ownership(SqlOwnership):
    async def open_handoffs(self, client_ids: Sequence[int] | None = None) -> list[Handoff]:
        one = client_ids is not None and len(client_ids) == 1
        if one and client_ids and not (await _followups(self.s, self.ws, client_ids[0]))[1]:
            return []
        return await super().open_handoffs(client_ids)


# --- unit of work and store ---------------------------------------------------------------------


class _Scoped(Generic[R]):
    """A repository of a unit of work, made on first use from (session, workspace, clock)."""

    def __init__(self, repo: Callable[[AsyncSession, int, Clock], R]) -> None:
        self.repo = repo

    def __set_name__(self, _owner: type, name: str) -> None:
        self.name = name

    def __get__(self, uow: SqlUnitOfWork, _owner: type | None = None) -> R:
        made = self.repo(uow._s, uow.workspace_id, uow._clock)
        uow.__dict__[self.name] = made  # later lookups find it without coming here
        return made


class SqlUnitOfWork:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        workspace_id: int,
        clock: Clock,
        caches: StoreCaches | None = None,
        batcher: Batcher | None = None,
        cipher: TokenCipher | None = None,
    ):
        self._sessions = sessions
        self.workspace_id = workspace_id
        self._clock = clock
        self._caches = caches or StoreCaches()
        self._batcher = batcher
        self._cipher = cipher
        self.session: AsyncSession | None = None

    async def __aenter__(self) -> Self:
        self.session = self._sessions()
        return self

    # The repositories are made when first used: most requests need two or three of them.
    contacts = _Scoped(SqlContacts)
    history = _Scoped(SqlHistory)
    nudges = _Scoped(SqlNudges)
    matters = _Scoped(SqlMatters)
    matching = _Scoped(SqlMatching)
    repairs = _Scoped(_Repairs)
    ownership = _Scoped(_Ownership)
    archive = _Scoped(SqlArchive)

    @cached_property
    def people(self) -> SqlPeople:
        return SqlPeople(self._s, self.workspace_id, self._clock, self._caches, self._batcher)

    @cached_property
    def clients(self) -> SqlClients:
        return SqlClients(self._s, self.workspace_id, self._clock, self._caches, self._batcher)

    @cached_property
    def touches(self) -> SqlTouches:
        return SqlTouches(self._s, self.workspace_id, self._clock, self._batcher)

    @cached_property
    def outbox(self) -> SqlOutbox:
        return SqlOutbox(self._s, self.workspace_id)

    @cached_property
    def capture(self) -> SqlCapture:
        return SqlCapture(self._s, self.workspace_id, self._clock, self._cipher)

    @property
    def _s(self) -> AsyncSession:
        assert self.session is not None, "use the unit of work inside `async with`"
        return self.session

    async def __aexit__(self, *exc: object) -> None:
        assert self.session is not None
        # A unit that never reached the database (a /touch answered from the caches and the
        # shared rounds) has nothing to roll back or close.
        if self.session.in_transaction():
            try:
                await self.session.rollback()  # anything not committed is discarded
            finally:
                await self.session.close()

    async def commit(self) -> None:
        assert self.session is not None
        if self.session.in_transaction():
            await self.session.commit()


class SqlStore:
    # Every inbound request looks its workspace up; the answer rarely changes, so it is kept for
    # a short while. A change made by another replica (a new channel) is seen within that time,
    # or sooner: each unit of work's version check also reads the name and channel, and a
    # difference makes the next lookup reload.
    WORKSPACE_TTL_SECONDS = 30.0

    def __init__(
        self, engine: AsyncEngine, clock: Clock, *, cipher: TokenCipher | None = None
    ) -> None:
        """`cipher` encrypts the secrets kept in workspaces' rows (calendar addresses); None
        when TOUCHBASE_SECRET_KEYS is unset, and then none is stored."""
        self.engine = engine
        self.clock = clock
        self.cipher = cipher
        self.sessions = async_sessionmaker(
            engine, expire_on_commit=False, sync_session_class=_Session
        )
        self.caches = StoreCaches()
        self.batcher = Batcher(engine)
        self._workspaces: dict[tuple[str, str], tuple[Workspace, float]] = {}

    def _remember(self, ws: Workspace) -> Workspace:
        self._workspaces[(ws.platform.value, ws.external_id)] = (ws, time.monotonic())
        self.caches.workspaces[ws.id] = ws
        self.caches.stale.discard(ws.id)
        return ws

    def unit(self, workspace_id: int) -> SqlUnitOfWork:
        return SqlUnitOfWork(
            self.sessions, workspace_id, self.clock, self.caches, self.batcher, self.cipher
        )

    def sweep_queries(self) -> SqlSweepQueries:
        return SqlSweepQueries(self.sessions)

    def outbox_queue(self) -> SqlOutboxQueue:
        return SqlOutboxQueue(self.sessions)

    async def workspace(
        self, platform: Platform, external_id: str, name: str | None = None
    ) -> Workspace:
        cached = self._workspaces.get((platform.value, external_id))
        fresh = (
            cached
            and time.monotonic() - cached[1] < self.WORKSPACE_TTL_SECONDS
            and cached[0].id not in self.caches.stale
        )
        if cached and fresh and (not name or name == cached[0].name):
            return cached[0]
        return self._remember(await self._load_workspace(platform, external_id, name))

    async def _load_workspace(
        self, platform: Platform, external_id: str, name: str | None
    ) -> Workspace:
        query = select(WorkspaceRow).where(
            WorkspaceRow.platform == platform.value, WorkspaceRow.external_id == external_id
        )
        async with self.sessions() as s:
            row = await s.scalar(query)
            if row is not None:
                if name and name != row.name:
                    row.name = name
                    await s.commit()
                return to_workspace(row)
            s.add(
                WorkspaceRow(
                    platform=platform.value,
                    external_id=external_id,
                    name=name or external_id,
                    created_at=self.clock.now(),
                )
            )
            try:
                await s.commit()
            except IntegrityError:  # created meanwhile by another request
                await s.rollback()
            row = await s.scalar(query)
            assert row is not None
            return to_workspace(row)

    async def update_workspace(self, workspace_id: int, **changes: Any) -> Workspace:
        async with self.sessions() as s:
            row = await s.get(WorkspaceRow, workspace_id)
            if row is None:
                raise LookupError(f"no workspace {workspace_id}")
            for key, value in changes.items():
                setattr(row, key, value)
            await s.commit()
            return self._remember(to_workspace(row))

    async def workspaces(self, *, include_paused: bool = False) -> builtins.list[Workspace]:
        query = select(WorkspaceRow)
        if not include_paused:
            query = query.where(WorkspaceRow.active.is_(True))
        async with self.sessions() as s:
            rows = await s.scalars(query.order_by(WorkspaceRow.id))
            return [to_workspace(r) for r in rows]
