"""Authentication: API keys → project (creating projects for new well-formed keys), and user tokens."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import jwt

from kana_server.domain.errors import Unauthenticated
from kana_server.domain.model import Project
from kana_server.settings import Settings, public_key_for
from kana_server.store.repository import Repository

PRIVATE_KEY = re.compile(r"^prv_(test|live)_[A-Za-z0-9]{32}$")
PUBLIC_KEY = re.compile(r"^pub_(test|live)_[A-Za-z0-9]{32}$")
TOKEN_AUDIENCE = "kana-client"
TOKEN_ISSUER = "usekana.com"


class KeyKind(StrEnum):
    """How a request authenticated."""

    PRIVATE = "private"
    PUBLIC = "public"
    USER_TOKEN = "user_token"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the project, how they authenticated, and (client API) which user."""

    project: Project
    kind: KeyKind
    user_id: str | None = None
    user_key: int | None = None  # a user token's internal user key: a renamed user's tokens stop working


def credential(header: str | None) -> str | None:
    """The key or token of an Authorization header: raw, or after `Bearer ` (Kana accepts both)."""
    if header is None:
        return None
    value = header.strip()
    if value[:7].lower() == "bearer ":
        value = value[7:].strip()
    elif value.lower() == "bearer":  # `Bearer ` with nothing after it (trailing spaces are dropped)
        return None
    return value or None


class Authenticator:
    """Resolves credentials to projects; unknown well-formed private keys get a new project ([X])."""

    def __init__(self, settings: Settings, repository: Repository) -> None:
        self.settings = settings
        self.repository = repository

    async def ensure_default_project(self, now: datetime) -> Project:
        """The default project (created at start so its keys work at once)."""
        return await self.repository.ensure_project(
            self.settings.private_key,
            self.settings.public_key,
            self.settings.project_name,
            secrets.token_hex(32),
            now,
        )

    async def private(self, header: str | None, now: datetime) -> Principal:
        """The project of a private key (Admin API, CLI routes, control plane)."""
        key = credential(header)
        if key is None:
            raise Unauthenticated("no API key was sent in the Authorization header")
        if key.startswith("pub_"):
            raise Unauthenticated("a public key cannot be used here; use your private key (prv_...)")
        project = await self.repository.project_by_private_key(key)
        if project is None:
            if self.settings.strict_keys or not PRIVATE_KEY.match(key):
                raise Unauthenticated("the API key is not valid")
            project = await self.repository.ensure_project(
                key, public_key_for(key), key, secrets.token_hex(32), now
            )
        return Principal(project, KeyKind.PRIVATE)

    async def public(self, header: str | None, user_id: str | None, now: datetime) -> Principal:
        """The project and user of a client API call: public key + `X-User-ID`, or a user token (D43)."""
        key = credential(header)
        if key is None:
            raise Unauthenticated("no API key or user token was sent in the Authorization header")
        if key.startswith("prv_"):
            raise Unauthenticated(
                "a private key must never be used in a browser; use your public key (pub_...)"
            )
        if not key.startswith("pub_"):
            return await self.user_token(key, now)
        project = await self.repository.project_by_public_key(key)
        if project is None:
            raise Unauthenticated("the public key is not valid")
        if not user_id:
            raise Unauthenticated("the X-User-ID header is required with a public key")
        return Principal(project, KeyKind.PUBLIC, user_id)

    async def user_token(self, token: str, now: datetime) -> Principal:
        """The project and user of a user token made by generateUserToken (client API, secure mode).

        D46: expiry is checked against `now` (the server's clock), not the time PyJWT reads itself.
        """
        try:
            unverified = jwt.decode(token, options={"verify_signature": False})
            project = await self.repository.project_by_id(int(unverified["pid"]))
        except (jwt.PyJWTError, KeyError, TypeError, ValueError) as exc:
            raise Unauthenticated("the user token is not valid") from exc
        if project is None:
            raise Unauthenticated("the user token is not valid")
        try:
            claims = jwt.decode(
                token,
                project.token_secret,
                algorithms=["HS256"],
                audience=TOKEN_AUDIENCE,
                issuer=TOKEN_ISSUER,
                options={
                    "require": ["userId", "uk", "iat", "exp"],
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                },
            )
            expires = float(claims["exp"])
            user_id, user_key = str(claims["userId"]), int(claims["uk"])
        except (jwt.PyJWTError, TypeError, ValueError) as exc:
            raise Unauthenticated("the user token is not valid") from exc
        if expires <= now.timestamp():
            raise Unauthenticated("the user token has expired")
        return Principal(project, KeyKind.USER_TOKEN, user_id, user_key)


def issue_user_token(
    project: Project, user_id: str, user_key: int, issued_at: datetime, ttl: timedelta
) -> str:
    """A user token like Kana's: HS256 JWT with userId, iat, exp, aud, iss and app, signed per project."""
    claims: dict[str, Any] = {
        "userId": user_id,
        "uk": user_key,
        "pid": project.id,
        "app": project.name,
        "aud": TOKEN_AUDIENCE,
        "iss": TOKEN_ISSUER,
        "iat": issued_at,
        "exp": issued_at + ttl,
    }
    return jwt.encode(claims, project.token_secret, algorithm="HS256")
