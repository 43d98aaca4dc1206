"""``create_app``: one aiohttp application serving every node a host runs, by code in the URL."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from node.web import api, ingest, pages, registry, sync, sync_repair
from node.web.context import NODES
from node.web.middleware import error_middleware

if TYPE_CHECKING:
    from node.federation.services import NodeServices

STATIC_DIR = Path(__file__).parent / "static"


def create_app(nodes: Mapping[str, NodeServices]) -> web.Application:
    """The web application for ``nodes`` (division code -> that node's services).

    The mapping is kept, not copied, so a host that adds a node later serves it at once.
    """
    app = web.Application(middlewares=[error_middleware])
    app[NODES] = nodes
    pages.add_routes(app)
    api.add_routes(app)
    registry.add_routes(app)
    sync.add_routes(app)
    sync_repair.add_routes(app)
    ingest.add_routes(app)
    app.router.add_static("/static/", STATIC_DIR, name="static")
    return app
