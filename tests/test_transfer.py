"""Import clients from CSV (ours, Outlook's, Salesforce's) and export the history."""

from __future__ import annotations

from bot.backup import export_data, touches_csv
from bot.domain import Platform
from bot.transfer import import_clients, read_clients
from store.repositories import SqlStore

from .conftest import Chat

OURS = """name,aliases,owner,cadence_days,segment
Acme Corp,ACME;Acme Inc,jane,14,Manufacturing
Globex,,bob@example.com,,
"Smith & Sons","S&S",jane,60,Family business
"""

OUTLOOK = """First Name,Middle Name,Last Name,Title,Suffix,Company,Department,Job Title,E-mail Address
Dana,,Scully,,,Acme Corp,Finance,CFO,dana@acme.example
Fox,,Mulder,,,Acme Corp,,General Counsel,fox@acme.example
Walter,,Skinner,,,Initech,,CEO,ws@initech.example
"""

SALESFORCE = """Account Name,Account Owner,Type,Billing City,Account ID
Umbrella Corporation,jane,Customer - Direct,Raccoon City,001A
Wayne Enterprises,Bruce Admin,Customer - Channel,Gotham,001B
"""


async def _import(store: SqlStore, text: str):  # type: ignore[no-untyped-def]
    ws = await store.workspace(Platform.CONSOLE, "local")
    async with store.unit(ws.id) as uow:
        report = await import_clients(uow, text)
        if report.ok:
            await uow.commit()
        return report


async def _clients(store: SqlStore) -> dict[str, tuple[tuple[str, ...], int | None, str | None]]:
    ws = await store.workspace(Platform.CONSOLE, "local")
    async with store.unit(ws.id) as uow:
        return {c.name: (c.aliases, c.cadence_days, c.segment) for c in await uow.clients.list()}


async def test_import_our_format_and_reimport_changes_nothing(chat: Chat, store: SqlStore) -> None:
    await chat.say("/touchbase help")  # jane exists, as the workspace's first person
    report = await _import(store, OURS)
    assert report.ok, report.errors
    assert sorted(report.added) == ["Acme Corp", "Globex", "Smith & Sons"]
    assert report.people_added == ["bob@example.com"]
    clients = await _clients(store)
    assert clients["Acme Corp"] == (("ACME", "Acme Inc"), 14, "Manufacturing")
    assert clients["Smith & Sons"] == (("S&S",), 60, "Family business")
    again = await _import(store, OURS)
    assert again.ok and again.added == [] and again.updated == [] and again.unchanged == 3
    assert await _clients(store) == clients
    # jane owns Acme: the card says so, and the alias finds it.
    out = await chat.say("/client acme inc")
    assert "Owner: jane" in out


async def test_outlook_contacts_become_clients_and_contacts(store: SqlStore) -> None:
    report = await _import(store, OUTLOOK)
    assert report.ok
    assert sorted(report.added) == ["Acme Corp", "Initech"]
    assert report.contacts_added == 3
    again = await _import(store, OUTLOOK)
    assert again.contacts_added == 0 and again.added == []
    ws = await store.workspace(Platform.CONSOLE, "local")
    async with store.unit(ws.id) as uow:
        acme = await uow.clients.by_name("acme corp")
        assert acme is not None
        contacts = await uow.contacts.for_client(acme.id)
    assert [(c.name, c.title) for c in contacts] == [
        ("Dana Scully", "CFO"),
        ("Fox Mulder", "General Counsel"),
    ]


async def test_salesforce_accounts(store: SqlStore) -> None:
    report = await _import(store, SALESFORCE)
    assert report.ok
    clients = await _clients(store)
    assert clients["Umbrella Corporation"][2] == "Customer - Direct"
    assert set(report.people_added) == {"jane", "Bruce Admin"}


async def test_a_bad_row_is_reported_and_nothing_is_imported(store: SqlStore) -> None:
    text = "name,cadence_days\nAcme,14\n,7\nGlobex,weekly\nInitech,0\nHooli,inf\n"
    report = await _import(store, text)
    assert [(e.line, e.problem) for e in report.errors] == [
        (4, "cadence_days 'weekly' is not a whole number of days: write a number from 1 to 3650"),
        (5, "cadence_days 0 is not between 1 and 3650"),
        (6, "cadence_days 'inf' is not a whole number of days: write a number from 1 to 3650"),
    ]
    # A row without a name is skipped and counted, not an error.
    assert [(s.line, s.problem) for s in report.skipped] == [(3, "no company")]
    assert await _clients(store) == {}


def test_missing_name_column_is_explained() -> None:
    records, report = read_clients("owner,segment\njane,x\n")
    assert records == [] and report.errors[0].line == 1 and "name" in report.errors[0].problem


