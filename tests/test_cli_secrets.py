"""`touchbase export --with-secrets`, through the real command: off by default, a warning when
on, the file readable by its owner only; `touchbase import backup` takes either document, and
the address it brings back is stored encrypted. Key rotation through `touchbase db rotate-keys`.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

from store.secrets import TokenCipher
from tests.conftest import SECRET_KEY

SECRET_PART = "private-0c41d9e8b27a6f53"
FEED = f"https://calendar.example/{SECRET_PART}/basic.ics"


def touchbase(
    home: Path, *args: str, stdin: str = "", keys: str | None = SECRET_KEY
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT_APP_"))}
    env.pop("TOUCHBASE_SECRET_KEYS", None)
    env["DATABASE_URL"] = f"sqlite:///{home / 'touchbase.db'}"
    env["TOUCHBASE_SCHEDULER"] = "false"
    if keys is not None:
        env["TOUCHBASE_SECRET_KEYS"] = keys
    home.mkdir(exist_ok=True)
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=home,
        env=env,
        timeout=60,
    )


def database_bytes(home: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(home.glob("touchbase.db*")))


def private(path: Path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) == 0o600


def setups(document: dict[str, object]) -> dict[str, dict[str, object]]:
    return {s["user"]: s for s in document["capture"]}  # type: ignore[attr-defined, index]


def test_export_with_secrets_is_opt_in_warned_private_and_restores(tmp_path: Path) -> None:
    home = tmp_path / "firm"
    run = touchbase(
        home,
        "console",
        "--user",
        "jane",
        stdin=f"/client add Acme\n/touchbase calendar {FEED}\n",
    )
    assert run.returncode == 0, run.stderr
    assert "Saved your calendar's address" in run.stdout
    assert SECRET_PART.encode() not in database_bytes(home)  # encrypted at rest

    plain = touchbase(home, "export", "--output", "plain.json")
    assert plain.returncode == 0, plain.stderr
    assert "Warning" not in plain.stderr and "secret" not in plain.stderr.lower()
    assert private(home / "plain.json")
    plain_doc = json.loads((home / "plain.json").read_text())
    assert plain_doc["contains_secrets"] is False
    assert SECRET_PART not in json.dumps(plain_doc)
    assert "calendar_address" not in setups(plain_doc)["jane"]

    (home / "full.json").write_text("left by an earlier run")
    os.chmod(home / "full.json", 0o644)
    full = touchbase(home, "export", "--with-secrets", "--output", "full.json")
    assert full.returncode == 0, full.stderr
    assert "Warning: this export holds secrets" in full.stderr
    assert private(home / "full.json")  # 0600, even where the file was readable before
    full_doc = json.loads((home / "full.json").read_text())
    assert full_doc["contains_secrets"] is True
    assert setups(full_doc)["jane"]["calendar_address"] == FEED

    piped = touchbase(home, "export", "--with-secrets")  # to a pipe, not a terminal
    assert piped.returncode == 0 and "Warning" in piped.stderr
    assert json.loads(piped.stdout) == full_doc
    csv = touchbase(home, "export", "--with-secrets", "--format", "csv")
    assert csv.returncode == 2 and "--format json" in csv.stderr and not csv.stdout

    # Restore takes both documents; the address comes back encrypted, only from the full one.
    for name, doc, address in (("full", full_doc, FEED), ("plain", plain_doc, None)):
        other = tmp_path / f"restored-{name}"
        other.mkdir()
        (other / "backup.json").write_text(json.dumps(doc))
        restored = touchbase(other, "import", "backup", "backup.json")
        assert restored.returncode == 0, restored.stderr
        assert "1 capture setups" in restored.stdout, restored.stdout
        assert SECRET_PART.encode() not in database_bytes(other)
        again = touchbase(other, "export", "--with-secrets")
        assert again.returncode == 0, again.stderr
        assert setups(json.loads(again.stdout))["jane"]["calendar_address"] == address

    # Without a key the address is not restored in plain text: nothing is.
    keyless = tmp_path / "keyless"
    keyless.mkdir()
    (keyless / "backup.json").write_text(json.dumps(full_doc))
    refused = touchbase(keyless, "import", "backup", "backup.json", keys=None)
    assert refused.returncode == 1
    assert "TOUCHBASE_SECRET_KEYS" in refused.stderr and "Nothing was restored" in refused.stderr
    assert SECRET_PART not in refused.stderr + refused.stdout
    assert SECRET_PART.encode() not in database_bytes(keyless)


def test_rotate_keys_moves_calendar_addresses_to_the_new_key(tmp_path: Path) -> None:
    home = tmp_path / "firm"
    touchbase(home, "console", "--user", "jane", stdin=f"/touchbase calendar {FEED}\n")
    new = TokenCipher.new_key()
    rotated = touchbase(home, "db", "rotate-keys", keys=f"{new},{SECRET_KEY}")
    assert rotated.returncode == 0, rotated.stderr
    assert "1 calendar address(es) now encrypted with the first key" in rotated.stdout
    only_new = touchbase(home, "export", "--with-secrets", keys=new)
    assert only_new.returncode == 0, only_new.stderr
    assert setups(json.loads(only_new.stdout))["jane"]["calendar_address"] == FEED
    old_only = touchbase(home, "export", "--with-secrets", keys=SECRET_KEY)
    assert old_only.returncode == 1
    assert "calendar address cannot be decrypted" in old_only.stderr
    assert SECRET_PART not in old_only.stderr + old_only.stdout
