"""``POST /api/v1/nodes/{code}/sync/repair[?deep=1]``: run anti-entropy with the parent now.

What ``archive-node sync repair`` calls. The answer says what was compared and what the
parent changed (``federation/antientropy.py``). An operator's act (``@requires``).
"""

from __future__ import annotations

from aiohttp import web

from node.actors import Role
from node.errors import InvalidInput
from node.federation.antientropy import RepairReport
from node.web.auth import current_actor, requires
from node.web.context import json_response, node_services


def report_json(report: RepairReport) -> dict[str, object]:
    """A repair run as the API returns it."""
    counts = report.counts
    return {
        "parent": report.parent,
        "deep": report.deep,
        "intact": report.intact,
        "ranges": report.ranges,
        "differing": report.differing,
        "rounds": report.rounds,
        "sent": report.sent,
        "removals": report.removals,
        "written": counts.written,
        "removed": counts.removed,
        "unchanged": counts.unchanged,
        "skipped": counts.skipped,
        "seconds": round(report.seconds, 3),
    }


@requires(Role.OPERATOR)
async def repair(request: web.Request) -> web.Response:
    deep = request.query.get("deep", "0")
    if deep not in ("0", "1"):
        raise InvalidInput("deep 应为 0 或 1")
    report = await node_services(request).sync.repair_catalogue(
        deep=deep == "1", actor=current_actor(request)
    )
    return json_response(report_json(report))


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/v1/nodes/{code}/sync/repair", repair)
