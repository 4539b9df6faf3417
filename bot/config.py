"""The firm's policies, as the core sees them. Built from the settings object at start-up."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from bot.domain import Role


@dataclass(frozen=True, slots=True)
class LoadTarget:
    low: int
    high: int

    def describe(self) -> str:
        return f"about {self.low}" if self.low == self.high else f"{self.low} to {self.high}"


DEFAULT_TARGETS: dict[Role, LoadTarget] = {
    Role.STAFF: LoadTarget(4, 6),
    Role.SENIOR: LoadTarget(10, 20),
    Role.PRINCIPAL: LoadTarget(8, 12),
}


@dataclass(frozen=True, slots=True)
class CoreConfig:
    default_tz: str = "UTC"
    date_order: Literal["MDY", "DMY", "YMD"] = "MDY"  # for people whose locale isn't known
    default_cadence_days: int = 30
    followup_business_days: int = 3
    digest_hour: int = 8
    digest_catch_up_until_hour: int = 12
    digest_max_items: int = 10
    # People delivered at once by a sweep: while the platform makes one wait (Retry-After),
    # the others go on. Each is still claimed, sent and recorded in that order.
    digest_concurrency: int = 16
    breathing_days: int = 7
    forward_days: int = 90
    care_checkin_days: tuple[int, ...] = (14, 90)
    summary_weekday: int = 0  # the weekly firm summary: Monday (date.weekday() numbers)
    summary_hour: int = 9  # local hour in default_tz, from which it is posted that day
    single_thread_days: int = 180  # one person in touch over this many days: single-threaded
    load_targets: dict[Role, LoadTarget] = field(default_factory=lambda: dict(DEFAULT_TARGETS))
    capture_subjects: bool = False  # keep captured subjects and titles (TOUCHBASE_CAPTURE_SUBJECTS)
    capture_allow_local_feeds: bool = False  # calendar feeds on this network (development, tests)
