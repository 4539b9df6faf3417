"""`touchbase teams-package`: the CLI path to the Teams app package. The manifest's content and
schema are tested in tests/test_manifests.py; here, that the command builds a valid package from
the settings, and refuses clearly without MICROSOFT_APP_ID."""

from __future__ import annotations

import json
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from adapters import manifests
from adapters.manifests import teams_manifest
from app.cli import main
from bot.catalog import COMMANDS, CommandSpec
from bot.commands import help as help_module
from bot.commands.help import help_message

BOT_ID = "0f5e2b6a-3c1d-4e8f-9a7b-2d4c6e8f0a1b"


@pytest.fixture
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No Teams variables from the environment, and no .env file: run from an empty folder."""
    for name in (
        "MICROSOFT_APP_ID",
        "MICROSOFT_APP_PASSWORD",
        "MICROSOFT_APP_TENANT_ID",
        "MICROSOFT_APP_TYPE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_builds_the_package_with_the_bot_id_from_settings(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MICROSOFT_APP_ID", BOT_ID)
    target = clean_env / "out" / "touchbase-teams.zip"

    assert main(["teams-package", "--output", str(target)]) == 0

    assert str(target) in capsys.readouterr().out
    with zipfile.ZipFile(target) as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(archive.read("manifest.json"))
    assert manifest == teams_manifest(BOT_ID)
    assert manifest["bots"][0]["botId"] == BOT_ID

    from tests.test_manifests import _validate  # the shared schema check; skips without it

    _validate(manifest, "teams-manifest-v1.17.schema.json")


def test_default_output_name_in_the_current_folder(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MICROSOFT_APP_ID", BOT_ID)
    assert main(["teams-package"]) == 0
    assert (clean_env / "touchbase-teams.zip").is_file()


def test_refuses_without_an_app_id(clean_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["teams-package"]) == 2
    assert "MICROSOFT_APP_ID is not set" in capsys.readouterr().err
    assert not (clean_env / "touchbase-teams.zip").exists()


def test_refuses_an_app_id_that_is_not_a_guid(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MICROSOFT_APP_ID", "not-a-guid")
    assert main(["teams-package"]) == 2
    assert "must be a GUID" in capsys.readouterr().err


# --- a catalog larger than Teams' command list ------------------------------------------------

EXTRA = tuple(
    CommandSpec(f"extra{i}", "<client>", f"Another command, number {i}", f"/extra{i} Acme")
    for i in range(3)
)


def test_builds_the_package_when_the_catalog_outgrows_the_teams_list(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    grown = (*COMMANDS, *EXTRA)
    assert len(grown) > manifests.TEAMS_MAX_COMMANDS
    monkeypatch.setattr(manifests, "COMMANDS", grown)
    monkeypatch.setenv("MICROSOFT_APP_ID", BOT_ID)
    target = clean_env / "touchbase-teams.zip"

    assert main(["teams-package", "--output", str(target)]) == 0

    with zipfile.ZipFile(target) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    (command_list,) = manifest["bots"][0]["commandLists"]
    titles = [c["title"] for c in command_list["commands"]]
    assert titles == [c.name for c in COMMANDS if c.teams]
    assert len(titles) <= manifests.TEAMS_MAX_COMMANDS
    assert not {"extra0", "extra1", "extra2"} & set(titles)


def test_help_lists_every_command_even_those_teams_does_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(help_module, "COMMANDS", (*COMMANDS, *EXTRA))
    listed = [f.label for s in help_message().sections for f in s.fields]
    for command in (*COMMANDS, *EXTRA):
        assert any(label.startswith(f"/{command.name}") for label in listed), command.name


def test_too_many_commands_flagged_for_teams_is_a_clear_error(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    flagged = tuple(replace(c, teams=True) for c in (*COMMANDS, *EXTRA))
    monkeypatch.setattr(manifests, "COMMANDS", flagged)
    monkeypatch.setenv("MICROSOFT_APP_ID", BOT_ID)

    assert main(["teams-package"]) == 2
    assert "at most 10 bot commands" in capsys.readouterr().err
