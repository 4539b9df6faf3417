"""Every feature's morning-digest items and contact-schedule adjustments, listed in one place.

A new feature joins the digest with one line here (see `bot/nudges.py` for the interface).
Keeping the list out of `bot/nudges.py` means the features may import the nudge types without
the rules importing the features back.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.capture import CaptureSource
from bot.config import CoreConfig
from bot.matters import MatterSource
from bot.nudges import (
    AdjustmentSource,
    Agenda,
    ClientAdjustment,
    FollowUpSource,
    Nudge,
    NudgeSource,
    RegularitySource,
    active_adjustments,
    collect_agendas,
    collect_nudges,
)
from bot.ownership import CareCheckinSource, HandoffSource
from bot.ports import UnitOfWork
from bot.repair import RepairSource


def adjustment_sources() -> tuple[AdjustmentSource, ...]:
    """Sources of temporary changes to a client's schedule: repair's mute and tighter cadence."""
    return (RepairSource(),)


def nudge_sources() -> tuple[NudgeSource, ...]:
    """Every source of digest items."""
    return (
        RegularitySource(adjustment_sources()),
        FollowUpSource(),
        MatterSource(),
        RepairSource(),
        HandoffSource(),
        CareCheckinSource(),
        CaptureSource(),
    )


async def all_nudges(
    uow: UnitOfWork, person_ids: Sequence[int] | None, now: datetime, config: CoreConfig
) -> dict[int, list[Nudge]]:
    """Every feature's nudges for these people, snoozes applied, ranked per person."""
    return await collect_nudges(uow, person_ids, now, config, nudge_sources())


async def all_agendas(
    uow: UnitOfWork,
    person_ids: Sequence[int] | None,
    now: datetime,
    config: CoreConfig,
    *,
    limit: int | None,
) -> dict[int, Agenda]:
    """The same, each person's `limit` first written in full, the others only counted."""
    return await collect_agendas(uow, person_ids, now, config, nudge_sources(), limit=limit)


async def all_adjustments(
    uow: UnitOfWork, now: datetime, config: CoreConfig
) -> list[ClientAdjustment]:
    return await active_adjustments(uow, now, config, adjustment_sources())
