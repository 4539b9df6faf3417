"""The morning digest: one message a person on their workdays, composed from every nudge source,
claimed in the database before it is sent so no two processes ever send the same one.

`run_sweep` is the whole use case; the scheduler calls it every minute and `touchbase digest`
calls it once. It is safe to run from any number of processes at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from bot.capture_ports import CAPTURED
from bot.clock import Clock, zone
from bot.config import CoreConfig
from bot.domain import Person, Platform
from bot.messages import Action, Message, Section, Style
from bot.nudge_ports import DigestCandidate
from bot.nudges import (
    FOLLOW_UP,
    OVERDUE,
    Agenda,
    Nudge,
    NudgeSource,
    collect_agendas,
    load_note,
)
from bot.ports import DeliveryError, Messenger, Store
from bot.sources import nudge_sources

log = logging.getLogger(__name__)

# A claim whose owner has not heartbeaten for this long, by the DATABASE's clock, was left by a
# dead worker and may be taken over. The owner heartbeats every HEARTBEAT while it sends.
LEASE = timedelta(minutes=5)
HEARTBEAT = timedelta(seconds=30)
SEND_TIMEOUT = LEASE / 2  # a send still hanging then is given up and retried later
# Seconds before attempt 2, 3, 4, 5, then every 10 minutes (the platform may ask longer), until
# the catch-up hour: a platform that is down keeps the digest pending, never "failed".
BACKOFF = (60, 120, 300, 600)


# --- composing -----------------------------------------------------------------------------------


def item_actions(nudge: Nudge) -> tuple[Action, ...]:
    """The routine buttons of a digest item, then the source's own."""
    if nudge.kind == CAPTURED:  # a captured meeting: Log it, Not client work, Always log …
        return nudge.actions
    buttons: list[Action] = []
    if nudge.client_id is not None:
        buttons.append(Action("log_touch_open", "Log touch", str(nudge.client_id), Style.PRIMARY))
    if nudge.kind == FOLLOW_UP and nudge.key.startswith("followup:touch:"):
        buttons.append(Action("nudge_replied", "They replied", nudge.key.rsplit(":", 1)[1]))
    buttons.append(Action("nudge_snooze", "Snooze", nudge.key))
    if nudge.client_id is not None:
        buttons.append(Action("client_open", "Open client", str(nudge.client_id)))
    return tuple(buttons) + nudge.actions


def _summary(agenda: Agenda) -> str:
    kinds = agenda.kinds()
    overdue = kinds[OVERDUE]
    follow = kinds[FOLLOW_UP]
    other = agenda.total - overdue - follow
    parts = []
    if overdue:
        parts.append(f"{overdue} client{'s' if overdue != 1 else ''} due for contact")
    if follow:
        parts.append(f"{follow} message{'s' if follow != 1 else ''} still waiting for a reply")
    if other:  # "other" only after something it differs from
        word = "other thing" if parts else "thing"
        parts.append(f"{other} {word}{'s' if other != 1 else ''} to do")
    if len(parts) > 1:
        return ", ".join(parts[:-1]) + " and " + parts[-1]
    return parts[0] if parts else "nothing due"


def compose_digest(
    nudges: Sequence[Nudge] | Agenda,
    today: date,
    *,
    max_items: int = 10,
    load: str | None = None,
    greeting: str = "Good morning",
) -> Message | None:
    """The digest message, most urgent first; None when there is nothing to say. `nudges` is
    a ranked list, or an `Agenda` whose first items are written (the rest only counted)."""
    agenda = nudges if isinstance(nudges, Agenda) else Agenda(tuple(nudges))
    if not agenda.total:
        return None
    shown = agenda.shown[:max_items]
    sections = [
        Section(text=n.title, context=n.detail or None, actions=item_actions(n)) for n in shown
    ]
    more = agenda.total - len(shown)
    footer = []
    if more:
        footer.append(f"And {more} more. Type /due to see the next ones as you clear these.")
    if load:
        footer.append(load)
    if footer:
        sections.append(Section(text="\n".join(footer)))
    return Message(
        text=f"{greeting}: {_summary(agenda)}.",
        title=f"Your clients today, {today:%A %d %B}",
        sections=tuple(sections),
        private=True,
    )


# --- when -----------------------------------------------------------------------------------------


def digest_local_date(now: datetime, tz: str, config: CoreConfig) -> date | None:
    """The local date whose digest may go out at `now` in zone `tz`, or None.

    A digest is due from `digest_hour` local time and may still go out (after downtime, or a
    retry) until `digest_catch_up_until_hour`; outside that window there is nothing to send."""
    local = now.astimezone(zone(tz, config.default_tz))
    end = max(config.digest_catch_up_until_hour, config.digest_hour + 1)
    if config.digest_hour <= local.hour < end:
        return local.date()
    return None


