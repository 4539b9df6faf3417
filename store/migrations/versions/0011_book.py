"""a touch's contact as it is compared (case-folded, accents aside), for follow-ups

Revision ID: 0011_book
Revises: 0009_capture
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.rules import contact_key

revision: str = "0011_book"
down_revision: str | None = "0009_capture"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("touch", schema=None) as batch_op:
        batch_op.add_column(sa.Column("contact_key", sa.String(length=200), nullable=True))
    touch = sa.table(
        "touch", sa.column("id", sa.Integer), sa.column("contact", sa.String), sa.column("contact_key", sa.String)
    )
    bind = op.get_bind()
    rows = bind.execute(sa.select(touch.c.id, touch.c.contact).where(touch.c.contact.is_not(None)))
    keys = [{"i": r[0], "k": contact_key(r[1])} for r in rows]
    if keys:
        bind.execute(
            touch.update().where(touch.c.id == sa.bindparam("i")).values(contact_key=sa.bindparam("k")),
            keys,
        )


def downgrade() -> None:
    with op.batch_alter_table("touch", schema=None) as batch_op:
        batch_op.drop_column("contact_key")
