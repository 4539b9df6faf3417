"""The platforms, built apart from HTTP routes: each configured platform's adapter, with its
messenger registered on the core. `touchbase serve` then mounts their routes; `touchbase digest`
needs only the messengers. Adding a platform is one block here and one line in `server.py`.

Each platform is imported only when configured, so a Teams-only firm never pays for importing
slack_bolt, and the other way round. Teams runs on one SDK, chosen by ``TOUCHBASE_TEAMS_SDK``
(botbuilder, the default, or the Microsoft 365 Agents SDK); only the chosen one is imported.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web

from app.bootstrap import Services
from app.settings import Settings
from bot.domain import Platform
from store.secrets import TokenCipher

if TYPE_CHECKING:
    from adapters.agents.runtime import AgentsRuntime
    from adapters.slack.app import SlackAdapter
    from adapters.teams.runtime import TeamsRuntime


@dataclass
class Platforms:
    slack: SlackAdapter | None = None
    teams: TeamsRuntime | AgentsRuntime | None = None
    teams_sdk: str = "botbuilder"  # which SDK `teams` was built with

    async def close(self) -> None:
        """Wait for the follow-ups the platforms still have in flight."""
        if self.slack is not None:
            await self.slack.close()


def token_cipher(settings: Settings, *, required: bool = False) -> TokenCipher:
    """The cipher for the Slack tokens kept in the database (OAuth installs).

    Raises `SecretKeyError` when OAuth is on (or `required`) and TOUCHBASE_SECRET_KEYS is
    unset or wrong. With one bot token nothing is stored, and no key is needed: a throwaway
    one is used."""
    keys = settings.secret_keys.get_secret_value() if settings.secret_keys else ""
    if not keys and not (required or settings.slack.oauth_enabled):
        return TokenCipher([TokenCipher.new_key()])
    return TokenCipher(keys.split(","))


def build_platforms(services: Services) -> Platforms:
    """Build every configured platform and register its messenger with the core.

    Raises the platform's configuration error (e.g. `TeamsConfigurationError`) when its
    settings are unsafe or incomplete."""
    settings = services.settings
    platforms = Platforms(teams_sdk=settings.teams_sdk)
    if settings.slack.configured:
        from adapters.slack import runtime as slack
        from adapters.slack.installation_store import DbInstallationStore, DbOAuthStateStore

        platforms.slack = slack.build_slack(
            services,
            installations=DbInstallationStore(services.store, token_cipher(settings)),
            oauth_state=DbOAuthStateStore(services.store),
        )
        services.add_messenger(Platform.SLACK, slack.messenger(platforms.slack))
    if settings.teams.configured or settings.env == "development":
        if settings.teams_sdk == "agents":
            from adapters.agents.runtime import build_agents

            platforms.teams = build_agents(services)
        else:
            from adapters.teams.runtime import build_teams

            platforms.teams = build_teams(services)
        services.add_messenger(Platform.TEAMS, platforms.teams.messenger)
    return platforms


def mount_teams(app: web.Application, platforms: Platforms) -> None:
    """``POST /api/messages`` on the SDK the Teams runtime was built with."""
    runtime = platforms.teams
    if runtime is None:
        return
    if platforms.teams_sdk == "agents":
        from adapters.agents.runtime import AgentsRuntime
        from adapters.agents.runtime import mount as mount_agents

        assert isinstance(runtime, AgentsRuntime)
        mount_agents(app, runtime)
        return
    from adapters.teams.runtime import TeamsRuntime
    from adapters.teams.runtime import mount as mount_botbuilder

    assert isinstance(runtime, TeamsRuntime)
    mount_botbuilder(app, runtime)
