"""The one place where errors become HTTP: JSON under ``/api/``, a zh-CN page elsewhere.

    InvalidInput -> 400    NotFound -> 404    AccessDenied, Misaddressed, Forbidden -> 403
    AuthError -> 401       PeerUnavailable, ProtocolError -> 502    Overloaded -> 503
    Unauthenticated -> 401 (LoginRequired on a page: a redirect to that node's login page)
    RoleRequired -> 403    TooManyAttempts -> 429 with Retry-After
    any other NodeError -> 500 (its message)   anything else -> 500 (generic, logged)

A ``ProtocolError`` seen here was sent by another node, not by the web caller, hence 502.
Messages are for clerks: zh-CN, saying what to do. Tracebacks go to the log only.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import quote

from aiohttp import web
from aiohttp_jinja2 import render_template

from node.errors import (
    AccessDenied,
    AuthError,
    FederationError,
    Forbidden,
    InvalidInput,
    LoginRequired,
    Misaddressed,
    NodeError,
    NotFound,
    NotReady,
    Overloaded,
    PeerUnavailable,
    ProtocolError,
    RoleRequired,
    TooManyAttempts,
    Unauthenticated,
)
from node.web.context import hosted_nodes, json_response
from node.web.views import error_heading

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_CJK = re.compile(r"[\u3400-\u9fff]")
_NODE_PATH = re.compile(r"/n/([0-9]{2,12})/")

# (error class, HTTP status, zh-CN message used when the error's own text is not Chinese)
_MAPPING: tuple[tuple[type[NodeError], int, str], ...] = (
    (Unauthenticated, 401, "需要登录或身份校验未通过（{detail}）。请登录后重试。"),
    (RoleRequired, 403, "当前账号无权执行该操作（{detail}）。请联系本节点运维管理员授权。"),
    (TooManyAttempts, 429, "尝试次数过多（{detail}）。请稍后再试。"),
    (InvalidInput, 400, "请求参数有误（{detail}）。请检查输入后重试。"),
    (NotFound, 404, "未找到所请求的档案、文件或节点（{detail}）。请核对档号或节点代码。"),
    (AccessDenied, 403, "该档案暂不能提供（{detail}）。控制使用的档案需提交利用申请。"),
    (
        AuthError,
        401,
        "节点间身份或内容校验未通过（{detail}）。请稍后重试；仍出现请联系上级档案馆。",
    ),
    (Misaddressed, 403, "请求未发往正确的节点（{detail}）。请核对节点代码。"),
    (Forbidden, 403, "无权执行该操作（{detail}）。请核对节点代码，或由有权的上级节点办理。"),
    (Overloaded, 503, "相关节点当前繁忙（{detail}）。请稍后重试。"),
    (NotReady, 503, "本节点尚未从网络取得所需数据（{detail}）。请稍后重试。"),
    (
        PeerUnavailable,
        502,
        "暂时无法连接相关节点（{detail}）。请稍后重试，或请上级档案馆检查网络。",
    ),
    (
        ProtocolError,
        502,
        "相关节点返回了无法识别的数据（{detail}）。请稍后重试，或联系上级档案馆。",
    ),
)
_OTHER_NODE_ERROR = "节点处理出错（{detail}）。请稍后重试；如仍出现，请联系本级系统管理员。"
_UNEXPECTED = "服务器内部错误。请稍后重试；如仍出现，请联系本级系统管理员。"
_HTTP_MESSAGES = {
    404: ("NotFound", "页面或接口不存在。请从首页进入服务点，或核对地址。"),
    405: ("MethodNotAllowed", "不支持该请求方法。"),
    413: ("InvalidInput", "请求内容过大。"),
}


@dataclass(frozen=True)
class Problem:
    status: int
    type: str
    message: str
    retry_after_s: float | None = None  # sent as Retry-After (429)


def problem_for(exc: NodeError, *, page: bool = False) -> Problem:
    """The status, type name and clerk-facing message for a ``NodeError``; on a ``page`` a
    federation error's own words (a gRPC detail, an English certificate check: for the log)
    are left out of the sentence."""
    detail = str(exc).strip()
    status, fallback = next(
        ((status, text) for cls, status, text in _MAPPING if isinstance(exc, cls)),
        (500, _OTHER_NODE_ERROR),
    )
    if page and isinstance(exc, FederationError) and not _CJK.search(detail):
        fallback, detail = fallback.replace("（{detail}）", ""), ""
    if detail and _CJK.search(detail):
        message = detail
    else:
        message = fallback.format(detail=detail or type(exc).__name__)
    if isinstance(exc, AccessDenied) and "申请" not in message:
        message += "如需利用，请提交利用申请。"
    retry = exc.retry_after_s if isinstance(exc, TooManyAttempts) else None
    return Problem(status, type(exc).__name__, message, retry)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn any error a handler raises into a JSON error (``/api/``) or a zh-CN page."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        kind, message = _HTTP_MESSAGES.get(
            exc.status, ("HTTPError", f"请求无法处理（HTTP {exc.status}）。")
        )
        problem = Problem(exc.status, kind, message)
    except LoginRequired as exc:
        if request.path.startswith("/api/") or (login := _login_page(request)) is None:
            problem = problem_for(exc)
        else:
            raise web.HTTPSeeOther(login) from None
    except NodeError as exc:
        problem = problem_for(exc, page=not request.path.startswith("/api/"))
        level = logging.WARNING if problem.status >= 500 else logging.INFO
        log.log(
            level,
            "%s %s -> %d %s: %s",
            request.method,
            request.path,
            problem.status,
            problem.type,
            exc,
        )
    except Exception:
        log.exception("unexpected error serving %s %s", request.method, request.path)
        problem = Problem(500, "InternalError", _UNEXPECTED)
    return _respond(request, problem)


def _respond(request: web.Request, problem: Problem) -> web.Response:
    if request.path.startswith("/api/"):
        body = {"error": {"type": problem.type, "message": problem.message}}
        response = json_response(body, status=problem.status)
    else:
        page = {
            "status": problem.status,
            "heading": error_heading(problem.status),
            "message": problem.message,
            "back": _back_link(request) or "",
        }
        response = render_template("error.html", request, page, status=problem.status)
    if problem.retry_after_s is not None:
        response.headers["Retry-After"] = str(max(1, round(problem.retry_after_s)))
    return response


def _login_page(request: web.Request) -> str | None:
    """The login page of the node a page request is for, coming back to it after (a POST
    comes back to the node's service point: its form is gone)."""
    match = _NODE_PATH.match(request.path)
    if match is None or match.group(1) not in hosted_nodes(request):
        return None
    back = request.path_qs if request.method == "GET" else match.group(0)
    return f"{match.group(0)}login?next={quote(back, safe='')}"


def _back_link(request: web.Request) -> str | None:
    """The service-point page the failed request came from, if it is one we host."""
    match = _NODE_PATH.match(request.path)
    if match and match.group(1) in hosted_nodes(request):
        return match.group(0)
    return None
