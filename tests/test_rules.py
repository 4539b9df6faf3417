from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from bot.domain import Client, Touch, TouchKind
from bot.rules import (
    days_overdue,
    effective_cadence,
    first_contact_due,
    next_due,
    open_follow_ups,
    settles,
    single_threaded,
)


def test_cadence_own_then_segment_then_default() -> None:
    own = Client(1, 1, "A", cadence_days=14, segment="Retail")
    seg = Client(2, 1, "B", segment="Retail")
    none = Client(3, 1, "C", segment="Unknown")
    segments = {"Retail": 21}
    assert effective_cadence(own, 30, segments) == 14
    assert effective_cadence(seg, 30, segments) == 21
    assert effective_cadence(none, 30, segments) == 30


def test_next_due_and_lateness() -> None:
    assert next_due(date(2026, 11, 1), 30, date(2026, 1, 1), 7) == date(2026, 12, 1)
    assert days_overdue(date(2026, 10, 1), 30, date(2026, 1, 1), date(2026, 11, 5), 7) == 5


def test_first_contact_falls_within_the_cadence_spread_over_it() -> None:
    added = date(2026, 11, 1)
    # Client 29 of an import: due on day 30 at the latest, never on the day it was added.
    assert next_due(None, 30, added, 29) == date(2026, 12, 1)
    assert next_due(None, 30, added, 30) == date(2026, 11, 2)
    dues = [first_contact_due(added, 30, key) for key in range(1, 301)]
    assert min(dues) == date(2026, 11, 2) and max(dues) == date(2026, 12, 1)
    per_day = Counter(dues)
    assert max(per_day.values()) == 10  # 300 clients imported at once: 10 a day, not 300


def test_an_old_touch_never_makes_a_new_client_overdue_at_once() -> None:
    added = date(2026, 11, 1)
    old = added - timedelta(days=263)
    assert next_due(old, 30, added, 4) == first_contact_due(added, 30, 4)
    assert days_overdue(old, 30, added, added, 4) < 0
    # A year on, the same touch is as late as it looks.
    assert days_overdue(old, 30, added - timedelta(days=365), added, 4) == 233


def _t(tid: int, day: int, contact: str | None, *, awaiting: bool = False) -> Touch:
    return Touch(
        tid, 1, 1, 1, TouchKind.EMAIL, date(2026, 11, day), contact=contact, awaiting_reply=awaiting
    )


def test_a_pending_reply_is_settled_only_by_the_same_contact() -> None:
    gc = _t(1, 2, "the GC", awaiting=True)
    assert open_follow_ups([gc, _t(2, 3, "the CFO")]) == {1}
    assert open_follow_ups([gc, _t(2, 3, "The  gc")]) == set()
    assert open_follow_ups([gc, _t(2, 3, None)]) == {1}  # naming nobody: not the GC
    nobody = _t(3, 2, None, awaiting=True)
    assert open_follow_ups([nobody, _t(4, 3, None)]) == set()
    assert open_follow_ups([nobody, _t(4, 3, "Dana")]) == {3}
    # An earlier touch settles nothing; a second wait for the same person replaces the first.
    assert open_follow_ups([gc, _t(5, 1, "the GC")]) == {1}
    assert open_follow_ups([gc, _t(6, 4, "the GC", awaiting=True)]) == {6}
    replied = replace(gc, replied_at=datetime(2026, 11, 3, tzinfo=UTC))
    assert open_follow_ups([replied]) == set()
    assert settles("Dana", "dana") and not settles("Dana", None)


def test_single_threaded_counts_touchers_and_holders() -> None:
    touchers = {1: [7], 2: [7, 8], 3: [7, 7, 7], 4: []}
    holders = {1: [9], 5: [7]}
    assert single_threaded(touchers, holders) == {3, 5}
    assert single_threaded({}, {}) == set()
