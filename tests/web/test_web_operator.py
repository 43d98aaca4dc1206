"""The operator's page forms over the fake services: revoke, ban and unban, alias, the accounts
page, and the header's navigation by role. Each form is tried without a session, with the
wrong role, without its CSRF token and without its confirmation (nothing changes), then with
all of them (a 303 back to the page, which says what was done); every value is escaped."""

from __future__ import annotations

import re

import pytest
from aiohttp.test_utils import TestClient, TestServer
from fake_accounts import log_in, post_form
from fake_service import FakeNode, hosted, network

from node.actors import Role
from node.web import create_app

CODE = "330106"
REGISTRY = f"/n/{CODE}/registry"
ACCOUNTS = f"/n/{CODE}/accounts"
TOWNSHIP = "330106002"  # the fake directory names it 翠苑街道


def _revoke_fields(csrf: str, **changes: str) -> dict[str, str]:
    return {"csrf": csrf, "code": TOWNSHIP, "reason": "设备丢失", "confirm": "yes", **changes}


# -- revoke ------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_revoking_needs_a_session_the_role_the_token_and_the_box(
    client: TestClient, nodes: dict[str, FakeNode]
) -> None:
    trust = nodes[CODE].trust
    nobody = await post_form(client, f"{REGISTRY}/revocations", _revoke_fields(""))
    assert nobody.status == 303 and nobody.headers["Location"].startswith(f"/n/{CODE}/login")
    clerk = await log_in(client, "clerk")
    refused = await post_form(client, f"{REGISTRY}/revocations", _revoke_fields(clerk))
    assert refused.status == 403 and "operator" in await refused.text()
    csrf = await log_in(client, "operator")
    stale = await post_form(client, f"{REGISTRY}/revocations", _revoke_fields("not-the-token"))
    assert stale.status == 403 and "CSRF" in await stale.text()
    unconfirmed = await post_form(
        client, f"{REGISTRY}/revocations", _revoke_fields(csrf, confirm="")
    )
    assert unconfirmed.status == 400
    text = await unconfirmed.text()
    assert "请勾选确认框" in text and "未做任何更改" in text and 'lang="zh-CN"' in text
    no_reason = await post_form(client, f"{REGISTRY}/revocations", _revoke_fields(csrf, reason=" "))
    assert no_reason.status == 400 and "吊销原因" in await no_reason.text()
    assert trust.revoked == []


@pytest.mark.asyncio
async def test_an_operator_revokes_a_township_and_the_page_says_so_by_name(
    client: TestClient, nodes: dict[str, FakeNode]
) -> None:
    csrf = await log_in(client, "operator")
    page = await (await client.get(REGISTRY)).text()
    assert f'<form class="revoke" method="post" action="{REGISTRY}/revocations">' in page
    assert '<input type="checkbox" name="confirm" value="yes" required>' in page
    assert '<tr><td colspan="5">没有被吊销的节点。</td></tr>' in page
    fields = _revoke_fields(csrf, reason="<b>丢失</b>")
    done = await post_form(client, f"{REGISTRY}/revocations", fields)
    assert done.status == 303
    assert done.headers["Location"] == f"{REGISTRY}?done=revoked:{TOWNSHIP}"
    assert [r.node_id for r in nodes[CODE].trust.revoked] == [TOWNSHIP]
    page = await (await client.get(done.headers["Location"])).text()
    assert f'<p class="notice">已吊销 {TOWNSHIP}（翠苑街道）' in page
    table = page.split('<table class="revoked">', 1)[1].split("</table>", 1)[0]
    assert f"<td>{TOWNSHIP}（翠苑街道）</td><td>全部证书</td><td>{CODE}</td>" in table
    assert "&lt;b&gt;丢失&lt;/b&gt;" in table and "<b>" not in page


@pytest.mark.asyncio
async def test_a_crafted_notice_link_claims_nothing(client: TestClient) -> None:
    await log_in(client, "operator")
    for done in (f"revoked:{TOWNSHIP}", "revoked:<script>", "banned:ed25519:ab", "nonsense"):
        page = await (await client.get(REGISTRY, params={"done": done})).text()
        assert 'class="notice"' not in page and "<script>" not in page


