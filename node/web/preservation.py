"""Packages, fixity and export over HTTP: the JSON API and the archivist's pages.

    POST /api/v1/nodes/{code}/packages?mode=all|good      body: the package (a zip, a CSV
        or JSON lines; ``X-Package-Name`` names it) -> 202 {"job_id", "status_url"}
    GET  /api/v1/nodes/{code}/packages/{job_id}            the job: state, done/total, outcome
        (the four-property report as JSON)
    GET  /api/v1/nodes/{code}/export?record=ID&series=S&q=TEXT   a BagIt bag (zip) of the
        records, the 档号 series or the search's records held here
    GET  /api/v1/nodes/{code}/fixity                       failures and coverage
    GET|POST /n/{code}/ingest/upload                        the upload page; the page's script
        sends the file in the body (with ``X-CSRF-Token``), as the API takes it
    GET  /n/{code}/ingest/jobs/{job_id}                     progress, polled by the page, then
        the report; ``/report`` is the printable report
    GET  /n/{code}/preservation                             the fixity page

The upload is streamed to a temporary file (never held in memory, bounded by
``preservation.max_package_bytes``) and ingested by a background job, so the node goes on
serving while a large package is checked. Every route is an archivist's (``@requires``).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from aiohttp import web
from aiohttp_jinja2 import render_template

from node.actors import Role
from node.errors import InvalidInput, NotFound
from node.federation.services.preservation import PreservationService, Selection
from node.records import SearchQuery
from node.web.auth import csrf_token, current_actor, requires
from node.web.context import json_response, node_services

_SUFFIXES = (".zip", ".csv", ".jsonl", ".json")


def _service(request: web.Request) -> PreservationService:
    service = node_services(request).preservation
    if service is None:
        raise NotFound("本节点未启用移交包导入")
    return service


async def _receive(request: web.Request, limit: int) -> Path:
    """The request body in a temporary file, refused past ``limit`` bytes."""
    name = request.headers.get("X-Package-Name", "")
    suffix = next((s for s in _SUFFIXES if name.lower().endswith(s)), ".zip")
    if request.content_type in ("text/csv",):
        suffix = ".csv"
    fd, temp = tempfile.mkstemp(prefix="archive-upload-", suffix=suffix)
    size = 0
    try:
        with os.fdopen(fd, "wb") as out:
            async for chunk in request.content.iter_chunked(1 << 20):
                size += len(chunk)
                if size > limit:
                    raise InvalidInput(f"移交包超过 {limit} 字节的上限，请分批移交")
                out.write(chunk)
    except BaseException:
        os.unlink(temp)
        raise
    if size == 0:
        os.unlink(temp)
        raise InvalidInput("没有收到移交包内容，请选择文件后重试")
    return Path(temp)


@requires(Role.ARCHIVIST)
async def upload(request: web.Request) -> web.Response:
    """POST a package: a background job, answered at once with where to follow it."""
    service = _service(request)
    mode = request.query.get("mode", "all")
    if mode not in ("all", "good"):
        raise InvalidInput("mode 应为 all（全部通过才导入）或 good（只导入合格条目）")
    path = await _receive(request, service.upload_limit())
    try:
        job = service.start_ingest(path, mode=mode, actor=current_actor(request), remove=True)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    code = request.match_info["code"]
    return json_response(
        {
            "job_id": job.job_id,
            "status_url": f"/api/v1/nodes/{code}/packages/{job.job_id}",
            "page_url": f"/n/{code}/ingest/jobs/{job.job_id}",
        },
        status=202,
    )


@requires(Role.ARCHIVIST)
async def job_status(request: web.Request) -> web.Response:
    return json_response(_service(request).job(request.match_info["job_id"]).to_json())


@requires(Role.ARCHIVIST)
async def upload_page(request: web.Request) -> web.Response:
    info = node_services(request).info
    context = {"name": info.name, "code": info.code, "csrf": csrf_token(request)}
    return render_template("ingest_upload.html", request, context)


@requires(Role.ARCHIVIST)
async def job_page(request: web.Request) -> web.Response:
    info = node_services(request).info
    job = _service(request).job(request.match_info["job_id"])
    context = {"name": info.name, "code": info.code, "job": job.to_json()}
    return render_template("ingest_job.html", request, context)


@requires(Role.ARCHIVIST)
async def job_report(request: web.Request) -> web.Response:
    job = _service(request).job(request.match_info["job_id"])
    if job.outcome is None:
        raise NotFound("检测尚未完成，请稍后刷新")
    return web.Response(text=job.outcome.report.to_html(), content_type="text/html")


@requires(Role.ARCHIVIST)
async def fixity_json(request: web.Request) -> web.Response:
    service = _service(request)
    checked, stored = await service.fixity_coverage()
    failures = [f.__dict__ for f in await service.fixity_failures()]
    return json_response({"checked": checked, "stored": stored, "failures": failures})


@requires(Role.ARCHIVIST)
async def fixity_page(request: web.Request) -> web.Response:
    info = node_services(request).info
    service = node_services(request).preservation
    checked, stored = await service.fixity_coverage() if service else (0, 0)
    context = {
        "name": info.name,
        "code": info.code,
        "checked": checked,
        "stored": stored,
        "failures": await service.fixity_failures() if service else [],
    }
    return render_template("preservation.html", request, context)


@requires(Role.ARCHIVIST)
async def export(request: web.Request) -> web.StreamResponse:
    """A bag of this node's records, as a zip download."""
    services = node_services(request)
    record_ids = tuple(request.query.getall("record", []))
    series = request.query.get("series", "")
    text = request.query.get("q", "")
    if text:
        page = await services.search.search(
            SearchQuery(text=text[:200], scope=services.info.code, limit=200),
            actor=current_actor(request),
        )
        record_ids += tuple(h.record_id for h in page.hits if h.holder == services.info.code)
    if not record_ids and not series:
        raise InvalidInput(
            "请用 record=档案标识、series=档号系列（如 J001-HY·2015-Y）或 q=检索词选择要导出的档案"
        )
    with tempfile.TemporaryDirectory(prefix="archive-export-") as temp:
        target = Path(temp) / f"{services.info.code}-bag.zip"
        await _service(request).export(
            Selection(record_ids=record_ids, series=series[:60]),
            target,
            actor=current_actor(request),
            as_zip=True,
        )
        response = web.FileResponse(target, headers={
            "Content-Type": "application/zip",
            "Content-Disposition": f'attachment; filename="{target.name}"',
        })  # fmt: skip
        await response.prepare(request)
        await response.write_eof()
        return response


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/v1/nodes/{code}/packages", upload)
    app.router.add_get("/api/v1/nodes/{code}/packages/{job_id}", job_status)
    app.router.add_get("/api/v1/nodes/{code}/export", export)
    app.router.add_get("/api/v1/nodes/{code}/fixity", fixity_json)
    app.router.add_get("/n/{code}/ingest/upload", upload_page)
    app.router.add_post("/n/{code}/ingest/upload", upload)
    app.router.add_get("/n/{code}/ingest/jobs/{job_id}", job_page)
    app.router.add_get("/n/{code}/ingest/jobs/{job_id}/report", job_report)
    app.router.add_get("/n/{code}/preservation", fixity_page)