async def test_an_imported_owner_named_by_name_only_is_not_claimed_by_a_namesake(
    chat: Chat, store: SqlStore
) -> None:
    """Only a platform-verified e-mail takes up an imported owner's clients: a colleague whose
    name happens to match stays themself, and the client waits for the real owner."""
    await chat.say("/touchbase help")
    await _import(store, "name,owner\nAcme,Bob\n")
    bob = chat.as_user("bob")
    await bob.say("/touch Acme call with Dana")
    ws = await store.workspace(Platform.CONSOLE, "local")
    async with store.unit(ws.id) as uow:
        people = await uow.people.list()
        acme = await uow.clients.by_name("Acme")
    assert sorted(p.platform_user_id for p in people) == ["bob", "import:bob", "jane"]
    invitation = next(p for p in people if p.platform_user_id == "import:bob")
    assert invitation.pending
    assert acme is not None and acme.owner_id == invitation.id


async def test_export_json_and_csv(chat: Chat, store: SqlStore) -> None:
    await chat.say("/client add Acme Corp")
    await chat.say("/touch Acme emailed the CFO about renewal, no reply yet")
    ws = await store.workspace(Platform.CONSOLE, "local")
    async with store.unit(ws.id) as uow:
        data = await export_data(uow)
    assert data["clients"][0]["name"] == "Acme Corp"
    touch = data["touches"][0]
    # The keys of version 1 are all there, with the same meaning.
    assert {
        "client",
        "kind",
        "contact",
        "occurred_on",
        "awaiting_reply",
        "note",
        "logged_by",
    } <= set(touch)
    assert data["format"] == "touchbase-export" and data["version"] == 2
    assert touch["client"] == "Acme Corp" and touch["kind"] == "email"
    assert touch["contact"] == "CFO" and touch["awaiting_reply"] is True
    assert touch["occurred_on"] == "2026-11-23" and touch["logged_by"] == "jane"
    csv_text = touches_csv(data)
    assert (
        csv_text.splitlines()[0] == "client,kind,contact,occurred_on,awaiting_reply,note,logged_by"
    )
    assert csv_text.splitlines()[1].startswith("Acme Corp,email,CFO,2026-11-23,True,")


async def test_an_import_on_a_new_workspace_leaves_the_first_user_admin(
    chat: Chat, store: SqlStore
) -> None:
    await _import(store, "name,owner\nAcme,Bob\nGlobex,Carol\n")
    await chat.say("/touchbase help")  # jane is the first to use Touchbase here
    await chat.as_user("bob").say("/touchbase help")  # bob is a colleague, not the invitation
    ws = await store.workspace(Platform.CONSOLE, "local")
    async with store.unit(ws.id) as uow:
        people = await uow.people.list()
    roles = {p.display_name: p.role.value for p in people if not p.pending}
    assert roles == {"jane": "admin", "bob": "staff"}
    assert sorted(p.display_name for p in people if p.pending) == ["Bob", "Carol"]


async def test_a_large_import_and_restore_are_a_few_statements_a_thousand_rows(
    store: SqlStore,
) -> None:
    """3,000 contacts at 1,000 companies: the clients, key people and owners go in by the
    thousand, and a restore of the export likewise; nothing is done a row at a time."""
    from sqlalchemy import event

    from bot.backup import restore

    lines = ["Company,First Name,Last Name,E-mail Address,Account Owner,Last Contact"]
    lines += [
        f"Firm {i // 3:04d},Zoë{i},Müller,p{i}@example.com,Owner {i % 7},2026-10-{1 + i % 28:02d}"
        for i in range(3000)
    ]
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2])[:30])

    event.listen(store.engine.sync_engine, "before_cursor_execute", count)
    try:
        report = await _import(store, "\n".join(lines) + "\n")
        imported = len(statements)
        document = await _export_of(store, "local")
        fresh = await store.workspace(Platform.CONSOLE, "copy", "Copy")
        statements.clear()
        async with store.unit(fresh.id) as uow:
            await restore(uow, document)
            await uow.commit()
        restored = len(statements)
    finally:
        event.remove(store.engine.sync_engine, "before_cursor_execute", count)
    assert report.ok and len(report.rows) == 3000
    assert sum(r.action == "add" for r in report.rows) == 1000
    assert imported < 150, imported  # it was about five statements a row
    assert restored < 100, restored
    copy = await _export_of(store, "copy")
    assert copy == document
    assert len(copy["clients"]) == 1000 and sum(len(c["people"]) for c in copy["clients"]) == 3000


async def _export_of(store: SqlStore, key: str):  # type: ignore[no-untyped-def]
    ws = await store.workspace(Platform.CONSOLE, key)
    async with store.unit(ws.id) as uow:
        return await export_data(uow)
