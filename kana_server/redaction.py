"""Redaction of secrets before anything leaves the request ledger (D81).

A value is hidden when its name says it is a secret (token, key, secret, password, authorization,
credential, ...) or when it looks like one whatever its name: Kana keys (`prv_`/`pub_` + environment),
Stripe-style keys (`sk_`, `rk_`, `whsec_`), JSON Web Tokens and `Bearer ...` values.
"""

from __future__ import annotations

import re
from typing import Any

REDACTED = "[redacted]"

SECRET_NAME = re.compile(
    r"token|key|secret|passw|authori[sz]ation|credential|cookie|signature", re.IGNORECASE
)
"""Names whose values are always hidden (`apiKey`, `userToken`, `password`, `Authorization`, ...)."""

_SECRET_PATTERNS = (
    r"\b(?:prv|pub)_(?:test|live)_[A-Za-z0-9_]+",  # Kana keys (also the local default key)
    r"\b(?:sk|rk|pk)_(?:test|live)_[A-Za-z0-9]+",  # Stripe-style secret keys
    r"\bwhsec_[A-Za-z0-9]+",
    r"\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*",  # JSON Web Tokens (user tokens)
    r"\bBearer\s+[A-Za-z0-9._~+/=-]+",
)
SECRET_VALUE = re.compile("|".join(_SECRET_PATTERNS))
"""Values hidden wherever they appear, in values and in texts (queries, error messages)."""

_NAMED_LITERAL = re.compile(
    r"""(\b\w*(?:token|key|secret|passw|authori[sz]ation|credential)\w*\s*:\s*)("(?:[^"\\]|\\.)*")""",
    re.IGNORECASE,
)
"""A string literal given to an argument or input field with a secret's name, inside a GraphQL text."""


def is_secret_name(name: str) -> bool:
    """Whether a field, argument or variable name says its value is a secret."""
    return SECRET_NAME.search(name) is not None


def redact_text(text: str) -> str:
    """A text (a GraphQL document, a message) with secret-looking values and secret-named literals hidden."""
    text = SECRET_VALUE.sub(REDACTED, text)
    return _NAMED_LITERAL.sub(lambda m: f'{m.group(1)}"{REDACTED}"', text)


def redact(value: Any) -> Any:
    """A copy of a JSON-like value with secrets hidden (the original is left untouched)."""
    if isinstance(value, str):
        return REDACTED if SECRET_VALUE.search(value) else value
    if isinstance(value, dict):
        # An object under a secret's name (`generateUserToken { token }`) is searched, not hidden whole.
        return {
            key: (
                REDACTED
                if item is not None and not isinstance(item, dict) and is_secret_name(str(key))
                else redact(item)
            )
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    return value


def _masked(secret: str) -> str:
    return secret[:13] + "…" + secret[-4:] if len(secret) >= 32 else REDACTED


def mask(text: str) -> str:
    """A text with secret-looking values shortened to a recognisable `prv_test_ab12…wxyz` (project names).

    A project made by a new key is named after its key: shown masked, it can be told apart without
    showing the key itself.
    """
    return SECRET_VALUE.sub(lambda m: _masked(m.group()), text)
