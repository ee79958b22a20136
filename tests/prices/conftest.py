"""The price tests' fixtures: a fake third-party API on loopback, a client session."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.support.fake_api import api  # noqa: F401  # a fixture, shared


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client
