"""Google Workspace through google-api-python-client against a local Google over real HTTP: a
service account's signed JWT exchanged for a token per delegated person, calendar events asked
without summaries, Gmail metadata without subjects, follow-ups, and nothing of a subject kept."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from adapters.capture.google import GoogleSource
from bot.app import Touchbase
from bot.capture import run_capture
from bot.clock import FixedClock
from store.repositories import SqlStore
from tests.conftest import T0, Chat
from tests.fakes.google import FakeGoogle, gmail_message, google_event
from tests.test_capture_core import MARKER, YESTERDAY, dump, setup

JANE = "jane@firm.example"
DANA = "dana@globex.example"


async def test_meetings_and_mail_from_google(
    chat: Chat, store: SqlStore, clock: FixedClock, app: Touchbase, tmp_path: Path
) -> None:
    await setup(chat, store)
    async with FakeGoogle() as google:
        box = google.box(JANE)
        for i, (who, meet) in enumerate(
            [([DANA], True), (["bob@firm.example"], False), (["x@unknown.example"], False)]
        ):
            box.events[f"g{i}"] = google_event(
                f"g{i}", YESTERDAY.replace(hour=9 + i), who, organizer=JANE, summary=MARKER,
                meet=meet,
            )  # fmt: skip
        box.messages.insert(0, gmail_message(
            "m1", T0 - timedelta(days=7), sender=f"Jane <{JANE}>", to=[f"Dana <{DANA}>"],
            subject=MARKER, sent=True,
        ))  # fmt: skip
        source = GoogleSource(
            credentials_file=str(google.key_file(tmp_path)),
            token_url=google.token_url,
            base_url=google.base_url,
        )
        first = await run_capture(store, clock, app.config, [source])
        assert first.failed == 0 and first.ingested.added == 2
        api = [r for r in google.requests if r.path != "/token"]
        assert api and all(r.user == JANE for r in api)  # delegated to Jane, with her token
        listed = [r for r in api if r.path.endswith("/events")]
        assert len(listed) == 2 and all("summary" not in r.query["fields"] for r in listed)
        gets = [r for r in api if "/messages/" in r.path]
        assert gets and all(r.query["format"] == "metadata" for r in gets)
        out = await chat.say("/due")
        assert "Yesterday: video call with Dana Whitfield (Globex)" in out
        assert "Globex: no reply to your e-mail to Dana Whitfield for 5 business days" in out
        again = await run_capture(store, clock, app.config, [source])
        assert again.ingested.added == 0 and again.ingested.updated == 0
        box.messages.insert(0, gmail_message(
            "m2", T0 - timedelta(days=1), sender=f"Dana <{DANA}>", to=[JANE], subject=MARKER,
            sent=False,
        ))  # fmt: skip
        box.events["g0"]["status"] = "cancelled"
        await run_capture(store, clock, app.config, [source])
        out = await chat.say("/due")
        assert "no reply to your e-mail" not in out and "video call with Dana" not in out
    assert MARKER not in await dump(store)
