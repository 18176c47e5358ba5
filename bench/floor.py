"""The floor: kana-server's durable work done by a minimal Starlette app with the plainest fast SQLite.

One sqlite3 connection on one worker thread (a one-thread executor), one hop to it per request, WAL,
kana-server's default `synchronous`, one transaction per write. No GraphQL, no ORM, no cache: what is
left is HTTP, JSON and the same rows read and written. Responses have the shape of kana-server's, so
the load generator checks both the same way (GraphQL-style errors on HTTP 200 included).

`python -m bench.floor --database PATH --seed SEED.json --port 0` serves it with uvicorn (1 worker,
uvloop, httptools, no access log).
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench.floor_store import FloorError, FloorStore, Json


def answer(data: Json, status: int = 200) -> Response:
    """A JSON response (orjson)."""
    return Response(orjson.dumps(data), status_code=status, media_type="application/json")


def error_answer(message: str, code: str) -> Json:
    """A GraphQL-style error document, as kana-server answers a failed query on HTTP 200."""
    return {"data": None, "errors": [{"message": message, "extensions": {"code": code}}]}


class FloorApp:
    """The HTTP side: parse the JSON body, make one hop to the SQLite thread, answer with JSON."""

    def __init__(self, database: Path, seed: Json | None, synchronous: str) -> None:
        self.store = FloorStore(database, synchronous)
        self.seed = seed
        self.executor: ThreadPoolExecutor | None = None

    @asynccontextmanager
    async def lifespan(self, _app: Starlette) -> AsyncIterator[None]:
        """Open the database on the worker thread; close both when the server stops."""
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="floor-sqlite")
        self.executor = executor
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(executor, self.store.open, self.seed)
        try:
            yield
        finally:
            await loop.run_in_executor(executor, self.store.close)
            executor.shutdown(wait=True)

    async def _hop(self, work: Callable[..., Json], *args: Any) -> Response:
        """Run one store method on the SQLite thread; a FloorError becomes an error on HTTP 200."""
        assert self.executor is not None
        try:
            return answer(await asyncio.get_running_loop().run_in_executor(self.executor, work, *args))
        except FloorError as error:
            return answer(error_answer(str(error), "NOT_FOUND"))

    @staticmethod
    async def _pair(request: Request) -> tuple[str, str, int]:
        """(userId, featureId, delta) of the request's JSON body, or BadRequest."""
        try:
            body = orjson.loads(await request.body())
            return str(body["userId"]), str(body["featureId"]), int(body.get("delta", 1))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as exc:
            raise BadRequest(f"the body must be a JSON object with userId and featureId ({exc!r})") from exc

    async def record(self, request: Request) -> Response:
        """POST /record {userId, featureId, delta}."""
        user, feature, delta = await self._pair(request)
        return await self._hop(self.store.record, user, feature, delta)

    async def can_use(self, request: Request) -> Response:
        """POST /can-use {userId, featureId}."""
        user, feature, _ = await self._pair(request)
        return await self._hop(self.store.can_use, user, feature)

    async def show_usage(self, request: Request) -> Response:
        """POST /show-usage {userId, featureId}."""
        user, feature, _ = await self._pair(request)
        return await self._hop(self.store.show_usage, user, feature)

    async def features(self, request: Request) -> Response:
        """POST /features."""
        return await self._hop(self.store.features)

    async def current_user(self, request: Request) -> Response:
        """POST /current-user with the user in `X-User-ID` (as the Client API takes it)."""
        user = request.headers.get("x-user-id")
        if not user:
            return answer(error_answer("X-User-ID is required", "UNAUTHENTICATED"))
        return await self._hop(self.store.current_user, user)


class BadRequest(Exception):
    """A body the floor cannot read."""


async def bad_request(request: Request, exc: Exception) -> Response:
    """A body the floor cannot read: 400, as kana-server answers malformed JSON."""
    return answer(error_answer(f"Bad request: {exc}", "BAD_USER_INPUT"), status=400)


def create_app(database: Path, seed: Json | None = None, synchronous: str = "FULL") -> Starlette:
    """The floor app on a SQLite file, seeded from a kana-server seed document when it is empty."""
    floor = FloorApp(database, seed, synchronous)
    routes = [
        Route("/record", floor.record, methods=["POST"]),
        Route("/can-use", floor.can_use, methods=["POST"]),
        Route("/show-usage", floor.show_usage, methods=["POST"]),
        Route("/features", floor.features, methods=["POST"]),
        Route("/current-user", floor.current_user, methods=["POST"]),
    ]
    return Starlette(routes=routes, lifespan=floor.lifespan, exception_handlers={BadRequest: bad_request})


def main(argv: list[str] | None = None) -> None:
    """Serve the floor with uvicorn: 1 worker, uvloop, httptools, access log off."""
    parser = argparse.ArgumentParser(prog="python -m bench.floor", description=__doc__.splitlines()[0])
    parser.add_argument("--database", type=Path, required=True, help="SQLite file (created if missing)")
    parser.add_argument("--seed", type=Path, help="a kana-server seed (JSON) loaded into an empty database")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: any free port (printed when listening)")
    parser.add_argument("--synchronous", default="FULL", choices=["OFF", "NORMAL", "FULL", "EXTRA"])
    args = parser.parse_args(argv)
    seed = orjson.loads(args.seed.read_bytes()) if args.seed else None
    uvicorn.run(
        create_app(args.database, seed, args.synchronous),
        host=args.host,
        port=args.port,
        workers=1,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="info",
        timeout_keep_alive=75,  # as kana-server (D98)
    )


if __name__ == "__main__":
    main()
