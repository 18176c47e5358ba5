"""Strawberry's parser and validation caches really hit (without them a request costs several times more)."""

from __future__ import annotations

from typing import Any

import pytest
from strawberry.extensions.parser_cache import _get_parse_cache
from strawberry.extensions.validation_cache import _get_validate_cache

from kana_server.settings import Settings
from tests.conftest import SERVER_MODE
from tests.kana import Api

pytestmark = pytest.mark.skipif(SERVER_MODE, reason="reads the in-process caches")


def hits(cache: Any) -> int:
    """An lru_cache's hit count."""
    return int(cache.cache_info().hits)


async def test_a_repeated_query_is_neither_parsed_nor_validated_again(api: Api) -> None:
    size = Settings().graphql_cache_size
    query = "{ features { id name } __typename }"
    await api.data(query)
    parsed, validated = hits(_get_parse_cache(size)), hits(_get_validate_cache(size))
    await api.data(query)
    assert hits(_get_parse_cache(size)) == parsed + 1
    assert hits(_get_validate_cache(size)) == validated + 1
