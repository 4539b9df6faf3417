"""The SQL behind capture: client domains, captured items, each person's setup, pass claims.

Bound to one workspace like every repository in a unit of work. Items are inserted with
ON CONFLICT DO NOTHING on (workspace, source, source id), so two replicas capturing the same
event store it once; pass claims work the same way.

A person's secret calendar address is encrypted at rest with the cipher of the Slack tokens
(store/secrets.py, TOUCHBASE_SECRET_KEYS). One stored in plain text before that, or under an
old key, is read as it is and encrypted again with the first key when it is read or saved
(`touchbase db rotate-keys` does them all at once). Without a key no new address is stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, delete, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from bot.capture_ports import (
    SOURCE_PREFIX,
    CaptureMode,
    CaptureSetup,
    Direction,
    EventKind,
    NewSuggestion,
    SecretUnavailable,
    Suggestion,
    SuggestionState,
)
from bot.clock import Clock
from store.db import database_now, insert_for
from store.mappers import ScopedRepo
from store.models import (
    CaptureItemRow,
    CapturePassRow,
    CaptureSetupRow,
    ClientDomainRow,
    TouchRow,
)
from store.secrets import PREFIX, SecretKeyError, TokenCipher

# People per query: an IN list stays well inside every driver's limit on parameters.
_IN_CHUNK = 500


def _to_suggestion(row: CaptureItemRow) -> Suggestion:
    return Suggestion(
        id=row.id,
        person_id=row.person_id,
        client_id=row.client_id,
        source=row.source,
        source_id=row.source_id,
        occurred_at=row.occurred_at,
        kind=EventKind(row.kind),
        direction=Direction(row.direction),
        state=SuggestionState(row.state),
        contact=row.contact,
        subject=row.subject,
        touch_id=row.touch_id,
    )


class FeedKeyError(SecretKeyError, SecretUnavailable):
    """A calendar address cannot be encrypted or decrypted with the configured keys."""


NO_KEY = (
    "Calendar addresses are kept encrypted, and TOUCHBASE_SECRET_KEYS is not set: make a key "
    "with `touchbase db new-key` and set it on every server."
)
WHAT = "A stored calendar address"


def _open_feed(row: CaptureSetupRow, cipher: TokenCipher | None) -> str | None:
    """The row's calendar address readable; re-encrypted on the row (written with the unit of
    work) when it was in plain text or under an old key and a key is configured."""
    stored = row.feed_url
    if not stored:
        return None
    if cipher is None:
        if stored.startswith(PREFIX):
            raise FeedKeyError(NO_KEY)
        return stored  # from before addresses were encrypted; kept until a key is set
    try:
        url, stale = cipher.open_value(stored, WHAT)
    except SecretKeyError as exc:
        raise FeedKeyError(str(exc)) from None
    if stale:
        row.feed_url = cipher.seal_value(url)
    return url


def _to_setup(row: CaptureSetupRow, cipher: TokenCipher | None) -> CaptureSetup:
    return CaptureSetup(
        person_id=row.person_id,
        mode=CaptureMode(row.mode),
        feed_url=_open_feed(row, cipher),
        always_clients=tuple(int(c) for c in row.always_clients or ()),
        cursors=dict(row.cursors or {}),
    )


async def rotate_feed_keys(sessions: async_sessionmaker[AsyncSession], cipher: TokenCipher) -> int:
    """Encrypt every stored calendar address, in every workspace, with the current (first)
    key; returns how many were rewritten (plain text from before, or under an old key)."""
    rewritten = 0
    async with sessions() as s:
        for row in await s.scalars(
            select(CaptureSetupRow).where(CaptureSetupRow.feed_url.is_not(None))
        ):
            before = row.feed_url
            _open_feed(row, cipher)
            rewritten += row.feed_url != before
        await s.commit()
    return rewritten


class SqlCapture(ScopedRepo):
    def __init__(
        self,
        session: AsyncSession,
        workspace_id: int,
        clock: Clock,
        cipher: TokenCipher | None = None,
    ) -> None:
        super().__init__(session, workspace_id, clock)
        self.cipher = cipher

    async def domains(self) -> dict[str, int]:
        rows = await self.s.execute(
            select(ClientDomainRow.domain, ClientDomainRow.client_id).where(
                ClientDomainRow.workspace_id == self.ws
            )
        )
        return {d: c for d, c in rows}

    async def set_domains(self, client_id: int, domains: Sequence[str]) -> None:
        if not domains:
            return
        await self.s.execute(
            delete(ClientDomainRow).where(
                ClientDomainRow.workspace_id == self.ws, ClientDomainRow.domain.in_(domains)
            )
        )
        for d in dict.fromkeys(domains):
            self.s.add(ClientDomainRow(workspace_id=self.ws, client_id=client_id, domain=d))
        await self.s.flush()

    async def remove_domains(self, client_id: int, domains: Sequence[str]) -> None:
        await self.s.execute(
            delete(ClientDomainRow).where(
                ClientDomainRow.workspace_id == self.ws,
                ClientDomainRow.client_id == client_id,
                ClientDomainRow.domain.in_(domains),
            )
        )

    async def _setup_row(self, person_id: int) -> CaptureSetupRow | None:
        row: CaptureSetupRow | None = await self.s.scalar(
            select(CaptureSetupRow).where(
                CaptureSetupRow.workspace_id == self.ws, CaptureSetupRow.person_id == person_id
            )
        )
        return row

    async def setup(self, person_id: int) -> CaptureSetup:
        row = await self._setup_row(person_id)
        return _to_setup(row, self.cipher) if row is not None else CaptureSetup(person_id=person_id)

    async def setups(self) -> list[CaptureSetup]:
        rows = await self.s.scalars(
            select(CaptureSetupRow)
            .where(CaptureSetupRow.workspace_id == self.ws)
            .order_by(CaptureSetupRow.person_id)
        )
        return [_to_setup(r, self.cipher) for r in rows]

    async def save_setup(self, setup: CaptureSetup) -> None:
        row = await self._setup_row(setup.person_id)
        feed_url = self._sealed(row.feed_url if row else None, setup.feed_url)
        if row is None:
            row = CaptureSetupRow(workspace_id=self.ws, person_id=setup.person_id)
            self.s.add(row)
        row.mode = setup.mode.value
        row.feed_url = feed_url
        row.always_clients = list(setup.always_clients)
        row.cursors = dict(setup.cursors)
        await self.s.flush()

    def _sealed(self, stored: str | None, url: str | None) -> str | None:
        """What to store for the calendar address `url`, `stored` being what is there now."""
        if not url:
            return None
        if self.cipher is not None:
            return self.cipher.seal_value(url)
        if stored == url:
            return stored  # unchanged, from before addresses were encrypted
        raise FeedKeyError(NO_KEY)

    async def _row(self, suggestion_id: int) -> CaptureItemRow | None:
        row: CaptureItemRow | None = await self.s.scalar(
            select(CaptureItemRow).where(
                CaptureItemRow.workspace_id == self.ws, CaptureItemRow.id == suggestion_id
            )
        )
        return row

    async def get(self, suggestion_id: int) -> Suggestion | None:
        row = await self._row(suggestion_id)
        return _to_suggestion(row) if row is not None else None

    async def by_source(self, source: str, source_id: str) -> Suggestion | None:
        row = await self.s.scalar(
            select(CaptureItemRow).where(
                CaptureItemRow.workspace_id == self.ws,
                CaptureItemRow.source == source,
                CaptureItemRow.source_id == source_id,
            )
        )
        return _to_suggestion(row) if row is not None else None

    async def add(self, item: NewSuggestion) -> tuple[Suggestion, bool]:
        now = self.clock.now()
        insert = insert_for(self.s)
        new_id = await self.s.scalar(
            insert(CaptureItemRow)
            .values(
                workspace_id=self.ws,
                person_id=item.person_id,
                client_id=item.client_id,
                source=item.source,
                source_id=item.source_id,
                occurred_at=item.occurred_at,
                kind=item.kind.value,
                direction=item.direction.value,
                state=item.state.value,
                contact=item.contact,
                subject=item.subject,
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=["workspace_id", "source", "source_id"])
            .returning(CaptureItemRow.id)
        )
        stored = await self.by_source(item.source, item.source_id)
        assert stored is not None
        return stored, new_id is not None

    async def update(self, suggestion_id: int, **changes: object) -> Suggestion:
        row = await self._row(suggestion_id)
        if row is None:
            raise LookupError(f"no captured item {suggestion_id}")
        values: dict[str, Any] = {
            k: (v.value if isinstance(v, EventKind | SuggestionState | Direction) else v)
            for k, v in changes.items()
        }
        for key, value in values.items():
            setattr(row, key, value)
        row.updated_at = self.clock.now()
        await self.s.flush()
        return _to_suggestion(row)

    async def pending(self, person_ids: Sequence[int] | None) -> list[Suggestion]:
        query = select(CaptureItemRow).where(
            CaptureItemRow.workspace_id == self.ws,
            CaptureItemRow.state == SuggestionState.PENDING.value,
        )
        if person_ids is not None:
            query = query.where(CaptureItemRow.person_id.in_(person_ids))
        rows = await self.s.scalars(query.order_by(CaptureItemRow.occurred_at, CaptureItemRow.id))
        return [_to_suggestion(r) for r in rows]

    async def in_window(
        self, person_id: int, source: str, start: datetime, end: datetime
    ) -> list[Suggestion]:
        rows = await self.s.scalars(
            select(CaptureItemRow).where(
                CaptureItemRow.workspace_id == self.ws,
                CaptureItemRow.person_id == person_id,
                CaptureItemRow.source == source,
                CaptureItemRow.occurred_at >= start,
                CaptureItemRow.occurred_at < end,
            )
        )
        return [_to_suggestion(r) for r in rows]

    async def unanswered(
        self, person_ids: Sequence[int] | None, since: datetime
    ) -> list[Suggestion]:
        """Found in the database: only these people's own sent mail is read, each row checked
        against later mail (theirs to the same client, the client's to anyone) by index."""
        if person_ids is None:
            return await self._unanswered(None, since)
        ids = sorted(set(person_ids))
        found: list[Suggestion] = []
        for start in range(0, len(ids), _IN_CHUNK):
            found.extend(await self._unanswered(ids[start : start + _IN_CHUNK], since))
        return sorted(found, key=lambda m: (m.occurred_at, m.id))

    async def _unanswered(self, person_ids: list[int] | None, since: datetime) -> list[Suggestion]:
        sent = CaptureItemRow
        later, reply = aliased(CaptureItemRow), aliased(CaptureItemRow)
        mail = SuggestionState.MAIL.value
        query = select(sent).where(
            sent.workspace_id == self.ws,
            sent.state == mail,
            sent.direction == Direction.SENT.value,
            sent.occurred_at >= since,
            # the last one this person sent this client (the first stored, at the same moment)
            ~exists().where(
                later.workspace_id == self.ws,
                later.person_id == sent.person_id,
                later.state == mail,
                later.client_id == sent.client_id,
                later.direction == Direction.SENT.value,
                or_(
                    later.occurred_at > sent.occurred_at,
                    and_(later.occurred_at == sent.occurred_at, later.id < sent.id),
                ),
            ),
            # and no e-mail from the client since, to anyone at the firm
            ~exists().where(
                reply.workspace_id == self.ws,
                reply.client_id == sent.client_id,
                reply.state == mail,
                reply.direction == Direction.RECEIVED.value,
                reply.occurred_at > sent.occurred_at,
            ),
        )
        if person_ids is not None:
            query = query.where(sent.person_id.in_(person_ids))
        rows = await self.s.scalars(query.order_by(sent.occurred_at, sent.id))
        return [_to_suggestion(r) for r in rows]

    async def counts(self, since: date) -> tuple[int, int]:
        captured = TouchRow.source_id.like(f"{SOURCE_PREFIX}%")
        rows = await self.s.execute(
            select(captured, func.count())
            .where(TouchRow.workspace_id == self.ws, TouchRow.occurred_on >= since)
            .group_by(captured)
        )
        found = {bool(k): int(n) for k, n in rows}
        return found.get(True, 0), found.get(False, 0)

    async def move_client(self, client_id: int, into: int | None) -> None:
        if into is not None:
            await self.s.execute(
                update(ClientDomainRow)
                .where(
                    ClientDomainRow.workspace_id == self.ws, ClientDomainRow.client_id == client_id
                )
                .values(client_id=into)
            )
            await self.s.execute(
                update(CaptureItemRow)
                .where(
                    CaptureItemRow.workspace_id == self.ws, CaptureItemRow.client_id == client_id
                )
                .values(client_id=into)
            )
        rows = await self.s.scalars(
            select(CaptureSetupRow).where(CaptureSetupRow.workspace_id == self.ws)
        )
        for row in rows:
            before = [int(c) for c in row.always_clients or ()]
            if client_id not in before:
                continue
            after = [into if c == client_id else c for c in before]
            row.always_clients = [c for c in dict.fromkeys(after) if c is not None]
        await self.s.flush()

    async def claim_pass(self, key: str) -> bool:
        insert = insert_for(self.s)
        new_id = await self.s.scalar(
            insert(CapturePassRow)
            .values(workspace_id=self.ws, key=key, claimed_at=await database_now(self.s))
            .on_conflict_do_nothing(index_elements=["workspace_id", "key"])
            .returning(CapturePassRow.id)
        )
        return new_id is not None
