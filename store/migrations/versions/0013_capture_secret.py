"""capture: an index for unanswered e-mail follow-ups (a client's mail by direction and time)

The secret calendar address (capture_setup.feed_url) is encrypted at rest from this release:
rows kept in plain text before are encrypted the next time they are read or saved, or all at
once by `touchbase db rotate-keys`; no key is needed to run this migration.

Revision ID: 0013_capture_secret
Revises: 0012_triggers
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013_capture_secret"
down_revision: str | None = "0012_triggers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_capture_item_client_mail",
        "capture_item",
        ["workspace_id", "client_id", "state", "direction", "occurred_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_capture_item_client_mail", table_name="capture_item")
