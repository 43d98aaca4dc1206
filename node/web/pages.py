"""Server-rendered zh-CN pages: the node list, the service-point search page, content pages.

Plain GET forms, no JavaScript: the clerk's query lives in the URL, so paging, the back
button and bookmarks work. The one exception is a citizen's identity number (查本人档案): it
is posted (``POST /n/{code}/``, clerks only, with the session's CSRF token), never put in
a URL, a page or a log, so that search shows its first page only. The HTML is
``templates/index.html`` and ``templates/search.html``; ``node.web.views`` words what they
show, and the template environment escapes every value.

An input error or a node that cannot answer keeps the form as the clerk filled it, with a
zh-CN sentence saying what to fix or what to do (``views.problems``); a content page that is
refused names the record by its 档号 where the holder said it, and offers 申请利用.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from urllib.parse import quote

from aiohttp import web
from aiohttp_jinja2 import render_template

from node.actors import Role
from node.citizens import IdNumber
from node.errors import (
    AccessDenied,
    FederationError,
    InvalidCode,
    InvalidInput,
    InvalidQuery,
    NodeError,
)
from node.federation.services.search import KnownNode
from node.identity import covering_ancestor, validate_code
from node.records import SearchQuery
from node.web import views
from node.web.auth import csrf_token, current_actor, requires
from node.web.content import record_content
from node.web.context import hosted_nodes, node_services, post_fields
from node.web.middleware import problem_for
from node.web.params import filters, integer
from node.web.views import catalogue, problems, scope

log = logging.getLogger(__name__)

PAGE_SIZE = 20
ID_FIELD = "id_number"  # the form field of the identity number: posted, never echoed


async def index(request: web.Request) -> web.Response:
    """``GET /``: every node this process hosts, each linking to its service point."""
    nodes = hosted_nodes(request)
    items = [catalogue.node_item(nodes[code].info) for code in sorted(nodes)]
    return render_template("index.html", request, {"nodes": items})


async def service_point(request: web.Request) -> web.Response:
    """``GET /n/{code}/``: the clerk's search form and, if asked, one page of hits."""
    params = _with_scope(request.query)
    try:
        query = filters(params)
        page_no = integer(params, "page", "页码") or 1
        if page_no < 1:
            raise InvalidQuery(f"页码应从 1 开始，收到 {page_no}。")
    except InvalidInput as exc:
        return await _render(request, params, error=_fix(exc), status=400)
    asked = (query.category, query.year_from, query.year_to, query.retention, query.access)
    if not (query.text.strip() or query.archival_code or any(asked)):
        return await _render(request, params)  # the form alone (a scope alone asks nothing)
    # Pages come by cursor; a bare page number (an old bookmark) by offset.
    offset = 0 if query.cursor else (page_no - 1) * PAGE_SIZE
    query = replace(query, limit=PAGE_SIZE, offset=offset)
    return await _search(request, params, query, page_no)


@requires(Role.CLERK)
async def own_records(request: web.Request) -> web.Response:
    """``POST /n/{code}/``: the records of the citizen whose identity number was posted
    (查本人档案), over the scope the form was on; the first page only, as a page link
    cannot carry the number."""
    fields = await post_fields(request)
    params = {"scope": fields.get("scope", "")}
    try:
        number = IdNumber.parse(fields.get(ID_FIELD, ""))
        query = replace(filters(params), limit=PAGE_SIZE)
    except InvalidInput as exc:
        return await _render(request, params, error=_fix(exc), status=400)
    return await _search(request, params, query, 1, id_number=number)


async def _search(
    request: web.Request,
    params: Mapping[str, str],
    query: SearchQuery,
    page_no: int,
    id_number: IdNumber | None = None,
) -> web.Response:
    services = node_services(request)
    known = scope.by_code(await services.search.known_nodes())
    me = services.info.code
    try:
        result = await services.search.search(
            query, actor=current_actor(request), id_number=id_number
        )
    except InvalidInput as exc:
        return await _render(request, params, error=_fix(exc), status=400, known=known)
    except FederationError as exc:
        target = _answerer(me, query.scope)
        _log_failure(request, target, exc)
        message = problems.federation_message(exc, me, target, known, _hosted_names(request))
        status = problem_for(exc).status
        return await _render(request, params, error=message, status=status, known=known)
    said = scope.answered(me, result.answered_by, query.scope, known, _hosted_names(request))
    results = catalogue.results(me, result, page_no, PAGE_SIZE, params, said)
    if id_number is not None:
        results = replace(results, pager=None)  # a page link would lose the number
    own = id_number is not None
    return await _render(request, params, results=results, known=known, own=own)


