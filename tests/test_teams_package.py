"""`touchbase teams-package`: the CLI path to the Teams app package. The manifest's content and
schema are tested in tests/test_manifests.py; here, that the command builds a valid package from
the settings, and refuses clearly without MICROSOFT_APP_ID."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from adapters.manifests import teams_manifest
from app.cli import main

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