def catch_up_ends(day: date, tz: str, config: CoreConfig) -> datetime:
    """The instant the catch-up window for local date `day` in zone `tz` closes."""
    end = max(config.digest_catch_up_until_hour, config.digest_hour + 1)
    return datetime.combine(day, time(end % 24), zone(tz, config.default_tz)) + timedelta(
        days=end // 24
    )


def is_workday(person: Person, day: date) -> bool:
    return day.weekday() in person.workdays


# --- the sweep ------------------------------------------------------------------------------------


@dataclass
class SweepReport:
    """What one sweep did, for logs, the CLI and tests."""

    sent: list[int] = field(default_factory=list)  # person ids
    empty: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    expired: list[int] = field(default_factory=list)  # platform down until the catch-up hour
    skipped: list[int] = field(default_factory=list)  # claimed elsewhere meanwhile
    # Due, but no messenger here for their platform: left unclaimed, for a sweep that has one.
    unreachable: list[Person] = field(default_factory=list)
    planned: list[tuple[Person, Message | None]] = field(default_factory=list)  # dry runs


def _backoff(attempt: int, error: DeliveryError | None) -> timedelta:
    base = BACKOFF[min(attempt - 1, len(BACKOFF) - 1)]
    advised = error.retry_after if error is not None and error.retry_after else 0
    return timedelta(seconds=max(base, advised))


async def due_candidates(store: Store, now: datetime, config: CoreConfig) -> list[DigestCandidate]:
    """People whose digest may go out now: morning window, workday, not yet sent or held."""
    found = await store.sweep_queries().digest_candidates(
        lambda tz: digest_local_date(now, tz, config), now, LEASE
    )
    return [c for c in found if is_workday(c.person, c.local_date) and c.person.address]


async def build_digests(
    store: Store,
    workspace_id: int,
    people: Sequence[Person],
    now: datetime,
    config: CoreConfig,
    sources: Sequence[NudgeSource] | None = None,
) -> dict[int, Message | None]:
    """Each person's digest message (None: nothing due), computed for them all in one go;
    only the items a digest shows are written, the others counted."""
    ids = [p.id for p in people]
    async with store.unit(workspace_id) as uow:
        nudges = await collect_agendas(
            uow,
            ids,
            now,
            config,
            nudge_sources() if sources is None else sources,
            limit=config.digest_max_items,
            zones={p.id: p.tz for p in people if p.tz is not None},
        )
        owned = await uow.nudges.owned_counts(ids)
    out: dict[int, Message | None] = {}
    for p in people:
        today = now.astimezone(zone(p.tz, config.default_tz)).date()
        load = load_note(p.role, owned.get(p.id, 0), config.load_targets)
        out[p.id] = compose_digest(
            nudges.get(p.id, Agenda(())), today, max_items=config.digest_max_items, load=load
        )
    return out


async def run_sweep(
    store: Store,
    messengers: Mapping[Platform, Messenger],
    clock: Clock,
    config: CoreConfig,
    worker_id: str,
    *,
    dry_run: bool = False,
    sources: Sequence[NudgeSource] | None = None,
    concurrency: int = 1,
    workspace_id: int | None = None,
) -> SweepReport:
    """Send every digest that is due now and not yet sent by anyone. Safe to run concurrently.

    `concurrency` people are delivered at once (each still claim, send, record, in that order):
    while the platform client sleeps on one person's Retry-After, the others go on."""
    now = clock.now()
    report = SweepReport()
    candidates = await due_candidates(store, now, config)
    by_workspace: dict[int, list[DigestCandidate]] = defaultdict(list)
    for c in candidates:
        if workspace_id is not None and c.person.workspace_id != workspace_id:
            continue
        if dry_run or c.platform in messengers:
            by_workspace[c.person.workspace_id].append(c)
        else:
            report.unreachable.append(c.person)
    for workspace_id, group in by_workspace.items():
        messages = await build_digests(
            store, workspace_id, [c.person for c in group], now, config, sources
        )
        if dry_run:
            report.planned.extend((c.person, messages.get(c.person.id)) for c in group)
            continue
        if concurrency <= 1:
            for c in group:
                message = messages.get(c.person.id)
                await _deliver_one(
                    store, messengers[c.platform], c, message, clock, worker_id, report, config
                )
            continue
        limit = asyncio.Semaphore(concurrency)
        async with asyncio.TaskGroup() as tasks:
            for c in group:
                one = _deliver_one(
                    store,
                    messengers[c.platform],
                    c,
                    messages.get(c.person.id),
                    clock,
                    worker_id,
                    report,
                    config,
                )
                tasks.create_task(_limited(limit, one))
    if not dry_run and (report.sent or report.failed or report.retrying or report.expired):
        log.info(
            "digest sweep: %d sent, %d empty, %d to retry, %d failed, %d given up",
            len(report.sent),
            len(report.empty),
            len(report.retrying),
            len(report.failed),
            len(report.expired),
            extra={"worker": worker_id},
        )
    return report


