"""SQLAlchemy models. Every row belongs to exactly one workspace, directly or through its parent."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    event,
    false,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite (which keeps no zone) too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; pass an aware one")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _ws() -> Mapped[int]:
    return mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"), index=True)


class WorkspaceRow(Base):
    __tablename__ = "workspace"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(200), default="")
    channel: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    settings: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Bumped by database triggers (see VERSION_TRIGGERS) in the same transaction as any change
    # to the workspace's clients (names, aliases, status, owners...) or people: every replica
    # reads them per request and keeps its in-memory matching index and person cache only while
    # they are unchanged.
    clients_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    people_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class PersonRow(Base):
    __tablename__ = "person"
    __table_args__ = (UniqueConstraint("workspace_id", "platform_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = _ws()
    platform_user_id: Mapped[str] = mapped_column(String(128))
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320), default=None)
    role: Mapped[str] = mapped_column(String(16), default="staff")
    tz: Mapped[str] = mapped_column(String(64), default="UTC")
    # Set when the person chose their zone with /touchbase tz: the platform's report no longer
    # overrides it.
    tz_chosen: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # How the platform says the person writes dates ("en-GB"): decides what 3/11 means.
    locale: Mapped[str | None] = mapped_column(String(35), default=None)
    workdays: Mapped[str] = mapped_column(String(20), default="0,1,2,3,4")
    address: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    seniority: Mapped[str | None] = mapped_column(String(64), default=None)
    interests: Mapped[list[str]] = mapped_column(JSON, default=list)
    practice_areas: Mapped[list[str]] = mapped_column(JSON, default=list)
    profile_refreshed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    unreachable_since: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


# Client statuses that get no nudges and count for no load: set aside, or archived.
RESTING = ("inactive", "archived")


class ClientRow(Base):
    __tablename__ = "client"
    __table_args__ = (UniqueConstraint("workspace_id", "name_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = _ws()
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(200))  # casefolded name, for uniqueness
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL"), index=True, default=None
    )
    cadence_days: Mapped[int | None] = mapped_column(Integer, default=None)
    segment: Mapped[str | None] = mapped_column(String(100), default=None)
    status: Mapped[str] = mapped_column(String(16), default="active")
    update_rhythm_days: Mapped[int | None] = mapped_column(Integer, default=None)
    preferences: Mapped[str | None] = mapped_column(Text, default=None)
    # The last contact known from before Touchbase (an import's "last contact" column): the
    # schedule counts from it until a later touch is logged.
    last_contact_on: Mapped[date | None] = mapped_column(Date, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SegmentRow(Base):
    __tablename__ = "segment"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = _ws()
    name: Mapped[str] = mapped_column(String(100))
    cadence_days: Mapped[int | None] = mapped_column(Integer, default=None)


class ContactRow(Base):
    __tablename__ = "contact"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = _ws()
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(String(200), default=None)
    email: Mapped[str | None] = mapped_column(String(320), default=None)
    phone: Mapped[str | None] = mapped_column(String(64), default=None)
    influence: Mapped[str | None] = mapped_column(String(32), default=None)
    seniority: Mapped[str | None] = mapped_column(String(64), default=None)
    notes: Mapped[str | None] = mapped_column(Text, default=None)
    holder_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TouchRow(Base):
    __tablename__ = "touch"
    __table_args__ = (
        UniqueConstraint("workspace_id", "source_id"),
        Index("ix_touch_client_occurred", "client_id", "occurred_on"),
        # The few touches still waiting for a reply, for the follow-up rule.
        Index(
            "ix_touch_awaiting",
            "workspace_id",
            "client_id",
            sqlite_where=text("awaiting_reply AND replied_at IS NULL"),
            postgresql_where=text("awaiting_reply AND replied_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = _ws()
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    contact: Mapped[str | None] = mapped_column(String(200), default=None)
    # The contact as follow-ups compare it (bot.rules.contact_key): "José" and "JOSE" are one.
    contact_key: Mapped[str | None] = mapped_column(String(200), default=None)
    note: Mapped[str] = mapped_column(Text, default="")
    occurred_on: Mapped[date] = mapped_column(Date)
    awaiting_reply: Mapped[bool] = mapped_column(Boolean, default=False)
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    source_id: Mapped[str | None] = mapped_column(String(200), default=None)
    matter_id: Mapped[int | None] = mapped_column(
        ForeignKey("matter.id", ondelete="SET NULL"), default=None
    )
    estimate_on: Mapped[date | None] = mapped_column(Date, default=None)
    # Counts edits, so a button from before an edit (an old Undo) knows it is out of date.
    revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class OwnerChangeRow(Base):
    __tablename__ = "owner_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = _ws()
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"), index=True)
    from_person_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL"), default=None
    )
    to_person_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL"), default=None
    )
    changed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL"), default=None
    )
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ClientEventRow(Base):
    """History lines that are not touches: repair steps, handoff steps, closeouts."""

    __tablename__ = "client_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = _ws()
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL"), default=None
    )
    kind: Mapped[str] = mapped_column(String(32))
    summary: Mapped[str] = mapped_column(Text)
    private: Mapped[bool] = mapped_column(Boolean, default=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class AuditRow(Base):
    """What was done that leaves no other trace, such as erasing a client: who, what, when, and
    never the name or anything else of what was erased."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = _ws()
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL"), default=None
    )
    action: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(String(500), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class SnoozeRow(Base):
    __tablename__ = "snooze"
    __table_args__ = (Index("ix_snooze_person_until", "person_id", "until"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = _ws()
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    client_id: Mapped[int | None] = mapped_column(
        ForeignKey("client.id", ondelete="CASCADE"), default=None
    )
    nudge_key: Mapped[str | None] = mapped_column(String(120), default=None)
    until: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DigestRow(Base):
    """A claim on one person's morning digest for one local date: the row makes it exactly once."""

    __tablename__ = "digest"
    __table_args__ = (UniqueConstraint("person_id", "local_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = _ws()
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    local_date: Mapped[date] = mapped_column(Date)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str] = mapped_column(String(120), default="")
    # claimed | sent | empty | retry | failed (permanent) | expired (catch-up window closed)
    status: Mapped[str] = mapped_column(String(16), default="claimed")
    # The claim's owner renews this (by the database's clock) while it works; a claim whose
    # heartbeat is older than the lease, by the database's clock, may be taken over.
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    item_count: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class DeliveryRow(Base):
    """Every attempt to deliver a proactive message, with its outcome."""

    __tablename__ = "delivery"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = _ws()
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), index=True, default=None
    )
    digest_id: Mapped[int | None] = mapped_column(
        ForeignKey("digest.id", ondelete="CASCADE"), index=True, default=None
    )
    kind: Mapped[str] = mapped_column(String(32))
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    outcome: Mapped[str] = mapped_column(String(16))  # sent|retry|failed|permanent
    detail: Mapped[str] = mapped_column(String(300), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class RepairRow(Base):
    __tablename__ = "repair"
    __table_args__ = (
        Index(
            "uq_repair_open_per_client",
            "client_id",
            unique=True,
            sqlite_where=text("status IN ('active', 'paused')"),
            postgresql_where=text("status IN ('active', 'paused')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = _ws()
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"))
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL"), default=None
    )
    started_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL"), default=None
    )
    reason: Mapped[str] = mapped_column(Text, default="")
    step: Mapped[str] = mapped_column(String(16), default="finish")
    status: Mapped[str] = mapped_column(String(16), default="active")
    task: Mapped[str | None] = mapped_column(Text, default=None)
    task_due_on: Mapped[date | None] = mapped_column(Date, default=None)
    breathing_days: Mapped[int] = mapped_column(Integer, default=7)
    breathing_until: Mapped[date | None] = mapped_column(Date, default=None)
    checklist: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    forward_until: Mapped[date | None] = mapped_column(Date, default=None)
    cancel_reason: Mapped[str | None] = mapped_column(Text, default=None)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class HandoffRow(Base):
    __tablename__ = "handoff"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = _ws()
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"), index=True)
    from_person_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL"), default=None
    )
    to_person_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL"), default=None
    )
    checklist: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class CareCheckinRow(Base):
    """A client-care check-in after an engagement closes: the firm calls when nothing is sold."""

    __tablename__ = "care_checkin"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = _ws()
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL"), default=None
    )
    label: Mapped[str] = mapped_column(String(64))
    due_on: Mapped[date] = mapped_column(Date)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class MatterRow(Base):
    __tablename__ = "matter"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = _ws()
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"), index=True)
    lead_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL"), default=None
    )
    title: Mapped[str] = mapped_column(String(300))
    expected_on: Mapped[date | None] = mapped_column(Date, default=None)
    rhythm_days: Mapped[int | None] = mapped_column(Integer, default=None)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class InboundEventRow(Base):
    """Deliveries already handled, so a platform's retry is never processed twice."""

    __tablename__ = "inbound_event"
    __table_args__ = (UniqueConstraint("platform", "event_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    event_key: Mapped[str] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class SlackInstallationRow(Base):
    """bolt's installation store, kept in our own database (OAuth installs)."""

    __tablename__ = "slack_installation"
    __table_args__ = (UniqueConstraint("enterprise_id", "team_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[str] = mapped_column(String(32), default="")
    team_id: Mapped[str] = mapped_column(String(32), default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    installed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SlackOAuthStateRow(Base):
    __tablename__ = "slack_oauth_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = mapped_column(String(200), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PostRow(Base):
    """A claim on a once-only channel post (the weekly summary), unique per workspace and key."""

    __tablename__ = "channel_post"
    __table_args__ = (UniqueConstraint("workspace_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = _ws()
    key: Mapped[str] = mapped_column(String(64))
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="claimed")


class OutboxRow(Base):
    """A message for someone other than the person who asked, written in the same transaction
    as the change that caused it and sent afterwards: pending | sending | retry | sent | failed.
    With no address and a person, it waits until that person has one (first seen)."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_available_at", "status", "available_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = _ws()
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), index=True, default=None
    )
    kind: Mapped[str] = mapped_column(String(32), default="notice")
    address: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    message: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # When it may next be sent, and the claimant's heartbeat: both by the database's clock.
    available_at: Mapped[datetime] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str] = mapped_column(String(120), default="")
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    detail: Mapped[str] = mapped_column(String(300), default="")


# --- versions bumped by the database ------------------------------------------------------------
# A change to a client or a person, by any code path, any replica or a script, bumps its
# workspace's version in the same transaction. Triggers rather than application code, so a path
# that forgets cannot leave another replica's cache stale. On PostgreSQL one bump a statement
# (transition tables), so an import of 10,000 clients is one row update, not 10,000.
#
# An insert or a delete always bumps. An update bumps only when it changes a column the caches
# hold: an update of anything else (a person's seniority), or one writing the values a row
# already has, leaves the caches warm and takes no lock on the workspace row, so writers of
# different people or clients of one firm do not queue behind each other.

VERSIONED = (("client", "clients_version"), ("person", "people_version"))

# What the caches read of each row: every column store.mappers.to_client / to_person copy into
# the cached Client and Person, and the column the cached client list is ordered by.
# tests/test_store_caches.py derives this from the mappers and fails when it drifts.
CACHED_COLUMNS: dict[str, tuple[str, ...]] = {
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


def _changed_pg(table: str) -> str:
    """PostgreSQL: whether an old and a new row differ in a cached column. A json value has no
    equality operator, so it is compared as jsonb (the same document, however it is spaced)."""
    columns = Base.metadata.tables[table].c

    def side(alias: str) -> str:
        return ", ".join(
            f"{alias}.{name}::jsonb" if isinstance(columns[name].type, JSON) else f"{alias}.{name}"
            for name in CACHED_COLUMNS[table]
        )

    return f"ROW({side('o')}) IS DISTINCT FROM ROW({side('n')})"


def version_trigger_ddl(dialect: str) -> list[str]:
    """The statements creating the version triggers on `dialect` ("sqlite" or "postgresql")."""
    out: list[str] = []
    for table, column in VERSIONED:
        cached = CACHED_COLUMNS[table]
        if dialect == "postgresql":
            function = f"touchbase_bump_{column}"
            out.append(
                f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ "  # noqa: S608  (constants)
                f"BEGIN UPDATE workspace SET {column} = {column} + 1 "
                "WHERE id IN (SELECT DISTINCT workspace_id FROM changed); RETURN NULL; END $$"
            )
            # A column list cannot go with transition tables, and a row-level trigger would bump
            # once a row (10,000 updates of the workspace row for one bulk update): this one sees
            # every update statement, compares the rows before and after, joined by id, and
            # touches the workspace row only when a cached column differs.
            out.append(
                f"CREATE OR REPLACE FUNCTION {function}_on_update() RETURNS trigger "  # noqa: S608
                f"LANGUAGE plpgsql AS $$ BEGIN UPDATE workspace SET {column} = {column} + 1 "
                "WHERE id IN (SELECT unnest(ARRAY[o.workspace_id, n.workspace_id]) "
                f"FROM old_rows o FULL JOIN new_rows n ON n.id = o.id WHERE {_changed_pg(table)}); "
                "RETURN NULL; END $$"
            )
            for op, transition, suffix in (
                ("INSERT", "NEW TABLE AS changed", ""),
                ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows", "_on_update"),
                ("DELETE", "OLD TABLE AS changed", ""),
            ):
                out.append(
                    f"CREATE TRIGGER {table}_version_{op.lower()} AFTER {op} ON {table} "
                    f"REFERENCING {transition} FOR EACH STATEMENT "
                    f"EXECUTE FUNCTION {function}{suffix}()"
                )
        else:
            changed = " OR ".join(f"OLD.{name} IS NOT NEW.{name}" for name in cached)
            for name, fires, ids in (
                ("insert", "INSERT", "NEW.workspace_id"),
                ("update", f"UPDATE OF {', '.join(cached)}", "OLD.workspace_id, NEW.workspace_id"),
                ("delete", "DELETE", "OLD.workspace_id"),
            ):
                when = f"WHEN {changed} " if name == "update" else ""
                out.append(
                    f"CREATE TRIGGER IF NOT EXISTS {table}_version_{name} AFTER {fires} "  # noqa: S608
                    f"ON {table} {when}BEGIN UPDATE workspace SET {column} = {column} + 1 "
                    f"WHERE id IN ({ids}); END"
                )
    return out


def _create_version_triggers(_target: Any, connection: Any, **_kw: Any) -> None:
    for statement in version_trigger_ddl(connection.dialect.name):
        connection.exec_driver_sql(statement)


event.listen(Base.metadata, "after_create", _create_version_triggers)


# --- capture (bot/capture.py): metadata of meetings and e-mails, never a subject unless allowed --


class ClientDomainRow(Base):
    """A mail domain set for a client by hand; one client per domain in a workspace."""

    __tablename__ = "client_domain"
    __table_args__ = (UniqueConstraint("workspace_id", "domain"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = _ws()
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"), index=True)
    domain: Mapped[str] = mapped_column(String(253))


class CaptureItemRow(Base):
    """A captured meeting (a suggestion) or e-mail header, once per (workspace, source, id)."""

    __tablename__ = "capture_item"
    __table_args__ = (
        UniqueConstraint("workspace_id", "source", "source_id"),
        Index("ix_capture_item_person_state", "workspace_id", "person_id", "state"),
        # whether a client wrote back after an e-mail (the follow-ups in /due and the digest)
        Index(
            "ix_capture_item_client_mail",
            "workspace_id",
            "client_id",
            "state",
            "direction",
            "occurred_at",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = _ws()
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(16))
    source_id: Mapped[str] = mapped_column(String(400))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(16))
    direction: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    contact: Mapped[str | None] = mapped_column(String(200), default=None)
    subject: Mapped[str | None] = mapped_column(Text, default=None)  # only when allowed
    touch_id: Mapped[int | None] = mapped_column(
        ForeignKey("touch.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CaptureSetupRow(Base):
    """A person's capture mode, secret calendar address, "always log" clients and bookmarks."""

    __tablename__ = "capture_setup"
    __table_args__ = (UniqueConstraint("workspace_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = _ws()
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    mode: Mapped[str] = mapped_column(String(16), default="suggest")
    feed_url: Mapped[str | None] = mapped_column(Text, default=None)
    always_clients: Mapped[list[int]] = mapped_column(JSON, default=list)
    cursors: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)


class CapturePassRow(Base):
    """One capture pass claimed (a workspace's pass for an hour), however many replicas try."""

    __tablename__ = "capture_pass"
    __table_args__ = (UniqueConstraint("workspace_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = _ws()
    key: Mapped[str] = mapped_column(String(64))
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WebSessionRow(Base):
    """A signed-in web session, kept server-side so that signing out (or an expiry) ends it
    everywhere. Only a hash of the cookie's session id is stored."""

    __tablename__ = "web_session"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account: Mapped[str] = mapped_column(String(64), default="web")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class WebLoginRow(Base):
    """Failed sign-ins per account, and until when the account is locked (with backoff)."""

    __tablename__ = "web_login"

    account: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
