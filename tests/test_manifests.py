"""The Slack and Teams app manifests: schema-valid, in step with the catalog, least privilege."""

from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from adapters.manifests import (
    EVENT_SCOPES,
    SCOPE_REASONS,
    build_teams_package,
    missing_scopes,
    slack_manifest,
    teams_manifest,
)
from bot.catalog import COMMANDS

SCHEMAS = Path(__file__).resolve().parent / "schemas"
BOT_ID = "0f5e2b6a-3c1d-4e8f-9a7b-2d4c6e8f0a1b"
PUBLIC_HOST = "touchbase.example.com"


def _validate(instance: dict[str, Any], schema_file: str) -> None:
    schema = json.loads((SCHEMAS / schema_file).read_text(encoding="utf-8"))
    validator = jsonschema.Draft7Validator(schema)
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in errors
    )


@pytest.fixture(scope="module")
def slack() -> dict[str, Any]:
    return slack_manifest()


# --- Slack ---------------------------------------------------------------------------------


def test_slack_manifest_matches_the_schema(slack: dict[str, Any]) -> None:
    _validate(slack, "slack-manifest-1.0.0.schema.json")


def test_slack_display_information(slack: dict[str, Any]) -> None:
    info = slack["display_information"]
    assert info["name"] == "Touchbase"
    assert 175 <= len(info.get("long_description", "x" * 175)) <= 4000
    assert len(info["description"]) <= 140
    assert info["background_color"].startswith("#") and len(info["background_color"]) == 7
    bot_user = slack["features"]["bot_user"]
    assert bot_user == {"display_name": "touchbase", "always_online": True}
    assert slack["features"]["app_home"] == {
        "home_tab_enabled": True,
        "messages_tab_enabled": True,
        "messages_tab_read_only_enabled": False,
    }


def test_slack_commands_are_the_catalog(slack: dict[str, Any]) -> None:
    commands = slack["features"]["slash_commands"]
    assert [c["command"] for c in commands] == [f"/{c.name}" for c in COMMANDS]
    for spec, command in zip(COMMANDS, commands, strict=True):
        # Escaped so that mentions arrive as <@U123|name>, which the adapter parses.
        assert command["should_escape"] is True, command["command"]
        assert command["description"] == spec.description
        assert 1 <= len(command["description"]) <= 2000
        assert len(command["command"]) <= 32
        if spec.usage:
            assert command["usage_hint"] == spec.usage
            assert len(command["usage_hint"]) <= 1000
        else:
            assert "usage_hint" not in command  # Slack rejects an empty hint
        assert command["url"] == f"https://{PUBLIC_HOST}/slack/events"


def test_slack_log_as_touch_shortcut(slack: dict[str, Any]) -> None:
    shortcuts = {s["callback_id"]: s for s in slack["features"]["shortcuts"]}
    assert "log_as_touch" in shortcuts
    shortcut = shortcuts["log_as_touch"]
    assert shortcut["type"] == "message"
    assert shortcut["name"] == "Log as touch"
    assert shortcut["description"]


def test_slack_every_event_has_its_scopes(slack: dict[str, Any]) -> None:
    events = slack["settings"]["event_subscriptions"]["bot_events"]
    assert set(events) <= set(EVENT_SCOPES), "add new events to EVENT_SCOPES"
    assert missing_scopes(slack) == {}


def test_slack_scopes_are_least_privilege(slack: dict[str, Any]) -> None:
    declared = slack["oauth_config"]["scopes"]["bot"]
    assert len(declared) == len(set(declared))
    assert set(declared) == set(SCOPE_REASONS), (
        "every declared scope needs a reason in SCOPE_REASONS, and every reason a scope"
    )
    assert all(reason.strip() for reason in SCOPE_REASONS.values())
    assert "user" not in slack["oauth_config"]["scopes"]
    # Slash commands and shortcuts both ride on the commands scope.
    assert "commands" in declared
    for needed in EVENT_SCOPES.values():
        assert needed <= set(SCOPE_REASONS)


def test_slack_urls_and_settings(slack: dict[str, Any]) -> None:
    events_url = f"https://{PUBLIC_HOST}/slack/events"
    settings = slack["settings"]
    assert settings["event_subscriptions"]["request_url"] == events_url
    assert settings["interactivity"] == {
        "is_enabled": True,
        "request_url": events_url,
        "message_menu_options_url": events_url,
    }
    assert settings["socket_mode_enabled"] is False
    assert settings["org_deploy_enabled"] is False
    assert settings["token_rotation_enabled"] is False
    assert slack["oauth_config"]["redirect_urls"] == [f"https://{PUBLIC_HOST}/slack/oauth_redirect"]


def test_missing_scopes_reports_what_is_missing() -> None:
    manifest = {
        "oauth_config": {"scopes": {"bot": ["commands"]}},
        "settings": {"event_subscriptions": {"bot_events": ["message.im", "app_home_opened"]}},
    }
    assert missing_scopes(manifest) == {"message.im": {"im:history"}}
    with pytest.raises(ValueError, match=r"reaction_added"):
        missing_scopes({"settings": {"event_subscriptions": {"bot_events": ["reaction_added"]}}})


# --- Teams ---------------------------------------------------------------------------------


def test_teams_manifest_matches_the_schema() -> None:
    _validate(teams_manifest(BOT_ID), "teams-manifest-v1.17.schema.json")
    _validate(
        teams_manifest(
            BOT_ID,
            app_id="6d1f0c2e-8b4a-4f3e-9c5d-7a2b1e0f3c4d",
            version="2.3.4",
            public_url=f"https://{PUBLIC_HOST}/api/messages",
        ),
        "teams-manifest-v1.17.schema.json",
    )


