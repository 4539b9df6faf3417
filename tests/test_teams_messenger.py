"""TeamsMessenger: connector failures as DeliveryError, and the per-conversation rate limiter."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from adapters.teams.messenger import ConversationLimiter, TeamsMessenger
from bot.domain import Platform
from bot.messages import Message
from bot.ports import DeliveryError
from tests.teams_helpers import ADA, Teams, teams

__all__ = ["teams"]  # the fixture


async def _address(teams: Teams) -> dict[str, Any]:
    await teams.post(teams.personal("help"))
    person = await teams.person(ADA["aadObjectId"])
    assert person is not None and person.address is not None
    teams.connector.clear_calls()
    return person.address


def _messenger(teams: Teams) -> TeamsMessenger:
    messenger = teams.services.messengers[Platform.TEAMS]
    assert isinstance(messenger, TeamsMessenger)
    return messenger


@pytest.mark.parametrize("status", [429, 412, 502, 504])
async def test_throttling_and_gateway_errors_are_transient(teams: Teams, status: int) -> None:
    address = await _address(teams)
    teams.connector.fail_next(status=status, retry_after=3 if status == 429 else None)

    with pytest.raises(DeliveryError) as raised:
        await _messenger(teams).send(address, Message(text="Acme is overdue."))

    assert raised.value.permanent is False
    assert raised.value.retry_after == (3.0 if status == 429 else None)
    assert str(status) in raised.value.detail
    # nothing retried here: the backoff is the caller's
    assert [c.status for c in teams.connector.calls()] == [status]


@pytest.mark.parametrize("status", [403, 404])
async def test_blocked_or_removed_is_permanent(teams: Teams, status: int) -> None:
    address = await _address(teams)
    teams.connector.fail_next(status=status)

    with pytest.raises(DeliveryError) as raised:
        await _messenger(teams).send(address, Message(text="Acme is overdue."))

    assert raised.value.permanent is True
    assert raised.value.retry_after is None


async def test_a_send_that_goes_through(teams: Teams) -> None:
    address = await _address(teams)
    await _messenger(teams).send(address, Message(text="Acme is overdue."))
    [body] = teams.connector.activities()
    assert body["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert body["summary"] == "Acme is overdue."


@pytest.mark.parametrize("address", [{}, {"reference": "nope"}, {"reference": {"user": {}}}])
async def test_an_address_that_is_not_a_teams_reference_is_permanent(
    teams: Teams, address: dict[str, Any]
) -> None:
    with pytest.raises(DeliveryError) as raised:
        await _messenger(teams).send(address, Message(text="x"))
    assert raised.value.permanent is True
    assert teams.connector.calls() == []


@pytest.mark.slow  # the SDK's HTTP client retries the refused connection with a backoff
async def test_the_connector_unreachable_is_transient(teams: Teams) -> None:
    address = await _address(teams)
    address["reference"]["serviceUrl"] = "http://127.0.0.1:9/"  # nothing listens there
    with pytest.raises(DeliveryError) as raised:
        await _messenger(teams).send(address, Message(text="x"))
    assert raised.value.permanent is False


# --- the limiter ------------------------------------------------------------------------------


class FakeTime:
    """A monotonic clock that only moves when someone sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


async def test_a_burst_of_eight_to_one_conversation_is_spaced_out() -> None:
    time = FakeTime()
    limiter = ConversationLimiter(clock=time.clock, sleep=time.sleep)
    sent_at: list[float] = []

    async def send() -> None:
        await limiter.acquire("a:1personal-ada")
        sent_at.append(time.now)

    await asyncio.gather(*(send() for _ in range(8)))

    assert sent_at == [0.0] * 7 + [1.0]  # 7 a second: the eighth waits for the first to age
    assert time.sleeps == [1.0]


async def test_longer_windows_hold_too() -> None:
    time = FakeTime()
    limiter = ConversationLimiter(clock=time.clock, sleep=time.sleep)
    sent_at = []
    for _ in range(61):
        await limiter.acquire("c")
        sent_at.append(time.now)
    # 8 in any 2 s window, 60 in any 30 s window
    for i, t in enumerate(sent_at):
        assert sum(1 for u in sent_at[: i + 1] if u > t - 2.0) <= 8
        assert sum(1 for u in sent_at[: i + 1] if u > t - 30.0) <= 60
    assert sent_at[7] == 1.0 and sent_at[8] == 2.0
    assert sent_at[60] >= 30.0


async def test_other_conversations_are_not_held_up() -> None:
    time = FakeTime()
    limiter = ConversationLimiter(clock=time.clock, sleep=time.sleep)
    for _ in range(7):
        await limiter.acquire("busy")
    assert limiter.delay("busy") == 1.0
    assert limiter.delay("quiet") == 0.0
    await limiter.acquire("quiet")
    assert time.sleeps == []


async def test_the_messenger_waits_for_the_limiter(teams: Teams) -> None:
    address = await _address(teams)
    time = FakeTime()
    messenger = TeamsMessenger(
        _messenger(teams).adapter,
        "",
        limiter=ConversationLimiter(clock=time.clock, sleep=time.sleep),
    )
    for i in range(8):
        await messenger.send(address, Message(text=f"nudge {i}"))
    assert len(teams.connector.activities()) == 8
    assert time.sleeps == [1.0]
