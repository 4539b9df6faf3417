"""capture: client mail domains, captured meetings and e-mail headers, each person's capture setup

Revision ID: 0009_capture
Revises: 0008_perf
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0009_capture"
down_revision: str | None = "0008_perf"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "client_domain",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["client.id"], name=op.f("fk_client_domain_client_id_client"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspace.id"],
            name=op.f("fk_client_domain_workspace_id_workspace"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_client_domain")),
        sa.UniqueConstraint("workspace_id", "domain", name=op.f("uq_client_domain_workspace_id_domain")),
    )  # fmt: skip
    op.create_index(op.f("ix_client_domain_client_id"), "client_domain", ["client_id"])
    op.create_index(op.f("ix_client_domain_workspace_id"), "client_domain", ["workspace_id"])

    op.create_table(
        "capture_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("source_id", sa.String(length=400), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("contact", sa.String(length=200), nullable=True),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("touch_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["client.id"], name=op.f("fk_capture_item_client_id_client"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_capture_item_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["touch_id"], ["touch.id"], name=op.f("fk_capture_item_touch_id_touch"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspace.id"],
            name=op.f("fk_capture_item_workspace_id_workspace"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_capture_item")),
        sa.UniqueConstraint(
            "workspace_id", "source", "source_id",
            name=op.f("uq_capture_item_workspace_id_source_source_id"),
        ),
    )  # fmt: skip
    op.create_index(op.f("ix_capture_item_client_id"), "capture_item", ["client_id"])
    op.create_index(op.f("ix_capture_item_workspace_id"), "capture_item", ["workspace_id"])
    op.create_index(
        "ix_capture_item_person_state", "capture_item", ["workspace_id", "person_id", "state"]
    )

    op.create_table(
        "capture_setup",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("feed_url", sa.Text(), nullable=True),
        sa.Column("always_clients", sa.JSON(), nullable=False),
        sa.Column("cursors", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_capture_setup_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspace.id"],
            name=op.f("fk_capture_setup_workspace_id_workspace"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_capture_setup")),
        sa.UniqueConstraint(
            "workspace_id", "person_id", name=op.f("uq_capture_setup_workspace_id_person_id")
        ),
    )  # fmt: skip
    op.create_index(op.f("ix_capture_setup_workspace_id"), "capture_setup", ["workspace_id"])

    op.create_table(
        "capture_pass",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspace.id"],
            name=op.f("fk_capture_pass_workspace_id_workspace"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_capture_pass")),
        sa.UniqueConstraint("workspace_id", "key", name=op.f("uq_capture_pass_workspace_id_key")),
    )  # fmt: skip
    op.create_index(op.f("ix_capture_pass_workspace_id"), "capture_pass", ["workspace_id"])


def downgrade() -> None:
    op.drop_table("capture_pass")
    op.drop_table("capture_setup")
    op.drop_table("capture_item")
    op.drop_table("client_domain")
