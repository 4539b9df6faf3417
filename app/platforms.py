"""The platforms, built apart from HTTP routes: each configured platform's adapter, with its
messenger registered on the core. `touchbase serve` then mounts their routes; `touchbase digest`
needs only the messengers.

Adding a platform is one line in `PLATFORMS` below: the platform, when it is configured (from
the settings) and the function that builds its `Runtime` (its messenger, its routes, what it
must finish before the server stops). Nothing else here or in `server.py` names a platform.

Each platform is imported only when configured, so a Teams-only firm never pays for importing
slack_bolt, and the other way round. Teams runs on one SDK, chosen by ``TOUCHBASE_TEAMS_SDK``
(botbuilder, the default, or the Microsoft 365 Agents SDK); only the chosen one is imported.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, cast

from aiohttp import web

from app.bootstrap import Services
from app.settings import Settings
from bot.domain import Platform
from bot.ports import Messenger
from store.secrets import TokenCipher

if TYPE_CHECKING:
    from adapters.agents.runtime import AgentsRuntime
    from adapters.slack.app import SlackAdapter
    from adapters.teams.runtime import TeamsRuntime


class Runtime(Protocol):
    """One built platform, as the root uses it."""

    @property
    def messenger(self) -> Messenger: ...

    def mount(self, app: web.Application) -> None:
        """Add the platform's HTTP routes (and start-up or clean-up steps) to the server."""

    async def close(self) -> None:
        """Wait for what the platform still has in flight (when no server ran its clean-up)."""


@dataclass(frozen=True)
class PlatformEntry:
    platform: Platform
    configured: Callable[[Settings], bool]
    build: Callable[[Services], Runtime]  # imports the adapter: called only when configured


@dataclass
class _Built:
    """A runtime made of the adapter's own object and module functions."""

    adapter: object
    messenger: Messenger
    mount_on: Callable[[web.Application], object]
    close_with: Callable[[], Awaitable[None]] | None = None

    def mount(self, app: web.Application) -> None:
        self.mount_on(app)

    async def close(self) -> None:
        if self.close_with is not None:
            await self.close_with()


def token_cipher(settings: Settings, *, required: bool = False) -> TokenCipher:
    """The cipher for the Slack tokens kept in the database (OAuth installs).

    Raises `SecretKeyError` when OAuth is on (or `required`) and TOUCHBASE_SECRET_KEYS is
    unset or wrong. With one bot token nothing is stored, and no key is needed: a throwaway
    one is used."""
    keys = settings.secret_keys.get_secret_value() if settings.secret_keys else ""
    if not keys and not (required or settings.slack.oauth_enabled):
        return TokenCipher([TokenCipher.new_key()])
    return TokenCipher(keys.split(","))


def _slack(services: Services) -> Runtime:
    from adapters.slack import runtime as slack
    from adapters.slack.installation_store import DbInstallationStore, DbOAuthStateStore

    adapter = slack.build_slack(
        services,
        installations=DbInstallationStore(services.store, token_cipher(services.settings)),
        oauth_state=DbOAuthStateStore(services.store),
    )
    return _Built(
        adapter, slack.messenger(adapter), lambda app: slack.mount(app, adapter), adapter.close
    )


def _teams(services: Services) -> Runtime:
    sdk = services.settings.teams_sdk
    runtime: TeamsRuntime | AgentsRuntime
    if sdk == "agents":
        from adapters.agents.runtime import build_agents

        runtime = build_agents(services)
    else:
        from adapters.teams.runtime import build_teams

        runtime = build_teams(services)
    return _Built(runtime, runtime.messenger, lambda app: _mount_teams(app, runtime, sdk))


# Every platform Touchbase can serve, built in this order.
PLATFORMS: tuple[PlatformEntry, ...] = (
    PlatformEntry(Platform.SLACK, lambda s: s.slack.configured, _slack),
    PlatformEntry(Platform.TEAMS, lambda s: s.teams.configured or s.env == "development", _teams),
)


@dataclass
class Platforms:
    slack: SlackAdapter | None = None
    teams: TeamsRuntime | AgentsRuntime | None = None
    teams_sdk: str = "botbuilder"  # which SDK `teams` was built with
    runtimes: dict[Platform, Runtime] = field(default_factory=dict)  # every one built

    def mount(self, app: web.Application) -> None:
        for runtime in self.runtimes.values():
            runtime.mount(app)

    async def close(self) -> None:
        """Wait for the follow-ups the platforms still have in flight."""
        for runtime in self.runtimes.values():
            await runtime.close()


def build_platforms(services: Services, entries: Iterable[PlatformEntry] = PLATFORMS) -> Platforms:
    """Build every configured platform and register its messenger with the core.

    Raises the platform's configuration error (e.g. `TeamsConfigurationError`) when its
    settings are unsafe or incomplete."""
    settings = services.settings
    platforms = Platforms(teams_sdk=settings.teams_sdk)
    for entry in entries:
        if entry.configured(settings):
            runtime = entry.build(services)
            platforms.runtimes[entry.platform] = runtime
            services.add_messenger(entry.platform, runtime.messenger)
    # The two built in, by their own types, for the commands and tests that reach into them.
    platforms.slack = cast("SlackAdapter | None", _adapter(platforms, Platform.SLACK))
    platforms.teams = cast(
        "TeamsRuntime | AgentsRuntime | None", _adapter(platforms, Platform.TEAMS)
    )
    return platforms


def _adapter(platforms: Platforms, platform: Platform) -> object | None:
    runtime = platforms.runtimes.get(platform)
    return runtime.adapter if isinstance(runtime, _Built) else None


def mount_teams(app: web.Application, platforms: Platforms) -> None:
    """``POST /api/messages`` on the SDK the Teams runtime was built with."""
    if platforms.teams is not None:
        _mount_teams(app, platforms.teams, platforms.teams_sdk)


def _mount_teams(app: web.Application, runtime: TeamsRuntime | AgentsRuntime, sdk: str) -> None:
    if sdk == "agents":
        from adapters.agents.runtime import AgentsRuntime
        from adapters.agents.runtime import mount as mount_agents

        assert isinstance(runtime, AgentsRuntime)
        mount_agents(app, runtime)
        return
    from adapters.teams.runtime import TeamsRuntime
    from adapters.teams.runtime import mount as mount_botbuilder

    assert isinstance(runtime, TeamsRuntime)
    mount_botbuilder(app, runtime)
