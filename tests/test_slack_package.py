"""What `touchbase serve` reads at run time ships in the installed package: built as a wheel and
run from it, away from the source tree (OAuth mode reads the Slack manifest for its scopes)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow

PROBE = """
import json, sys
from pathlib import Path
import adapters.manifests as m
from store.db import MIGRATIONS
here = Path(sys.argv[1]).resolve()
assert Path(m.__file__).resolve().is_relative_to(here), m.__file__
manifest = m.slack_manifest()
print(json.dumps({
    "name": manifest["display_information"]["name"],
    "scopes": sorted(m.declared_bot_scopes(manifest)),
    "events": m.bot_events(manifest),
    "migrations": sorted(p.name for p in (MIGRATIONS / "versions").glob("0*.py")),
    "env": (MIGRATIONS / "env.py").is_file(),
}))
"""


@pytest.fixture(scope="module", name="wheel")
def wheel_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if built.returncode != 0:
        pytest.skip(f"could not build a wheel here: {built.stderr.strip()[-300:]}")
    [wheel] = out.glob("touchbase-*.whl")
    return wheel


def test_the_wheel_carries_the_slack_manifest(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        shipped = json.loads(archive.read("adapters/slack/manifest.json"))
    assert shipped == json.loads((ROOT / "manifest.json").read_text(encoding="utf-8"))
    assert "store/migrations/env.py" in names


def test_the_manifest_loads_from_an_installed_wheel(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}
    ran = subprocess.run(
        [sys.executable, "-P", "-c", PROBE, str(site)],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ran.returncode == 0, ran.stderr
    found = json.loads(ran.stdout)
    assert found["name"] == "Touchbase"
    assert "chat:write" in found["scopes"]
    assert "app_mention" in found["events"]
    assert found["env"] and found["migrations"]
