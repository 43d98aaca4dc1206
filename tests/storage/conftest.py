"""Fixtures for storage tests: an open database in a temporary directory, and its stores."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio

from node.storage.db import Database


@pytest_asyncio.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(tmp_path / "node" / "node.db")
    await database.open()
    yield database
    await database.close()
