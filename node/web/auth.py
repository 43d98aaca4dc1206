"""Who is asking, and whether they may: the ``Host`` check, the ``Actor`` of every request,
``@requires(role)`` on handlers, and the CSRF token of every form that changes state.

``auth_middleware`` runs on every request after routing:

1. the ``Host`` header must be one of the configured names (``web/hosts.py``), else 403;
2. the request's ``Actor`` is found once: from ``Authorization: Bearer TOKEN`` (the CLI; a
   bad token is 401 at once), else from the session cookie of the node in the URL
   (``archive_session_{code}``: one per node, because accounts are per node), else
   ``ANONYMOUS``. A handler reads it with ``current_actor(request)``.

``@requires(Role.OPERATOR)`` (any of the roles given) then refuses, in this order: a write
whose ``Origin`` is not ours (a browser's write must carry one), a browser's write without
the session's CSRF token (form field ``csrf`` or header ``X-CSRF-Token``; a bearer token is
not sent by browsers by themselves, so token calls need none), nobody logged in
(``LoginRequired``: 401 JSON under ``/api/``, a redirect to the login page elsewhere), and an
account without the role at this node (``RoleRequired``: 403 naming the role).
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass

from aiohttp import web

from node.actors import ANONYMOUS, Actor, ActorKind, Role
from node.errors import Forbidden, LoginRequired, RoleRequired, Unauthenticated
from node.federation.services import Session
from node.web.context import WEB_HOSTS, hosted_nodes, same_origin

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

ACTOR: web.RequestKey[Actor] = web.RequestKey("archive_actor")
SESSION: web.RequestKey[Session | None] = web.RequestKey("archive_session")
CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# The request being served by this task, for ``session_bar`` in the layout template (aiohttp
# runs each request in its own task, so each sees its own).
_SERVING: ContextVar[web.Request | None] = ContextVar("archive_serving", default=None)

LOGIN_NEEDED = (
    "需要登录：请在浏览器中登录本节点；命令行请用 --token（或环境变量 ARCHIVE_NODE_TOKEN）"
    "传入 API 令牌（在守护进程所在机器上用 archive-node account token 生成）。"
)


def session_cookie(code: str) -> str:
    """The name of the session cookie for hosted node ``code``."""
    return f"archive_session_{code}"


def current_actor(request: web.Request) -> Actor:
    """Who makes ``request``: a staff account at the node in its URL, or ``ANONYMOUS``."""
    return request.get(ACTOR, ANONYMOUS)


def current_session(request: web.Request) -> Session | None:
    """The browser session behind ``request``, if it came with one (not with a token)."""
    return request.get(SESSION)


def csrf_token(request: web.Request) -> str:
    """The session's CSRF token, for the forms a page renders ("" without a session)."""
    session = current_session(request)
    return session.csrf if session is not None else ""


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse a foreign ``Host``; find the request's actor (see the module docstring)."""
    if not request.app[WEB_HOSTS].allows(request.host):
        raise Forbidden(
            "本服务不接受以该主机名访问。请使用管理员配置的地址（host.web_hosts）打开本系统。"
        )
    actor, session = await _identify(request)
    request[ACTOR] = actor
    request[SESSION] = session
    serving = _SERVING.set(request)
    try:
        return await handler(request)
    finally:
        _SERVING.reset(serving)


async def _identify(request: web.Request) -> tuple[Actor, Session | None]:
    code = request.match_info.get("code", "")
    services = hosted_nodes(request).get(code) if code else None
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("Authorization 头应为 “Bearer 令牌”。请检查 --token 的取值。")
        if services is None:
            return ANONYMOUS, None  # no node in the URL (the node list): the token is not used
        return await services.accounts.token_actor(token.strip()), None
    if services is None:
        return ANONYMOUS, None
    session_id = request.cookies.get(session_cookie(code))
    if not session_id:
        return ANONYMOUS, None
    session = await services.accounts.session(session_id)
    if session is None:
        return ANONYMOUS, None
    return session.actor, session


def requires(*roles: Role) -> Callable[[Handler], Handler]:
    """A handler only an account holding one of ``roles`` at the URL's node may call."""
    if not roles:
        raise ValueError("requires() needs at least one role")

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def checked(request: web.Request) -> web.StreamResponse:
            await authorize(request, roles)
            return await handler(request)

        checked.required_roles = roles  # type: ignore[attr-defined]  # read by the route test
        return checked

    return decorate


