"""The one settings object, read from the environment and an optional `.env` file.

Only the entry point builds it; everything else receives what it needs from it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.config import CoreConfig

_ENV = {"env_file": ".env", "env_file_encoding": "utf-8", "extra": "ignore"}


class SlackSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SLACK_", **_ENV)  # type: ignore[typeddict-item]

    bot_token: SecretStr | None = None
    signing_secret: SecretStr | None = None
    app_token: SecretStr | None = None  # xapp-…: Socket Mode, no public URL needed
    client_id: str | None = None
    client_secret: SecretStr | None = None
    api_url: str = "https://slack.com/api/"

    @property
    def http_enabled(self) -> bool:
        return bool(self.signing_secret and (self.bot_token or self.oauth_enabled))

    @property
    def socket_mode(self) -> bool:
        return bool(self.app_token and self.bot_token)

    @property
    def oauth_enabled(self) -> bool:
        return bool(self.client_id and self.client_secret)

    @property
    def configured(self) -> bool:
        return self.http_enabled or self.socket_mode


class TeamsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MICROSOFT_APP_", **_ENV)  # type: ignore[typeddict-item]

    id: str = ""
    password: SecretStr = SecretStr("")
    tenant_id: str = ""
    type: Literal["MultiTenant", "SingleTenant", "UserAssignedMSI"] = "MultiTenant"

    @property
    def configured(self) -> bool:
        return bool(self.id)


class WebSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TOUCHBASE_WEB_", **_ENV)  # type: ignore[typeddict-item]

    password: SecretStr | None = None  # needed when serving beyond localhost
    # The firms whose figures the dashboard may show, beside the local chat's: "slack:T0123,
    # teams:<tenant id>". One deployment can serve several firms; none sees another's figures.
    workspaces: str = ""

    def allowed_workspaces(self) -> set[tuple[str, str]]:
        allowed = {("console", "local")}
        for item in self.workspaces.split(","):
            platform, _, external = item.strip().partition(":")
            if platform and external:
                allowed.add((platform.casefold(), external))
        return allowed

    session_secret: SecretStr | None = None


class CaptureSettings(BaseSettings):
    """Capture from calendars and mail (bot/capture.py). Every source is off until configured:
    Microsoft Graph needs the tenant, client id and secret; Google a service account key file
    and the delegation subject rule; iCalendar feeds need each person's own secret address."""

    model_config = SettingsConfigDict(
        env_prefix="TOUCHBASE_CAPTURE_",
        populate_by_name=True,
        **_ENV,  # type: ignore[typeddict-item]
    )

    # Keep subjects and event titles. Off: they never reach the database, a log or a message.
    subjects: bool = False
    # Read calendar feeds from loopback and private addresses (development and tests only).
    allow_local_feeds: bool = Field(default=False, alias="TOUCHBASE_ALLOW_LOCAL_FEEDS")
    feed_timeout_seconds: float = Field(default=20.0, gt=0, le=120)
    feed_max_bytes: int = Field(default=5_000_000, ge=10_000, le=50_000_000)
    # Microsoft 365 through Microsoft Graph, app-only (client credentials, admin consent).
    graph_tenant_id: str = ""
    graph_client_id: str = ""
    graph_client_secret: SecretStr | None = None
    graph_base_url: str = "https://graph.microsoft.com/v1.0"
    graph_authority: str = "https://login.microsoftonline.com"
    # Google Workspace: a service account with domain-wide delegation.
    google_credentials_file: str = ""
    google_base_url: str = ""  # empty: Google's own endpoints (tests point it at a fake)
    google_token_url: str = ""  # empty: the key file's token_uri

    @property
    def graph_configured(self) -> bool:
        secret = self.graph_client_secret.get_secret_value() if self.graph_client_secret else ""
        return bool(self.graph_tenant_id and self.graph_client_id and secret)

    @property
    def google_configured(self) -> bool:
        return bool(self.google_credentials_file)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(populate_by_name=True, **_ENV)  # type: ignore[typeddict-item]

    database_url: str = Field(default="sqlite:///touchbase.db")
    log_level: str = Field(default="INFO", alias="LOG_LEVEL")
    env: Literal["production", "development"] = Field(default="production", alias="TOUCHBASE_ENV")
    host: str = Field(default="127.0.0.1", alias="TOUCHBASE_HOST")
    port: int = Field(default=3978, alias="TOUCHBASE_PORT")
    default_tz: str = Field(default="UTC", alias="TOUCHBASE_TIMEZONE")
    # How 3/11 is read for someone whose platform gives no locale: month first (US) or day first.
    date_order: Literal["MDY", "DMY", "YMD"] = Field(default="MDY", alias="TOUCHBASE_DATE_ORDER")
    default_cadence_days: int = Field(default=30, ge=1, le=3650, alias="TOUCHBASE_CADENCE_DAYS")
    followup_business_days: int = Field(default=3, ge=1, le=60, alias="TOUCHBASE_FOLLOWUP_DAYS")
    digest_hour: int = Field(default=8, ge=0, le=23, alias="TOUCHBASE_DIGEST_HOUR")
    digest_catch_up_until_hour: int = Field(
        default=12, ge=0, le=23, alias="TOUCHBASE_CATCH_UP_UNTIL"
    )
    scheduler_enabled: bool = Field(default=True, alias="TOUCHBASE_SCHEDULER")
    # Which SDK answers Teams: botbuilder (Bot Framework) or the Microsoft 365 Agents SDK. Same
    # endpoint, credentials and stored conversations either way.
    teams_sdk: Literal["botbuilder", "agents"] = Field(
        default="botbuilder", alias="TOUCHBASE_TEAMS_SDK"
    )
    # Where a command answered with "Saving…" is journaled until it is done; empty: next to the
    # SQLite file, or ./touchbase-intake for PostgreSQL.
    intake_dir: str = Field(default="", alias="TOUCHBASE_INTAKE_DIR")
    digest_concurrency: int = Field(default=16, ge=1, le=64, alias="TOUCHBASE_DIGEST_CONCURRENCY")
    summary_day: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = Field(
        default="mon", alias="TOUCHBASE_SUMMARY_DAY"
    )
    summary_hour: int = Field(default=9, ge=0, le=23, alias="TOUCHBASE_SUMMARY_HOUR")
    # HTTP: a connection that has not sent a whole request (or sits idle) this long is closed;
    # a body not received this long after its headers is refused; at most this many
    # connections are open at once (fewer if the open-file limit is lower), the idle ones
    # closed first to make room.
    http_idle_timeout: float = Field(
        default=15.0, gt=0, le=3600, alias="TOUCHBASE_HTTP_IDLE_TIMEOUT"
    )
    http_body_timeout: float = Field(
        default=10.0, gt=0, le=600, alias="TOUCHBASE_HTTP_BODY_TIMEOUT"
    )
    http_max_connections: int = Field(
        default=1000, ge=8, le=100_000, alias="TOUCHBASE_HTTP_MAX_CONNECTIONS"
    )

    # Fernet keys, comma-separated, for the Slack tokens kept in the database (OAuth installs):
    # the first encrypts, all decrypt, so a key is rotated by putting the new one first.
    secret_keys: SecretStr | None = Field(default=None, alias="TOUCHBASE_SECRET_KEYS")

    slack: SlackSettings = Field(default_factory=SlackSettings)
    teams: TeamsSettings = Field(default_factory=TeamsSettings)
    web: WebSettings = Field(default_factory=WebSettings)
    capture: CaptureSettings = Field(default_factory=CaptureSettings)

    def core(self) -> CoreConfig:
        return CoreConfig(
            default_tz=self.default_tz,
            date_order=self.date_order,
            default_cadence_days=self.default_cadence_days,
            followup_business_days=self.followup_business_days,
            digest_hour=self.digest_hour,
            digest_catch_up_until_hour=self.digest_catch_up_until_hour,
            digest_concurrency=self.digest_concurrency,
            summary_weekday=("mon", "tue", "wed", "thu", "fri", "sat", "sun").index(
                self.summary_day
            ),
            summary_hour=self.summary_hour,
            capture_subjects=self.capture.subjects,
            capture_allow_local_feeds=self.capture.allow_local_feeds,
        )
