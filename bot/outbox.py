"""The durable outbox: every message for someone else (a DM to a new owner, a channel post, a
handoff or repair notice, the follow-up of a command that answered "Saving…") is written in the
same transaction as the change that caused it, then sent by a drainer: the request right after
its commit, and the scheduler every few seconds. A crash between the commit and the send delays
the message; it never loses it.

Each message is claimed before it is sent and settled after, so two drainers never send it twice;
only a process that dies after the platform accepted a message and before it settled it can
cause a second send, once its lease (by the database's clock) has passed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from bot.domain import Platform
from bot.messages import Action, Field, Message, Section, Style, Tone
from bot.outbox_ports import OutboxItem, OutboxQueue
from bot.ports import DeliveryError, Messenger

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
SEND_TIMEOUT = 30.0  # seconds, well inside the lease
# Seconds before each retry, then every 15 minutes: a message for someone else is never dropped
# for a platform's outage, only for a permanent refusal.
BACKOFF = (5, 30, 120, 300, 900)


# --- the message as JSON --------------------------------------------------------------------------


def _action(a: Action) -> dict[str, Any]:
    return {"id": a.action_id, "label": a.label, "value": a.value, "style": a.style.value}


def _action_from(d: Mapping[str, Any]) -> Action:
    return Action(str(d["id"]), str(d["label"]), str(d.get("value", "")), Style(d["style"]))


def message_to_json(m: Message) -> dict[str, Any]:
    return {
        "text": m.text,
        "title": m.title,
        "tone": m.tone.value,
        "private": m.private,
        "actions": [_action(a) for a in m.actions],
        "sections": [
            {
                "text": s.text,
                "heading": s.heading,
                "context": s.context,
                "fields": [[f.label, f.value] for f in s.fields],
                "actions": [_action(a) for a in s.actions],
            }
            for s in m.sections
        ],
    }


def message_from_json(d: Mapping[str, Any]) -> Message:
    return Message(
        text=str(d["text"]),
        title=d.get("title"),
        tone=Tone(d.get("tone", Tone.INFO.value)),
        private=bool(d.get("private", True)),
        actions=tuple(_action_from(a) for a in d.get("actions", ())),
        sections=tuple(
            Section(
                text=str(s.get("text", "")),
                heading=s.get("heading"),
                context=s.get("context"),
                fields=tuple(Field(str(label), str(value)) for label, value in s.get("fields", ())),
                actions=tuple(_action_from(a) for a in s.get("actions", ())),
            )
            for s in d.get("sections", ())
        ),
    )


# --- the drainer ----------------------------------------------------------------------------------


@dataclass
class DrainReport:
    sent: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    unroutable: list[int] = field(default_factory=list)  # no messenger for the platform here


def backoff(attempt: int, error: DeliveryError | None) -> timedelta:
    base = BACKOFF[min(attempt - 1, len(BACKOFF) - 1)]
    advised = error.retry_after if error is not None and error.retry_after else 0
    return timedelta(seconds=max(base, advised))


async def drain_outbox(
    queue: OutboxQueue,
    messengers: Mapping[Platform, Messenger],
    worker: str,
    *,
    ids: Sequence[int] | None = None,
    limit: int = 100,
) -> DrainReport:
    """Send what is due (or only `ids`, right after the commit that wrote them). Never raises for
    one message's failure: it is retried later."""
    report = DrainReport()
    items = await queue.claim(worker, LEASE, ids=ids, limit=limit)
    for item in items:
        await _send_one(queue, messengers, worker, item, report)
    return report


async def _send_one(
    queue: OutboxQueue,
    messengers: Mapping[Platform, Messenger],
    worker: str,
    item: OutboxItem,
    report: DrainReport,
) -> None:
    messenger = messengers.get(item.platform)
    attempt = item.attempts + 1
    if messenger is None:  # this process does not serve that platform: another one will
        await queue.finish(item.id, worker, "retry", detail="no messenger", retry_in=LEASE)
        report.unroutable.append(item.id)
        return
    problem: DeliveryError | None = None
    try:
        async with asyncio.timeout(SEND_TIMEOUT):
            await messenger.send(item.address, message_from_json(item.message))
    except TimeoutError:
        problem = DeliveryError("timed out")
    except DeliveryError as exc:
        problem = exc
    except Exception as exc:
        log.warning("outbox send raised", exc_info=True, extra={"outbox": item.id})
        problem = DeliveryError(type(exc).__name__)
    if problem is None:
        await queue.finish(item.id, worker, "sent")
        report.sent.append(item.id)
    elif problem.permanent:
        log.warning(
            "a message for someone else was refused for good",
            extra={"outbox": item.id, "error": problem.detail},
        )
        await queue.finish(item.id, worker, "failed", detail=problem.detail)
        report.failed.append(item.id)
    else:
        await queue.finish(
            item.id, worker, "retry", detail=problem.detail, retry_in=backoff(attempt, problem)
        )
        report.retrying.append(item.id)