async def authorize(request: web.Request, roles: tuple[Role, ...]) -> Actor:
    """The actor, if it may do what ``request`` asks with one of ``roles``; else raises.

    Raises:
        Forbidden: a write from another site, without ``Origin`` or without the CSRF token.
        LoginRequired: nobody is logged in.
        RoleRequired: the account holds none of ``roles`` here.
    """
    session = current_session(request)
    if request.method not in SAFE_METHODS:
        same_origin(request, required=session is not None)
        if session is not None:
            await check_csrf(request, session)
    actor = current_actor(request)
    if actor.kind != ActorKind.ACCOUNT:
        raise LoginRequired(LOGIN_NEEDED)
    if not any(actor.has(role) for role in roles):
        code = request.match_info.get("code", "")
        wanted = "或".join(f"{r.zh}（{r.value}）" for r in roles)
        held = "、".join(r.zh for r in Role if actor.has(r)) or "无"
        raise RoleRequired(
            f"此操作需要本节点（{code}）的{wanted}角色；账号 {actor.name} 在本节点的角色：{held}。"
            "请联系本节点运维管理员授权。"
        )
    return actor


async def check_csrf(request: web.Request, session: Session) -> None:
    """The form field ``csrf`` or the ``X-CSRF-Token`` header must be the session's token."""
    given = request.headers.get(CSRF_HEADER, "")
    if not given and request.content_type in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        given = str((await request.post()).get(CSRF_FIELD, ""))
    if not given or not hmac.compare_digest(given.encode(), session.csrf.encode()):
        raise Forbidden("表单已过期或缺少校验码（CSRF）。请刷新页面后重新提交。")


# -- what every page shows of the login --------------------------------------------------------


@dataclass(frozen=True)
class NavLink:
    """One of a node's pages in the header's navigation."""

    href: str
    label: str


# A node's pages and who may open them (``None``: anybody); the same roles as the pages'
# ``@requires`` (a test opens every link shown with each role's account).
_NAV: tuple[tuple[str, str, tuple[Role, ...] | None], ...] = (
    ("", "服务点查询", None),
    ("requests", "利用申请", (Role.CLERK,)),
    ("requests/queue", "申请审核", (Role.ARCHIVIST,)),
    ("registry", "入网与信任", (Role.OPERATOR,)),
    ("status", "同步状态", (Role.ARCHIVIST, Role.OPERATOR)),
    ("audit-log", "审计日志", (Role.ARCHIVIST, Role.OPERATOR)),
    ("appraisal", "档案鉴定", (Role.ARCHIVIST,)),
    ("ingest/upload", "导入移交包", (Role.ARCHIVIST,)),
    ("preservation", "长期保存", (Role.ARCHIVIST,)),
    ("accounts", "账号管理", (Role.OPERATOR,)),
)


def nav_links(code: str, actor: Actor) -> tuple[NavLink, ...]:
    """The pages of node ``code`` that ``actor`` may open, in the header's order."""
    return tuple(
        NavLink(f"/n/{code}/{path}", label)
        for path, label, roles in _NAV
        if roles is None or any(actor.has(role) for role in roles)
    )


@dataclass(frozen=True)
class SessionBar:
    """The top of a node's pages: its pages the visitor may open, who is logged in there and
    a logout button, or a login link."""

    account: str  # "" when nobody is logged in
    roles: str
    login_href: str
    logout_action: str
    csrf: str
    links: tuple[NavLink, ...] = ()


def session_bar() -> SessionBar | None:
    """For the layout: the login state at the node of the page being served (``None`` off a
    node's pages, or outside a request)."""
    request = _SERVING.get()
    if request is None:
        return None
    code = request.match_info.get("code", "")
    if not code or code not in hosted_nodes(request):
        return None
    session = current_session(request)
    if session is None:
        return SessionBar("", "", f"/n/{code}/login", "", "", nav_links(code, ANONYMOUS))
    actor = session.actor
    roles = "、".join(r.zh for r in Role if actor.has(r))
    links = nav_links(code, actor)
    return SessionBar(actor.name, roles, "", f"/n/{code}/logout", session.csrf, links)
