"""aiohttp web layer: service-point pages and the JSON API over the nodes a host runs.

Handlers call each node's use-case services (``node.federation.services``, the same ones
the CLI reaches through the API) and never touch storage; ``middleware.py`` is the one
place errors become HTTP.
"""

from node.web.app import create_app

__all__ = ["create_app"]
