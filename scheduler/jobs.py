"""Job functions: a few lines each, calling a core use case with what it needs."""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.capture import run_capture
from bot.digest import run_sweep
from scheduler.ports import Services
from store.inbound_events import forget_before

log = logging.getLogger(__name__)
INBOUND_KEYS_KEPT = timedelta(days=7)


async def forget_old_deliveries(services: Services) -> None:
    """Drop inbound event keys older than a week: platforms stop retrying within hours."""
    try:
        await forget_before(services.store, INBOUND_KEYS_KEPT)
    except Exception:
        log.exception("could not prune inbound event keys")


async def digest_tick(services: Services, worker: str) -> None:
    """Send the morning digests that are due now. Never raises: the next tick tries again."""
    try:
        config = services.app.config
        await run_sweep(
            services.store,
            services.messengers,
            services.clock,
            config,
            worker,
            concurrency=config.digest_concurrency,
        )
    except Exception:
        log.exception("digest sweep failed", extra={"worker": worker})


async def drain_outbox(services: Services) -> None:
    """Send what the durable outbox holds: messages whose send right after their commit failed
    or never happened (a crash), retries that are due, and messages that waited for a person who
    has now been seen. Never raises."""
    try:
        await services.app.drain()
    except Exception:
        log.exception("outbox drain failed")


async def capture_tick(services: Services) -> None:
    """One capture pass, hourly: each workspace's pass is claimed once for the hour, however
    many replicas run this. Never raises: the next hour tries again."""
    try:
        now = services.clock.now()
        await run_capture(
            services.store,
            services.clock,
            services.app.config,
            services.capture_sources,
            claim=f"hour:{now:%Y-%m-%dT%H}",
            now=now,
        )
    except Exception:
        log.exception("capture pass failed")
