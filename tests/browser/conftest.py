"""Pages in a real browser: Playwright driving Debian's Chromium (``make test`` installs it
with apt-get when it runs as root and it is missing).

Where neither the browser nor Playwright can be had, these tests skip with a one-line reason,
except under ``CI=true``, where a missing browser fails: CI must run them.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

CHROMIUM_NAMES = ("chromium", "chromium-browser")
PHONE = {"width": 375, "height": 740}  # a common phone's CSS width


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"browser tests must run in CI: {reason}")
    pytest.skip(reason)


def chromium_path() -> str:
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    _unavailable("no Chromium on this machine (make test installs it with apt-get as root)")
    raise AssertionError  # not reached


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def browser() -> AsyncIterator[Any]:
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        _unavailable("Playwright is not installed (pip install -e '.[dev]')")
    executable = chromium_path()
    async with async_playwright() as playwright:
        # --no-sandbox: CI and this machine run as root, where Chromium's sandbox cannot start
        launched = await playwright.chromium.launch(
            executable_path=executable, args=["--no-sandbox"]
        )
        try:
            yield launched
        finally:
            await launched.close()
