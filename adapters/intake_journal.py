"""The intake journal: a command acknowledged with "Saving…" is written here, to a file of its
own (fsynced, renamed into place), before the acknowledgement goes out, and removed once its
outcome reached the person. A process killed in between leaves the file; the next start-up
completes the command (its source id makes the touch once) and tells the person.

A file, not a row: "Saving…" is said precisely when the database is slow or locked, so the
journal cannot wait for it. One directory per host (`TOUCHBASE_INTAKE_DIR`): each replica
replays what a dead process on the same host left, never what a live one is still working on.

Some commands carry a secret (a person's calendar address): their raw text is never written.
The entry holds the redacted text the caller gives, and the original only encrypted with the
cipher of the secrets at rest (TOUCHBASE_SECRET_KEYS), so a replay can still complete it; with
no key, or the key gone, the entry says what was withheld and the caller asks the person again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

SEALED = "sealed"  # the entry's encrypted fields, by name


class Sealer(Protocol):
    """Encrypts one secret and reads it back (store.secrets.TokenCipher is one)."""

    def seal_value(self, value: str) -> str: ...
    def open_value(self, value: str, what: str = ...) -> tuple[str, bool]: ...


@dataclass(frozen=True, slots=True)
class JournalEntry:
    key: str
    pid: int
    data: dict[str, Any]
    withheld: tuple[str, ...] = ()  # secret fields that could not be read back: left redacted


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
    def __init__(self, directory: Path, sealer: Sealer | None = None) -> None:
        self.directory = directory
        self.sealer = sealer

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

    async def write(self, data: dict[str, Any], secrets: Mapping[str, str] | None = None) -> str:
        """Journal one command durably; returns its key. `secrets` are fields whose value must
        not be written as it is (`data` holds their redacted form): they are kept encrypted,
        or not at all when there is no key."""
        key = uuid.uuid4().hex
        if secrets:
            data = dict(data)
            if self.sealer is not None:
                data[SEALED] = {k: self.sealer.seal_value(v) for k, v in secrets.items()}
            else:
                data[SEALED] = dict.fromkeys(secrets, None)
        await asyncio.to_thread(self._write, key, data)
        return key

    def _unseal(self, data: dict[str, Any]) -> tuple[dict[str, Any], tuple[str, ...]]:
        sealed = data.pop(SEALED, None)
        if not isinstance(sealed, dict):
            return data, ()
        withheld = []
        for name, value in sealed.items():
            if not isinstance(value, str) or self.sealer is None:
                withheld.append(name)
                continue
            try:
                data[name] = self.sealer.open_value(value, "A journaled command")[0]
            except ValueError:  # the key it was sealed with is gone
                withheld.append(name)
        return data, tuple(withheld)

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
            data, withheld = self._unseal(dict(raw.get("data") or {}))
            found.append(JournalEntry(path.stem, pid, data, withheld))
        return found
