"""The weekly firm summary job: every few minutes, post the week's summary where it is due.

`post_weekly_summaries` decides whether it is time (the configured weekday, from the configured
hour, in the firm's time zone) and claims each workspace's week in the database, so the post goes
out once however many replicas tick.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from bot.ownership import post_weekly_summaries
from scheduler.ports import Services

log = logging.getLogger(__name__)

SUMMARY_TICK_SECONDS = 600
SUMMARY_MISFIRE_GRACE_SECONDS = 300


async def summary_tick(services: Services) -> None:
    """Post the weekly summaries that are due now. Never raises: the next tick tries again."""
    try:
        await post_weekly_summaries(
            services.store, services.messengers, services.clock, services.app.config
        )
    except Exception:
        log.exception("weekly summary failed")


def add_summary_job(
    scheduler: Any,
    services: Services,
    track: Callable[[Callable[..., Awaitable[None]]], Callable[..., Awaitable[None]]] = lambda f: f,
) -> None:
    """Add the summary tick to an APScheduler `AsyncIOScheduler` (`track` wraps the job, for
    the scheduler's stop to wait for it)."""
    scheduler.add_job(
        track(summary_tick),
        "interval",
        seconds=SUMMARY_TICK_SECONDS,
        args=(services,),
        id="weekly-summary",
        coalesce=True,
        max_instances=1,
        misfire_grace_time=SUMMARY_MISFIRE_GRACE_SECONDS,
    )
