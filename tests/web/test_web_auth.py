"""Authority on the web side, over the fake services: every protected route refuses nobody
(401 / a redirect to the login page), the wrong role (403), a foreign or missing ``Origin``,
a rebinding ``Host`` and a form without its CSRF token; the login form, its cookie and logout.
"""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, make_mocked_request
from fake_accounts import CSRF, PASSWORDS, bearer, log_in
from fake_accounts import origin as our_origin
from fake_service import FakeNode
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from node.actors import Role
from node.errors import TooManyAttempts
from node.web import create_app, login
from node.web.auth import session_cookie

CODE = "330106"

# Every route that is open to anybody; any other route must carry @requires (checked below).
PUBLIC = {
    ("GET", "/"),
    ("GET", "/n/{code}"),
    ("GET", "/n/{code}/"),
    ("GET", "/n/{code}/records/{holder}/{record_id}/content"),
    ("GET", "/n/{code}/login"),
    ("POST", "/n/{code}/login"),
    ("POST", "/n/{code}/logout"),
    ("GET", "/n/{code}/oai"),
    ("POST", "/n/{code}/oai"),
    ("GET", "/api/v1/nodes"),
    ("GET", "/api/v1/nodes/{code}/search"),
    ("GET", "/api/v1/nodes/{code}/records/{holder}/{record_id}/content"),
    ("GET", "/n/{code}/verify"),
    ("POST", "/n/{code}/verify"),
    ("GET", "/api/v1/nodes/{code}/verify"),
    ("POST", "/api/v1/nodes/{code}/verify"),
}

