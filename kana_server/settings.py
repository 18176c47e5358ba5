"""Settings: one class, read from `KANA_*` environment variables; command-line flags override them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, HttpUrl, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_PRIVATE_KEY = "prv_test_kana_server_local"
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./kana.db"


class Settings(BaseSettings):
    """Everything kana-server can be told; each field is also the env var `KANA_<FIELD>`."""

    model_config = SettingsConfigDict(env_prefix="KANA_", extra="ignore", validate_default=True)

    host: str = Field("127.0.0.1", description="Interface to listen on.")
    port: int = Field(4000, ge=0, le=65535, description="Port to listen on (0: any free port).")
    database_url: str = Field(
        DEFAULT_DATABASE_URL, description="SQLAlchemy async URL (SQLite or PostgreSQL)."
    )
    seed: str | None = Field(
        None, description="kana.yaml seed applied to the default project ('demo': built-in)."
    )
    export_on_exit: Path | None = Field(
        None, description="Write the default project's export to this file when the server stops."
    )
    api_key: SecretStr = Field(
        SecretStr(DEFAULT_PRIVATE_KEY), description="The default project's private key."
    )
    strict_keys: bool = Field(False, description="Refuse private keys other than the configured one.")
    project_name: str = Field("kana-server local", description="The default project's name (Kana's 'app').")
    token_ttl_seconds: int = Field(
        30 * 24 * 3600, gt=0, description="Lifetime of user tokens (Kana: 30 days)."
    )
    checkout_ttl_seconds: int = Field(
        24 * 3600,
        gt=0,
        description="Lifetime of subscription links (checkout sessions), on the project's clock.",
    )
    public_url: HttpUrl | None = Field(
        None,
        description="Base URL browsers reach this server at, for subscription links (default: request's).",
    )
    workers: int = Field(1, ge=1, description="Worker processes.")
    log_level: Literal["critical", "error", "warning", "info", "debug"] = "info"
    access_log: bool = Field(False, description="Log every HTTP request (costs throughput).")
    event_loop: Literal["asyncio", "uvloop"] = Field(
        "asyncio",
        description="The server's event loop. uvloop picks up one new connection per loop turn under "
        "load, so clients that connect while the server is busy wait up to seconds (D107).",
    )
    sqlite_synchronous: Literal["OFF", "NORMAL", "FULL", "EXTRA"] = Field(
        "FULL", description="SQLite durability: FULL survives power loss; NORMAL only process crashes."
    )
    db_pool_size: int = Field(
        4,
        ge=1,
        description="Pool size (PostgreSQL); threads for long reads such as exports (SQLite).",
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["*"],
        description="Origins allowed to call /client/graphql from a browser ('*': any), comma-separated.",
    )
    graphiql: bool = Field(True, description="Serve GraphiQL to browsers on GET /graphql.")
    graphql_cache_size: int = Field(1024, ge=1, description="Parsed/validated documents kept per process.")
    max_query_depth: int = Field(12, ge=1, description="Deepest selection an operation may have.")
    max_query_aliases: int = Field(50, ge=1, description="Most aliases in one operation.")
    max_query_tokens: int = Field(10_000, ge=1, description="Most tokens in one GraphQL document.")
    max_body_bytes: int = Field(
        1_048_576, ge=1024, description="Largest GraphQL request body, in bytes (413 above it)."
    )
    idempotency_ttl_seconds: int = Field(
        24 * 3600,
        gt=0,
        description="How long an Idempotency-Key is remembered, on the project's clock (replays within it).",
    )
    ledger_size: int = Field(
        1000, ge=0, description="GraphQL requests kept per project in the request ledger (0: off)."
    )
    ledger_projects: int = Field(100, ge=1, description="Projects whose request ledgers are kept (LRU).")

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        """KANA_CORS_ORIGINS may be a JSON list or comma-separated origins."""
        if isinstance(value, str):
            text = value.strip()
            return (
                json.loads(text)
                if text.startswith("[")
                else [o.strip() for o in text.split(",") if o.strip()]
            )
        return value

    @property
    def private_key(self) -> str:
        """The default project's private key."""
        return self.api_key.get_secret_value()

    @property
    def public_key(self) -> str:
        """The default project's public key: the private key with `prv_` replaced by `pub_`."""
        return public_key_for(self.private_key)

    def seed_path(self) -> Path | None:
        """The seed file to apply at start, if any ('demo' names the built-in demo seed)."""
        if not self.seed:
            return None
        if self.seed == "demo":
            return Path(__file__).parent / "seeds" / "demo.yaml"
        return Path(self.seed)


def public_key_for(private_key: str) -> str:
    """A project's public key is its private key with `prv_` replaced by `pub_` ([X])."""
    return "pub_" + private_key.removeprefix("prv_")
