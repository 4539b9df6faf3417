"""The Slack and Microsoft Teams app manifests, and the Teams app package.

Pure functions, no network. The Slack manifest is the hand-kept ``manifest.json`` in the
``adapters.slack`` package (shipped with it; ``manifest.json`` at the repository root links to it) (pasteable as is at api.slack.com, "Create an app" > "From a manifest");
the Teams manifest is generated from the command catalog, and ``build_teams_package`` zips it
with its two icons, drawn here without any imaging library.
"""

from __future__ import annotations

import io
import json
import re
import struct
import uuid
import zipfile
import zlib
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot.catalog import COMMANDS

#: Inside the package, so an installed Touchbase (a wheel, not the source tree) finds it.
SLACK_MANIFEST_PATH = Path(__file__).resolve().parent / "slack" / "manifest.json"

# --- Slack ---------------------------------------------------------------------------------

#: Bot events Touchbase can subscribe to, and the bot scopes each one needs.
#: An event missing here is an error in ``missing_scopes``: add it with its scopes first.
EVENT_SCOPES: dict[str, frozenset[str]] = {
    "app_home_opened": frozenset(),
    "app_mention": frozenset({"app_mentions:read"}),
    "message.im": frozenset({"im:history"}),
    "app_uninstalled": frozenset(),
    "tokens_revoked": frozenset(),
}

#: Why each bot scope in manifest.json is needed. Least privilege: the manifest declares
#: exactly these scopes, no more (tests/test_manifests.py checks both ways).
SCOPE_REASONS: dict[str, str] = {
    "commands": "the slash commands and the 'Log as touch' message shortcut",
    "chat:write": (
        "reply to commands, post the morning DM, and post to the channel an admin chose "
        "by running /touchbase channel in it (the bot is a member there)"
    ),
    "im:write": "open the direct message with a person for the morning DM and handoff notes",
    "im:history": "receive messages people send the bot in its Messages tab (message.im)",
    "app_mentions:read": "receive @touchbase mentions in channels (app_mention)",
    "users:read": (
        "resolve @person in /owner and /touchbase role, and read each person's time zone "
        "to send the morning DM at their local morning"
    ),
    "channels:read": (
        "check, when an admin picks the relationships channel, that no other organisation "
        "shares it (conversations.info on a public channel)"
    ),
    "groups:read": "the same check for a private channel (conversations.info)",
    "users:read.email": "link a Slack user to the firm's people directory by work email",
}


def slack_manifest() -> dict[str, Any]:
    """The Slack app manifest, loaded from ``adapters/slack/manifest.json``."""
    if not SLACK_MANIFEST_PATH.is_file():
        raise FileNotFoundError(
            f"Slack app manifest not found at {SLACK_MANIFEST_PATH}: this installation of "
            "Touchbase is incomplete; reinstall it"
        )
    loaded = json.loads(SLACK_MANIFEST_PATH.read_text(encoding="utf-8"))
    if not isinstance(loaded, dict):
        raise ValueError(f"{SLACK_MANIFEST_PATH} does not hold a JSON object")
    return loaded


def declared_bot_scopes(manifest: Mapping[str, Any]) -> set[str]:
    """The bot scopes a Slack manifest requests."""
    scopes = manifest.get("oauth_config", {}).get("scopes", {}).get("bot", [])
    return set(scopes)


def bot_events(manifest: Mapping[str, Any]) -> list[str]:
    """The bot events a Slack manifest subscribes to."""
    events = manifest.get("settings", {}).get("event_subscriptions", {}).get("bot_events", [])
    return list(events)


def missing_scopes(manifest: Mapping[str, Any]) -> dict[str, set[str]]:
    """For each subscribed bot event, the scopes it needs that the manifest does not request.

    Events with nothing missing are left out, so an empty result means the manifest is
    consistent. Raises ``ValueError`` for an event not listed in ``EVENT_SCOPES``.
    """
    declared = declared_bot_scopes(manifest)
    events = bot_events(manifest)
    unknown = sorted(e for e in events if e not in EVENT_SCOPES)
    if unknown:
        raise ValueError(
            f"unknown Slack event(s) {', '.join(unknown)}: add them to EVENT_SCOPES "
            "with the scopes they need"
        )
    missing: dict[str, set[str]] = {}
    for event in events:
        lacking = set(EVENT_SCOPES[event]) - declared
        if lacking:
            missing[event] = lacking
    return missing


# --- Teams ---------------------------------------------------------------------------------

TEAMS_SCHEMA_URL = (
    "https://developer.microsoft.com/en-us/json-schemas/teams/v1.17/MicrosoftTeams.schema.json"
)
TEAMS_MANIFEST_VERSION = "1.17"
ACCENT_COLOR = "#2E6B5E"
TEAMS_BOT_SCOPES: tuple[str, ...] = ("personal", "team", "groupChat")
TEAMS_MAX_COMMANDS = 10
TEAMS_MAX_TITLE = 32
TEAMS_MAX_COMMAND_DESCRIPTION = 128