A = f"/api/v1/nodes/{CODE}"
RID = "330106-abcdefghij"  # a request id (none is filed: the door is what is tried)
# (method, path, a role that may, a role that may not)
PROTECTED = [
    ("GET", A, Role.CLERK, None),
    ("GET", f"{A}/registry", Role.OPERATOR, Role.ARCHIVIST),
    ("GET", f"{A}/registry/applications", Role.OPERATOR, Role.CLERK),
    ("POST", f"{A}/registry/applications/330106001/approve", Role.OPERATOR, Role.ARCHIVIST),
    ("POST", f"{A}/registry/applications/330106001/reject", Role.OPERATOR, Role.CLERK),
    ("POST", f"{A}/registry/revocations", Role.OPERATOR, Role.CLERK),
    ("POST", f"{A}/registry/rotate", Role.OPERATOR, Role.ARCHIVIST),
    ("POST", f"{A}/registry/renew", Role.OPERATOR, Role.CLERK),
    ("POST", f"{A}/registry/refresh", Role.OPERATOR, Role.CLERK),
    ("POST", f"{A}/registry/bans", Role.OPERATOR, Role.ARCHIVIST),
    ("DELETE", f"{A}/registry/bans/ed25519:00", Role.OPERATOR, Role.CLERK),
    ("POST", f"{A}/registry/aliases", Role.OPERATOR, Role.CLERK),
    ("GET", f"{A}/audit", Role.OPERATOR, Role.ARCHIVIST),
    ("GET", f"{A}/sync", Role.ARCHIVIST, Role.CLERK),
    ("POST", f"{A}/sync/retry", Role.OPERATOR, Role.ARCHIVIST),
    ("POST", f"{A}/sync/repair", Role.OPERATOR, Role.CLERK),
    ("POST", f"{A}/records", Role.ARCHIVIST, Role.OPERATOR),
    ("GET", f"{A}/accounts", Role.OPERATOR, Role.ARCHIVIST),
    ("POST", f"{A}/accounts", Role.OPERATOR, Role.CLERK),
    ("POST", f"{A}/accounts/clerk/roles", Role.OPERATOR, Role.ARCHIVIST),
    ("DELETE", f"{A}/accounts/clerk/roles/clerk", Role.OPERATOR, Role.CLERK),
    ("POST", f"{A}/accounts/clerk/disable", Role.OPERATOR, Role.CLERK),
    ("POST", f"{A}/accounts/clerk/enable", Role.OPERATOR, Role.CLERK),
    ("POST", f"{A}/accounts/operator/tokens", Role.OPERATOR, Role.CLERK),
    ("GET", f"{A}/session", Role.CLERK, None),
    ("POST", f"{A}/search", Role.CLERK, None),
    ("GET", f"{A}/registry/index-keys", Role.OPERATOR, Role.CLERK),
    ("POST", f"{A}/registry/index-keys/rotate", Role.OPERATOR, Role.ARCHIVIST),
    ("GET", f"{A}/appraisal", Role.ARCHIVIST, Role.CLERK),
    ("POST", f"{A}/appraisal/scan", Role.ARCHIVIST, Role.OPERATOR),
    ("POST", f"{A}/appraisal/open", Role.ARCHIVIST, Role.CLERK),
    ("GET", f"/n/{CODE}/appraisal", Role.ARCHIVIST, Role.CLERK),
    ("POST", f"/n/{CODE}/appraisal", Role.ARCHIVIST, Role.OPERATOR),
    ("GET", f"/n/{CODE}/registry", Role.OPERATOR, Role.CLERK),
    ("POST", f"/n/{CODE}/registry/applications/330106001/approve", Role.OPERATOR, Role.CLERK),
    ("POST", f"/n/{CODE}/registry/applications/330106001/reject", Role.OPERATOR, Role.CLERK),
    ("GET", f"/n/{CODE}/status", Role.ARCHIVIST, Role.CLERK),
    ("POST", f"/n/{CODE}/status/retry", Role.OPERATOR, Role.ARCHIVIST),
    ("GET", f"{A}/audit-log", Role.ARCHIVIST, Role.CLERK),
    ("GET", f"{A}/audit-log/verify", Role.ARCHIVIST, Role.CLERK),
    ("GET", f"{A}/audit-log/checkpoints", Role.OPERATOR, Role.CLERK),
    ("GET", f"/n/{CODE}/audit-log", Role.ARCHIVIST, Role.CLERK),
    ("POST", f"/n/{CODE}/registry/revocations", Role.OPERATOR, Role.CLERK),
    ("POST", f"/n/{CODE}/registry/bans", Role.OPERATOR, Role.ARCHIVIST),
    ("POST", f"/n/{CODE}/registry/bans/lift", Role.OPERATOR, Role.CLERK),
    ("POST", f"/n/{CODE}/registry/aliases", Role.OPERATOR, Role.ARCHIVIST),
    ("GET", f"/n/{CODE}/accounts", Role.OPERATOR, Role.ARCHIVIST),
    ("POST", f"/n/{CODE}/accounts", Role.OPERATOR, Role.CLERK),
    ("POST", f"/n/{CODE}/accounts/clerk/roles", Role.OPERATOR, Role.ARCHIVIST),
    ("POST", f"/n/{CODE}/accounts/clerk/roles/clerk/revoke", Role.OPERATOR, Role.CLERK),
    ("POST", f"/n/{CODE}/accounts/clerk/disable", Role.OPERATOR, Role.CLERK),
    ("POST", f"/n/{CODE}/accounts/clerk/enable", Role.OPERATOR, Role.ARCHIVIST),
    ("POST", f"/n/{CODE}/", Role.CLERK, Role.OPERATOR),  # 查本人档案: an identity number
    ("GET", f"/n/{CODE}/requests/new", Role.CLERK, Role.OPERATOR),
    ("GET", f"/n/{CODE}/requests/queue", Role.ARCHIVIST, Role.CLERK),
    ("GET", f"/n/{CODE}/requests", Role.CLERK, Role.ARCHIVIST),
    ("POST", f"/n/{CODE}/requests", Role.CLERK, Role.ARCHIVIST),
    ("GET", f"/n/{CODE}/requests/{RID}", Role.CLERK, Role.OPERATOR),
    ("POST", f"/n/{CODE}/requests/{RID}/approve", Role.ARCHIVIST, Role.CLERK),
    ("POST", f"/n/{CODE}/requests/{RID}/reject", Role.ARCHIVIST, Role.CLERK),
    ("POST", f"/n/{CODE}/requests/{RID}/withdraw", Role.CLERK, Role.ARCHIVIST),
    ("GET", f"/n/{CODE}/requests/{RID}/content", Role.CLERK, Role.ARCHIVIST),
    ("GET", f"/n/{CODE}/requests/{RID}/copy.pdf", Role.CLERK, Role.OPERATOR),
    ("GET", f"/n/{CODE}/requests/{RID}/attorney", Role.ARCHIVIST, Role.CLERK),
    ("GET", f"{A}/requests/{RID}/copy.pdf", Role.CLERK, Role.ARCHIVIST),
    ("POST", f"{A}/requests", Role.CLERK, Role.OPERATOR),
    ("GET", f"{A}/requests", Role.CLERK, Role.OPERATOR),
    ("GET", f"{A}/requests/{RID}", Role.ARCHIVIST, Role.OPERATOR),
    ("POST", f"{A}/requests/{RID}/approve", Role.ARCHIVIST, Role.CLERK),
    ("POST", f"{A}/requests/{RID}/reject", Role.ARCHIVIST, Role.CLERK),
    ("POST", f"{A}/requests/{RID}/withdraw", Role.CLERK, Role.ARCHIVIST),
    ("GET", f"{A}/requests/{RID}/content", Role.CLERK, Role.OPERATOR),
    # issue 11: packages, fixity, export (web/preservation.py)
    ("POST", f"{A}/packages", Role.ARCHIVIST, Role.CLERK),
    ("GET", f"{A}/packages/0123456789abcdef", Role.ARCHIVIST, Role.OPERATOR),
    ("GET", f"{A}/export?series=J001-HY·2015-Y", Role.ARCHIVIST, Role.CLERK),
    ("GET", f"{A}/fixity", Role.ARCHIVIST, Role.CLERK),
    ("GET", f"/n/{CODE}/ingest/upload", Role.ARCHIVIST, Role.CLERK),
    ("POST", f"/n/{CODE}/ingest/upload", Role.ARCHIVIST, Role.OPERATOR),
    ("GET", f"/n/{CODE}/ingest/jobs/0123456789abcdef", Role.ARCHIVIST, Role.CLERK),
    ("GET", f"/n/{CODE}/ingest/jobs/0123456789abcdef/report", Role.ARCHIVIST, Role.CLERK),
    ("GET", f"/n/{CODE}/preservation", Role.ARCHIVIST, Role.OPERATOR),
]


