"""A person's calendar from its secret iCalendar address, fetched over HTTP(S) with aiohttp.

Only public addresses are fetched: the host name is resolved and every address it gives must be
a global one (no loopback, private, link-local, shared or reserved range), checked when the
connection is made, so a name that changes its answer between a check and the fetch gains
nothing; redirects are followed by hand (at most five) and each hop is checked the same way.
`TOUCHBASE_ALLOW_LOCAL_FEEDS=true` lifts this for development and tests. The address is a
secret: it is never logged, and errors name only the host.
"""

from __future__ import annotations

import ipaddress
import socket
from datetime import datetime
from urllib.parse import urljoin, urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from adapters.capture.ics import SOURCE, CalendarFileError, events_from_ics, window
from bot.capture import Collected, feed_problem
from bot.capture_ports import CaptureSetup
from bot.domain import Person

MAX_REDIRECTS = 5


class FeedError(Exception):
    """The feed could not be read; the message names no secret."""


class PublicOnlyResolver(AbstractResolver):
    """Resolves like aiohttp's default resolver, refusing any address that is not global."""

    def __init__(self) -> None:
        self._inner = DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._inner.resolve(host, port, family)
        for entry in found:
            if not ipaddress.ip_address(entry["host"]).is_global:
                raise FeedError(f"{host} is not a public address")
        return found

    async def close(self) -> None:
        await self._inner.close()


def _host(url: str) -> str:
    return urlsplit(url).hostname or "?"


async def fetch_feed(
    url: str, *, allow_local: bool, seconds: float = 20.0, max_bytes: int = 5_000_000
) -> bytes:
    """The feed's bytes. Raises FeedError (naming the host only) when it cannot be read."""
    resolver: AbstractResolver | None = None if allow_local else PublicOnlyResolver()
    connector = aiohttp.TCPConnector(resolver=resolver) if resolver else aiohttp.TCPConnector()
    client_timeout = aiohttp.ClientTimeout(total=seconds)
    async with aiohttp.ClientSession(connector=connector, timeout=client_timeout) as http:
        for _ in range(MAX_REDIRECTS + 1):
            problem = feed_problem(url, allow_local=allow_local)
            if problem is not None:
                raise FeedError(f"{_host(url)}: {problem}")
            try:
                async with http.get(
                    url, allow_redirects=False, headers={"Accept": "text/calendar"}
                ) as resp:
                    if resp.status in (301, 302, 303, 307, 308) and "Location" in resp.headers:
                        url = urljoin(url, resp.headers["Location"])
                        continue
                    if resp.status != 200:
                        raise FeedError(f"{_host(url)} answered {resp.status}")
                    body = await resp.content.read(max_bytes + 1)
                    if len(body) > max_bytes:
                        raise FeedError(f"{_host(url)}: the calendar is larger than allowed")
                    return body
            except FeedError:
                raise
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                cause = exc.__cause__ or exc.__context__
                if isinstance(cause, FeedError):
                    raise cause from None
                raise FeedError(f"{_host(url)}: {type(exc).__name__}") from None
    raise FeedError(f"{_host(url)}: too many redirects")


class IcsFeedSource:
    """Each person's published calendar (`/touchbase calendar <address>`)."""

    name = SOURCE

    def __init__(
        self,
        *,
        allow_local: bool = False,
        subjects: bool = False,
        timeout: float = 20.0,
        max_bytes: int = 5_000_000,
    ) -> None:
        self.allow_local = allow_local
        self.subjects = subjects
        self.timeout = timeout
        self.max_bytes = max_bytes

    def wants(self, person: Person, setup: CaptureSetup) -> bool:
        return bool(setup.feed_url)

    async def collect(self, person: Person, setup: CaptureSetup, now: datetime) -> Collected:
        assert setup.feed_url
        data = await fetch_feed(
            setup.feed_url,
            allow_local=self.allow_local,
            seconds=self.timeout,
            max_bytes=self.max_bytes,
        )
        start, end = window(now)
        try:
            events = events_from_ics(
                data, person.id, person.email, start, end, subjects=self.subjects
            )
        except CalendarFileError as exc:
            raise FeedError(f"{_host(setup.feed_url)}: not an iCalendar file") from exc
        return Collected(events=tuple(events), snapshot=(start, end))
