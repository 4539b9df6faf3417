"""Progress of long command-line work (import, export, restore), on stderr.

On a terminal: a rich progress bar that clears itself when done. Elsewhere (a pipe, a log, CI):
a plain line now and then, "Importing clients.csv: 5,000 of 100,000 rows (5%)", so a log shows
the work moving without a line per row. stdout stays for the result (an export's JSON).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import IO, Any, Self


class Progress:
    def __init__(
        self,
        what: str,
        unit: str = "rows",
        *,
        stream: IO[str] | None = None,
        interval: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.what, self.unit = what, unit
        self.stream = stream if stream is not None else sys.stderr
        self.interval = interval
        self.monotonic = monotonic
        self._last = monotonic()
        self._bar: Any = None
        self._task: Any = None
        if self.stream.isatty():
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TextColumn,
                TimeRemainingColumn,
            )
            from rich.progress import Progress as RichProgress

            self._bar = RichProgress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn(unit),
                TimeRemainingColumn(),
                console=Console(file=self.stream),
                transient=True,
            )

    def __enter__(self) -> Self:
        if self._bar is not None:
            self._bar.start()
            self._task = self._bar.add_task(self.what, total=None)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._bar is not None:
            self._bar.stop()

    def __call__(self, done: int, total: int) -> None:
        if self._bar is not None:
            self._bar.update(self._task, completed=done, total=total)
            return
        now = self.monotonic()
        if now - self._last < self.interval:
            return  # quick work, or a line was written a moment ago
        self._last = now
        share = f" ({done * 100 // total}%)" if total else ""
        self.stream.write(f"{self.what}: {done:,} of {total:,} {self.unit}{share}\n")
        self.stream.flush()