def test_every_route_is_public_or_requires_a_role(nodes: dict[str, FakeNode]) -> None:
    app = create_app({code: node.services() for code, node in nodes.items()})
    unguarded, guarded = [], 0
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("formatter") or info.get("path") or info.get("prefix", "")
        if route.method == "HEAD" or path.startswith("/static"):
            continue
        if hasattr(route.handler, "required_roles"):
            guarded += 1
        elif (route.method, path) not in PUBLIC:
            unguarded.append((route.method, path))
    assert not unguarded
    assert guarded == len(PROTECTED)  # and each guarded route is tried below


async def _call(client: TestClient, method: str, path: str, **kwargs: Any) -> Any:
    return await client.request(method, path, allow_redirects=False, **kwargs)


@pytest.mark.asyncio
@pytest.mark.parametrize(("method", "path", "allowed", "refused"), PROTECTED)
async def test_nobody_is_sent_to_log_in(
    client: TestClient, method: str, path: str, allowed: Role, refused: Role | None
) -> None:
    response = await _call(client, method, path, headers={"Origin": str(client.make_url(""))})
    if path.startswith("/api/"):
        assert response.status == 401
        message = (await response.json())["error"]["message"]
        assert "--token" in message and "登录" in message
    else:
        assert response.status == 303
        assert response.headers["Location"].startswith(f"/n/{CODE}/login?next=")


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("method", "path", "allowed", "refused"), [p for p in PROTECTED if p[3] is not None]
)
async def test_the_wrong_role_is_told_which_role_is_needed(
    client: TestClient, method: str, path: str, allowed: Role, refused: Role
) -> None:
    response = await _call(client, method, path, headers=bearer(CODE, refused))
    assert response.status == 403
    text = await response.text()
    assert allowed.value in text and "角色" in text


@pytest.mark.asyncio
@pytest.mark.parametrize(("method", "path", "allowed", "refused"), PROTECTED)
async def test_the_right_role_gets_past_the_door(
    client: TestClient, method: str, path: str, allowed: Role, refused: Role | None
) -> None:
    response = await _call(client, method, path, headers=bearer(CODE, allowed))
    assert response.status != 401
    if response.status == 403:  # the fake trust keeper refuses some acts itself
        assert "测试替身" in await response.text()


@pytest.mark.asyncio
async def test_a_token_of_another_node_is_no_good_here(client: TestClient) -> None:
    response = await client.get(A + "/registry", headers=bearer("330106001001", Role.OPERATOR))
    assert response.status == 401
    bad = await client.get(A + "/registry", headers={"Authorization": "Basic b3A6b3A="})
    assert bad.status == 401 and "Bearer" in (await bad.json())["error"]["message"]


@pytest.mark.asyncio
async def test_a_rebinding_host_is_refused_even_for_public_pages(client: TestClient) -> None:
    for path in ("/", f"/n/{CODE}/", f"{A}/search?q=张三"):
        response = await client.get(path, headers={"Host": "evil.example"})
        assert response.status == 403 and "host.web_hosts" in await response.text()
    response = await client.post(
        f"{A}/sync/retry",
        headers={"Host": "evil.example:8080", "Origin": "http://evil.example:8080",
                 **bearer(CODE, Role.OPERATOR)},
    )  # fmt: skip
    assert response.status == 403


