"""Strawberry's parser and validation caches really hit (without them a request costs several times more)."""

from __future__ import annotations

import pytest
from strawberry.extensions.parser_cache import _get_parse_cache
from strawberry.extensions.validation_cache import _get_validate_cache

from kana_server.settings import Settings
from tests.conftest import SERVER_MODE
from tests.kana import Api

pytestmark = pytest.mark.skipif(SERVER_MODE, reason="reads the in-process caches")


async def test_a_repeated_query_is_neither_parsed_nor_validated_again(api: Api) -> None:
    size = Settings().graphql_cache_size
    query = "{ features { id name } __typename }"
    await api.data(query)
    parsed, validated = _get_parse_cache(size).cache_info(), _get_validate_cache(size).cache_info()
    await api.data(query)
    assert _get_parse_cache(size).cache_info().hits == parsed.hits + 1
    assert _get_validate_cache(size).cache_info().hits == validated.hits + 1