async def _limited(limit: asyncio.Semaphore, work: Coroutine[Any, Any, None]) -> None:
    """One person's delivery among many: its failure is logged, never the others' end. The
    claim it leaves is picked up again once its lease runs out."""
    async with limit:
        try:
            await work
        except Exception:
            log.exception("digest delivery failed")


async def _deliver_one(
    store: Store,
    messenger: Messenger,
    c: DigestCandidate,
    message: Message | None,
    clock: Clock,
    worker_id: str,
    report: SweepReport,
    config: CoreConfig,
) -> None:
    person = c.person
    async with store.unit(person.workspace_id) as uow:
        claim = await uow.nudges.claim_digest(
            person.id, c.local_date, worker_id, clock.now(), LEASE
        )
        if claim is not None and message is None:
            await uow.nudges.finish_digest(claim.id, "empty")
        await uow.commit()
    if claim is None:
        report.skipped.append(person.id)
        return
    if message is None:
        report.empty.append(person.id)
        return
    items = sum(1 for s in message.sections if s.actions)
    attempt = claim.attempts + 1
    problem: DeliveryError | None = None
    beating = asyncio.create_task(_heartbeat(store, person.workspace_id, claim.id, worker_id))
    try:
        assert person.address is not None
        # Well inside the claim's lease; the heartbeat keeps the claim ours meanwhile.
        async with asyncio.timeout(SEND_TIMEOUT.total_seconds()):
            await messenger.send(person.address, message)
    except TimeoutError:
        problem = DeliveryError("timed out")
    except DeliveryError as exc:
        problem = exc
    except Exception as exc:  # a network error or a bug in an adapter: try again later
        log.warning("digest delivery raised", exc_info=True, extra={"person": person.id})
        problem = DeliveryError(type(exc).__name__)
    finally:
        beating.cancel()
    at = clock.now()
    async with store.unit(person.workspace_id) as uow:
        if problem is None:
            outcome, status, retry_at = "sent", "sent", None
            report.sent.append(person.id)
        elif problem.permanent:
            outcome, status, retry_at = "permanent", "failed", None
            await uow.people.update(person.id, unreachable_since=at)
            report.failed.append(person.id)
        else:
            ends = catch_up_ends(c.local_date, person.tz or config.default_tz, config)
            retry_at = min(at + _backoff(attempt, problem), ends - timedelta(minutes=1))
            if retry_at > at:
                outcome, status = "retry", "retry"
                report.retrying.append(person.id)
            else:
                outcome, status, retry_at = "expired", "expired", None
                report.expired.append(person.id)
                log.warning(
                    "gave up on a digest: the platform was unreachable until the catch-up hour "
                    "(%d attempts, last: %s)",
                    attempt,
                    problem.detail,
                    extra={"person": person.id, "local_date": c.local_date.isoformat()},
                )
        await uow.nudges.record_delivery(
            person_id=person.id,
            digest_id=claim.id,
            kind="digest",
            attempt=attempt,
            outcome=outcome,
            detail="" if problem is None else problem.detail,
            at=at,
        )
        held = await uow.nudges.finish_digest(
            claim.id,
            status,
            item_count=items,
            attempts=attempt,
            sent_at=at if problem is None else None,
            retry_at=retry_at,
            worker=worker_id,
        )
        if not held:  # only if our heartbeat failed for a whole lease: say so loudly
            log.error(
                "a digest claim was taken over while its owner still worked on it",
                extra={"person": person.id, "worker": worker_id, "outcome": outcome},
            )
        await uow.commit()


async def _heartbeat(store: Store, workspace_id: int, digest_id: int, worker_id: str) -> None:
    """Renew the claim every HEARTBEAT until cancelled; a failed beat is retried next time."""
    while True:
        await asyncio.sleep(HEARTBEAT.total_seconds())
        try:
            async with store.unit(workspace_id) as uow:
                still = await uow.nudges.heartbeat_digest(digest_id, worker_id)
                await uow.commit()
        except Exception:
            log.warning("digest heartbeat failed", exc_info=True, extra={"worker": worker_id})
            continue
        if not still:
            return