@pytest.mark.asyncio
async def test_a_token_post_from_a_foreign_origin_is_refused(client: TestClient) -> None:
    headers = bearer(CODE, Role.OPERATOR)
    foreign = await client.post(f"{A}/sync/retry", headers={**headers, "Origin": "http://x.cn"})
    assert foreign.status == 403 and "跨站" in (await foreign.json())["error"]["message"]
    # a DNS-rebinding page: its Origin equals the Host it sent, but is not a configured name
    same = await client.post(
        f"{A}/sync/retry",
        headers={**headers, "Origin": "http://evil.example", "Host": "evil.example"},
    )
    assert same.status == 403
    cli = await client.post(f"{A}/sync/retry", headers=headers)  # the CLI sends no Origin
    assert cli.status == 200
    # the Origin is compared with the configured names, not with the Host the request sent:
    # another of our names passes, whatever Host says
    port = client.make_url("").port
    other_name = await client.post(
        f"{A}/sync/retry", headers={**headers, "Origin": f"http://localhost:{port}"}
    )
    assert other_name.status == 200


@pytest.mark.asyncio
async def test_a_browser_write_needs_our_origin_and_the_csrf_token(
    client: TestClient, nodes: dict[str, FakeNode]
) -> None:
    csrf = await log_in(client, "operator")
    retry = f"/n/{CODE}/status/retry"
    cases = [
        ({"Origin": "http://evil.example"}, {"csrf": csrf}, "跨站"),
        ({}, {"csrf": csrf}, "Origin"),
        ({"Origin": our_origin(client)}, {}, "CSRF"),
        ({"Origin": our_origin(client)}, {"csrf": csrf[:-1] + "x"}, "CSRF"),
    ]
    for headers, form, words in cases:
        response = await client.post(retry, data=form, headers=headers, allow_redirects=False)
        assert response.status == 403, (headers, form)
        assert words in await response.text()
    done = await client.post(
        retry, data={"csrf": csrf}, headers={"Origin": our_origin(client)}, allow_redirects=False
    )
    assert done.status == 303 and done.headers["Location"] == f"/n/{CODE}/status", await done.text()
    api = await client.post(f"{A}/sync/retry", json={}, headers={"Origin": our_origin(client)})
    assert api.status == 403  # a session's JSON write needs the token too, in X-CSRF-Token
    api = await client.post(
        f"{A}/sync/retry", json={}, headers={"Origin": our_origin(client), "X-CSRF-Token": csrf}
    )
    assert api.status == 200


@pytest.mark.asyncio
async def test_login_sets_a_strict_http_only_cookie_and_a_new_session(
    client: TestClient, nodes: dict[str, FakeNode]
) -> None:
    staff = nodes[CODE].accounts
    planted = await staff.login("clerk", PASSWORDS[Role.CLERK], "x")
    client.session.cookie_jar.update_cookies({session_cookie(CODE): planted.id})
    form = await client.get(f"/n/{CODE}/login?next=/n/{CODE}/status")
    page = await form.text()
    assert "工作人员登录" in page and 'type="password"' in page
    assert (
        "HttpOnly" in form.headers["Set-Cookie"] and "SameSite=Strict" in form.headers["Set-Cookie"]
    )
    token = CSRF.findall(page)[-1]  # the login form's (the logout button's comes first)
    fields = {"name": "archivist", "password": PASSWORDS[Role.ARCHIVIST],
              "csrf": token, "next": f"/n/{CODE}/status"}  # fmt: skip
    done = await client.post(
        f"/n/{CODE}/login",
        data=fields,
        headers={"Origin": our_origin(client)},
        allow_redirects=False,
    )
    assert done.status == 303 and done.headers["Location"] == f"/n/{CODE}/status", await done.text()
    cookie = next(c for c in done.headers.getall("Set-Cookie") if session_cookie(CODE) in c)
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # served over plain HTTP here
    new_id = cookie.split("=", 1)[1].split(";")[0]
    assert new_id != planted.id and planted.id not in staff.sessions  # fixation: ended
    status = await client.get(f"/n/{CODE}/status")
    text = await status.text()
    assert status.status == 200 and "archivist（档案员）" in text and "退出登录" in text


