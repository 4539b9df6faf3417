"""Both Teams SDKs installed side by side: the environment is consistent, and a server started
for one SDK imports that SDK alone (in a fresh process, as `touchbase serve` would start)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]

STARTUP = """
import asyncio, json, sys
from app.bootstrap import bootstrap
from app.server import create_app
from app.settings import Settings

async def main():
    services = await bootstrap(Settings(_env_file=None), migrate=True)
    try:
        create_app(services)
    finally:
        await services.close()

asyncio.run(main())
roots = {name.split(".")[0] for name in sys.modules}
print(json.dumps(sorted(roots & {"botbuilder", "botframework", "microsoft_agents", "msal"})))
"""


def test_pip_check_is_clean_with_both_sdks_installed() -> None:
    assert version("botbuilder-core").startswith("4.17")
    assert version("botbuilder-integration-aiohttp").startswith("4.17")
    for name in ("activity", "hosting-core", "hosting-aiohttp", "authentication-msal"):
        assert version(f"microsoft-agents-{name}").startswith("1.")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "check"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    ("sdk", "loaded"),
    [
        ("botbuilder", ["botbuilder", "botframework", "msal"]),
        ("agents", ["microsoft_agents", "msal"]),
    ],
)
def test_start_up_imports_only_the_chosen_sdk(tmp_path: Path, sdk: str, loaded: list[str]) -> None:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SLACK_", "MICROSOFT_APP_", "TOUCHBASE_"))
    }
    env.update(
        TOUCHBASE_ENV="development",  # Teams without an app id: the Emulator's mode
        TOUCHBASE_TEAMS_SDK=sdk,
        TOUCHBASE_SCHEDULER="false",
        DATABASE_URL=f"sqlite:///{tmp_path / 'touchbase.db'}",
        TOUCHBASE_INTAKE_DIR=str(tmp_path / "intake"),
        PYTHONPATH=str(ROOT),
    )
    done = subprocess.run(
        [sys.executable, "-c", STARTUP],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == loaded
