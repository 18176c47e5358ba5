"""`/client/graphql`: the Client (frontend) API, behind CORS because browsers call it (D45)."""

from __future__ import annotations

from starlette.middleware.cors import CORSMiddleware
from starlette.routing import BaseRoute, Mount, Route, Router

from kana_server.api.context import KanaContext
from kana_server.api.http import KanaGraphQLView
from kana_server.api.schema import client_schema
from kana_server.runtime import Runtime
from kana_server.settings import DEFAULT_PRIVATE_KEY, Settings

PATH = "/client/graphql"

EXAMPLE_QUERY = """# kana-server: Kana's Client (frontend) API, as @usekana/client-kana-js calls it.
# Headers: a public key and the user,
#   {"Authorization": "pub_test_kana_server_local", "X-User-ID": "alice"} (alice: a demo seed user),
# or a user token from the Admin API's generateUserToken: {"Authorization": "Bearer <token>"}.
query CurrentUser {
  currentUser {
    id
    name
    email
    subscribedPackages {
      id
      name
      isAddon
      features {
        id
        name
        type
        entitlement { access consumption { budget used } }
      }
    }
  }
}
"""


def routes(runtime: Runtime, settings: Settings) -> list[BaseRoute]:
    """The Client API endpoint (GraphiQL on GET), wrapped in Starlette's CORS middleware."""

    async def client_context(context: KanaContext) -> None:
        headers = context.request.headers
        # D44: X-API-Version is accepted whatever its value (the SDK sends "0.1").
        principal = await runtime.client_principal(headers.get("authorization"), headers.get("x-user-id"))
        context.principal = principal
        context._services = runtime.services(principal.project, context.traces.add)

    ide_headers = (
        {"Authorization": settings.public_key, "X-User-ID": "alice"}
        if settings.private_key == DEFAULT_PRIVATE_KEY
        else {}
    )
    view = KanaGraphQLView(
        client_schema(settings),
        settings,
        client_context,
        ide_headers=ide_headers,
        example_query=EXAMPLE_QUERY,
    )
    endpoint = CORSMiddleware(
        Router([Route("/graphql", view)]),  # the view answers other methods with 405 (D93)
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "POST"],
        allow_headers=["*"],
        max_age=600,
    )
    return [Mount("/client", app=endpoint)]
