"""The page templates on their own: every page extends the layout, every value is escaped,
and a value a template needs but is not given fails instead of rendering blank.

The registry and status pages need the trust keeper and the sync status, which the fake
service does not have (the integration tests drive them through a real network); here they
are rendered from view values built the way their handlers build them.
"""

from __future__ import annotations

from pathlib import Path

import jinja2
import pytest
from aiohttp_jinja2 import get_env
from fake_service import network

from node.certificates import Application
from node.crypto import key_id_of
from node.federation.refusals import Refusal
from node.federation.services import ChildSyncStatus, LinkStatus
from node.web import create_app, views
from node.web.views import admin, operator

TEMPLATES = Path(views.__file__).parents[1] / "templates"
PAGES = sorted(
    p.name for p in TEMPLATES.glob("*.html") if p.name not in ("base.html", "macros.html")
)


@pytest.fixture
def env() -> jinja2.Environment:
    return get_env(create_app(network()))  # type: ignore[arg-type]


def test_every_page_extends_the_layout() -> None:
    assert PAGES == [
        "accounts.html", "appraisal.html", "audit_log.html", "error.html", "index.html",
        "ingest_job.html", "ingest_upload.html", "login.html", "preservation.html",
        "registry.html", "request_form.html", "request_list.html", "request_page.html",
        "request_queue.html", "search.html", "status.html", "verify.html",
    ]  # fmt: skip
    for name in PAGES:
        assert '{% extends "base.html" %}' in (TEMPLATES / name).read_text(), name


def test_no_template_turns_escaping_off() -> None:
    for path in TEMPLATES.glob("*.html"):
        text = path.read_text()
        for unsafe in ("|safe", "| safe", "autoescape false", "Markup"):
            assert unsafe not in text, (path.name, unsafe)


def test_a_missing_value_fails(env: jinja2.Environment) -> None:
    with pytest.raises(jinja2.UndefinedError):
        env.get_template("error.html").render(status=404, heading="未找到", back="")


def _application(code: str, name: str, status: str = "pending", note: str = "") -> Application:
    return Application(code, name, bytes(32), "", 0.0, status, None, "", note)


# What registry.html needs besides applications and refusals: nothing revoked, banned or aliased,
# no child's address answering as another node.
NOTHING_REVOKED = {
    "notice": "", "revoked": [], "banned": [], "aliases": [], "is_registry": False,
    "address_problems": [],
    "actions": operator.registry_actions("330110"),
}  # fmt: skip


def test_the_registry_page_escapes_applicants_and_refusals(env: jinja2.Environment) -> None:
    applications = [
        _application("330110005", "<script>alert(1)</script>仓前街道"),
        _application("330106009", "良渚", "rejected", note='名称"不符"'),
    ]
    refusal = Refusal(0.0, "330110", "/archive.v1.Federation/Search", "", "", "AuthError", "<b>")
    page = env.get_template("registry.html").render(
        name="余杭区档案馆",
        code="330110",
        key_id="ed25519:00",
        expires="2027-01-01",
        version=3,
        applications=[admin.application_row("330110", a) for a in applications],
        refusals=[admin.refusal_row(refusal)],
        csrf="tok<en>",
        **NOTHING_REVOKED,
    )
    assert "<script>" not in page and "<b>" not in page
    assert "<td>&lt;script&gt;alert(1)&lt;/script&gt;仓前街道</td>" in page
    assert "<td>已拒绝：名称&quot;不符&quot;</td>" in page
    assert "<td>330106009（非直接下级）</td>" in page
    assert "<td>（无法识别）</td><td>Search</td><td>AuthError</td><td>&lt;b&gt;</td>" in page
    base = "/n/330110/registry/applications/330110005"
    assert (
        f'<form method="post" action="{base}/approve" class="inline">'
        '<input type="hidden" name="csrf" value="tok&lt;en&gt;">'
        f'<input type="hidden" name="key_id" value="{key_id_of(bytes(32))}">'
        '<button type="submit">批准</button></form> '
        f'<form method="post" action="{base}/reject" class="inline">'
        '<input type="hidden" name="csrf" value="tok&lt;en&gt;">'
        '<input name="note" placeholder="拒绝原因"><button type="submit">拒绝</button></form>'
    ) in page
    # the rejected one has no buttons; then the revoke and ban forms (no alias: not the registry)
    assert page.count("<form") == 4


def test_the_registry_page_says_when_tables_are_empty(env: jinja2.Environment) -> None:
    page = env.get_template("registry.html").render(
        name="n", code="33", key_id="k", expires="e", version=1, applications=[], refusals=[],
        csrf="", **{**NOTHING_REVOKED, "is_registry": True},
    )  # fmt: skip
    assert '<tr><td colspan="5">没有被吊销的节点。</td></tr>' in page
    assert '<tr><td colspan="4">没有被封禁的密钥。</td></tr>' in page
    assert '<tr><td colspan="2">没有登记的区划代码变更。</td></tr>' in page
    assert '<form class="alias" method="post" action="/n/330110/registry/aliases">' in page
    assert '<tr><td colspan="7">暂无入网申请。</td></tr>' in page
    assert '<tr><td colspan="5">暂无被拒绝的调用。</td></tr>' in page
    assert "<title>n · 入网与信任管理</title>" in page and '<span class="sub">n 运维</span>' in page


def test_the_status_page_shows_links_children_and_the_retry_button(
    env: jinja2.Environment,
) -> None:
    link = LinkStatus(
        "330106001", 9, 2, "<refused>", head=11, lag_s=75.0, state="pending", failures=3
    )
    page = env.get_template("status.html").render(
        name="金鱼井",
        code="330106001001",
        head=11,
        links=[admin.link_row(link, 100.0)],
        children=[admin.child_row(ChildSyncStatus("330106001001001", 4, 0.0), 100.0)],
        retry_action=views.sync_retry_url("330106001001"),
        csrf="t",
    )
    assert "<td>330106001</td><td>待推送</td><td>9 / 11</td><td>2</td><td>1.2 分钟</td>" in page
    assert "&lt;refused&gt;（-，连续失败 3 次）" in page and "<refused>" not in page
    assert "<tr><td>330106001001001</td><td>4</td><td>-</td></tr>" in page
    assert (
        '<form method="post" action="/n/330106001001/status/retry" class="inline">'
        '<input type="hidden" name="csrf" value="t">'
        '<button type="submit">立即重试推送</button></form>'
    ) in page


def test_the_province_status_page_has_no_parent_and_no_button(env: jinja2.Environment) -> None:
    page = env.get_template("status.html").render(
        name="省馆", code="33", head=0, links=[], children=[], retry_action="", csrf=""
    )
    assert '<tr><td colspan="8">本节点是省级节点，没有上级。</td></tr>' in page
    assert '<tr><td colspan="3">尚无下级推送过目录。</td></tr>' in page
    assert "<form" not in page
