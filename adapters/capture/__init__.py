"""Capture's sources: Microsoft Graph, Google Workspace, iCalendar feeds. Each turns what a
calendar or mailbox holds into `bot.capture_ports.CapturedEvent` objects (metadata only) and is
built only when configured."""

from __future__ import annotations

from app.settings import CaptureSettings
from bot.capture import EventSource


def build_sources(settings: CaptureSettings) -> list[EventSource]:
    """The configured sources. iCalendar feeds are always offered: each person turns theirs on
    by giving its address, so with nobody having done so it reads nothing."""
    from adapters.capture.feeds import IcsFeedSource

    sources: list[EventSource] = [
        IcsFeedSource(
            allow_local=settings.allow_local_feeds,
            subjects=settings.subjects,
            timeout=settings.feed_timeout_seconds,
            max_bytes=settings.feed_max_bytes,
        )
    ]
    if settings.graph_configured:  # msgraph-sdk is imported only when Microsoft 365 is set up
        from adapters.capture.graph import GraphSource

        assert settings.graph_client_secret is not None
        sources.append(
            GraphSource(
                tenant_id=settings.graph_tenant_id,
                client_id=settings.graph_client_id,
                client_secret=settings.graph_client_secret.get_secret_value(),
                base_url=settings.graph_base_url,
                authority=settings.graph_authority,
                subjects=settings.subjects,
            )
        )
    if settings.google_configured:
        from adapters.capture.google import GoogleSource

        sources.append(
            GoogleSource(
                credentials_file=settings.google_credentials_file,
                token_url=settings.google_token_url,
                base_url=settings.google_base_url,
                subjects=settings.subjects,
            )
        )
    return sources