def test_teams_manifest_commands_are_the_catalog() -> None:
    manifest = teams_manifest(BOT_ID)
    (bot,) = manifest["bots"]
    assert bot["botId"] == BOT_ID
    assert set(bot["scopes"]) == {"personal", "team", "groupChat"}
    (command_list,) = bot["commandLists"]
    commands = command_list["commands"]
    assert len(commands) <= 10
    assert [c["title"] for c in commands] == [c.name for c in COMMANDS]
    assert [c["description"] for c in commands] == [c.description for c in COMMANDS]
    assert all(len(c["title"]) <= 32 for c in commands)
    assert all(len(c["description"]) <= 128 for c in commands)


def test_teams_manifest_limits_and_identity() -> None:
    manifest = teams_manifest(BOT_ID)
    assert manifest["manifestVersion"] == "1.17"
    assert len(manifest["name"]["short"]) <= 30
    assert len(manifest["name"]["full"]) <= 100
    assert len(manifest["description"]["short"]) <= 80
    assert len(manifest["description"]["full"]) <= 4000
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}
    assert manifest["accentColor"] == "#2E6B5E"
    assert manifest["validDomains"] == []
    # The app id is derived from the bot id: stable, and distinct per bot.
    assert manifest["id"] == teams_manifest(BOT_ID)["id"]
    assert manifest["id"] != teams_manifest("1" * 8 + "-1111-1111-1111-" + "1" * 12)["id"]
    assert manifest["id"] != BOT_ID
    given = "6d1f0c2e-8b4a-4f3e-9c5d-7a2b1e0f3c4d"
    assert teams_manifest(BOT_ID, app_id=given)["id"] == given
    with_url = teams_manifest(BOT_ID, public_url=f"https://{PUBLIC_HOST}/api/messages")
    assert with_url["validDomains"] == [PUBLIC_HOST]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"bot_id": "not-a-guid"},
        {"bot_id": BOT_ID, "name": "T" * 31},
        {"bot_id": BOT_ID, "version": "1.0"},
        {"bot_id": BOT_ID, "privacy_url": "http://example.com/privacy"},
    ],
)
def test_teams_manifest_rejects_bad_input(kwargs: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        teams_manifest(**kwargs)


# --- The Teams package ---------------------------------------------------------------------


def _png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + body), kind
        chunks.append((kind, body))
        pos += 12 + length
    assert chunks[0][0] == b"IHDR" and chunks[-1][0] == b"IEND"
    return chunks


def _png_header(data: bytes) -> tuple[int, int, int, int]:
    """(width, height, bit depth, colour type) from the IHDR chunk."""
    ihdr = _png_chunks(data)[0][1]
    width, height, depth, color_type = struct.unpack(">IIBB", ihdr[:10])
    return width, height, depth, color_type


def _png_pixels(data: bytes, channels: int) -> list[list[tuple[int, ...]]]:
    """Decode an 8-bit, non-interlaced PNG whose rows all use filter type 0."""
    width, height, depth, _ = _png_header(data)
    assert depth == 8
    raw = zlib.decompress(b"".join(body for kind, body in _png_chunks(data) if kind == b"IDAT"))
    stride = 1 + width * channels
    assert len(raw) == stride * height
    rows = []
    for y in range(height):
        line = raw[y * stride : (y + 1) * stride]
        assert line[0] == 0, "expected filter type 0"
        rows.append([tuple(line[1 + x * channels : 1 + (x + 1) * channels]) for x in range(width)])
    return rows


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = build_teams_package(tmp_path_factory.mktemp("teams") / "app.zip", BOT_ID)
    return path.read_bytes()


def test_teams_package_holds_the_three_files(package: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        assert archive.testzip() is None
        manifest = json.loads(archive.read("manifest.json"))
    assert manifest["bots"][0]["botId"] == BOT_ID
    assert manifest == teams_manifest(BOT_ID)
    _validate(manifest, "teams-manifest-v1.17.schema.json")


def test_teams_package_icons(package: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        color, outline = archive.read("color.png"), archive.read("outline.png")
    assert _png_header(color)[:2] == (192, 192)
    assert _png_header(outline) == (32, 32, 8, 6)  # RGBA: the outline needs transparency

    color_type = _png_header(color)[3]
    pixels = _png_pixels(color, {2: 3, 6: 4}[color_type])
    assert len({p[:3] for row in pixels for p in row}) > 2, "a full-colour icon, not blank"
    assert pixels[0][0][:3] == (0x2E, 0x6B, 0x5E)  # the accent colour as background

    outline_pixels = [p for row in _png_pixels(outline, 4) for p in row]
    for red, green, blue, alpha in outline_pixels:
        assert alpha == 0 or (red, green, blue) == (255, 255, 255)
    assert any(p[3] == 0 for p in outline_pixels)
    assert any(p[3] == 255 for p in outline_pixels)


def test_teams_package_is_deterministic(tmp_path: Path) -> None:
    first = build_teams_package(tmp_path / "a.zip", BOT_ID).read_bytes()
    second = build_teams_package(tmp_path / "b.zip", BOT_ID).read_bytes()
    assert first == second
    other = build_teams_package(tmp_path / "c.zip", BOT_ID, version="1.0.1").read_bytes()
    assert other != first


def test_teams_package_into_a_directory(tmp_path: Path) -> None:
    path = build_teams_package(tmp_path, BOT_ID)
    assert path == tmp_path / "touchbase-teams.zip"
    assert zipfile.is_zipfile(path)
