"""Staff login and logout at one node: ``/n/{code}/login`` and ``/n/{code}/logout``.

An ordinary form POST answered by a redirect (``303``), so it works without JavaScript and a
browser test drives it like a person. The login form carries a CSRF token that must equal a
cookie set with the form (double submit: a foreign page can neither read the cookie nor set
it), so another site cannot log a clerk's browser into an account of its choosing. A login
always starts a new session (the id the browser had before, if any, is ended): a session id
planted in the browser before login is worth nothing after it. The session cookie is
``HttpOnly``, ``SameSite=Strict``, ``Secure`` when served over TLS, and lasts until the
browser closes or the server ends the session (idle or absolute timeout, logout).
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping

from aiohttp import web
from aiohttp_jinja2 import render_template

from node import crypto
from node.errors import TooManyAttempts, Unauthenticated
from node.web.auth import check_csrf, current_session, session_cookie
from node.web.context import node_services, same_origin

_LOGIN_CSRF = "archive_login_csrf"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,128}")


def _next_page(code: str, value: object) -> str:
    """Where to go after login: a page of this node (never another site), else its search."""
    home = f"/n/{code}/"
    text = value if isinstance(value, str) else ""
    if text.startswith(home) and "\\" not in text and not re.search(r"[\x00-\x20]", text):
        return text
    return home


def _text(fields: Mapping[str, object], name: str) -> str:
    value = fields.get(name, "")
    return value if isinstance(value, str) else ""


def _set_cookie(
    response: web.StreamResponse,
    request: web.Request,
    name: str,
    value: str,
    path: str,
    max_age: int | None = None,
) -> None:
    """A cookie scripts cannot read, sent only to this site, and only over TLS if so served."""
    response.set_cookie(
        name, value, path=path, max_age=max_age, httponly=True, samesite="Strict",
        secure=request.secure,
    )  # fmt: skip


def _form(
    request: web.Request,
    *,
    account: str = "",
    error: str = "",
    next_page: str = "",
    status: int = 200,
) -> web.Response:
    services = node_services(request)
    code = services.info.code
    token = request.cookies.get(_LOGIN_CSRF, "")
    if not _TOKEN.fullmatch(token):
        token = crypto.random_token()
    page = {
        "name": services.info.name,
        "code": code,
        "csrf": token,
        "next": next_page or _next_page(code, request.query.get("next")),
        "account": account,
        "error": error,
    }
    response = render_template("login.html", request, page, status=status)
    _set_cookie(response, request, _LOGIN_CSRF, token, f"/n/{code}/login", max_age=3600)
    return response


async def login_page(request: web.Request) -> web.Response:
    """``GET /n/{code}/login``: the form."""
    return _form(request)


async def login(request: web.Request) -> web.StreamResponse:
    """``POST /n/{code}/login``: check the password; on success a new session and a redirect."""
    services = node_services(request)
    code = services.info.code
    same_origin(request, required=True)
    fields = await request.post()
    name, next_page = _text(fields, "name").strip(), _next_page(code, _text(fields, "next"))
    cookie = request.cookies.get(_LOGIN_CSRF, "")
    given = _text(fields, "csrf")
    if not cookie or not hmac.compare_digest(cookie.encode(), given.encode()):
        message = "登录页面已过期或缺少校验码。请重新输入账号和密码。"
        return _form(request, account=name[:32], error=message, next_page=next_page, status=403)
    address = request.remote or ""
    try:
        session = await services.accounts.login(name, _text(fields, "password"), address)
    except TooManyAttempts as exc:
        response = _form(
            request, account=name[:32], error=str(exc), next_page=next_page, status=429
        )
        response.headers["Retry-After"] = str(max(1, round(exc.retry_after_s)))
        return response
    except Unauthenticated as exc:
        return _form(request, account=name[:32], error=str(exc), next_page=next_page, status=401)
    previous = request.cookies.get(session_cookie(code))
    if previous:
        await services.accounts.logout(previous)
    done = web.HTTPSeeOther(next_page)  # a Response too: it carries the cookies
    _set_cookie(done, request, session_cookie(code), session.id, "/")
    done.del_cookie(_LOGIN_CSRF, path=f"/n/{code}/login")
    raise done


async def logout(request: web.Request) -> web.StreamResponse:
    """``POST /n/{code}/logout``: end the session (with its CSRF token) and forget the cookie."""
    services = node_services(request)
    code = services.info.code
    session = current_session(request)
    if session is not None:
        same_origin(request, required=True)
        await check_csrf(request, session)
        await services.accounts.logout(session.id)
    elif request.headers.get("Origin") is not None:
        same_origin(request)
    done = web.HTTPSeeOther(f"/n/{code}/")
    done.del_cookie(session_cookie(code), path="/")
    raise done


def add_routes(app: web.Application) -> None:
    app.router.add_get("/n/{code}/login", login_page)
    app.router.add_post("/n/{code}/login", login)
    app.router.add_post("/n/{code}/logout", logout)
