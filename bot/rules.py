"""Contact-schedule rules: pure functions of a client's data and a date."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta

from bot.domain import Client


def effective_cadence(
    client: Client, default_days: int, segment_days: dict[str, int] | None = None
) -> int:
    """The client's own cadence, else its segment's, else the firm's default."""
    if client.cadence_days:
        return client.cadence_days
    if client.segment and segment_days and segment_days.get(client.segment):
        return segment_days[client.segment]
    return default_days


def next_due(last_touch: date | None, cadence_days: int, since: date) -> date:
    """When the client is next due for contact. Never touched: due from when it was added."""
    return (last_touch or since) + timedelta(days=cadence_days)


def days_overdue(last_touch: date | None, cadence_days: int, since: date, today: date) -> int:
    return (today - next_due(last_touch, cadence_days, since)).days


SINGLE_THREAD_WINDOW_DAYS = 180


def single_threaded(
    touchers: Mapping[int, Iterable[int]], holders: Mapping[int, Iterable[int]] | None = None
) -> set[int]:
    """Clients whose relationship rests on one colleague alone.

    `touchers` maps a client to the people who logged touches with it in the window
    (SINGLE_THREAD_WINDOW_DAYS); `holders` to the colleagues holding its key contacts. A client
    nobody is in touch with is not single-threaded: it is untouched, which other rules report.
    """
    holders = holders or {}
    result: set[int] = set()
    for client_id in set(touchers) | set(holders):
        people = set(touchers.get(client_id, ())) | set(holders.get(client_id, ()))
        if len(people) == 1:
            result.add(client_id)
    return result
