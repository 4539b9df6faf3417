"""One scheduler per SQLite file: an exclusive, non-blocking `flock` on a file next to it,
held for the life of the process (the kernel drops it when the process dies, even by SIGKILL)."""

from __future__ import annotations

import fcntl
import os
from dataclasses import dataclass
from pathlib import Path

from store.db import sqlite_path


@dataclass
class SchedulerLock:
    path: Path
    database: Path
    fd: int | None
    held: bool

    def release(self) -> None:
        """Let go; the holder also removes the file, so a clean stop leaves nothing behind."""
        if self.fd is not None:
            if self.held:
                self.path.unlink(missing_ok=True)  # still locked: nobody can take this inode
                fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None
            self.held = False


def lock_path(database: Path) -> Path:
    return database.with_name(database.name + ".scheduler.lock")


def _same_file(fd: int, path: Path) -> bool:
    try:
        on_disk = path.stat()
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (mine.st_dev, mine.st_ino) == (on_disk.st_dev, on_disk.st_ino)


def acquire(database: Path) -> SchedulerLock:
    path = lock_path(database)
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return SchedulerLock(path, database, fd, held=False)
        if _same_file(fd, path):
            break
        # The holder removed this file as it stopped, after we opened it: try the new one.
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return SchedulerLock(path, database, fd, held=True)


def acquire_for(database_url: str) -> SchedulerLock | None:
    """The lock for a SQLite file; None for PostgreSQL (claims in the database suffice) and for
    in-memory SQLite (one process by definition)."""
    database = sqlite_path(database_url)
    return acquire(database.resolve()) if database is not None else None
