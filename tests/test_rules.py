from datetime import date

from bot.domain import Client
from bot.rules import days_overdue, effective_cadence, next_due, single_threaded


def test_cadence_own_then_segment_then_default() -> None:
    own = Client(1, 1, "A", cadence_days=14, segment="Retail")
    seg = Client(2, 1, "B", segment="Retail")
    none = Client(3, 1, "C", segment="Unknown")
    segments = {"Retail": 21}
    assert effective_cadence(own, 30, segments) == 14
    assert effective_cadence(seg, 30, segments) == 21
    assert effective_cadence(none, 30, segments) == 30


def test_next_due_and_lateness() -> None:
    assert next_due(date(2026, 11, 1), 30, date(2026, 1, 1)) == date(2026, 12, 1)
    assert next_due(None, 30, date(2026, 11, 1)) == date(2026, 12, 1)
    assert days_overdue(date(2026, 10, 1), 30, date(2026, 1, 1), date(2026, 11, 5)) == 5


def test_single_threaded_counts_touchers_and_holders() -> None:
    touchers = {1: [7], 2: [7, 8], 3: [7, 7, 7], 4: []}
    holders = {1: [9], 5: [7]}
    assert single_threaded(touchers, holders) == {3, 5}
    assert single_threaded({}, {}) == set()
