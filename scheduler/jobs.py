"""Job functions: a few lines each, calling a core use case with what it needs."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.digest import run_sweep

if TYPE_CHECKING:
    from adapters.bootstrap import Services

log = logging.getLogger(__name__)


async def digest_tick(services: Services, worker: str) -> None:
    """Send the morning digests that are due now. Never raises: the next tick tries again."""
    try:
        config = services.app.config
        await run_sweep(
            services.store,
            services.messengers,
            services.clock,
            config,
            worker,
            concurrency=config.digest_concurrency,
        )
    except Exception:
        log.exception("digest sweep failed", extra={"worker": worker})
