"""A digest sweep in its own process, sending through the real Slack SDK to a fake Slack.

    python -m tests.slack_digest_worker DATABASE_URL NOW_ISO SLACK_API_URL [SKEW_SECONDS]

The sweep plans with NOW_ISO moved by SKEW_SECONDS (a replica whose clock runs ahead); claims and
leases are the database's business. Prints the report as `sent retrying skipped` on exit."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import datetime, timedelta

from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.messenger import SlackMessenger
from bot.clock import FixedClock
from bot.config import CoreConfig
from bot.digest import run_sweep
from bot.domain import Platform
from store.db import create_engine
from store.repositories import SqlStore

BOT_TOKEN = "xoxb-test-token"


async def main(url: str, now: str, api_url: str, skew: float) -> None:
    clock = FixedClock(datetime.fromisoformat(now) + timedelta(seconds=skew))
    engine = create_engine(url)
    client = AsyncWebClient(token=BOT_TOKEN, base_url=api_url)

    async def client_for(_team: str | None) -> AsyncWebClient:
        return client

    try:
        store = SqlStore(engine, clock)
        report = await run_sweep(
            store,
            {Platform.SLACK: SlackMessenger(client_for)},
            clock,
            CoreConfig(),
            f"replica-{os.getpid()}",
            concurrency=4,
        )
        print(len(report.sent), len(report.retrying), len(report.skipped), flush=True)
    finally:
        await engine.dispose()


if __name__ == "__main__":
    skew = float(sys.argv[4]) if len(sys.argv) > 4 else 0.0
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], skew))
