"""The intake journal: a command acknowledged with "Saving…" is written here, to a file of its
own (fsynced, renamed into place), before the acknowledgement goes out, and removed once its
outcome reached the person. A process killed in between leaves the file; the next start-up
completes the command (its source id makes the touch once) and tells the person.

A file, not a row: "Saving…" is said precisely when the database is slow or locked, so the
journal cannot wait for it. One directory per host (`TOUCHBASE_INTAKE_DIR`): each replica
replays what a dead process on the same host left, never what a live one is still working on.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class JournalEntry:
    key: str
    pid: int
    data: dict[str, Any]


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class IntakeJournal:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _write(self, key: str, data: dict[str, Any]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        final = self.directory / f"{key}.json"
        partial = self.directory / f".{key}.tmp"
        body = json.dumps({"pid": os.getpid(), "data": data}).encode()
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, body)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(partial, final)
        dir_fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    async def write(self, data: dict[str, Any]) -> str:
        """Journal one command durably; returns its key."""
        key = uuid.uuid4().hex
        await asyncio.to_thread(self._write, key, data)
        return key

    async def done(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            await asyncio.to_thread(os.unlink, self.directory / f"{key}.json")

    def orphans(self) -> list[JournalEntry]:
        """Entries whose process is gone: what a crash left to complete."""
        if not self.directory.is_dir():
            return []
        found = []
        for path in sorted(self.directory.glob("*.json"), key=lambda p: p.stat().st_mtime):
            try:
                raw = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            pid = int(raw.get("pid", 0))
            if pid and _alive(pid):
                continue
            found.append(JournalEntry(path.stem, pid, dict(raw.get("data") or {})))
        return found
