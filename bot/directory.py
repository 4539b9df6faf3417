"""What the platform adapters ask of the core outside a command: the workspace and person a
request comes from, the clients a type-ahead matches, the people of the web chat, the firm
dashboard's figures, whether a delivery is new, and a workspace's uninstall.

The platforms never open a unit of work themselves; they call these use cases, which reach the
store only through the ports in `bot/ports.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Protocol

from bot.commands.touch import offered, search_clients
from bot.config import CoreConfig
from bot.dashboard import Dashboard, firm_dashboard
from bot.domain import Client, Person, Platform, Workspace
from bot.inbound import Identity
from bot.ports import ReportsRepo, Store
from bot.privacy import is_outsider


class DeliveryLog(Protocol):
    """The deliveries already handled, so a platform's retry is processed once."""

    async def claim(self, platform: str, event_key: str) -> bool:
        """True the first time (platform, event_key) is seen; False for a repeat."""
        ...


class Directory:
    def __init__(
        self,
        store: Store,
        config: CoreConfig,
        *,
        deliveries: DeliveryLog,
        reports: Callable[[int], ReportsRepo],
    ) -> None:
        self._store = store
        self._config = config
        self._deliveries = deliveries
        self._reports = reports

    async def workspace(
        self, platform: Platform, workspace_key: str, name: str | None = None
    ) -> Workspace:
        """The workspace of that platform and key, made on first sight."""
        return await self._store.workspace(platform, workspace_key, name)

    async def workspaces(self) -> list[Workspace]:
        return await self._store.workspaces()

    async def known_person(
        self,
        platform: Platform,
        workspace_key: str,
        user_id: str,
        workspace_name: str | None = None,
    ) -> tuple[Workspace, Person | None]:
        """The person as stored (their remembered profile and when it was refreshed), if any."""
        workspace = await self._store.workspace(platform, workspace_key, workspace_name)
        async with self._store.unit(workspace.id) as uow:
            return workspace, await uow.people.by_platform_id(user_id)

    async def remember(self, who: Identity) -> None:
        """Store a person and their direct address without running a command (a platform's
        first delivery to a new personal conversation). Never an outsider (bot/privacy.py)."""
        if is_outsider(who):
            return
        workspace = await self._store.workspace(who.platform, who.workspace_key, who.workspace_name)
        async with self._store.unit(workspace.id) as uow:
            await uow.people.ensure(who.user_id, who.display_name, tz=who.tz, address=who.address)
            await uow.commit()

    async def people(self, workspace: Workspace) -> list[Person]:
        async with self._store.unit(workspace.id) as uow:
            return await uow.people.list()

    async def clients(self, workspace: Workspace) -> list[Client]:
        async with self._store.unit(workspace.id) as uow:
            return await uow.clients.list()

    async def client_choices(self, workspace: Workspace) -> list[Client]:
        """The clients a picker offers (archived ones are not), by name."""
        return offered(await self.clients(workspace))

    async def search_clients(
        self, platform: Platform, workspace_key: str, query: str
    ) -> list[Client]:
        """The clients a type-ahead's text matches, best first."""
        workspace = await self._store.workspace(platform, workspace_key)
        return search_clients(query, await self.clients(workspace))

    async def uninstall(self, platform: Platform, workspace_key: str) -> Workspace:
        """The app was removed from a workspace: mark it inactive (its data stays)."""
        workspace = await self._store.workspace(platform, workspace_key)
        return await self._store.update_workspace(workspace.id, active=False)

    async def is_paused(self, platform: Platform, workspace_key: str) -> bool:
        workspace = await self._store.workspace(platform, workspace_key)
        return not workspace.active

    async def resume(self, platform: Platform, workspace_key: str) -> Workspace:
        """The app works in a paused workspace again (reinstalled, a new token): active again."""
        workspace = await self._store.workspace(platform, workspace_key)
        if workspace.active:
            return workspace
        return await self._store.update_workspace(workspace.id, active=True)

    async def first_delivery(self, platform: Platform, event_key: str) -> bool:
        return await self._deliveries.claim(platform.value, event_key)

    async def dashboard(self, workspace: Workspace, today: date) -> Dashboard:
        return await firm_dashboard(self._reports(workspace.id), today, self._config)
