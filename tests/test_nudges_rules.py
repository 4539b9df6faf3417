"""The nudge rules, as pure functions of data and a date."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from bot.config import DEFAULT_TARGETS, CoreConfig
from bot.digest import compose_digest, digest_local_date
from bot.domain import Role
from bot.nudge_ports import AwaitingReply, ClientDue, Snooze
from bot.nudges import (
    ClientAdjustment,
    Nudge,
    add_business_days,
    business_days_between,
    follow_up_nudge,
    is_snoozed,
    load_note,
    rank,
    regularity_nudge,
)

TODAY = date(2026, 11, 23)  # a Monday


def due(last: date | None, cadence: int = 30, since: date = date(2026, 1, 1)) -> ClientDue:
    return ClientDue(
        client_id=7, name="Acme", owner_id=1, cadence_days=cadence, last_touch_on=last, since=since
    )


def test_not_due_before_the_cadence_has_passed() -> None:
    assert regularity_nudge(due(TODAY - timedelta(days=29)), TODAY) is None


def test_due_on_the_day_and_more_urgent_when_later() -> None:
    on_day = regularity_nudge(due(TODAY - timedelta(days=30)), TODAY)
    late = regularity_nudge(due(TODAY - timedelta(days=45)), TODAY)
    assert on_day is not None and late is not None
    assert on_day.title == "Acme: due today"
    assert late.title == "Acme: 15 days overdue"
    assert late.urgency > on_day.urgency
    assert (on_day.key, on_day.person_id, on_day.client_id) == ("due:client:7", 1, 7)


def test_never_touched_is_due_within_its_cadence_from_when_it_was_added() -> None:
    # Client 7 on a 30-day cadence: its first contact is due 8 days after it was added.
    assert regularity_nudge(due(None, since=TODAY - timedelta(days=7)), TODAY) is None
    first = regularity_nudge(due(None, since=TODAY - timedelta(days=8)), TODAY)
    assert first is not None and first.title == "Acme: never contacted, first contact due today"
    n = regularity_nudge(due(None, since=TODAY - timedelta(days=31)), TODAY)
    assert n is not None and "No touch logged since it was added" in n.detail
    assert n.title == "Acme: never contacted, first contact 23 days late"


def test_an_old_touch_logged_for_a_new_client_is_not_263_days_overdue() -> None:
    new = due(TODAY - timedelta(days=263), since=TODAY - timedelta(days=1))
    assert regularity_nudge(new, TODAY) is None


def test_mute_and_cadence_factor_adjustments() -> None:
    last = TODAY - timedelta(days=20)
    until = TODAY + timedelta(days=1)
    mute = ClientAdjustment(client_id=7, until=until, mute=True)
    half = ClientAdjustment(client_id=7, until=until, cadence_factor=0.5)
    other = ClientAdjustment(client_id=8, until=until, cadence_factor=0.5)
    assert regularity_nudge(due(last), TODAY, [half]) is not None  # 20 days > 15
    assert regularity_nudge(due(last), TODAY, [other]) is None
    assert regularity_nudge(due(TODAY - timedelta(days=90)), TODAY, [mute, half]) is None
    expired = ClientAdjustment(client_id=7, until=TODAY, mute=True)
    assert regularity_nudge(due(TODAY - timedelta(days=90)), TODAY, [expired]) is not None


def test_business_days() -> None:
    fri = date(2026, 11, 20)
    assert add_business_days(fri, 1) == TODAY
    assert add_business_days(fri, 3) == date(2026, 11, 25)
    assert business_days_between(fri, TODAY) == 1
    assert business_days_between(fri, date(2026, 11, 22)) == 0  # the weekend
    assert business_days_between(date(2026, 11, 16), TODAY) == 5
    assert business_days_between(TODAY, TODAY) == 0
    for n in range(0, 30):
        assert business_days_between(fri, add_business_days(fri, n)) == n


def test_follow_up_after_three_business_days() -> None:
    item = AwaitingReply(
        touch_id=99,
        client_id=7,
        client_name="Acme",
        person_id=3,
        kind="email",
        occurred_on=date(2026, 11, 19),
        contact="the CFO",
    )
    assert follow_up_nudge(item, TODAY, 3) is None  # Thu -> Mon: Fri, Mon = 2
    n = follow_up_nudge(item, TODAY + timedelta(days=1), 3)
    assert n is not None
    assert (n.key, n.kind, n.person_id) == ("followup:touch:99", "follow_up", 3)
    assert "email to the CFO" in n.detail


def test_load_note() -> None:
    assert load_note(Role.STAFF, 5, DEFAULT_TARGETS) is None
    low = load_note(Role.SENIOR, 3, DEFAULT_TARGETS)
    high = load_note(Role.PRINCIPAL, 25, DEFAULT_TARGETS)
    assert low is not None and "10 to 20" in low
    assert high is not None and "/owner" in high
    assert load_note(Role.ADMIN, 0, DEFAULT_TARGETS) is None


def test_snooze_by_key_or_by_client() -> None:
    now = datetime(2026, 11, 23, 8, tzinfo=UTC)
    n = Nudge(key="due:client:7", person_id=1, kind="overdue", urgency=1, title="x", client_id=7)
    later = now + timedelta(days=1)
    assert is_snoozed(n, [Snooze(1, later, nudge_key="due:client:7")], now)
    assert is_snoozed(n, [Snooze(1, later, client_id=7)], now)
    assert not is_snoozed(n, [Snooze(2, later, client_id=7)], now)  # someone else's
    assert not is_snoozed(n, [Snooze(1, now, client_id=7)], now)  # over
    assert not is_snoozed(n, [Snooze(1, later, client_id=7, nudge_key="repair:5:finish")], now)


def test_rank_dedupes_and_orders() -> None:
    a = Nudge(key="k1", person_id=1, kind="overdue", urgency=1.0, title="a")
    b = Nudge(key="k1", person_id=1, kind="overdue", urgency=3.0, title="b")
    c = Nudge(key="k2", person_id=1, kind="repair", urgency=5.0, title="c")
    assert [n.title for n in rank([a, b, c])] == ["c", "b"]


def test_digest_shows_ten_and_says_how_many_more() -> None:
    items = [
        Nudge(
            key=f"due:client:{i}",
            person_id=1,
            kind="overdue",
            urgency=20 - i,
            title=f"Client {i}: {i} days overdue",
            client_id=i,
        )
        for i in range(13)
    ]
    msg = compose_digest(items, TODAY, max_items=10)
    assert msg is not None
    assert msg.text == "Good morning: 13 clients due for contact."
    item_sections = [s for s in msg.sections if s.actions]
    assert len(item_sections) == 10
    assert "And 3 more" in msg.sections[-1].text
    labels = [a.label for a in item_sections[0].actions]
    assert labels == ["Log touch", "Snooze", "Open client"]
    assert compose_digest([], TODAY) is None


def test_follow_up_items_get_they_replied() -> None:
    n = Nudge(
        key="followup:touch:99", person_id=1, kind="follow_up", urgency=2, title="x", client_id=7
    )
    msg = compose_digest([n], TODAY)
    assert msg is not None
    replied = [a for a in msg.all_actions() if a.action_id == "nudge_replied"]
    assert [a.value for a in replied] == ["99"]


def test_digest_window() -> None:
    cfg = CoreConfig()
    assert digest_local_date(datetime(2026, 11, 23, 7, 59, tzinfo=UTC), "UTC", cfg) is None
    assert digest_local_date(datetime(2026, 11, 23, 8, 0, tzinfo=UTC), "UTC", cfg) == TODAY
    assert digest_local_date(datetime(2026, 11, 23, 11, 59, tzinfo=UTC), "UTC", cfg) == TODAY
    assert digest_local_date(datetime(2026, 11, 23, 12, 0, tzinfo=UTC), "UTC", cfg) is None
    # 02:30 UTC Monday is 08:00 Monday in Kolkata.
    at = datetime(2026, 11, 23, 2, 30, tzinfo=UTC)
    assert digest_local_date(at, "Asia/Kolkata", cfg) == TODAY
    assert digest_local_date(at, "Not/AZone", cfg) is None  # falls back to UTC


def test_digest_summary_says_other_only_after_something_else() -> None:
    def item(i: int, kind: str) -> Nudge:
        return Nudge(key=f"{kind}:{i}", person_id=1, kind=kind, urgency=1, title="x")

    alone = compose_digest([item(i, "matter") for i in range(4)], TODAY)
    assert alone is not None and alone.text == "Good morning: 4 things to do."
    one = compose_digest([item(1, "care")], TODAY)
    assert one is not None and one.text == "Good morning: 1 thing to do."
    mixed = compose_digest([item(0, "overdue"), item(1, "matter"), item(2, "care")], TODAY)
    assert mixed is not None
    assert mixed.text == "Good morning: 1 client due for contact and 2 other things to do."
