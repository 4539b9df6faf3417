"""The repair state machine as pure functions: no database, no chat, a date in and a repair out."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from bot import repair as rules
from bot.config import CoreConfig
from bot.domain import Client, Person, Role
from bot.nudges import adjusted_cadence
from bot.repair_ports import Repair, Status, Step

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
MON = date(2026, 11, 23)
CONFIG = CoreConfig()


def _started() -> Repair:
    r = rules.start(
        client_id=7,
        owner_id=3,
        started_by_id=3,
        reason="  missed the  deadline ",
        now=NOW,
        config=CONFIG,
    )
    return replace(r, id=11)


def test_start_is_step_one_with_the_firm_defaults() -> None:
    r = _started()
    assert (r.step, r.status, r.reason, r.owner_id) == (
        Step.FINISH,
        Status.ACTIVE,
        "missed the deadline",
        3,
    )
    assert r.breathing_days == 7 and r.forward_days == 90
    with pytest.raises(rules.RepairError):
        rules.start(client_id=7, owner_id=3, started_by_id=3, reason=" ", now=NOW, config=CONFIG)


def test_unowned_client_makes_the_starter_the_owner() -> None:
    r = rules.start(client_id=7, owner_id=None, started_by_id=5, reason="x", now=NOW, config=CONFIG)
    assert r.owner_id == 5


def test_the_whole_path_by_dates() -> None:
    r = rules.set_task(_started(), "Refile", date(2026, 11, 25), MON, NOW)
    r = rules.put_right(r, date(2026, 11, 26), NOW)
    assert (r.step, r.breathing_until) == (Step.BREATHING, date(2026, 12, 3))
    assert rules.adjustment(r, date(2026, 11, 26)) is not None
    assert rules.adjustment(r, date(2026, 11, 26)).mute  # type: ignore[union-attr]
    assert rules.settle(r, date(2026, 12, 2)).step is Step.BREATHING
    r = rules.settle(r, date(2026, 12, 3))
    assert r.step is Step.ICE and rules.ice_from(r) == date(2026, 12, 3)
    assert rules.adjustment(r, date(2026, 12, 3)) is None
    # A touch before the ice step began does not count; one on or after it does.
    assert rules.settle(r, date(2026, 12, 5), date(2026, 12, 2)).step is Step.ICE
    r = rules.settle(r, date(2026, 12, 5), date(2026, 12, 4))
    assert (r.step, r.forward_until) == (Step.FORWARD, date(2027, 3, 4))
    adj = rules.adjustment(r, date(2026, 12, 5))
    assert adj is not None and adj.cadence_factor == 0.5 and adj.until == date(2027, 3, 4)
    assert adjusted_cadence(30, 7, date(2026, 12, 5), [adj]) == 15
    assert adjusted_cadence(30, 7, date(2027, 3, 4), [adj]) == 30
    done = rules.settle(r, date(2027, 3, 4))
    assert (done.step, done.status, done.is_open) == (Step.DONE, Status.DONE, False)


def test_settle_is_idempotent_and_ignores_paused_repairs() -> None:
    r = rules.put_right(_started(), MON, NOW)
    later = date(2026, 12, 10)
    assert rules.settle(rules.settle(r, later), later) == rules.settle(r, later)
    paused = rules.pause(r, MON, NOW)
    assert rules.settle(paused, later).step is Step.BREATHING
    assert rules.adjustment(paused, MON) is None
    assert rules.nudges(paused, "Acme", MON) == []


def test_resume_extends_a_running_period_by_the_pause() -> None:
    r = rules.put_right(_started(), MON, NOW)  # breathing until Mon 30 Nov
    r = rules.pause(r, date(2026, 11, 25), NOW)
    r = rules.resume(r, date(2026, 11, 28), NOW)
    assert r.status is Status.ACTIVE and r.breathing_until == date(2026, 12, 3)
    assert "paused_on" not in r.checklist
    with pytest.raises(rules.RepairError):
        rules.resume(r, MON, NOW)


def test_steps_out_of_order_are_refused_in_plain_words() -> None:
    r = _started()
    with pytest.raises(rules.RepairError, match="step 3"):
        rules.conversation_held(r, MON, NOW)
    with pytest.raises(rules.RepairError, match="today or a later date"):
        rules.set_task(r, "x", date(2026, 11, 1), MON, NOW)
    cancelled = rules.cancel(r, "moved in-house", NOW)
    with pytest.raises(rules.RepairError):
        rules.put_right(cancelled, MON, NOW)
    with pytest.raises(rules.RepairError):
        rules.cancel(r, "  ", NOW)


def test_breathing_length_can_change_ahead_or_while_running() -> None:
    r = rules.set_breathing_days(_started(), 10, MON, NOW)
    r = rules.put_right(r, MON, NOW)
    assert r.breathing_until == date(2026, 12, 3)
    r = rules.set_breathing_days(r, 3, date(2026, 11, 24), NOW)
    assert r.breathing_until == date(2026, 11, 26)
    with pytest.raises(rules.RepairError):
        rules.set_breathing_days(r, 0, MON, NOW)


def test_restart_goes_back_to_step_one_and_clears_the_answers() -> None:
    r = rules.put_right(rules.set_task(_started(), "Refile", MON, MON, NOW), MON, NOW)
    r = rules.restart(r, NOW, CONFIG)
    assert (r.step, r.task, r.breathing_until) == (Step.FINISH, None, None)
    assert r.reason == "missed the deadline"


def test_finish_nudges_every_day_and_louder_when_late() -> None:
    r = _started()
    (first,) = rules.nudges(r, "Acme", MON)
    assert first.urgency >= 5 and first.key == "repair:11:finish" and first.person_id == 3
    r = rules.set_task(r, "Refile", date(2026, 11, 25), MON, NOW)
    (on_time,) = rules.nudges(r, "Acme", MON)
    (late,) = rules.nudges(r, "Acme", date(2026, 11, 27))
    assert "late" in late.title and late.urgency > on_time.urgency >= 5


def test_ice_nudge_until_the_conversation() -> None:
    r = rules.settle(rules.put_right(_started(), MON, NOW), date(2026, 11, 30))
    (n,) = rules.nudges(r, "Acme", date(2026, 11, 30))
    assert n.key == "repair:11:ice" and n.urgency >= 5
    assert rules.nudges(rules.conversation_held(r, date(2026, 11, 30), NOW), "Acme", MON) == []


@pytest.mark.parametrize(
    ("note", "trouble"),
    [
        ("call, client complained about the invoice", True),
        ("Dana was upset about the delay", True),
        ("they escalated to their GC", True),
        ("we missed the deadline on the filing", True),
        ("missed the filing deadline", True),
        ("CFO threatened to leave", True),
        ("frustrated with turnaround", True),
        ("quick check-in #repair", True),
        ("lunch with the CFO", False),
        ("not upset at all, happy with the result", False),
        ("no longer angry, all good", False),
    ],
)
def test_trouble_in_a_touch_note(note: str, trouble: bool) -> None:
    assert rules.reads_as_trouble(note) is trouble


def test_who_may_steer() -> None:
    client = Client(id=7, workspace_id=1, name="Acme", owner_id=3)
    owner = Person(id=3, workspace_id=1, platform_user_id="o", display_name="O")
    staff = Person(id=4, workspace_id=1, platform_user_id="s", display_name="S")
    principal = Person(4, 1, "p", "P", role=Role.PRINCIPAL)
    assert rules.may_steer(owner, client)
    assert not rules.may_steer(staff, client)
    assert rules.may_steer(principal, client)
