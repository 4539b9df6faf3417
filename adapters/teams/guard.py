"""What both Teams adapters (botbuilder and the Microsoft 365 Agents SDK) check the same way,
without either SDK: the settings at start-up and the shape of a request's bearer header.

* Without an app id the inbound token check is off (the Bot Framework Emulator's mode). That is
  allowed only with ``TOUCHBASE_ENV=development``, with a warning at start-up; anywhere else
  :func:`check_settings` refuses to start.
* Every authentication failure is a 401 (:class:`Unauthorized`); each adapter's ``authenticate``
  verifies the token itself with its SDK.
"""

from __future__ import annotations

import logging

from app.settings import Settings

log = logging.getLogger(__name__)


class TeamsConfigurationError(RuntimeError):
    """The Teams settings are unsafe or incomplete; raised at start-up, never per request."""


class Unauthorized(Exception):
    """The request did not carry a valid Bot Framework token."""


#: Why an app id is needed, in the words of the adapter that refuses to start without one.
NO_APP_ID = "nothing checks that requests really come from Microsoft."


def check_settings(settings: Settings, *, no_app_id: str = NO_APP_ID) -> None:
    """Refuse to serve Teams with settings that would be unsafe or could never work."""
    teams = settings.teams
    if not teams.id:
        if settings.env != "development":
            raise TeamsConfigurationError(
                "Teams needs MICROSOFT_APP_ID (and MICROSOFT_APP_PASSWORD): without an app id "
                f"{no_app_id} For the Bot Framework Emulator on your own machine, set "
                "TOUCHBASE_ENV=development."
            )
        log.warning(
            "Teams runs WITHOUT authentication (TOUCHBASE_ENV=development, no MICROSOFT_APP_ID): "
            "for the Bot Framework Emulator only"
        )
        return
    if teams.type != "UserAssignedMSI" and not teams.password.get_secret_value():
        raise TeamsConfigurationError(
            "MICROSOFT_APP_ID is set but MICROSOFT_APP_PASSWORD is empty: Touchbase could not "
            "reply. Set the client secret of the bot's app registration."
        )
    if teams.type == "SingleTenant" and not teams.tenant_id:
        raise TeamsConfigurationError(
            "MICROSOFT_APP_TYPE=SingleTenant needs MICROSOFT_APP_TENANT_ID, the directory "
            "(tenant) id of the bot's app registration."
        )


def looks_like_bearer(header: str | None) -> bool:
    """A well-formed ``Bearer <JWT>`` header, checked before the body is read: a request
    without one is refused without parsing anything it sent. The token itself is verified
    afterwards, against the activity."""
    if not header or len(header) > 16384:
        return False
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return False
    parts = token.strip().split(".")
    return (
        len(parts) == 3
        and all(parts[:2])
        and all(part.replace("-", "").replace("_", "").isalnum() for part in parts if part)
    )