#: Namespace for the Teams app id derived from the bot id (uuid5), so one bot always gets
#: the same app id and re-uploading the package updates the app rather than adding another.
TEAMS_APP_ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://touchbase.example.com/teams-app")

DEFAULT_DEVELOPER_NAME = "Touchbase"
DEFAULT_WEBSITE_URL = "https://touchbase.example.com"
DEFAULT_PRIVACY_URL = "https://touchbase.example.com/privacy"
DEFAULT_TERMS_URL = "https://touchbase.example.com/terms"

_SHORT_DESCRIPTION = "Log client touchpoints and get a morning list of who is overdue."
_FULL_DESCRIPTION = (
    "Touchbase keeps a professional-services firm close to its clients. Log a call, lunch, "
    "email or visit in a few words; each morning it sends you a message listing the clients "
    "you own that are overdue for contact and the follow-ups you promised. See a client's "
    "card and history, review your portfolio, hand a client to a colleague with a personal "
    "handoff, and work through a guided repair checklist when a relationship sours."
)
_SEMVER = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")


def _guid(value: str, what: str) -> str:
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        raise ValueError(f"{what} must be a GUID, got {value!r}") from None
    return str(parsed)


def _https(value: str, what: str) -> str:
    if not value.lower().startswith("https://"):
        raise ValueError(f"{what} must be an https:// URL, got {value!r}")
    return value


def teams_app_id(bot_id: str) -> str:
    """The stable Teams app id for a bot: a uuid5 of the bot's Microsoft App ID."""
    return str(uuid.uuid5(TEAMS_APP_ID_NAMESPACE, _guid(bot_id, "bot_id")))


def teams_commands() -> list[dict[str, str]]:
    """The catalog commands flagged for Teams, as its bot commands (title without the slash),
    in catalog order. The catalog may hold more; these are the ones the Teams list shows."""
    chosen = [command for command in COMMANDS if command.teams]
    if len(chosen) > TEAMS_MAX_COMMANDS:
        raise ValueError(
            f"Teams allows at most {TEAMS_MAX_COMMANDS} bot commands, {len(chosen)} are "
            "flagged teams=True in bot/catalog.py"
        )
    commands = []
    for command in chosen:
        if len(command.name) > TEAMS_MAX_TITLE:
            raise ValueError(f"command {command.name!r} is longer than {TEAMS_MAX_TITLE}")
        if len(command.description) > TEAMS_MAX_COMMAND_DESCRIPTION:
            raise ValueError(f"the description of {command.name!r} is too long for Teams")
        commands.append({"title": command.name, "description": command.description})
    return commands


def teams_manifest(
    bot_id: str,
    *,
    app_id: str | None = None,
    version: str = "1.0.0",
    name: str = "Touchbase",
    developer_name: str = DEFAULT_DEVELOPER_NAME,
    website_url: str = DEFAULT_WEBSITE_URL,
    privacy_url: str = DEFAULT_PRIVACY_URL,
    terms_url: str = DEFAULT_TERMS_URL,
    public_url: str | None = None,
) -> dict[str, Any]:
    """A Microsoft Teams app manifest (v1.17) for the Touchbase bot.

    ``bot_id`` is the bot's Microsoft App ID (a GUID). Without ``app_id`` the app id is
    derived from it, so it is stable across builds. ``public_url``, when given, puts its host
    in ``validDomains``.
    """
    bot_guid = _guid(bot_id, "bot_id")
    if not _SEMVER.match(version):
        raise ValueError(f"version must be MAJOR.MINOR.PATCH, got {version!r}")
    if not 0 < len(name) <= 30:
        raise ValueError(f"name must be 1 to 30 characters for Teams, got {name!r}")
    if len(developer_name) > 32:
        raise ValueError("developer_name must be at most 32 characters")
    valid_domains: list[str] = []
    if public_url is not None:
        host = urlsplit(_https(public_url, "public_url")).hostname
        if not host:
            raise ValueError(f"public_url has no host: {public_url!r}")
        valid_domains.append(host)
    commands = teams_commands()
    return {
        "$schema": TEAMS_SCHEMA_URL,
        "manifestVersion": TEAMS_MANIFEST_VERSION,
        "version": version,
        "id": _guid(app_id, "app_id") if app_id is not None else teams_app_id(bot_guid),
        "developer": {
            "name": developer_name,
            "websiteUrl": _https(website_url, "website_url"),
            "privacyUrl": _https(privacy_url, "privacy_url"),
            "termsOfUseUrl": _https(terms_url, "terms_url"),
        },
        "name": {"short": name, "full": f"{name}: client touchpoints and follow-ups"},
        "description": {"short": _SHORT_DESCRIPTION, "full": _FULL_DESCRIPTION},
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": ACCENT_COLOR,
        "bots": [
            {
                "botId": bot_guid,
                "scopes": list(TEAMS_BOT_SCOPES),
                "supportsFiles": False,
                "isNotificationOnly": False,
                "commandLists": [{"scopes": list(TEAMS_BOT_SCOPES), "commands": commands}],
            }
        ],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": valid_domains,
    }


