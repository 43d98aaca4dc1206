"""Fixtures for the web tests: the fake hosted nodes and an aiohttp test client over them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer
from fake_service import FakeNode, hosted, network

from node.web import create_app


@pytest.fixture
def nodes() -> dict[str, FakeNode]:
    return network()


@pytest_asyncio.fixture
async def client(nodes: dict[str, FakeNode]) -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(create_app(hosted(nodes)))) as test_client:
        yield test_client