async def _render(
    request: web.Request,
    params: Mapping[str, str],
    *,
    error: str = "",
    status: int = 200,
    results: catalogue.Results | None = None,
    known: Mapping[str, KnownNode] | None = None,
    own: bool = False,
) -> web.Response:
    services = node_services(request)
    if known is None:
        known = scope.by_code(await services.search.known_nodes())
    info = services.info
    chosen = params.get("scope", "").strip() or info.code[:2]
    groups = scope.scope_groups(info.code[:2], chosen, known)
    own = current_actor(request).has(Role.CLERK)  # the identity-number search is theirs
    form = catalogue.search_form(
        info,
        params,
        groups,
        error=error,
        own_action=views.service_point_url(info.code) if own else "",
        csrf=csrf_token(request) if own else "",
    )
    context = {"form": form, "results": results, "scope": chosen, "own": own}
    return render_template("search.html", request, context, status=status)


def _with_scope(params: Mapping[str, str]) -> dict[str, str]:
    """The query with a code typed by hand (``scope_code``) taking the place of the picked
    scope, so paging links and the audit log see one scope."""
    merged = dict(params)
    typed = merged.get("scope_code", "").strip()
    if typed:
        merged["scope"] = typed
    return merged


def _answerer(me: str, scope_code: str) -> str:
    try:
        return covering_ancestor(me, scope_code or me[:2])
    except InvalidCode:
        return me


def _fix(exc: NodeError) -> str:
    """The zh-CN sentence of an input error, as the form shows it."""
    return problem_for(exc).message


def _hosted_names(request: web.Request) -> dict[str, str]:
    return {code: services.info.name for code, services in hosted_nodes(request).items()}


async def content_page(request: web.Request) -> web.StreamResponse:
    """``GET /n/{code}/records/{holder}/{record_id}/content``: the content, or a page that
    says why not: a controlled record with its 申请利用 button, a holder that cannot be
    reached or was revoked by name."""
    try:
        return await record_content(request)
    except AccessDenied as exc:
        holder, record_id = request.match_info["holder"], request.match_info["record_id"]
        code = request.match_info["code"]
        page = {
            "status": 403,
            "heading": views.error_heading(403),
            "message": problem_for(exc).message,
            "back": views.service_point_url(code),
            "request_href": catalogue.request_url(code, holder, record_id),
        }
        return render_template("error.html", request, page, status=403)
    except FederationError as exc:
        services = node_services(request)
        known = scope.by_code(await services.search.known_nodes())
        code, holder = services.info.code, request.match_info["holder"]
        names = _hosted_names(request)
        target = holder if _valid_target(holder) else code
        _log_failure(request, target, exc)
        status = problem_for(exc).status
        page = {
            "status": status,
            "heading": views.error_heading(status),
            "message": problems.federation_message(exc, code, target, known, names),
            "back": views.service_point_url(code),
            "request_href": "",
        }
        return render_template("error.html", request, page, status=status)


def _log_failure(request: web.Request, target: str, exc: FederationError) -> None:
    """The transport's own words, for the operator: the page says it in Chinese."""
    log.warning(
        "%s %s: %s failed (%s from %s): %s",
        request.method,
        request.path,
        target,
        type(exc).__name__,
        exc.from_peer or "this node",
        exc,
    )


def _valid_target(code: str) -> bool:
    try:
        validate_code(code)
    except InvalidCode:
        return False
    return True


def add_routes(app: web.Application) -> None:
    """Register the page routes on ``app``."""
    app.router.add_get("/", index)
    app.router.add_get("/n/{code}", _to_service_point)
    app.router.add_get("/n/{code}/", service_point)
    app.router.add_post("/n/{code}/", own_records)
    app.router.add_get(
        "/n/{code}/records/{holder}/{record_id}/content", content_page, allow_head=False
    )


async def _to_service_point(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound(f"/n/{quote(request.match_info['code'], safe='')}/")
