"""per-workspace versions of the client list and the people, bumped by triggers: replicas keep
their matching index and person cache in memory while the versions are unchanged

Revision ID: 0008_perf
Revises: 0006_parser
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_perf"
down_revision: str | None = "0006_parser"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = (("client", "clients_version"), ("person", "people_version"))
OPS = ("insert", "update", "delete")


def _triggers(dialect: str) -> list[str]:
    # A copy of store.models.version_trigger_ddl as it was at this revision.
    out: list[str] = []
    for table, column in TABLES:
        if dialect == "postgresql":
            function = f"touchbase_bump_{column}"
            out.append(
                f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                f"BEGIN UPDATE workspace SET {column} = {column} + 1 "
                "WHERE id IN (SELECT DISTINCT workspace_id FROM changed); RETURN NULL; END $$"
            )
            for name, transition in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
                out.append(
                    f"CREATE TRIGGER {table}_version_{name.lower()} AFTER {name} ON {table} "
                    f"REFERENCING {transition} TABLE AS changed FOR EACH STATEMENT "
                    f"EXECUTE FUNCTION {function}()"
                )
        else:
            for name, ids in (
                ("INSERT", "NEW.workspace_id"),
                ("UPDATE", "OLD.workspace_id, NEW.workspace_id"),
                ("DELETE", "OLD.workspace_id"),
            ):
                out.append(
                    f"CREATE TRIGGER IF NOT EXISTS {table}_version_{name.lower()} AFTER {name} "
                    f"ON {table} BEGIN UPDATE workspace SET {column} = {column} + 1 "
                    f"WHERE id IN ({ids}); END"
                )
    return out


def upgrade() -> None:
    with op.batch_alter_table("workspace", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("clients_version", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("people_version", sa.Integer(), server_default="0", nullable=False)
        )
    for statement in _triggers(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table, column in TABLES:
        for name in OPS:
            trigger = f"{table}_version_{name}"
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}" + (f" ON {table}" if postgres else ""))
        if postgres:
            op.execute(f"DROP FUNCTION IF EXISTS touchbase_bump_{column}()")
    with op.batch_alter_table("workspace", schema=None) as batch_op:
        batch_op.drop_column("people_version")
        batch_op.drop_column("clients_version")
