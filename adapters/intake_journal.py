"""The intake journal: a command acknowledged with "Saving…" is written here, to a file of its
own (fsynced, renamed into place), before the acknowledgement goes out, and removed once it is
done. A process killed in between leaves the file; the next start-up completes the command (its
source id makes the touch once) and tells the person.

A file, not a row: "Saving…" is said precisely when the database is slow or locked, so the
journal cannot wait for it. One directory per host (`TOUCHBASE_INTAKE_DIR`).

Who works on an entry is decided by the kernel, not by process ids: the process that wrote an
entry holds an exclusive `flock` on it until the entry is done, and a replay takes the same lock
(non-blocking) before it touches an entry. A lock is dropped when its process dies, even by
SIGKILL, so an entry is free exactly when nobody is working on it: two replicas starting at once,
or a replay beside the live process that wrote the entry, never run one entry twice. (A process
id says less: ids are reused, and in a container every start may be the same pid.)

Some commands carry a secret (a person's calendar address): their raw text is never written.
The entry holds the redacted text the caller gives, and the original only encrypted with the
cipher of the secrets at rest (TOUCHBASE_SECRET_KEYS), so a replay can still complete it; with
no key, or the key gone, the entry says what was withheld and the caller asks the person again.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
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
    pid: int  # the process that wrote it (for the logs; the lock decides who works on it)
    data: dict[str, Any]
    withheld: tuple[str, ...] = ()  # secret fields that could not be read back: left redacted


def _same_file(fd: int, path: Path) -> bool:
    try:
        on_disk = path.stat()
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (mine.st_dev, mine.st_ino) == (on_disk.st_dev, on_disk.st_ino)


class IntakeJournal:
    def __init__(self, directory: Path, sealer: Sealer | None = None) -> None:
        self.directory = directory
        self.sealer = sealer
        self._held: dict[str, int] = {}  # key -> the locked descriptor, while we work on it

    def _path(self, key: str) -> Path:
        return self.directory / f"{key}.json"

    def _write(self, key: str, data: dict[str, Any]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        final = self._path(key)
        partial = self.directory / f".{key}.tmp"
        body = json.dumps({"pid": os.getpid(), "data": data}).encode()
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, body)
            os.fsync(fd)
            # Locked before it is renamed into place: no replay can take it while we live.
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.replace(partial, final)
        except BaseException:
            os.close(fd)
            raise
        self._held[key] = fd
        dir_fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    async def write(self, data: dict[str, Any], secrets: Mapping[str, str] | None = None) -> str:
        """Journal one command durably; returns its key. `secrets` are fields whose value must
        not be written as it is (`data` holds their redacted form): they are kept encrypted,
        or not at all when there is no key. The entry is ours until `done`."""
        key = uuid.uuid4().hex
        if secrets:
            data = dict(data)
            if self.sealer is not None:
                data[SEALED] = {k: self.sealer.seal_value(v) for k, v in secrets.items()}
            else:
                data[SEALED] = dict.fromkeys(secrets, None)
        await asyncio.to_thread(self._write, key, data)
        return key

    def _done(self, key: str) -> None:
        fd = self._held.pop(key, None)
        try:
            # Removed while still locked: nobody can take this entry between the two steps.
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._path(key))
        finally:
            if fd is not None:
                os.close(fd)  # drops the lock

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
        """The entry's command is complete: remove it, and let go of it."""
        await asyncio.to_thread(self._done, key)

    def release(self, key: str) -> None:
        """Let go of an entry without removing it (its replay failed): a later start retries."""
        fd = self._held.pop(key, None)
        if fd is not None:
            os.close(fd)

    def _take(self, path: Path) -> int | None:
        """The entry's descriptor, locked by us; None when someone is working on it (or it was
        just done)."""
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        if not _same_file(fd, path):  # done and removed after we opened it
            os.close(fd)
            return None
        return fd

    def claim(self) -> list[JournalEntry]:
        """Take every entry nobody is working on (what a dead process left), oldest first. Each
        is ours until `done` or `release`; whoever else looks meanwhile does not see it."""
        if not self.directory.is_dir():
            return []
        found = []
        paths = []
        for path in self.directory.glob("*.json"):
            with contextlib.suppress(FileNotFoundError):
                paths.append((path.stat().st_mtime, path))
        for _, path in sorted(paths):
            key = path.stem
            if key in self._held:
                continue
            fd = self._take(path)
            if fd is None:
                continue
            try:
                with open(fd, encoding="utf-8", closefd=False) as f:
                    raw = json.load(f)
            except (OSError, ValueError):
                raw = None
            if not isinstance(raw, dict):  # not ours to read: left as it is
                os.close(fd)
                continue
            self._held[key] = fd
            data, withheld = self._unseal(dict(raw.get("data") or {}))
            found.append(JournalEntry(key, int(raw.get("pid", 0)), data, withheld))
        return found