@pytest.mark.asyncio
async def test_revoking_a_node_outside_the_subtree_is_refused(
    client: TestClient, nodes: dict[str, FakeNode]
) -> None:
    csrf = await log_in(client, "operator")
    done = await post_form(
        client, f"{REGISTRY}/revocations", _revoke_fields(csrf, code="330108001")
    )
    assert done.status == 403 and "下级" in await done.text()
    assert nodes[CODE].trust.revoked == []


# -- ban, unban, alias -------------------------------------------------------------------------

KEY = "ed25519:0123456789abcdef"


@pytest.mark.asyncio
async def test_ban_needs_confirmation_then_shows_and_lifts(
    client: TestClient, nodes: dict[str, FakeNode]
) -> None:
    banned = nodes[CODE].trust.banned
    clerk = await log_in(client, "clerk")
    fields = {"csrf": clerk, "key_id": KEY, "reason": "<i>泄露</i>", "confirm": "yes"}
    assert (await post_form(client, f"{REGISTRY}/bans", fields)).status == 403
    csrf = await log_in(client, "operator")
    assert (await post_form(client, f"{REGISTRY}/bans", {**fields, "csrf": ""})).status == 403
    unconfirmed = await post_form(
        client, f"{REGISTRY}/bans", {**fields, "csrf": csrf, "confirm": ""}
    )
    assert unconfirmed.status == 400 and "请勾选确认框" in await unconfirmed.text()
    assert banned == {}
    done = await post_form(client, f"{REGISTRY}/bans", {**fields, "csrf": csrf})
    assert done.status == 303 and banned == {KEY: "<i>泄露</i>"}
    page = await (await client.get(done.headers["Location"])).text()
    assert f'<p class="notice">已封禁密钥 {KEY}' in page
    assert f"<td>{KEY}</td><td>（目录中无此密钥）</td><td>&lt;i&gt;泄露&lt;/i&gt;</td>" in page
    assert f'<form class="unban inline" method="post" action="{REGISTRY}/bans/lift">' in page
    lift = {"csrf": csrf, "key_id": KEY}
    assert (await post_form(client, f"{REGISTRY}/bans/lift", {**lift, "csrf": "x"})).status == 403
    lifted = await post_form(client, f"{REGISTRY}/bans/lift", lift)
    assert lifted.status == 303 and banned == {}
    page = await (await client.get(lifted.headers["Location"])).text()
    assert f'<p class="notice">已解除对密钥 {KEY} 的封禁。</p>' in page
    again = await post_form(client, f"{REGISTRY}/bans/lift", lift)
    assert again.status == 400 and "无需解除" in await again.text()


@pytest.mark.asyncio
async def test_aliases_are_the_registrys_only() -> None:
    nodes = {"33": FakeNode("33", "浙江省档案馆"), **network()}
    async with TestClient(TestServer(create_app(hosted(nodes)))) as client:
        county = await log_in(client, "operator")
        page = await (await client.get(REGISTRY)).text()
        assert 'class="alias"' not in page and "只能在省级节点" in page
        fields = {"csrf": county, "old": "330106", "new": "330110"}
        assert (await post_form(client, f"{REGISTRY}/aliases", fields)).status == 403
        province = await log_in(client, "operator", "33")
        page = await (await client.get("/n/33/registry")).text()
        assert '<form class="alias" method="post" action="/n/33/registry/aliases">' in page
        done = await post_form(client, "/n/33/registry/aliases", {**fields, "csrf": province})
        assert done.status == 303 and nodes["33"].trust.aliases == {"330106": "330110"}
        page = await (await client.get(done.headers["Location"])).text()
        old, new = "330106（县（区）级节点）", "330110（县（区）级节点）"
        assert f'<p class="notice">已登记区划代码变更：{old} → {new}。</p>' in page
        assert f"<tr><td>{old}</td><td>{new}</td></tr>" in page


# -- accounts ----------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_the_accounts_page_lists_roles_and_creates_an_account(
    client: TestClient, nodes: dict[str, FakeNode]
) -> None:
    archivist = await log_in(client, "archivist")
    assert (await client.get(ACCOUNTS)).status == 403
    new = {"csrf": archivist, "name": "li", "display_name": "<b>李</b>", "password": "12345678",
           "role": "clerk"}  # fmt: skip
    assert (await post_form(client, ACCOUNTS, new)).status == 403
    csrf = await log_in(client, "operator")
    page = await (await client.get(ACCOUNTS)).text()
    assert "<td>archivist</td><td>档案员</td><td>档案员（archivist）</td><td>正常</td>" in page
    assert (await post_form(client, ACCOUNTS, {**new, "csrf": ""})).status == 403
    done = await post_form(client, ACCOUNTS, {**new, "csrf": csrf})
    assert done.status == 303 and done.headers["Location"] == f"{ACCOUNTS}?done=created:li"
    assert nodes[CODE].accounts.accounts_by_name["li"].roles == (Role.CLERK,)
    page = await (await client.get(done.headers["Location"])).text()
    assert '<p class="notice">已创建账号 li。' in page
    assert "<td>li</td><td>&lt;b&gt;李&lt;/b&gt;</td><td>窗口工作人员（clerk）</td>" in page
    assert "<b>李</b>" not in page


