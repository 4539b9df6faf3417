"""Which workspace a `touchbase` command acts on, and the list `touchbase workspaces` prints.

A command given `--workspace` uses that one. Without it, it uses the one workspace in use: the
Slack workspace of a single bot token, the Teams tenant, or, with neither configured, the local
trial. When several could be meant it names them and asks. Nothing here creates a workspace."""

from __future__ import annotations

from dataclasses import dataclass

from app.settings import Settings
from bot.domain import LOCAL_PLATFORM, LOCAL_WORKSPACE_KEY, Platform, Workspace
from store.repositories import SqlStore

LOCAL_PLATFORMS = (Platform.CONSOLE, Platform.WEB)


class WorkspaceChoiceError(Exception):
    """No workspace, or more than one, fits; the message says which there are."""


@dataclass(frozen=True, slots=True)
class WorkspaceLine:
    workspace: Workspace
    people: int
    clients: int
    active: bool

    @property
    def spec(self) -> str:
        return f"{self.workspace.platform.value}:{self.workspace.external_id}"


def platforms_in_use(settings: Settings) -> tuple[Platform, ...]:
    """The chat platforms this deployment serves; the local trial when it serves neither."""
    used: list[Platform] = []
    if settings.slack.configured:
        used.append(Platform.SLACK)
    if settings.teams.configured or settings.env == "development":
        used.append(Platform.TEAMS)
    return tuple(used) or LOCAL_PLATFORMS


async def _active(store: SqlStore, settings: Settings, ws: Workspace) -> bool:
    """Whether messages reach the workspace now: its platform is configured and, for an
    "Add to Slack" install, its token is still there (an uninstall removes it), and it is not
    paused (the app was uninstalled or its tokens revoked, and no valid request came since)."""
    if not ws.active:
        return False
    if ws.platform in LOCAL_PLATFORMS:
        return not settings.slack.configured and not settings.teams.configured
    if ws.platform is Platform.SLACK:
        if not settings.slack.configured:
            return False
        if settings.slack.bot_token is not None:
            return True
        from store.slack_installations import is_installed

        return await is_installed(store, None, ws.external_id)
    return settings.teams.configured or settings.env == "development"


async def workspace_lines(store: SqlStore, settings: Settings) -> list[WorkspaceLine]:
    lines = []
    for ws in await store.workspaces(include_paused=True):
        async with store.unit(ws.id) as uow:
            people = len(await uow.people.list())
            clients = len(await uow.clients.list())
        lines.append(WorkspaceLine(ws, people, clients, await _active(store, settings, ws)))
    return lines


def _named(lines: list[WorkspaceLine]) -> str:
    return ", ".join(f"{line.spec} ({line.workspace.name})" for line in lines)


async def choose_workspace(
    store: SqlStore, settings: Settings, spec: str | None
) -> Workspace | None:
    """The workspace to act on. None means the local trial, which does not exist yet (the
    caller decides whether that is an empty answer or a reason to create it). Raises
    WorkspaceChoiceError when none or several fit."""
    existing = await store.workspaces()
    if spec is not None:
        platform, sep, external = spec.strip().partition(":")
        if sep:
            try:
                chosen = Platform(platform.lower())
            except ValueError:
                raise WorkspaceChoiceError(
                    f"unknown platform {platform!r}: use slack, teams, console or web"
                ) from None
            found = [w for w in existing if w.platform is chosen and w.external_id == external]
        else:  # a key or a name alone, when only one workspace has it
            key = spec.strip().casefold()
            found = [w for w in existing if key in (w.external_id.casefold(), w.name.casefold())]
        if len(found) == 1:
            return found[0]
        lines = await workspace_lines(store, settings)
        if not found:
            raise WorkspaceChoiceError(
                f"no workspace {spec}: it appears once someone has used Touchbase there. "
                + (f"Workspaces: {_named(lines)}" if lines else "There are none yet.")
            )
        raise WorkspaceChoiceError(
            f"more than one workspace is called {spec}; name it as platform:key: "
            + _named([line for line in lines if line.workspace in found])
        )
    used = platforms_in_use(settings)
    candidates = [w for w in existing if w.platform in used]
    if used == LOCAL_PLATFORMS:
        local = [w for w in candidates if w.external_id == LOCAL_WORKSPACE_KEY]
        if len(candidates) <= 1 or len(local) == len(candidates):
            return local[0] if local else (candidates[0] if candidates else None)
    if len(candidates) == 1:
        return candidates[0]
    lines = [
        line for line in await workspace_lines(store, settings) if line.workspace in candidates
    ]
    if not candidates:
        which = " or ".join(p.value.capitalize() for p in used)
        raise WorkspaceChoiceError(
            f"no {which} workspace yet: it appears once someone has used Touchbase there."
        )
    raise WorkspaceChoiceError(
        f"{len(candidates)} workspaces could be meant; choose one with --workspace: "
        + ", ".join(line.spec for line in lines)
    )


def is_local(ws: Workspace | None) -> bool:
    return ws is None or (ws.platform is LOCAL_PLATFORM and ws.external_id == LOCAL_WORKSPACE_KEY)
