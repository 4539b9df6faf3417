"""Garbage-collector tuning done once when `touchbase serve` has started."""

from __future__ import annotations

import gc

from app.server import GC_YOUNG_THRESHOLD, tune_gc


def test_start_up_objects_are_frozen_and_young_collections_are_rarer() -> None:
    before = gc.get_threshold()
    built_at_start_up = [object() for _ in range(10)]
    try:
        tune_gc()
        assert gc.get_freeze_count() >= len(built_at_start_up)
        assert gc.get_threshold() == (GC_YOUNG_THRESHOLD, before[1], before[2])
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