@pytest.mark.asyncio
async def test_roles_are_granted_and_taken_back_and_disabling_is_confirmed(
    client: TestClient, nodes: dict[str, FakeNode]
) -> None:
    staff = nodes[CODE].accounts.accounts_by_name
    csrf = await log_in(client, "operator")
    page = await (await client.get(ACCOUNTS)).text()
    assert f'action="{ACCOUNTS}/clerk/roles"' in page
    assert f'action="{ACCOUNTS}/clerk/disable"' in page
    assert f'action="{ACCOUNTS}/operator/disable"' not in page  # not one's own, from here
    granted = await post_form(
        client, f"{ACCOUNTS}/clerk/roles", {"csrf": csrf, "role": "archivist"}
    )
    assert granted.status == 303 and Role.ARCHIVIST in staff["clerk"].roles
    page = await (await client.get(granted.headers["Location"])).text()
    assert '<p class="notice">已授予账号 clerk 档案员（archivist） 角色。</p>' in page
    taken = await post_form(client, f"{ACCOUNTS}/clerk/roles/archivist/revoke", {"csrf": csrf})
    assert taken.status == 303 and Role.ARCHIVIST not in staff["clerk"].roles
    unconfirmed = await post_form(client, f"{ACCOUNTS}/clerk/disable", {"csrf": csrf})
    assert unconfirmed.status == 400 and "请勾选确认框" in await unconfirmed.text()
    assert not staff["clerk"].disabled
    disabled = await post_form(
        client, f"{ACCOUNTS}/clerk/disable", {"csrf": csrf, "confirm": "yes"}
    )
    assert disabled.status == 303 and staff["clerk"].disabled
    page = await (await client.get(disabled.headers["Location"])).text()
    assert '<p class="notice">已停用账号 clerk：' in page and "<td>已停用</td>" in page
    enabled = await post_form(client, f"{ACCOUNTS}/clerk/enable", {"csrf": csrf})
    assert enabled.status == 303 and not staff["clerk"].disabled
    ghost = await client.get(ACCOUNTS, params={"done": "created:nobody"})
    assert 'class="notice"' not in await ghost.text()


# -- navigation --------------------------------------------------------------------------------


def _nav(page: str) -> list[str]:
    nav = page.split('<nav class="node">', 1)[1].split("</nav>", 1)[0]
    return re.findall(r'<a href="([^"]+)">', nav)


@pytest.mark.asyncio
async def test_anonymous_visitors_see_the_service_point_and_a_login_link(
    client: TestClient,
) -> None:
    page = await (await client.get(f"/n/{CODE}/")).text()
    assert _nav(page) == [f"/n/{CODE}/", f"/n/{CODE}/login"]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("role", "pages"),
    [
        (Role.CLERK, ["", "requests"]),
        (
            Role.ARCHIVIST,
            [
                "",
                "requests/queue",
                "status",
                "audit-log",
                "appraisal",
                "ingest/upload",
                "preservation",
            ],
        ),
        (Role.OPERATOR, ["", "registry", "status", "audit-log", "accounts"]),
    ],
)
async def test_each_role_sees_the_pages_it_may_open(
    client: TestClient, role: Role, pages: list[str]
) -> None:
    await log_in(client, role.value)
    links = _nav(await (await client.get(f"/n/{CODE}/")).text())
    assert links == [f"/n/{CODE}/{page}" for page in pages]
    for link in links:
        opened = await client.get(link)
        assert opened.status == 200, link
        assert _nav(await opened.text()) == links  # the same header on every page
    for page in {"registry", "status", "audit-log", "accounts", "appraisal"} - set(pages):
        assert (await client.get(f"/n/{CODE}/{page}")).status == 403
