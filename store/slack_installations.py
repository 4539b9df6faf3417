"""SQL for Slack OAuth installs: one bot installation per workspace (or org), and OAuth states.

bolt's installation and state stores (adapters/slack/installation_store.py) call these. An
installation is kept as the JSON bolt gives us, keyed by (enterprise_id, team_id); an empty
string stands for "none", so the unique constraint holds on every database. Its tokens are
encrypted (store/secrets.py): the database never holds one in plain text.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from store.models import SlackInstallationRow, SlackOAuthStateRow
from store.repositories import SqlStore
from store.secrets import TokenCipher


def _key(value: str | None) -> str:
    return value or ""


async def save_installation(
    store: SqlStore,
    enterprise_id: str | None,
    team_id: str | None,
    data: dict[str, Any],
    cipher: TokenCipher,
) -> None:
    """Insert or replace the installation for a workspace: the latest install wins."""
    ent, team = _key(enterprise_id), _key(team_id)
    data = cipher.seal(data)
    for _attempt in range(2):
        async with store.sessions() as s:
            row = await s.scalar(
                select(SlackInstallationRow).where(
                    SlackInstallationRow.enterprise_id == ent, SlackInstallationRow.team_id == team
                )
            )
            if row is None:
                s.add(
                    SlackInstallationRow(
                        enterprise_id=ent, team_id=team, data=data, installed_at=store.clock.now()
                    )
                )
            else:
                row.data = data
                row.installed_at = store.clock.now()
            try:
                await s.commit()
                return
            except IntegrityError:  # installed twice at once: the second write updates
                await s.rollback()
    raise RuntimeError("could not save the Slack installation")


async def find_installation(
    store: SqlStore, enterprise_id: str | None, team_id: str | None, cipher: TokenCipher
) -> dict[str, Any] | None:
    """The installation with its tokens decrypted; one stored in plain text or under an old
    key is encrypted again with the current key on the way."""
    async with store.sessions() as s:
        row = await s.scalar(
            select(SlackInstallationRow).where(
                SlackInstallationRow.enterprise_id == _key(enterprise_id),
                SlackInstallationRow.team_id == _key(team_id),
            )
        )
        if row is None:
            return None
        data, stale = cipher.open(row.data)
        if stale:
            row.data = cipher.seal(data)
            await s.commit()
        return data


async def is_installed(store: SqlStore, enterprise_id: str | None, team_id: str | None) -> bool:
    """Whether a workspace has an installation (its tokens are not read)."""
    async with store.sessions() as s:
        found = await s.scalar(
            select(SlackInstallationRow.id).where(
                SlackInstallationRow.enterprise_id == _key(enterprise_id),
                SlackInstallationRow.team_id == _key(team_id),
            )
        )
        return found is not None


async def rotate_keys(store: SqlStore, cipher: TokenCipher) -> int:
    """Encrypt every stored installation with the current (first) key; returns how many were
    rewritten. After it, the old keys can be removed."""
    rewritten = 0
    async with store.sessions() as s:
        for row in await s.scalars(select(SlackInstallationRow)):
            data, stale = cipher.open(row.data)
            if stale:
                row.data = cipher.seal(data)
                rewritten += 1
        await s.commit()
    return rewritten


async def delete_installation(
    store: SqlStore, enterprise_id: str | None, team_id: str | None
) -> int:
    """Remove a workspace's installation; returns how many rows went."""
    async with store.sessions() as s:
        result = await s.execute(
            delete(SlackInstallationRow).where(
                SlackInstallationRow.enterprise_id == _key(enterprise_id),
                SlackInstallationRow.team_id == _key(team_id),
            )
        )
        await s.commit()
        return int(getattr(result, "rowcount", 0) or 0)


async def issue_state(store: SqlStore, state: str, expires_at: datetime) -> None:
    async with store.sessions() as s:
        s.add(SlackOAuthStateRow(state=state, expires_at=expires_at))
        await s.commit()


async def consume_state(store: SqlStore, state: str) -> bool:
    """True once for a state that was issued and has not expired; it cannot be used again."""
    async with store.sessions() as s:
        row = await s.scalar(select(SlackOAuthStateRow).where(SlackOAuthStateRow.state == state))
        if row is None:
            return False
        await s.delete(row)
        await s.execute(
            delete(SlackOAuthStateRow).where(SlackOAuthStateRow.expires_at < store.clock.now())
        )
        await s.commit()
        return row.expires_at >= store.clock.now()
