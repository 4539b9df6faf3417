"""Follow-ups from captured e-mail are found for the person asking, in the database.

In a firm where many colleagues e-mail clients, `/due` and the morning digest read only the
asking person's own sent mail: another person's items are neither shown nor loaded. A reply
from the client to anyone at the firm still settles the e-mail, though that reply is not loaded
either (the check happens in SQL).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import event
from sqlalchemy.orm import Session

from bot.capture_ports import Direction, EventKind, NewSuggestion, SuggestionState
from bot.config import CoreConfig
from bot.digest import build_digests
from bot.domain import Person
from store.models import CaptureItemRow
from store.repositories import SqlStore
from tests.conftest import T0, Chat

OTHERS = 40  # colleagues, each with follow-ups of their own
SENT_AGO = timedelta(days=7)  # five business days before T0 (a Monday)


@contextmanager
def loaded_items() -> Iterator[list[tuple[int, str]]]:
    """(person, source id) of every captured item the ORM builds from a database row while the
    block runs."""
    seen: list[tuple[int, str]] = []

    def loaded(_session: Session, instance: object) -> None:
        if isinstance(instance, CaptureItemRow):
            seen.append((instance.person_id, instance.source_id))

    event.listen(Session, "loaded_as_persistent", loaded)
    try:
        yield seen
    finally:
        event.remove(Session, "loaded_as_persistent", loaded)


def mail(
    person: Person, client_id: int, key: str, ago: timedelta, direction: Direction
) -> NewSuggestion:
    return NewSuggestion(
        person_id=person.id,
        client_id=client_id,
        source="graph",
        source_id=key,
        occurred_at=T0 - ago,
        kind=EventKind.EMAIL,
        direction=direction,
        state=SuggestionState.MAIL,
    )


async def firm(chat: Chat, store: SqlStore) -> tuple[int, Person, list[Person], dict[str, int]]:
    """Jane and OTHERS colleagues; each has e-mailed Globex and Initech and had no reply."""
    await chat.say("/client add Globex")
    await chat.say("/client add Initech")
    ws = (await store.workspaces())[0].id
    async with store.unit(ws) as uow:
        jane = await uow.people.by_platform_id("jane")
        assert jane is not None
        clients = {c.name: c.id for c in await uow.clients.list()}
        others = [
            await uow.people.ensure(f"u{i}", f"Colleague {i}", tz="UTC") for i in range(OTHERS)
        ]
        for p in others:
            for name, cid in clients.items():
                await uow.capture.add(mail(p, cid, f"{p.id}-{name}", SENT_AGO, Direction.SENT))
        await uow.capture.add(mail(jane, clients["Globex"], "jane-1", SENT_AGO, Direction.SENT))
        await uow.commit()
    return ws, jane, others, clients


async def test_due_shows_and_loads_only_the_askers_own_follow_ups(
    chat: Chat, store: SqlStore
) -> None:
    ws, jane, others, clients = await firm(chat, store)
    with loaded_items() as seen:
        out = await chat.say("/due")
    assert "Globex: no reply to your e-mail for 5 business days" in out
    assert "Initech" not in out  # only colleagues e-mailed Initech
    assert out.count("no reply to your e-mail") == 1
    assert seen == [(jane.id, "jane-1")]

    async with store.unit(ws) as uow:
        with loaded_items() as seen:
            found = await uow.capture.unanswered([others[3].id], T0 - timedelta(days=60))
    assert sorted((m.person_id, m.client_id) for m in found) == sorted(
        (others[3].id, cid) for cid in clients.values()
    )
    assert {p for p, _ in seen} == {others[3].id} and len(seen) == 2


async def test_the_digest_shares_the_bounded_query(
    chat: Chat, store: SqlStore, config: CoreConfig
) -> None:
    ws, jane, others, _ = await firm(chat, store)
    with loaded_items() as seen:
        digests = await build_digests(store, ws, [jane, others[0]], T0, config)
    assert {p for p, _ in seen} == {jane.id, others[0].id}
    assert len(seen) == 3  # jane's one e-mail, the colleague's two
    jane_digest = digests[jane.id]
    assert jane_digest is not None
    assert "no reply to your e-mail" in jane_digest.text + repr(jane_digest.sections)


async def test_a_reply_to_a_colleague_settles_it_and_only_the_last_e_mail_counts(
    chat: Chat, store: SqlStore
) -> None:
    ws, jane, others, clients = await firm(chat, store)
    globex = clients["Globex"]
    async with store.unit(ws) as uow:
        # Globex wrote to a colleague after Jane's e-mail: that answers Jane too.
        await uow.capture.add(
            mail(others[5], globex, "reply-1", timedelta(days=6), Direction.RECEIVED)
        )
        await uow.commit()
    with loaded_items() as seen:
        out = await chat.say("/due")
    assert "no reply to your e-mail" not in out
    assert seen == []  # nothing of Jane's waits; the colleague's reply was never loaded

    async with store.unit(ws) as uow:
        # Jane writes again after the reply, twice: the later one is what waits.
        await uow.capture.add(
            mail(jane, globex, "jane-2", timedelta(days=5, hours=2), Direction.SENT)
        )
        await uow.capture.add(mail(jane, globex, "jane-3", timedelta(days=5), Direction.SENT))
        # An e-mail at the same moment as the last: one of the two, the first stored.
        await uow.capture.add(mail(jane, globex, "jane-4", timedelta(days=5), Direction.SENT))
        await uow.commit()
    async with store.unit(ws) as uow:
        found = await uow.capture.unanswered([jane.id], T0 - timedelta(days=60))
        assert [m.source_id for m in found] == ["jane-3"]
        # An e-mail from outside the window is not weighed at all.
        assert await uow.capture.unanswered([jane.id], T0 - timedelta(days=3)) == []
        # A reply at the very moment of the e-mail does not answer it.
        await uow.capture.add(
            mail(others[0], globex, "same", timedelta(days=5), Direction.RECEIVED)
        )
        assert [
            m.source_id for m in await uow.capture.unanswered([jane.id], T0 - timedelta(days=60))
        ] == ["jane-3"]
    out = await chat.say("/due")
    assert "Globex: no reply to your e-mail for 3 business days" in out


async def test_everyone_at_once_and_many_people_in_one_query(chat: Chat, store: SqlStore) -> None:
    ws, jane, others, clients = await firm(chat, store)
    since = T0 - timedelta(days=60)
    async with store.unit(ws) as uow:
        everyone = await uow.capture.unanswered(None, since)
        assert len(everyone) == 1 + 2 * OTHERS
        # More people than one IN list holds: asked in parts, the same answer.
        ids = [p.id for p in others] + [jane.id] + list(range(10_000, 11_200))
        assert await uow.capture.unanswered(ids, since) == everyone
        assert await uow.capture.unanswered([], since) == []
    _ = clients
