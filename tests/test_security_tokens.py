"""Slack OAuth bot tokens are encrypted at rest with Fernet (TOUCHBASE_SECRET_KEYS), on both
engines: the database row never holds the token, a token stored in plain text before this or
under an old key is re-encrypted with the first key when read, and a missing key is said
plainly. (The access log without query strings is tested in test_fault_slowloris.py, on a real
`touchbase serve`.)"""

from __future__ import annotations

import json

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy import select, update

from app.platforms import token_cipher
from app.settings import Settings
from store import slack_installations
from store.models import SlackInstallationRow
from store.repositories import SqlStore
from store.secrets import SecretKeyError, TokenCipher
from tests.slack_helpers import (  # noqa: F401  (fixtures)
    SECRET_KEY,
    Harness,
    install,
    oauth_fixture,
    slack_fake_fixture,
)

pytestmark = pytest.mark.security


async def raw_rows(store: SqlStore) -> list[dict[str, object]]:
    async with store.sessions() as s:
        return [dict(row.data) for row in await s.scalars(select(SlackInstallationRow))]


async def test_the_stored_installation_holds_no_token(oauth: Harness) -> None:
    await install(oauth)
    [row] = await raw_rows(oauth.store)
    token = json.dumps(row)
    assert "xoxb-" not in token
    assert str(row["bot_token"]).startswith("fernet:")
    # and the server still uses it: the token reaches Slack decrypted
    status, body = await oauth.command("add Acme", command="/client")
    assert status == 200 and "Added Acme" in body["text"]
    assert all(c.token.startswith("xoxb-T0FAKE-") for c in oauth.fake.calls("users.info"))


async def test_plain_and_old_key_tokens_are_re_encrypted_with_the_first_key(
    oauth: Harness,
) -> None:
    await install(oauth)
    old = TokenCipher([SECRET_KEY])
    data = await slack_installations.find_installation(oauth.store, None, "T0FAKE", old)
    assert data is not None
    plain = data["bot_token"]
    # as stored before encryption: in plain text
    async with oauth.store.sessions() as s:
        await s.execute(update(SlackInstallationRow).values(data=data))
        await s.commit()
    new_key = Fernet.generate_key().decode()
    rotated = TokenCipher([new_key, SECRET_KEY])
    again = await slack_installations.find_installation(oauth.store, None, "T0FAKE", rotated)
    assert again is not None and again["bot_token"] == plain
    [row] = await raw_rows(oauth.store)
    assert str(row["bot_token"]).startswith("fernet:")
    only_new = TokenCipher([new_key])
    found = await slack_installations.find_installation(oauth.store, None, "T0FAKE", only_new)
    assert found is not None and found["bot_token"] == plain

    # under the old key, rotate-keys moves every installation to the new one
    await slack_installations.save_installation(oauth.store, None, "T0FAKE", found, old)
    assert await slack_installations.rotate_keys(oauth.store, rotated) == 1
    assert await slack_installations.rotate_keys(oauth.store, rotated) == 0
    found = await slack_installations.find_installation(oauth.store, None, "T0FAKE", only_new)
    assert found is not None and found["bot_token"] == plain

    with pytest.raises(SecretKeyError, match="missing"):
        other = TokenCipher([Fernet.generate_key().decode()])
        await slack_installations.find_installation(oauth.store, None, "T0FAKE", other)


def test_oauth_without_a_key_is_refused_with_what_to_do(db_url: str) -> None:
    settings = Settings(_env_file=None, database_url=db_url)  # type: ignore[call-arg]
    settings.slack.client_id = "1111.2222"
    settings.slack.client_secret = SecretStr("client-secret")
    settings.slack.signing_secret = SecretStr("s")
    assert settings.slack.oauth_enabled
    with pytest.raises(SecretKeyError, match="touchbase db new-key"):
        token_cipher(settings)
    settings.secret_keys = SecretStr("not-a-key")
    with pytest.raises(SecretKeyError, match="Fernet keys"):
        token_cipher(settings)
