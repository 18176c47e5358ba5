"""A running kana-server as tests see it: its URLs and one HTTP client shared by every project on it."""

from __future__ import annotations

from types import TracebackType
from typing import Any

import httpx

from kana_server.testing.errors import KanaUnavailable
from kana_server.testing.project import Kana


class KanaServer:
    """A kana-server at `url` (started by the plugin, or already running when `external`); its one
    synchronous HTTP client serves every project made on it (D117)."""

    def __init__(self, url: str, *, external: bool = False, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self.external = external
        self.http = httpx.Client(base_url=self.url, timeout=timeout)

    @property
    def admin_url(self) -> str:
        """The Admin API's endpoint (Kana's `https://api.usekana.com/graphql`)."""
        return self.url + "/graphql"

    @property
    def client_url(self) -> str:
        """The Client API's endpoint, for `@usekana/client-kana-js`'s `endpoint` option."""
        return self.url + "/client/graphql"

    @property
    def cli_url(self) -> str:
        """The Kana CLI's base URL (`KANA_DEV_URL`)."""
        return self.url + "/cli"

    def __repr__(self) -> str:
        return f"KanaServer({self.url!r}, external={self.external})"

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One HTTP request to the server; a connection failure says which server could not be reached."""
        __tracebackhide__ = True
        try:
            return self.http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise KanaUnavailable(
                f"kana-server at {self.url} did not answer {method} {path}: {type(exc).__name__}: {exc}"
            ) from exc

    def check_health(self) -> None:
        """Raise `KanaUnavailable` unless `GET /_kana/health` answers 200."""
        __tracebackhide__ = True
        hint = "start it first and wait on /_kana/health (docs/testing.md), or drop --kana-url / KANA_URL"
        try:
            response = self.http.get("/_kana/health")
        except httpx.TransportError as exc:
            raise KanaUnavailable(
                f"kana-server at {self.url} is not reachable ({type(exc).__name__}: {exc}); {hint}"
            ) from exc
        if response.status_code != 200:
            raise KanaUnavailable(
                f"kana-server at {self.url} is not healthy: GET /_kana/health answered "
                f"{response.status_code} {response.text[:200]!r}; {hint}"
            )

    def project(self, private_key: str | None = None) -> Kana:
        """Helpers for a project on this server: a new, empty one unless a private key is given."""
        return Kana(self, private_key)

    def close(self) -> None:
        """Close the HTTP client (the server itself is stopped by whoever started it)."""
        self.http.close()

    def __enter__(self) -> KanaServer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
