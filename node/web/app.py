"""``create_app``: one aiohttp application serving every node a host runs, by code in the URL.

The zh-CN pages are Jinja2 templates in ``templates/`` (``base.html`` is the layout every page
extends, ``macros.html`` the repeated pieces), set up here once for the application.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import aiohttp_jinja2
import jinja2
from aiohttp import web

from node.web import (
    accounts,
    api,
    appraisal,
    audit,
    copies,
    identity_search,
    ingest,
    login,
    oai,
    operator,
    pages,
    preservation,
    registry,
    requests,
    sync,
    sync_repair,
)
from node.web.auth import auth_middleware, session_bar
from node.web.context import NODES, WEB_HOSTS
from node.web.hosts import WebHosts
from node.web.middleware import error_middleware

if TYPE_CHECKING:
    from node.federation.services import NodeServices

STATIC_DIR = Path(__file__).parent / "static"
TEMPLATE_DIR = Path(__file__).parent / "templates"


def create_app(
    nodes: Mapping[str, NodeServices], *, web_hosts: WebHosts | None = None
) -> web.Application:
    """The web application for ``nodes`` (division code -> that node's services).

    The mapping is kept, not copied, so a host that adds a node later serves it at once.
    ``web_hosts``: the ``Host`` names answered (``web/hosts.py``); loopback names if None.
    Errors map to HTTP outside the authority checks, so a refusal there is answered too.
    """
    app = web.Application(middlewares=[error_middleware, auth_middleware])
    app[NODES] = nodes
    app[WEB_HOSTS] = web_hosts if web_hosts is not None else WebHosts()
    setup_templates(app)
    pages.add_routes(app)
    api.add_routes(app)
    identity_search.add_routes(app)
    registry.add_routes(app)
    sync.add_routes(app)
    sync_repair.add_routes(app)
    ingest.add_routes(app)
    audit.add_routes(app)
    login.add_routes(app)
    accounts.add_routes(app)
    operator.add_routes(app)
    requests.add_routes(app)
    copies.add_routes(app)
    oai.add_routes(app)
    appraisal.add_routes(app)
    preservation.add_routes(app)
    app.router.add_static("/static/", STATIC_DIR, name="static")
    return app


def setup_templates(app: web.Application) -> jinja2.Environment:
    """The page templates for ``app``: every value escaped, a missing value an error;
    ``session_bar()`` tells the layout who is logged in at the page's node."""
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,  # a value a template expects and is not given fails
        finalize=_escaped,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        default_helpers=False,
    )
    env.globals["session_bar"] = session_bar
    return env


class _Escaped(str):
    """Text escaped by ``_escaped``: autoescaping takes what ``__html__`` gives as it is."""

    __slots__ = ()

    def __html__(self) -> str:
        return self


def _escaped(value: object) -> object:
    """Escape each ``{{ value }}`` as ``html.escape`` does, just before autoescaping sees it.

    Autoescaping alone would escape too, but spells a quote ``&#34;`` where the pages always
    had ``&quot;`` (and a link checker or a test may compare). HTML the templates built
    themselves (a macro's output) already has ``__html__`` and passes unchanged.
    """
    if hasattr(value, "__html__"):
        return value
    return _Escaped(html.escape(str(value), quote=True))
