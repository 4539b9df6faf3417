"""A digest sweep in its own process, for the multi-process tests.

    python -m tests.digest_worker DATABASE_URL NOW_ISO OUTFILE [HANG_AFTER]

Each delivery appends the recipient to OUTFILE (flushed and synced before the send returns).
With HANG_AFTER, the send after that many hangs forever, so the test can kill the process
mid-sweep at a known point (it writes OUTFILE.hanging first)."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import datetime

from bot.clock import FixedClock
from bot.config import CoreConfig
from bot.digest import run_sweep
from bot.domain import Platform
from bot.messages import Message
from bot.ports import Address
from store.db import create_engine
from store.repositories import SqlStore


class FileMessenger:
    def __init__(self, path: str, hang_after: int | None) -> None:
        self.path = path
        self.hang_after = hang_after
        self.count = 0

    async def send(self, address: Address, message: Message) -> None:
        if self.hang_after is not None and self.count >= self.hang_after:
            append(self.path + ".hanging", address["user"])  # claimed and committed, not sent
            await asyncio.Event().wait()
        append(self.path, address["user"])
        self.count += 1


def append(path: str, line: str) -> None:
    with open(path, "a", encoding="utf-8") as f:
        f.write(f"{line}\n")
        f.flush()
        os.fsync(f.fileno())


async def main(url: str, now: str, out: str, hang_after: int | None) -> None:
    clock = FixedClock(datetime.fromisoformat(now))
    engine = create_engine(url)
    try:
        store = SqlStore(engine, clock)
        messenger = FileMessenger(out, hang_after)
        await run_sweep(
            store, {Platform.CONSOLE: messenger}, clock, CoreConfig(), f"p{os.getpid()}"
        )
    finally:
        await engine.dispose()


if __name__ == "__main__":
    hang = int(sys.argv[4]) if len(sys.argv) > 4 else None
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], hang))
