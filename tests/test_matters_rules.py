"""Matter rules as pure functions: rhythm, when an update is due, estimates, dates ahead."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.domain import Client
from bot.matter_ports import Matter, StatusUpdate
from bot.matters import (
    DEFAULT_RHYTHM_DAYS,
    TakenDate,
    estimate_slip,
    future_date,
    matter_nudge,
    rhythm_days,
    take_date,
    view,
)

MON = date(2026, 11, 23)  # the test clock's Monday
OPENED = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)  # the Monday before


def acme(rhythm: int | None = None) -> Client:
    return Client(id=1, workspace_id=1, name="Acme", update_rhythm_days=rhythm)


def matter(**kw: object) -> Matter:
    values: dict[str, object] = {
        "id": 4,
        "client_id": 1,
        "lead_id": 7,
        "title": "Q3 audit",
        "opened_at": OPENED,
    }
    values.update(kw)
    return Matter(**values)  # type: ignore[arg-type]


def update(
    day: date, *, matter_id: int | None = 4, estimate: date | None = None, n: int = 1
) -> StatusUpdate:
    return StatusUpdate(
        touch_id=n, client_id=1, person_id=7, occurred_on=day, matter_id=matter_id,
        estimate_on=estimate,
    )  # fmt: skip


def test_rhythm_matter_then_client_then_weekly() -> None:
    assert rhythm_days(matter(), None) == DEFAULT_RHYTHM_DAYS == 7
    assert rhythm_days(matter(), acme(14)) == 14
    assert rhythm_days(matter(rhythm_days=3), acme(14)) == 3


@pytest.mark.parametrize(
    ("today", "due"),
    [
        (date(2026, 11, 22), False),  # 6 days after opening
        (date(2026, 11, 23), True),  # a full week: due today
        (date(2026, 11, 24), True),  # 8 days: a day late
    ],
)
def test_due_a_rhythm_after_opening(today: date, due: bool) -> None:
    v = view(matter(), acme(), [])
    assert (matter_nudge(v, today) is not None) is due


def test_nudge_wording_key_and_urgency() -> None:
    v = view(matter(), acme(), [])
    nudge = matter_nudge(v, date(2026, 11, 24))
    assert nudge is not None
    assert nudge.title == "Send Acme a status update, with your estimate"
    assert nudge.kind == "matter" and nudge.key == "matter:4" and nudge.person_id == 7
    assert nudge.client_id == 1
    assert "no update yet, 8 days since it was opened" in nudge.detail
    assert nudge.urgency == pytest.approx(1.5 + 1 / 7)
    later = matter_nudge(v, date(2026, 11, 30))
    assert later is not None and later.urgency > nudge.urgency


def test_the_clock_restarts_at_the_last_update() -> None:
    updates = [update(date(2026, 11, 20), estimate=date(2026, 12, 12))]
    v = view(matter(), acme(), updates)
    assert v.last_update == date(2026, 11, 20) and v.next_update == date(2026, 11, 27)
    assert matter_nudge(v, date(2026, 11, 26)) is None
    nudge = matter_nudge(v, date(2026, 11, 27))
    assert nudge is not None and "last update 7 days ago" in nudge.detail
    assert "Your last estimate: 12 Dec" in nudge.detail


def test_client_wide_update_counts_other_matters_do_not() -> None:
    other = update(date(2026, 11, 22), matter_id=5)
    general = update(date(2026, 11, 21), matter_id=None, n=2)
    assert view(matter(), acme(), [other]).last_update is None
    assert view(matter(), acme(), [other, general]).last_update == date(2026, 11, 21)
    elsewhere = StatusUpdate(touch_id=3, client_id=2, person_id=7, occurred_on=MON)
    assert view(matter(), acme(), [elsewhere]).last_update is None


def test_no_nudge_when_closed_or_without_lead() -> None:
    late = date(2026, 12, 30)
    assert matter_nudge(view(matter(closed_at=OPENED), acme(), []), late) is None
    assert matter_nudge(view(matter(lead_id=None), acme(), []), late) is None


def test_estimate_slips() -> None:
    expected = date(2026, 12, 12)
    assert estimate_slip([], expected, MON) is None
    assert estimate_slip([date(2026, 12, 12)], expected, MON) is None
    assert estimate_slip([date(2026, 12, 10)], expected, MON) is None
    assert (
        estimate_slip([date(2026, 12, 12), date(2027, 1, 9)], expected, MON)
        == "estimate slipped from 12 Dec to 9 Jan"
    )
    assert estimate_slip([date(2027, 1, 9)], expected, MON) == (
        "estimate slipped from 12 Dec to 9 Jan"
    )
    # Past the expected date, and later than the estimate before: both said.
    assert estimate_slip([date(2026, 12, 20), date(2027, 1, 9)], expected, MON) == (
        "estimate slipped from 20 Dec to 9 Jan, past the expected 12 Dec"
    )
    # An improving estimate that is still past the expected date.
    assert estimate_slip([date(2027, 1, 9), date(2026, 12, 20)], expected, MON) == (
        "past the expected 12 Dec"
    )
    # No expected date: only a later estimate counts.
    assert estimate_slip([date(2026, 12, 12)], None, MON) is None
    assert estimate_slip([date(2026, 12, 12), date(2026, 12, 19)], None, MON) == (
        "estimate slipped from 12 Dec to 19 Dec"
    )


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("Dec 12", date(2026, 12, 12)),
        ("12 December", date(2026, 12, 12)),
        ("December 12th, 2027", date(2027, 12, 12)),
        ("Jan 9", date(2027, 1, 9)),  # without a year: the next one
        ("Nov 1", date(2027, 11, 1)),
        ("2026-12-12", date(2026, 12, 12)),
        ("12/24", date(2026, 12, 24)),
        ("today", MON),
        ("tomorrow", date(2026, 11, 24)),
        ("Friday", date(2026, 11, 27)),
        ("next Monday", date(2026, 11, 30)),
        ("in 3 weeks", date(2026, 12, 14)),
        ("end of month", date(2026, 11, 30)),
        ("2026-11-01", None),  # in the past
        ("soon", None),
        ("2026-02-30", None),
    ],
)
def test_future_dates(phrase: str, expected: date | None) -> None:
    assert future_date(phrase, MON) == expected


def test_take_date_after_a_keyword() -> None:
    taken = take_date("draft filed, estimate Dec 12", ("estimate",), MON)
    assert taken.text == "draft filed" and taken.on == date(2026, 12, 12)
    taken = take_date("estimate: 9 Jan - waiting on their auditors", ("estimate",), MON)
    assert taken.on == date(2027, 1, 9) and taken.text == "waiting on their auditors"
    assert take_date("no date here", ("estimate",), MON) == TakenDate("no date here", None)
    problem = take_date("estimate unclear", ("estimate",), MON)
    assert problem.on is None and problem.problem and "estimate" in problem.problem