# --- Icons (PNG, drawn in pure Python) -------------------------------------------------------

COLOR_ICON_SIZE = 192
OUTLINE_ICON_SIZE = 32
_SUPERSAMPLE = 4
_RGB = tuple[int, int, int]
_WHITE: _RGB = (255, 255, 255)


def _hex_rgb(color: str) -> _RGB:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def _in_mark(x: float, y: float) -> bool:
    """The Touchbase mark in unit coordinates: a ring around a bold "T"."""
    dx, dy = x - 0.5, y - 0.5
    r2 = dx * dx + dy * dy
    ring = 0.37**2 <= r2 <= 0.45**2
    bar = 0.31 <= x <= 0.69 and 0.30 <= y <= 0.41
    stem = 0.445 <= x <= 0.555 and 0.30 <= y <= 0.71
    return ring or bar or stem


def _coverage(size: int) -> list[list[float]]:
    """The fraction of each pixel covered by the mark, anti-aliased by supersampling."""
    n = _SUPERSAMPLE
    step = 1.0 / (size * n)
    offsets = [(i + 0.5) * step for i in range(n)]
    rows = []
    for py in range(size):
        row = []
        for px in range(size):
            x0, y0 = px / size, py / size
            hits = sum(_in_mark(x0 + ox, y0 + oy) for oy in offsets for ox in offsets)
            row.append(hits / (n * n))
        rows.append(row)
    return rows


def _png(width: int, height: int, color_type: int, rows: list[bytes]) -> bytes:
    """Encode 8-bit rows (no filter) as a PNG: colour type 2 = RGB, 6 = RGBA."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    raw = b"".join(b"\x00" + row for row in rows)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def _blend(background: _RGB, foreground: _RGB, alpha: float) -> bytes:
    return bytes(round(b + (f - b) * alpha) for b, f in zip(background, foreground, strict=True))


@cache
def color_icon_png() -> bytes:
    """The 192×192 full-colour icon: the white mark on the accent colour."""
    background = _hex_rgb(ACCENT_COLOR)
    rows = [
        b"".join(_blend(background, _WHITE, c) for c in row) for row in _coverage(COLOR_ICON_SIZE)
    ]
    return _png(COLOR_ICON_SIZE, COLOR_ICON_SIZE, 2, rows)


@cache
def outline_icon_png() -> bytes:
    """The 32×32 outline icon: the mark in white on a transparent background."""
    rows = [
        b"".join(bytes((*_WHITE, round(255 * c))) for c in row)
        for row in _coverage(OUTLINE_ICON_SIZE)
    ]
    return _png(OUTLINE_ICON_SIZE, OUTLINE_ICON_SIZE, 6, rows)


# --- The Teams app package -----------------------------------------------------------------

TEAMS_PACKAGE_NAME = "touchbase-teams.zip"
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def _zip_entry(archive: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3  # Unix, whatever the building machine
    info.external_attr = 0o100644 << 16
    archive.writestr(info, data, compresslevel=9)


def build_teams_package(
    output: Path,
    bot_id: str,
    *,
    app_id: str | None = None,
    version: str = "1.0.0",
    name: str = "Touchbase",
    developer_name: str = DEFAULT_DEVELOPER_NAME,
    website_url: str = DEFAULT_WEBSITE_URL,
    privacy_url: str = DEFAULT_PRIVACY_URL,
    terms_url: str = DEFAULT_TERMS_URL,
    public_url: str | None = None,
) -> Path:
    """Write the Teams app package (manifest.json, color.png, outline.png) as a zip.

    ``output`` is the zip's path, or an existing directory to write ``touchbase-teams.zip``
    into. The same inputs always give byte-identical zips. Returns the path written.
    """
    manifest = teams_manifest(
        bot_id,
        app_id=app_id,
        version=version,
        name=name,
        developer_name=developer_name,
        website_url=website_url,
        privacy_url=privacy_url,
        terms_url=terms_url,
        public_url=public_url,
    )
    target = output / TEAMS_PACKAGE_NAME if output.is_dir() else output
    entries = (
        ("manifest.json", (json.dumps(manifest, indent=2) + "\n").encode("utf-8")),
        ("color.png", color_icon_png()),
        ("outline.png", outline_icon_png()),
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for entry_name, data in entries:
            _zip_entry(archive, entry_name, data)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(buffer.getvalue())
    return target
