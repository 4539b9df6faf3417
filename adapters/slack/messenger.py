"""The Messenger port on Slack: chat.postMessage to a person (DM) or a channel.

Rate limits are retried by the SDK's retry handler on the client; what is left is turned into
DeliveryError, permanent when retrying cannot help (the person left, the channel went away).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.blocks import message_payload
from bot.messages import Message
from bot.ports import Address, DeliveryError

log = logging.getLogger(__name__)

PERMANENT_ERRORS = frozenset(
    {
        "account_inactive",
        "user_not_found",
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "invalid_auth",
        "token_revoked",
        "not_authed",
        "user_disabled",
        "cannot_dm_bot",
        "restricted_action",
        "team_access_not_granted",
    }
)

# The client for a workspace key (None when the address does not name one).
ClientFor = Callable[[str | None], Awaitable[AsyncWebClient | None]]


def delivery_error(exc: SlackApiError) -> DeliveryError:
    code = str(exc.response.get("error") or "unknown_error")
    status = exc.response.status_code
    if status == 429 or code == "ratelimited":
        raw = exc.response.headers.get("Retry-After") or exc.response.headers.get("retry-after")
        retry_after = float(raw) if raw and str(raw).replace(".", "", 1).isdigit() else None
        return DeliveryError(code, retry_after=retry_after)
    return DeliveryError(code, permanent=code in PERMANENT_ERRORS)


class SlackMessenger:
    """Sends a neutral Message to `{"channel": "U…" | "C…" | "D…", "team": workspace key}`."""

    def __init__(self, client_for: ClientFor) -> None:
        self._client_for = client_for

    async def send(self, address: Address, message: Message) -> None:
        channel = address.get("channel") or address.get("user")
        if not channel:
            raise DeliveryError("address has no Slack channel", permanent=True)
        client = await self._client_for(address.get("team"))
        if client is None:
            raise DeliveryError("Slack app is not installed in that workspace", permanent=True)
        try:
            await client.chat_postMessage(channel=str(channel), **message_payload(message))
        except SlackApiError as exc:
            error = delivery_error(exc)
            log.warning(
                "Slack refused a message",
                extra={"platform": "slack", "error": error.detail, "permanent": error.permanent},
            )
            raise error from None
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise DeliveryError(f"could not reach Slack: {type(exc).__name__}") from None
