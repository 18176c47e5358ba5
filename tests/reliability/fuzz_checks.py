"""The schemathesis check the fuzzing test runs (loaded with SCHEMATHESIS_HOOKS): no 5xx and no
INTERNAL_SERVER_ERROR. Kana reports missing records and bad input as GraphQL errors, so schemathesis's
own `not_a_server_error` (any resolver error) does not apply."""

from __future__ import annotations

from typing import Any

import schemathesis


@schemathesis.check
def no_internal_error(ctx: Any, response: Any, case: Any) -> None:
    """Fail on a 5xx answer or an error whose code is INTERNAL_SERVER_ERROR."""
    if response.status_code >= 500:
        raise AssertionError(f"HTTP {response.status_code}: {response.text[:500]}")
    try:
        body = response.json()
    except ValueError:
        raise AssertionError(f"not JSON (HTTP {response.status_code}): {response.text[:500]}") from None
    errors = body.get("errors") or [] if isinstance(body, dict) else []
    for error in errors:
        if error.get("extensions", {}).get("code") == "INTERNAL_SERVER_ERROR":
            raise AssertionError(f"internal error: {error}")