def test_the_session_cookie_is_secure_over_tls() -> None:
    request = make_mocked_request("GET", "/").clone(scheme="https")
    response = web.Response()
    login._set_cookie(response, request, "archive_session_33", "x", "/")
    cookie = response.cookies["archive_session_33"]
    assert cookie["secure"] and cookie["httponly"] and cookie["samesite"] == "Strict"


@pytest.mark.asyncio
async def test_a_failed_login_says_so_and_a_form_without_its_token_is_refused(
    client: TestClient,
) -> None:
    form = await client.get(f"/n/{CODE}/login")
    token = CSRF.search(await form.text())
    assert token
    wrong = await client.post(
        f"/n/{CODE}/login",
        data={"name": "clerk", "password": "nope", "csrf": token.group(1)},
        headers={"Origin": our_origin(client)},
    )
    assert wrong.status == 401 and "账号或密码错误" in await wrong.text()
    assert 'value="clerk"' in await wrong.text()  # the name stays typed, never the password
    forged = await client.post(
        f"/n/{CODE}/login",
        data={"name": "clerk", "password": PASSWORDS[Role.CLERK], "csrf": "made-up"},
        headers={"Origin": our_origin(client)},
    )
    assert forged.status == 403 and "校验码" in await forged.text()
    foreign = await client.post(
        f"/n/{CODE}/login",
        data={"name": "clerk", "password": PASSWORDS[Role.CLERK], "csrf": token.group(1)},
        headers={"Origin": "http://evil.example"},
    )
    assert foreign.status == 403


@pytest.mark.asyncio
async def test_a_paused_login_is_429_and_says_when(
    client: TestClient, nodes: dict[str, FakeNode], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def paused(name: str, password: str, address: str) -> None:
        raise TooManyAttempts(
            "登录失败次数过多，已暂停登录。请于 10:15（约 15 分钟后）再试。", 0, 900
        )

    monkeypatch.setattr(nodes[CODE].accounts, "login", paused)
    form = await client.get(f"/n/{CODE}/login")
    token = CSRF.search(await form.text())
    assert token
    response = await client.post(
        f"/n/{CODE}/login",
        data={"name": "clerk", "password": "x", "csrf": token.group(1)},
        headers={"Origin": our_origin(client)},
    )
    assert response.status == 429 and response.headers["Retry-After"] == "900"
    assert "请于 10:15" in await response.text()


@pytest.mark.asyncio
async def test_logout_ends_the_session(client: TestClient, nodes: dict[str, FakeNode]) -> None:
    csrf = await log_in(client, "operator")
    assert nodes[CODE].accounts.sessions
    done = await client.post(
        f"/n/{CODE}/logout", data={"csrf": csrf}, headers={"Origin": our_origin(client)},
        allow_redirects=False,
    )  # fmt: skip
    assert done.status == 303 and not nodes[CODE].accounts.sessions
    again = await client.get(f"/n/{CODE}/registry", allow_redirects=False)
    assert again.status == 303 and "/login" in again.headers["Location"]


@pytest.mark.asyncio
async def test_a_login_at_one_node_is_not_a_login_at_another(client: TestClient) -> None:
    await log_in(client, "operator", code="330106001001")
    response = await client.get(f"/n/{CODE}/registry", allow_redirects=False)
    assert response.status == 303
    assert (await client.get("/n/330106001001/registry")).status == 200


@pytest.mark.asyncio
async def test_next_never_leaves_the_node(client: TestClient) -> None:
    for target in ("https://evil.example/", "//evil.example/", "/n/33/registry", "/\\evil"):
        form = await client.get(f"/n/{CODE}/login", params={"next": target})
        assert f'name="next" value="/n/{CODE}/"' in await form.text()


@pytest.mark.asyncio
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    fields=st.dictionaries(
        st.sampled_from(["name", "password", "csrf", "next", "other"]),
        st.text(max_size=300) | st.sampled_from(["clerk", "/n/330106/", "operator"]),
        max_size=5,
    ),
    origin=st.sampled_from([None, "ours", "http://evil.example", "null", ""]),
)
async def test_the_login_form_answers_any_fields_without_a_5xx(
    client: TestClient, fields: dict[str, str], origin: str | None
) -> None:
    headers = {}
    if origin is not None:
        headers["Origin"] = our_origin(client) if origin == "ours" else origin
    try:
        response = await client.post(
            f"/n/{CODE}/login", data=fields, headers=headers, allow_redirects=False
        )
    except ValueError:  # the client itself refuses some strings as form data
        return
    assert 200 <= response.status < 500, await response.text()
