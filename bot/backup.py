"""The full export of a workspace, its CSV tables, and its restore (`touchbase import backup`).

The JSON document is versioned (`"format": "touchbase-export"`, `"version": 2`) and described in
the README. Version 1 was `{"clients": [...], "touches": [...]}`; every key it had keeps its
meaning (a touch's `awaiting_reply` is still "awaiting and not answered", `owner` and `logged_by`
are display names). People are referred to by `user_id` (their platform id) in what is new.
Export, restore into an empty workspace, export again: the two documents are the same.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from bot.archive_ports import Progress, Record
from bot.capture_ports import CaptureMode, CaptureSetup
from bot.domain import INVITED_PREFIX, Person
from bot.ports import UnitOfWork
from bot.rules import contact_key, open_follow_ups

FORMAT = "touchbase-export"
VERSION = 2

EXPORT_TOUCH_FIELDS = (
    "client",
    "kind",
    "contact",
    "occurred_on",
    "awaiting_reply",
    "note",
    "logged_by",
)
EXPORT_CLIENT_FIELDS = (
    "name",
    "aliases",
    "owner",
    "cadence_days",
    "segment",
    "status",
    "last_contact",
    "preferences",
)
EXPORT_PEOPLE_FIELDS = ("client", "person", "title", "email", "phone")


class BackupError(ValueError):
    """The document cannot be restored here; nothing was written."""


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _day(value: Any) -> date | None:
    return date.fromisoformat(value) if value else None


def _moment(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


async def export_data(
    uow: UnitOfWork, progress: Progress | None = None, *, secrets: bool = False
) -> dict[str, Any]:
    """The whole workspace. A person's secret calendar address is in it only with `secrets`
    (the document then says `"contains_secrets": true`); otherwise it is left out."""
    t = await uow.archive.read(progress)
    people = {p["id"]: p for p in t["person"]}
    clients = {c["id"]: c for c in t["client"]}
    matters = {m["id"]: m for m in t["matter"]}
    last = await uow.clients.last_touch_on(list(clients))
    waiting = open_follow_ups(await uow.touches.all())

    def user(person_id: int | None) -> str | None:
        return people[person_id]["platform_user_id"] if person_id in people else None

    def name(person_id: int | None) -> str | None:
        return people[person_id]["display_name"] if person_id in people else None

    def client(client_id: int) -> str:
        return str(clients[client_id]["name"])

    key_people: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for c in t["contact"]:
        key_people[c["client_id"]].append(
            {
                "name": c["name"],
                "title": c["title"],
                "email": c["email"],
                "phone": c["phone"],
                "influence": c["influence"],
                "seniority": c["seniority"],
                "notes": c["notes"],
                "holder_user": user(c["holder_id"]),
                "added_at": _iso(c["created_at"]),
            }
        )
    updates: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for tr in t["touch"]:
        if tr["matter_id"] is not None:
            updates[tr["matter_id"]].append(
                {
                    "occurred_on": _iso(tr["occurred_on"]),
                    "by_user": user(tr["person_id"]),
                    "estimate_on": _iso(tr["estimate_on"]),
                    "note": tr["note"],
                }
            )
    return {
        "format": FORMAT,
        "version": VERSION,
        "people": [
            {
                "user_id": p["platform_user_id"],
                "name": p["display_name"],
                "email": p["email"],
                "role": p["role"],
                "invited": p["platform_user_id"].startswith(INVITED_PREFIX),
                "tz": p["tz"],
                "tz_chosen": p["tz_chosen"],
                "workdays": p["workdays"],
                "seniority": p["seniority"],
                "interests": list(p["interests"] or []),
                "practice_areas": list(p["practice_areas"] or []),
                "address": p["address"],
                "unreachable_since": _iso(p["unreachable_since"]),
                "joined_at": _iso(p["created_at"]),
            }
            for p in t["person"]
        ],
        "segments": [{"name": s["name"], "cadence_days": s["cadence_days"]} for s in t["segment"]],
        "clients": [
            {
                "name": c["name"],
                "aliases": list(c["aliases"] or []),
                "owner": name(c["owner_id"]),
                "owner_user": user(c["owner_id"]),
                "cadence_days": c["cadence_days"],
                "segment": c["segment"],
                "status": c["status"],
                "preferences": c["preferences"],
                "update_rhythm_days": c["update_rhythm_days"],
                "last_touch_on": _iso(last.get(c["id"])),
                "last_contact_on": _iso(c["last_contact_on"]),
                "added_at": _iso(c["created_at"]),
                "people": key_people.get(c["id"], []),
            }
            for c in t["client"]
        ],
        "touches": [
            {
                "client": client(tr["client_id"]),
                "kind": tr["kind"],
                "contact": tr["contact"],
                "occurred_on": _iso(tr["occurred_on"]),
                "awaiting_reply": tr["id"] in waiting,
                "asked_for_reply": bool(tr["awaiting_reply"]),
                "note": tr["note"],
                "logged_by": name(tr["person_id"]),
                "logged_by_user": user(tr["person_id"]),
                "replied_at": _iso(tr["replied_at"]),
                "matter": matters[tr["matter_id"]]["title"] if tr["matter_id"] in matters else None,
                "estimate_on": _iso(tr["estimate_on"]),
                "source_id": tr["source_id"],
                "logged_at": _iso(tr["created_at"]),
            }
            for tr in t["touch"]
        ],
        "matters": [
            {
                "client": client(m["client_id"]),
                "title": m["title"],
                "lead_user": user(m["lead_id"]),
                "expected_on": _iso(m["expected_on"]),
                "rhythm_days": m["rhythm_days"],
                "opened_at": _iso(m["opened_at"]),
                "closed_at": _iso(m["closed_at"]),
                "updates": updates.get(m["id"], []),
            }
            for m in t["matter"]
        ],
        "repairs": [
            {
                "client": client(r["client_id"]),
                "owner_user": user(r["owner_id"]),
                "started_by_user": user(r["started_by_id"]),
                "reason": r["reason"],
                "step": r["step"],
                "status": r["status"],
                "task": r["task"],
                "task_due_on": _iso(r["task_due_on"]),
                "breathing_days": r["breathing_days"],
                "breathing_until": _iso(r["breathing_until"]),
                "checklist": r["checklist"],
                "forward_until": _iso(r["forward_until"]),
                "cancel_reason": r["cancel_reason"],
                "started_at": _iso(r["started_at"]),
                "updated_at": _iso(r["updated_at"]),
            }
            for r in t["repair"]
        ],
        "handoffs": [
            {
                "client": client(h["client_id"]),
                "from_user": user(h["from_person_id"]),
                "to_user": user(h["to_person_id"]),
                "checklist": h["checklist"],
                "started_at": _iso(h["started_at"]),
                "done_at": _iso(h["done_at"]),
            }
            for h in t["handoff"]
        ],
        "owner_history": [
            {
                "client": client(o["client_id"]),
                "from_user": user(o["from_person_id"]),
                "to_user": user(o["to_person_id"]),
                "by_user": user(o["changed_by_id"]),
                "changed_at": _iso(o["changed_at"]),
            }
            for o in t["owner_change"]
        ],
        "history": [
            {
                "client": client(e["client_id"]),
                "by_user": user(e["person_id"]),
                "kind": e["kind"],
                "summary": e["summary"],
                "private": bool(e["private"]),
                "at": _iso(e["at"]),
            }
            for e in t["client_event"]
        ],
        "care_checkins": [
            {
                "client": client(k["client_id"]),
                "user": user(k["person_id"]),
                "label": k["label"],
                "due_on": _iso(k["due_on"]),
                "done_at": _iso(k["done_at"]),
            }
            for k in t["care_checkin"]
        ],
        "digests": [
            {
                "user": user(d["person_id"]),
                "local_date": _iso(d["local_date"]),
                "status": d["status"],
                "item_count": d["item_count"],
                "claimed_at": _iso(d["claimed_at"]),
                "sent_at": _iso(d["sent_at"]),
                "attempts": d["attempts"],
            }
            for d in t["digest"]
        ],
        "snoozes": [
            {
                "user": user(z["person_id"]),
                "client": client(z["client_id"]) if z["client_id"] in clients else None,
                "nudge_key": z["nudge_key"],
                "until": _iso(z["until"]),
                "created_at": _iso(z["created_at"]),
            }
            for z in t["snooze"]
        ],
        "audit": [
            {
                "by_user": user(a["person_id"]),
                "action": a["action"],
                "detail": a["detail"],
                "at": _iso(a["at"]),
            }
            for a in t["audit_event"]
        ],
        **await _capture_export(uow, user, clients, secrets=secrets),
    }


async def _capture_export(
    uow: UnitOfWork,
    user: Callable[[int | None], str | None],
    clients: Mapping[int, Mapping[str, Any]],
    *,
    secrets: bool,
) -> dict[str, Any]:
    """Client domains and each person's capture setup (the sources' bookmarks are not kept:
    the next pass starts afresh)."""
    domains = sorted(
        (str(clients[c]["name"]), d)
        for d, c in (await uow.capture.domains()).items()
        if c in clients
    )
    setups = []
    for s in await uow.capture.setups():
        if user(s.person_id) is None:
            continue
        record: dict[str, Any] = {
            "user": user(s.person_id),
            "mode": s.mode.value,
            "always_log": [str(clients[c]["name"]) for c in s.always_clients if c in clients],
        }
        if secrets:
            record["calendar_address"] = s.feed_url
        setups.append(record)
    return {
        "contains_secrets": secrets,
        "client_domains": [{"client": c, "domain": d} for c, d in domains],
        "capture": setups,
    }


async def _capture_restore(uow: UnitOfWork, document: Mapping[str, Any], merge: bool) -> int:
    """Bring back client domains and capture setups, by client name and user id. With
    `merge`, a domain or a setup already here stands."""
    clients = {c.name: c.id for c in await uow.clients.list()}
    people = {p.platform_user_id: p.id for p in await uow.people.list()}

    def client(name: Any, where: str) -> int:
        if name not in clients:
            raise BackupError(f"{where} is for {name!r}, which is not in the export's clients")
        return clients[name]

    here = await uow.capture.domains() if merge else {}
    by_client: dict[int, list[str]] = defaultdict(list)
    for i, d in enumerate(document.get("client_domains", []), 1):
        where = f"client_domains[{i}]"
        domain = str(_need(d, "domain", where))
        cid = client(_need(d, "client", where), where)
        if domain not in here:
            by_client[cid].append(domain)
    for cid, names in by_client.items():
        await uow.capture.set_domains(cid, names)
    already = {s.person_id for s in await uow.capture.setups()} if merge else set()
    written = 0
    for i, s in enumerate(document.get("capture", []), 1):
        where = f"capture[{i}]"
        uid = _need(s, "user", where)
        if uid not in people:
            raise BackupError(f"{where} names {uid!r}, who is not in the export's people")
        if people[uid] in already:
            continue
        await uow.capture.save_setup(
            CaptureSetup(
                person_id=people[uid],
                mode=CaptureMode(s.get("mode") or CaptureMode.SUGGEST.value),
                feed_url=s.get("calendar_address") if document.get("contains_secrets") else None,
                always_clients=tuple(client(n, where) for n in s.get("always_log") or ()),
            )
        )
        written += 1
    return written


# --- restore --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RestoreReport:
    counts: dict[str, int]  # records written per part of the document
    kept_clients: list[str]  # with --merge: clients already here, left as they are


def _need(record: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in record:
        raise BackupError(f"{where} has no {key!r}")
    return record[key]


def tables_from(document: Mapping[str, Any]) -> dict[str, list[Record]]:
    """The export turned back into records with made-up ids the archive maps to new ones."""
    if not isinstance(document, Mapping) or document.get("format") != FORMAT:
        raise BackupError(
            "this is not a Touchbase export (`touchbase export --format json` writes one)"
        )
    if document.get("version") != VERSION:
        raise BackupError(
            f"this export is version {document.get('version')!r}; this Touchbase reads "
            f"version {VERSION}"
        )
    out: dict[str, list[Record]] = defaultdict(list)
    people: dict[str, int] = {}
    for i, p in enumerate(document.get("people", []), 1):
        uid = str(_need(p, "user_id", f"people[{i}]"))
        people[uid] = i
        out["person"].append(
            {
                "id": i,
                "platform_user_id": uid,
                "display_name": p.get("name") or uid,
                "email": p.get("email"),
                "role": p.get("role") or "staff",
                "tz": p.get("tz") or "UTC",
                "tz_chosen": bool(p.get("tz_chosen")),
                "workdays": p.get("workdays") or "0,1,2,3,4",
                "seniority": p.get("seniority"),
                "interests": list(p.get("interests") or []),
                "practice_areas": list(p.get("practice_areas") or []),
                "address": p.get("address"),
                "unreachable_since": _moment(p.get("unreachable_since")),
                "created_at": _moment(_need(p, "joined_at", f"people[{i}]")),
            }
        )

    def person(uid: Any, where: str) -> int | None:
        if uid is None:
            return None
        if uid not in people:
            raise BackupError(f"{where} names {uid!r}, who is not in the export's people")
        return people[uid]

    for i, s in enumerate(document.get("segments", []), 1):
        out["segment"].append(
            {
                "id": i,
                "name": _need(s, "name", f"segments[{i}]"),
                "cadence_days": s.get("cadence_days"),
            }
        )
    clients: dict[str, int] = {}
    contact_id = 0
    for i, c in enumerate(document.get("clients", []), 1):
        where = f"clients[{i}]"
        name = str(_need(c, "name", where))
        clients[name] = i
        out["client"].append(
            {
                "id": i,
                "name": name,
                "name_key": " ".join(name.casefold().split()),
                "aliases": list(c.get("aliases") or []),
                "owner_id": person(c.get("owner_user"), where),
                "cadence_days": c.get("cadence_days"),
                "segment": c.get("segment"),
                "status": c.get("status") or "active",
                "update_rhythm_days": c.get("update_rhythm_days"),
                "preferences": c.get("preferences"),
                "last_contact_on": _day(c.get("last_contact_on")),
                "created_at": _moment(_need(c, "added_at", where)),
            }
        )
        for k in c.get("people", []):
            contact_id += 1
            out["contact"].append(
                {
                    "id": contact_id,
                    "client_id": i,
                    "name": _need(k, "name", f"{where}.people"),
                    "title": k.get("title"),
                    "email": k.get("email"),
                    "phone": k.get("phone"),
                    "influence": k.get("influence"),
                    "seniority": k.get("seniority"),
                    "notes": k.get("notes"),
                    "holder_id": person(k.get("holder_user"), f"{where}.people"),
                    "created_at": _moment(_need(k, "added_at", f"{where}.people")),
                }
            )

    def client(record: Mapping[str, Any], where: str) -> int:
        name = _need(record, "client", where)
        if name not in clients:
            raise BackupError(f"{where} is for {name!r}, which is not in the export's clients")
        return clients[name]

    matters: dict[tuple[int, str], int] = {}
    for i, m in enumerate(document.get("matters", []), 1):
        where = f"matters[{i}]"
        cid = client(m, where)
        matters[(cid, _need(m, "title", where))] = i
        out["matter"].append(
            {
                "id": i,
                "client_id": cid,
                "lead_id": person(m.get("lead_user"), where),
                "title": m["title"],
                "expected_on": _day(m.get("expected_on")),
                "rhythm_days": m.get("rhythm_days"),
                "opened_at": _moment(_need(m, "opened_at", where)),
                "closed_at": _moment(m.get("closed_at")),
            }
        )
    for i, tr in enumerate(document.get("touches", []), 1):
        where = f"touches[{i}]"
        cid = client(tr, where)
        logger = person(_need(tr, "logged_by_user", where), where)
        if logger is None:
            raise BackupError(f"{where} has nobody who logged it")
        matter = tr.get("matter")
        if matter is not None and (cid, matter) not in matters:
            raise BackupError(f"{where} is for the matter {matter!r}, not in the export")
        replied = _moment(tr.get("replied_at"))
        out["touch"].append(
            {
                "id": i,
                "client_id": cid,
                "person_id": logger,
                "kind": _need(tr, "kind", where),
                "contact": tr.get("contact"),
                "contact_key": contact_key(tr.get("contact")),
                "note": tr.get("note") or "",
                "occurred_on": _day(_need(tr, "occurred_on", where)),
                "awaiting_reply": bool(tr.get("asked_for_reply", tr.get("awaiting_reply"))),
                "replied_at": replied,
                "source_id": tr.get("source_id"),
                "matter_id": matters[(cid, matter)] if matter is not None else None,
                "estimate_on": _day(tr.get("estimate_on")),
                "created_at": _moment(_need(tr, "logged_at", where)),
            }
        )
    for i, o in enumerate(document.get("owner_history", []), 1):
        where = f"owner_history[{i}]"
        out["owner_change"].append(
            {
                "id": i,
                "client_id": client(o, where),
                "from_person_id": person(o.get("from_user"), where),
                "to_person_id": person(o.get("to_user"), where),
                "changed_by_id": person(o.get("by_user"), where),
                "changed_at": _moment(_need(o, "changed_at", where)),
            }
        )
    for i, r in enumerate(document.get("repairs", []), 1):
        where = f"repairs[{i}]"
        out["repair"].append(
            {
                "id": i,
                "client_id": client(r, where),
                "owner_id": person(r.get("owner_user"), where),
                "started_by_id": person(r.get("started_by_user"), where),
                "reason": r.get("reason") or "",
                "step": _need(r, "step", where),
                "status": _need(r, "status", where),
                "task": r.get("task"),
                "task_due_on": _day(r.get("task_due_on")),
                "breathing_days": r.get("breathing_days", 7),
                "breathing_until": _day(r.get("breathing_until")),
                "checklist": r.get("checklist"),
                "forward_until": _day(r.get("forward_until")),
                "cancel_reason": r.get("cancel_reason"),
                "started_at": _moment(_need(r, "started_at", where)),
                "updated_at": _moment(_need(r, "updated_at", where)),
            }
        )
    for i, h in enumerate(document.get("handoffs", []), 1):
        where = f"handoffs[{i}]"
        out["handoff"].append(
            {
                "id": i,
                "client_id": client(h, where),
                "from_person_id": person(h.get("from_user"), where),
                "to_person_id": person(h.get("to_user"), where),
                "checklist": h.get("checklist"),
                "started_at": _moment(_need(h, "started_at", where)),
                "done_at": _moment(h.get("done_at")),
            }
        )
    for i, e in enumerate(document.get("history", []), 1):
        where = f"history[{i}]"
        out["client_event"].append(
            {
                "id": i,
                "client_id": client(e, where),
                "person_id": person(e.get("by_user"), where),
                "kind": _need(e, "kind", where),
                "summary": e.get("summary") or "",
                "private": bool(e.get("private")),
                "at": _moment(_need(e, "at", where)),
            }
        )
    for i, k in enumerate(document.get("care_checkins", []), 1):
        where = f"care_checkins[{i}]"
        out["care_checkin"].append(
            {
                "id": i,
                "client_id": client(k, where),
                "person_id": person(k.get("user"), where),
                "label": _need(k, "label", where),
                "due_on": _day(_need(k, "due_on", where)),
                "done_at": _moment(k.get("done_at")),
            }
        )
    for i, d in enumerate(document.get("digests", []), 1):
        where = f"digests[{i}]"
        who = person(_need(d, "user", where), where)
        if who is None:
            raise BackupError(f"{where} is for nobody")
        out["digest"].append(
            {
                "id": i,
                "person_id": who,
                "local_date": _day(_need(d, "local_date", where)),
                "status": _need(d, "status", where),
                "item_count": int(d.get("item_count") or 0),
                "claimed_at": _moment(_need(d, "claimed_at", where)),
                "sent_at": _moment(d.get("sent_at")),
                "attempts": int(d.get("attempts") or 0),
            }
        )
    for i, z in enumerate(document.get("snoozes", []), 1):
        where = f"snoozes[{i}]"
        who = person(_need(z, "user", where), where)
        if who is None:
            raise BackupError(f"{where} is for nobody")
        out["snooze"].append(
            {
                "id": i,
                "person_id": who,
                "client_id": client(z, where) if z.get("client") is not None else None,
                "nudge_key": z.get("nudge_key"),
                "until": _moment(_need(z, "until", where)),
                "created_at": _moment(_need(z, "created_at", where)),
            }
        )
    for i, a in enumerate(document.get("audit", []), 1):
        where = f"audit[{i}]"
        out["audit_event"].append(
            {
                "id": i,
                "person_id": person(a.get("by_user"), where),
                "action": _need(a, "action", where),
                "detail": a.get("detail") or "",
                "at": _moment(_need(a, "at", where)),
            }
        )
    return out


def is_first_version(document: Any) -> bool:
    """The first export: `{"clients": [...], "touches": [...]}`, with no format or version."""
    return (
        isinstance(document, Mapping)
        and "format" not in document
        and isinstance(document.get("clients"), list)
        and isinstance(document.get("touches"), list)
    )


FORMER_COLLEAGUE = "A former colleague"


def from_first_version(
    document: Mapping[str, Any], people: Sequence[Person], now: datetime | None
) -> dict[str, Any]:
    """A first-version export as the current document: people were display names (a
    colleague here of that name, else an invitation), and touches had no logging time."""
    by_name = {" ".join(p.display_name.casefold().split()): p for p in people}
    users: dict[str, dict[str, Any]] = {}
    earliest = now or datetime(2000, 1, 1, tzinfo=UTC)

    def user(name: Any) -> str:
        shown = " ".join(str(name or FORMER_COLLEAGUE).split()) or FORMER_COLLEAGUE
        key = shown.casefold()
        here = by_name.get(key)
        uid = here.platform_user_id if here else f"{INVITED_PREFIX}{key}"
        users.setdefault(
            uid, {"user_id": uid, "name": here.display_name if here else shown, "joined_at": None}
        )
        return uid

    first_touch: dict[str, date] = {}
    touches = []
    for i, tr in enumerate(document["touches"], 1):
        if not isinstance(tr, Mapping):
            raise BackupError(f"touches[{i}] is not a touch")
        day = date.fromisoformat(str(_need(tr, "occurred_on", f"touches[{i}]")))
        name = str(_need(tr, "client", f"touches[{i}]"))
        first_touch[name] = min(day, first_touch.get(name, day))
        touches.append(
            {
                **{k: tr.get(k) for k in ("client", "kind", "contact", "note")},
                "occurred_on": day.isoformat(),
                "asked_for_reply": bool(tr.get("awaiting_reply")),
                "logged_by_user": user(tr.get("logged_by")),
                "logged_at": datetime.combine(day, time(12), UTC).isoformat(),
            }
        )
    clients = []
    for i, c in enumerate(document["clients"], 1):
        if not isinstance(c, Mapping):
            raise BackupError(f"clients[{i}] is not a client")
        name = str(_need(c, "name", f"clients[{i}]"))
        first = first_touch.get(name)
        added = datetime.combine(first, time(0), UTC) if first else (now or earliest)
        clients.append(
            {
                "name": name,
                "aliases": list(c.get("aliases") or []),
                "owner_user": user(c["owner"]) if c.get("owner") else None,
                "cadence_days": c.get("cadence_days"),
                "segment": c.get("segment"),
                "status": c.get("status") or "active",
                "added_at": added.isoformat(),
            }
        )
    for record in users.values():
        record["joined_at"] = (now or earliest).isoformat()
    return {
        "format": FORMAT,
        "version": VERSION,
        "people": list(users.values()),
        "clients": clients,
        "touches": touches,
    }


async def restore(
    uow: UnitOfWork,
    document: Mapping[str, Any],
    *,
    merge: bool = False,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> RestoreReport:
    """Write the export into this workspace. The caller commits.

    A first-version export (clients and touches, people by name) is read too: its people are
    the colleagues here of that name, else invitations; its clients count as added when their
    first touch was (`now` for those with none).

    Refused (BackupError) when the workspace already has clients, unless `merge`: then clients
    already here are kept as they are and the rest is added."""
    try:
        if is_first_version(document):
            document = from_first_version(document, await uow.people.list(), now)
        tables = tables_from(document)
    except (TypeError, ValueError, AttributeError) as exc:
        if isinstance(exc, BackupError):
            raise
        raise BackupError(f"the export is damaged: {exc}") from None
    here = {c.name.casefold() for c in await uow.clients.list()}
    if here and not merge:
        raise BackupError(
            f"this workspace already has {len(here)} clients; restore into an empty one, "
            "or add --merge to keep the clients here and add the rest"
        )
    kept = [c["name"] for c in tables["client"] if " ".join(c["name"].casefold().split()) in here]
    if merge:  # a colleague here already has their own digests: theirs stand
        known = {p.platform_user_id for p in await uow.people.list()}
        ids = {r["id"] for r in tables["person"] if r["platform_user_id"] in known}
        tables["digest"] = [d for d in tables["digest"] if d["person_id"] not in ids]
    await uow.archive.write(tables, progress)
    try:
        setups = await _capture_restore(uow, document, merge)
    except (TypeError, ValueError, AttributeError) as exc:
        if isinstance(exc, BackupError):
            raise
        raise BackupError(f"the export is damaged: {exc}") from None
    counts = {
        "clients": len(tables["client"]) - len(kept),
        "key people": len(tables["contact"]),
        "touches": len(tables["touch"]),
        "matters": len(tables["matter"]),
        "repairs": len(tables["repair"]),
        "handoffs": len(tables["handoff"]),
        "owner changes": len(tables["owner_change"]),
        "history lines": len(tables["client_event"]),
        "care check-ins": len(tables["care_checkin"]),
        "digests": len(tables["digest"]),
        "snoozes": len(tables["snooze"]),
        "client domains": len(document.get("client_domains", [])),
        "capture setups": setups,
    }
    counts = {k: v for k, v in counts.items() if v or k in ("clients", "touches")}
    return RestoreReport(counts, kept)


# --- CSV ------------------------------------------------------------------------------------------

# OWASP's CSV injection guidance: a cell a spreadsheet would read as a formula is prefixed with
# a single quote, so it shows as typed and runs nothing. Stored values are never changed.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, list | tuple):
        value = "; ".join(str(v) for v in value)
    text = str(value)
    if isinstance(value, int | float):
        return text
    return "'" + text if text.startswith(FORMULA_START) else text


def _csv(fields: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(fields)
    for row in rows:
        writer.writerow([safe_cell(row.get(k)) for k in fields])
    return out.getvalue()


def touches_csv(data: Mapping[str, Any]) -> str:
    return _csv(EXPORT_TOUCH_FIELDS, data["touches"])


def clients_csv(data: Mapping[str, Any]) -> str:
    """Our own import format: `touchbase import clients` reads it back."""
    rows = [{**c, "last_contact": c.get("last_touch_on")} for c in data["clients"]]
    return _csv(EXPORT_CLIENT_FIELDS, rows)


def people_csv(data: Mapping[str, Any]) -> str:
    rows = [
        {"client": c["name"], "person": p["name"], **p}
        for c in data["clients"]
        for p in c.get("people", [])
    ]
    return _csv(EXPORT_PEOPLE_FIELDS, rows)


CSV_TABLES: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "touches": touches_csv,
    "clients": clients_csv,
    "people": people_csv,
}
