"""Teams' delivery rules, free of any SDK so both Teams adapters (botbuilder and the Microsoft
365 Agents SDK) share them: the per-conversation rate limits and which connector answers are
worth a retry.

Teams throttles each conversation (7 messages a second, 8 in 2 s, 60 in 30 s, 1,800 an hour),
so every send first waits its turn in a :class:`ConversationLimiter`. The limiter lives in this
process: several server processes each keep their own. 429, 412, 502 and 504 are transient
(with the connector's ``Retry-After`` when it gave one; the backoff is the caller's), 403 and
404 are permanent (the bot was blocked, uninstalled or removed from the conversation).

Every call to a ``serviceUrl`` is made once, with a short timeout (:data:`CONNECT_TIMEOUT`,
:data:`READ_TIMEOUT`): neither SDK retries inside a request, so an unreachable connector costs
a request seconds, not the SDKs' default backoff (botbuilder's msrest retried each call three
times, ~5 s a call, and both SDKs waited up to 100-300 s for an answer).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from bot.ports import DeliveryError

log = logging.getLogger(__name__)

#: (window in seconds, most messages in it) per conversation, from Microsoft's published limits.
TEAMS_LIMITS: tuple[tuple[float, int], ...] = ((1.0, 7), (2.0, 8), (30.0, 60), (3600.0, 1800))

#: Seconds to connect to a serviceUrl, and to wait for its answer (read at each call).
CONNECT_TIMEOUT = 3.0
READ_TIMEOUT = 5.0

# What the SDKs raise when the serviceUrl could not be reached or did not answer in time:
# msrest's ClientRequestError (botbuilder), aiohttp's connection and timeout errors (Agents SDK).
_UNREACHABLE = frozenset(
    {
        "ClientRequestError",
        "ClientConnectionError",
        "ClientConnectorError",
        "ClientOSError",
        "ConnectionTimeoutError",
        "ServerDisconnectedError",
        "ServerTimeoutError",
        "SocketTimeoutError",
    }
)


def unreachable(error: BaseException) -> bool:
    """True when the connector could not be reached or did not answer: telling the person
    about it through the same connector would only wait again."""
    seen: BaseException | None = error
    for _ in range(5):  # the error, and what it wraps
        if seen is None:
            return False
        if isinstance(seen, ConnectionError | TimeoutError) or any(
            kind.__name__ in _UNREACHABLE for kind in type(seen).__mro__
        ):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


TRANSIENT = frozenset({412, 429, 502, 504})
PERMANENT = frozenset({403, 404})


class ConversationLimiter:
    """Sliding-window limits per key: ``await acquire(key)`` returns when a send may go.

    Waiting sleeps until the oldest send in the fullest window leaves it (no polling). Sends to
    one key are served in arrival order; other keys are not held up. ``clock`` and ``sleep``
    are injectable so tests run without real time passing.
    """

    def __init__(
        self,
        limits: Sequence[tuple[float, int]] = TEAMS_LIMITS,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        if not limits or any(w <= 0 or n < 1 for w, n in limits):
            raise ValueError("limits need positive windows and counts")
        self.limits = tuple(sorted(limits))
        self._longest = max(w for w, _ in self.limits)
        self._clock = clock
        self._sleep = sleep
        self._sent: dict[str, deque[float]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def delay(self, key: str) -> float:
        """Seconds until a send to ``key`` would be allowed (0 when it may go now)."""
        now = self._clock()
        sent = self._sent.get(key)
        if not sent:
            return 0.0
        while sent and sent[0] <= now - self._longest:
            sent.popleft()
        wait = 0.0
        for window, most in self.limits:
            in_window = [t for t in sent if t > now - window]
            if len(in_window) >= most:
                # the send that has to leave the window before one more fits
                wait = max(wait, in_window[-most] + window - now)
        return wait

    async def acquire(self, key: str) -> None:
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            while (wait := self.delay(key)) > 0:
                await self._sleep(wait)
            self._sent.setdefault(key, deque()).append(self._clock())
        self._forget_idle()

    def _forget_idle(self) -> None:
        """Drop keys with nothing left in any window, so memory follows active conversations."""
        if len(self._sent) < 1024:
            return
        horizon = self._clock() - self._longest
        for key in [k for k, s in self._sent.items() if not s or s[-1] <= horizon]:
            lock = self._locks.get(key)
            if lock is None or not lock.locked():
                self._sent.pop(key, None)
                self._locks.pop(key, None)


def delivery_error_for(status: int | None, headers: Mapping[str, Any], cause: str) -> DeliveryError:
    """A connector answer as the port's DeliveryError (no message text, no tokens).

    ``status`` is None when the request never reached the connector (``cause`` names why)."""
    if status is None:
        log.warning("Teams delivery failed before reaching the connector: %s", cause)
        return DeliveryError(f"could not reach Teams ({cause})")
    if status in PERMANENT:
        return DeliveryError(
            f"Teams answered {status}: the bot was blocked or removed", permanent=True
        )
    if status in TRANSIENT:
        return DeliveryError(
            f"Teams answered {status}: try again later",
            retry_after=_retry_after(headers.get("Retry-After")),
        )
    return DeliveryError(f"Teams answered {status}")


def delivery_error(error: Exception) -> DeliveryError:
    """What an SDK raised while sending, as the port's DeliveryError (no message text, no
    tokens)."""
    status, headers = status_of(error)
    return delivery_error_for(status, headers, type(error).__name__)


def status_of(error: Exception) -> tuple[int | None, Mapping[str, Any]]:
    """The HTTP status (and headers) behind an SDK's exception, when it reached the connector.

    botbuilder's msrest raises ``HttpOperationError`` with the ``requests`` response
    (``status_code``); the Agents SDK's connector client raises aiohttp's
    ``ClientResponseError`` (``status``, ``headers``)."""
    status = getattr(error, "status", None)
    if isinstance(status, int):
        return status, getattr(error, "headers", None) or {}
    response = getattr(error, "response", None)
    status = getattr(response, "status", None) or getattr(response, "status_code", None)
    if isinstance(status, int):
        return status, getattr(response, "headers", None) or {}
    return None, {}


def _retry_after(raw: Any) -> float | None:
    if raw is None:
        return None
    try:
        seconds = float(str(raw).strip())
    except ValueError:
        return None  # an HTTP date: rare from the connector; the caller's backoff applies
    return max(seconds, 0.0)
