"""The in-process scheduler: APScheduler 3 on the server's event loop, one tick a minute.

Schedules come from code and the database, never from a persistent job store: the tick asks the
database who is due and claims each digest there, so any number of replicas on one PostgreSQL
can run it and each digest still goes out once. SQLite has one writer process, so a second
`serve` on the same file declines to schedule (see `scheduler.lock`).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from scheduler.jobs import capture_tick, digest_tick, drain_outbox, forget_old_deliveries
from scheduler.lock import SchedulerLock, acquire_for
from scheduler.ports import Services
from scheduler.summary import add_summary_job

if TYPE_CHECKING:
    from aiohttp import web


log = logging.getLogger(__name__)

TICK_SECONDS = 60
OUTBOX_SECONDS = 10
MISFIRE_GRACE_SECONDS = 50  # a tick late by more than this is skipped; the next one catches up
STOP_GRACE_SECONDS = 10  # how long stopping lets a job in flight finish before cancelling it


class InFlight:
    """The scheduler's jobs while they run, so that stopping lets them finish (APScheduler's
    own shutdown only cancels them, and does not wait even for that): a digest half sent is
    completed, and nothing is still using the database when the server closes it."""

    def __init__(self) -> None:
        self.tasks: set[asyncio.Task[Any]] = set()

    def track(self, job: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
        @functools.wraps(job)
        async def run(*args: Any) -> None:
            task = asyncio.current_task()
            assert task is not None
            self.tasks.add(task)
            try:
                await job(*args)
            finally:
                self.tasks.discard(task)

        return run

    async def settle(self, timeout: float) -> None:  # noqa: ASYNC109
        if self.tasks:
            await asyncio.wait(set(self.tasks), timeout=timeout)


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


async def start_scheduler(
    app: web.Application, services: Services
) -> Callable[[], Awaitable[None]] | None:
    """Start-up hook for the server: start the minute tick; return the function that
    stops it. Returns None (and serves without a scheduler) when another process holds it."""
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    lock: SchedulerLock | None = acquire_for(services.settings.database_url)
    if lock is not None and not lock.held:
        log.warning(
            "Another Touchbase process is already running the scheduler for the SQLite file %s "
            "(lock %s). Serving WITHOUT the scheduler: no morning digests from this process. "
            "SQLite allows one writing process; to run several replicas use PostgreSQL.",
            lock.database,
            lock.path,
        )
        lock.release()
        return None
    me = worker_id()
    scheduler = AsyncIOScheduler(timezone=UTC)
    jobs = InFlight()
    scheduler.add_job(
        jobs.track(digest_tick),
        "interval",
        seconds=TICK_SECONDS,
        args=(services, me),
        id="digest-sweep",
        coalesce=True,
        max_instances=1,
        misfire_grace_time=MISFIRE_GRACE_SECONDS,
        next_run_time=datetime.now(UTC),  # catch up at once after a restart
    )
    scheduler.add_job(
        jobs.track(drain_outbox),
        "interval",
        seconds=OUTBOX_SECONDS,
        args=(services,),
        id="outbox-drain",
        coalesce=True,
        max_instances=1,
        misfire_grace_time=OUTBOX_SECONDS,
        next_run_time=datetime.now(UTC),  # what a crash left behind goes out at once
    )
    add_summary_job(scheduler, services, jobs.track)  # the weekly firm summary
    scheduler.add_job(
        jobs.track(forget_old_deliveries),
        "interval",
        hours=6,
        args=(services,),
        id="forget-inbound-keys",
        coalesce=True,
        max_instances=1,
        misfire_grace_time=3600,
    )
    if services.capture_sources:
        scheduler.add_job(
            jobs.track(capture_tick),
            "cron",
            minute=5,  # hourly, a few minutes past, once per hour across replicas (claimed)
            args=(services,),
            id="capture-pass",
            coalesce=True,
            max_instances=1,
            misfire_grace_time=1800,
        )
    scheduler.start()
    log.info("scheduler started", extra={"worker": me})

    async def stop() -> None:
        scheduler.pause()  # no new runs
        await jobs.settle(STOP_GRACE_SECONDS)
        scheduler.shutdown(wait=False)  # cancels whatever is still running
        await jobs.settle(STOP_GRACE_SECONDS)
        if lock is not None:
            lock.release()

    return stop


__all__ = ["MISFIRE_GRACE_SECONDS", "TICK_SECONDS", "start_scheduler", "worker_id"]
