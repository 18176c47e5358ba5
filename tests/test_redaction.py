"""Redaction: secrets are hidden by name and by shape, in values and in texts; the rest is left alone."""

from __future__ import annotations

from kana_server.redaction import REDACTED, mask, redact, redact_text

KEY = "prv_live_" + "a1" * 16
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJ1c2VySWQiOiJhIn0.c2lnbmF0dXJl"


def test_values_under_secret_names_are_hidden() -> None:
    value = {
        "token": "t",
        "apiKey": "k",
        "Password": "p",
        "authorization": "a",
        "client_secret": "s",
        "id": "x",
    }
    assert redact(value) == {
        "token": REDACTED,
        "apiKey": REDACTED,
        "Password": REDACTED,
        "authorization": REDACTED,
        "client_secret": REDACTED,
        "id": "x",
    }


def test_secret_looking_values_are_hidden_whatever_their_name() -> None:
    value = {"note": KEY, "list": ["ok", JWT, "Bearer abc.def"], "stripe": "sk_test_abc123", "n": 3}
    assert redact(value) == {"note": REDACTED, "list": ["ok", REDACTED, REDACTED], "stripe": REDACTED, "n": 3}


def test_an_object_under_a_secret_name_is_searched_not_hidden_whole() -> None:
    assert redact({"generateUserToken": {"token": JWT, "userId": "u1"}}) == {
        "generateUserToken": {"token": REDACTED, "userId": "u1"}
    }
    assert redact({"tokens": ["a", "b"], "token": None}) == {"tokens": REDACTED, "token": None}


def test_the_original_is_not_changed() -> None:
    original = {"token": "t", "nested": [{"password": "p"}]}
    redact(original)
    assert original == {"token": "t", "nested": [{"password": "p"}]}


def test_texts_lose_secret_values_and_secret_named_literals() -> None:
    query = f'mutation {{ a(input: {{note: "{KEY}", apiKey: "plain", name: "Ann"}}) {{ id }} }}'
    assert redact_text(query) == (
        f'mutation {{ a(input: {{note: "{REDACTED}", apiKey: "{REDACTED}", name: "Ann"}}) {{ id }} }}'
    )
    assert redact_text(f"Unauthenticated: {JWT} expired") == f"Unauthenticated: {REDACTED} expired"
    assert redact_text('{ user(id: "monkey") { id } }') == '{ user(id: "monkey") { id } }'


def test_mask_keeps_keys_recognisable() -> None:
    assert mask(KEY) == KEY[:13] + "…" + KEY[-4:]
    assert mask("kana-server local") == "kana-server local"
