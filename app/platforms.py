"""The platforms, built apart from HTTP routes: each configured platform's adapter, with its
messenger registered on the core. `touchbase serve` then mounts their routes; `touchbase digest`
needs only the messengers. Adding a platform is one block here and one line in `server.py`.

Each platform is imported only when configured, so a Teams-only firm never pays for importing
slack_bolt, and the other way round.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.bootstrap import Services
from bot.domain import Platform

if TYPE_CHECKING:
    from adapters.slack.app import SlackAdapter
    from adapters.teams.runtime import TeamsRuntime


@dataclass
class Platforms:
    slack: SlackAdapter | None = None
    teams: TeamsRuntime | None = None

    async def close(self) -> None:
        """Wait for the follow-ups the platforms still have in flight."""
        if self.slack is not None:
            await self.slack.close()


def build_platforms(services: Services) -> Platforms:
    """Build every configured platform and register its messenger with the core.

    Raises the platform's configuration error (e.g. `TeamsConfigurationError`) when its
    settings are unsafe or incomplete."""
    settings = services.settings
    platforms = Platforms()
    if settings.slack.configured:
        from adapters.slack import runtime as slack
        from adapters.slack.installation_store import DbInstallationStore, DbOAuthStateStore

        platforms.slack = slack.build_slack(
            services,
            installations=DbInstallationStore(services.store),
            oauth_state=DbOAuthStateStore(services.store),
        )
        services.add_messenger(Platform.SLACK, slack.messenger(platforms.slack))
    if settings.teams.configured or settings.env == "development":
        from adapters.teams.runtime import build_teams

        platforms.teams = build_teams(services)
        services.add_messenger(Platform.TEAMS, platforms.teams.messenger)
    return platforms
