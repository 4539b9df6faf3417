"""The archive port: a workspace's records, table by table, for a full export and its restore.

Records are plain values (str, int, bool, date, datetime, lists and dicts), keyed by column, with
the store's ids; `bot.backup` turns them into the documented export and back. Kept apart from
`bot.ports` so the repositories that serve commands stay small.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

Record = dict[str, Any]
Progress = Callable[[int, int], None]  # (done, total), called as the work goes

# The tables an export holds, in an order where every reference points backwards, and the
# references each has (column -> table).
TABLES: tuple[str, ...] = (
    "person",
    "segment",
    "client",
    "contact",
    "matter",
    "touch",
    "owner_change",
    "repair",
    "handoff",
    "client_event",
    "care_checkin",
    "digest",
    "snooze",
    "audit_event",
)
REFERENCES: dict[str, dict[str, str]] = {
    "person": {},
    "segment": {},
    "client": {"owner_id": "person"},
    "contact": {"client_id": "client", "holder_id": "person"},
    "matter": {"client_id": "client", "lead_id": "person"},
    "touch": {"client_id": "client", "person_id": "person", "matter_id": "matter"},
    "owner_change": {
        "client_id": "client",
        "from_person_id": "person",
        "to_person_id": "person",
        "changed_by_id": "person",
    },
    "repair": {"client_id": "client", "owner_id": "person", "started_by_id": "person"},
    "handoff": {"client_id": "client", "from_person_id": "person", "to_person_id": "person"},
    "client_event": {"client_id": "client", "person_id": "person"},
    "care_checkin": {"client_id": "client", "person_id": "person"},
    "digest": {"person_id": "person"},
    "snooze": {"person_id": "person", "client_id": "client"},
    "audit_event": {"person_id": "person"},
}


class ArchiveRepo(Protocol):
    async def read(self, progress: Progress | None = None) -> dict[str, list[Record]]:
        """Every record of the workspace in each of TABLES, oldest (lowest id) first."""
        ...

    async def write(
        self, tables: Mapping[str, Sequence[Record]], progress: Progress | None = None
    ) -> dict[str, dict[int, int]]:
        """Insert records as given (ids are the backup's own and are mapped to new ones, in
        order, so the records keep their order). A person whose user id is already here, and a
        segment or client whose name is, is taken as that one rather than added; a client taken
        that way gets none of the backup's records. Returns old id -> new id per table."""
        ...
