"""the version triggers bump on an update only when it changes a column the caches hold: an update
of anything else (a person's seniority), or one writing the values a row already has, leaves the
caches warm and takes no lock on the workspace row

Revision ID: 0012_triggers
Revises: 0010_sessions
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012_triggers"
down_revision: str | None = "0010_sessions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A copy of store.models.CACHED_COLUMNS and version_trigger_ddl's update triggers as they were
# at this revision (the insert and delete triggers are 0008's, unchanged).
TABLES = (("client", "clients_version"), ("person", "people_version"))
CACHED = {
    "client": (
        "id",
        "workspace_id",
        "name",
        "name_key",
        "aliases",
        "owner_id",
        "cadence_days",
        "segment",
        "status",
        "update_rhythm_days",
        "preferences",
        "created_at",
        "last_contact_on",
    ),
    "person": (
        "id",
        "workspace_id",
        "platform_user_id",
        "display_name",
        "role",
        "email",
        "tz",
        "tz_chosen",
        "locale",
        "workdays",
        "address",
        "interests",
        "practice_areas",
        "profile_refreshed_at",
        "unreachable_since",
    ),
}
JSON_COLUMNS = {"aliases", "address", "interests", "practice_areas"}


def _new(dialect: str, table: str, column: str) -> list[str]:
    cached = CACHED[table]
    if dialect == "postgresql":

        def side(alias: str) -> str:
            return ", ".join(
                f"{alias}.{name}::jsonb" if name in JSON_COLUMNS else f"{alias}.{name}"
                for name in cached
            )

        function = f"touchbase_bump_{column}_on_update"
        return [
            f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger "
            f"LANGUAGE plpgsql AS $$ BEGIN UPDATE workspace SET {column} = {column} + 1 "
            "WHERE id IN (SELECT unnest(ARRAY[o.workspace_id, n.workspace_id]) "
            "FROM old_rows o FULL JOIN new_rows n ON n.id = o.id WHERE "
            f"ROW({side('o')}) IS DISTINCT FROM ROW({side('n')})); "
            "RETURN NULL; END $$",
            f"CREATE TRIGGER {table}_version_update AFTER UPDATE ON {table} "
            "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT "
            f"EXECUTE FUNCTION {function}()",
        ]
    changed = " OR ".join(f"OLD.{name} IS NOT NEW.{name}" for name in cached)
    return [
        f"CREATE TRIGGER IF NOT EXISTS {table}_version_update "
        f"AFTER UPDATE OF {', '.join(cached)} ON {table} WHEN {changed} "
        f"BEGIN UPDATE workspace SET {column} = {column} + 1 "
        "WHERE id IN (OLD.workspace_id, NEW.workspace_id); END"
    ]


def _old(dialect: str, table: str, column: str) -> list[str]:
    """0008's update trigger: any update of the row bumps."""
    if dialect == "postgresql":
        return [
            f"CREATE TRIGGER {table}_version_update AFTER UPDATE ON {table} "
            "REFERENCING NEW TABLE AS changed FOR EACH STATEMENT "
            f"EXECUTE FUNCTION touchbase_bump_{column}()"
        ]
    return [
        f"CREATE TRIGGER IF NOT EXISTS {table}_version_update AFTER UPDATE "
        f"ON {table} BEGIN UPDATE workspace SET {column} = {column} + 1 "
        "WHERE id IN (OLD.workspace_id, NEW.workspace_id); END"
    ]


def _drop(dialect: str, table: str) -> str:
    on = f" ON {table}" if dialect == "postgresql" else ""
    return f"DROP TRIGGER IF EXISTS {table}_version_update{on}"


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table, column in TABLES:
        op.execute(_drop(dialect, table))
        for statement in _new(dialect, table, column):
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table, column in TABLES:
        op.execute(_drop(dialect, table))
        if dialect == "postgresql":
            op.execute(f"DROP FUNCTION IF EXISTS touchbase_bump_{column}_on_update()")
        for statement in _old(dialect, table, column):
            op.execute(statement)
