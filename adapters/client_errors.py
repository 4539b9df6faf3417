"""Requests refused before they reach a platform SDK: a short JSON answer, and a log that a
flood of the same bad request cannot fill.

Anyone on the internet can post to ``/slack/events`` or ``/api/messages``. A body that is not
UTF-8, a ``payload=`` that is not JSON, JSON nested thousands deep or a timestamp that is not a
number must get a 4xx with a few words, never a traceback; and a thousand of them a second
must write a few log lines, not a thousand.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web


def refuse(status: int, error: str) -> web.Response:
    """The short JSON answer for a request refused before it is parsed."""
    return web.json_response({"ok": False, "error": error}, status=status)


@dataclass
class ClientErrorLog:
    """Logs each kind of refused request at most once per ``every`` seconds, saying how many
    of that kind were refused since the last line."""

    logger: logging.Logger
    every: float = 60.0
    clock: Callable[[], float] = time.monotonic
    _last: dict[str, float] = field(default_factory=dict)
    _suppressed: dict[str, int] = field(default_factory=dict)

    def refused(self, what: str, reason: str) -> None:
        key = f"{what}:{reason}"
        now = self.clock()
        last = self._last.get(key)
        if last is not None and now - last < self.every:
            self._suppressed[key] = self._suppressed.get(key, 0) + 1
            return
        self._last[key] = now
        more = self._suppressed.pop(key, 0)
        if more:
            self.logger.warning(
                "refused a %s request: %s (and %d more like it since the last line)",
                what,
                reason,
                more,
            )
        else:
            self.logger.warning("refused a %s request: %s", what, reason)
