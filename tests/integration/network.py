"""Standing up real networks for integration tests: real gRPC on loopback, real SQLite files.

The builder and its helpers live in ``node.simulate`` (the demo and the benches use them
too); the tests import them from here so a test module names one harness.
"""

from __future__ import annotations

import re

import aiohttp

from node.simulate import (
    Network,
    converged,
    eventually,
    free_port,
    index_keys_everywhere,
    ingest,
    make_record,
    staff,
    tree,
)

__all__ = [
    "browser_login",
    "Network", "converged", "eventually", "free_port", "index_keys_everywhere", "ingest",
    "make_record", "staff", "tree",
]  # fmt: skip


CSRF_FIELD = re.compile(r'name="csrf" value="([^"]*)"')


async def browser_login(
    http: aiohttp.ClientSession, web_url: str, code: str, name: str, password: str
) -> str:
    """Log ``http`` in at node ``code`` through the login form, as a browser does (GET the
    form, POST it with its CSRF token and this site's Origin); returns the session's CSRF
    token for the forms that follow. ``http`` needs ``aiohttp.CookieJar(unsafe=True)`` to keep
    cookies for 127.0.0.1."""
    async with http.get(f"{web_url}/n/{code}/login") as form:
        found = CSRF_FIELD.findall(await form.text())  # the login form's is the last one
        assert form.status == 200 and found, form.status
    fields = {"name": name, "password": password, "csrf": found[-1], "next": f"/n/{code}/"}
    async with http.post(
        f"{web_url}/n/{code}/login", data=fields, headers={"Origin": web_url}
    ) as done:
        page = await done.text()
        assert done.status == 200 and done.url.path == f"/n/{code}/", (done.status, page[:500])
        session = CSRF_FIELD.search(page)  # the logout button's: the session's own token
        assert session
        return session.group(1)
