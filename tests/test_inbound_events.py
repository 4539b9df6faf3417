"""Retried deliveries are recognised; keys older than a week are pruned by the scheduler's job."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from bot.clock import FixedClock
from scheduler.jobs import forget_old_deliveries
from store.inbound_events import claim
from store.repositories import SqlStore


async def test_a_repeat_is_recognised_until_the_key_is_pruned(
    store: SqlStore, clock: FixedClock
) -> None:
    assert await claim(store, "slack", "Ev1") is True
    assert await claim(store, "slack", "Ev1") is False
    assert await claim(store, "teams", "Ev1") is True  # another platform's key
    clock.advance(timedelta(days=6))
    assert await claim(store, "slack", "Ev2") is True
    clock.advance(timedelta(days=2))  # Ev1 is now 8 days old, Ev2 two
    await forget_old_deliveries(SimpleNamespace(store=store))  # type: ignore[arg-type]
    assert await claim(store, "slack", "Ev1") is True  # forgotten, so new again
    assert await claim(store, "slack", "Ev2") is False  # still remembered
