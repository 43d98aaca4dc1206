"""The utilisation request pages and API over the fake service: the form (kept after an input
error, never echoing the identity number), the list, the archivist's queue and decisions."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from fake_accounts import bearer, log_in, post_form
from fake_service import FakeNode

from node.actors import Role
from node.citizens import IdNumber, check_character
from node.requests import State

CODE = "330106"
BODY = "33011019660512002"
NUMBER = BODY + check_character(BODY)
pytestmark = pytest.mark.asyncio


def _form(csrf: str, **changes: str) -> aiohttp.FormData:
    fields = {
        "csrf": csrf, "holder": "330110", "record_id": "T-HY-1966-0001",
        "citizen_name": "王秀英", "id_number": NUMBER, "relationship": "本人",
        "purpose": "办理退休手续",
    }  # fmt: skip
    fields.update(changes)
    data = aiohttp.FormData()
    for k, v in fields.items():
        data.add_field(k, v)
    return data


async def test_the_form_is_filled_from_the_link_of_a_refusal(client: TestClient) -> None:
    await log_in(client, Role.CLERK)
    page = await client.get(f"/n/{CODE}/requests/new?holder=330110&record=T-HY-1966-0001")
    text = await page.text()
    assert page.status == 200
    assert 'value="330110"' in text and 'value="T-HY-1966-0001"' in text
    assert 'name="id_number"' in text and 'enctype="multipart/form-data"' in text


async def test_a_filed_request_is_listed_and_shown(
    client: TestClient, nodes: dict[str, FakeNode]
) -> None:
    csrf = await log_in(client, Role.CLERK)
    done = await post_form(client, f"/n/{CODE}/requests", _form(csrf))
    assert done.status == 303, await done.text()
    (rid,) = nodes[CODE].requests.filed
    assert done.headers["Location"] == f"/n/{CODE}/requests/{rid}"
    shown = await (await client.get(done.headers["Location"])).text()
    assert "待审核" in shown and "王秀英" in shown and NUMBER not in shown
    assert IdNumber.parse(NUMBER).masked in shown
    listed = await (await client.get(f"/n/{CODE}/requests")).text()
    assert rid in listed and NUMBER not in listed


async def test_an_input_error_keeps_the_form_but_not_the_identity_number(
    client: TestClient, nodes: dict[str, FakeNode]
) -> None:
    csrf = await log_in(client, Role.CLERK)
    bad = await post_form(client, f"/n/{CODE}/requests", _form(csrf, id_number=NUMBER[:-1] + "0"))
    text = await bad.text()
    assert bad.status == 400
    assert "校验位" in text and 'value="王秀英"' in text and "办理退休手续" in text
    assert NUMBER[:-1] not in text
    assert not nodes[CODE].requests.filed
    agent = await post_form(client, f"/n/{CODE}/requests", _form(csrf, relationship="委托代理人"))
    assert agent.status == 400 and "授权委托书" in await agent.text()


async def test_the_archivist_approves_from_the_queue_and_rejects_only_with_a_reason(
    client: TestClient, nodes: dict[str, FakeNode]
) -> None:
    fake = nodes[CODE].requests
    first = fake.add_incoming(
        "330106001001", "T-HY-1966-0001", "未按规则批准：身份证号码与档案当事人不符"
    )
    second = fake.add_incoming("330106001001", "T-HY-1966-0002", "未按规则批准：委托代理人")
    csrf = await log_in(client, Role.ARCHIVIST)
    queue = await (await client.get(f"/n/{CODE}/requests/queue")).text()
    assert first in queue and "身份证号码与档案当事人不符" in queue and "超过本馆答复期限" in queue
    done = await post_form(
        client, f"/n/{CODE}/requests/{first}/approve", {"csrf": csrf, "reason": ""}
    )
    assert done.status == 303 and fake.filed[first].state == State.APPROVED
    refused = await post_form(
        client, f"/n/{CODE}/requests/{second}/reject", {"csrf": csrf, "reason": " "}
    )
    assert refused.status == 400 and fake.filed[second].state == State.SUBMITTED
    no_csrf = await post_form(client, f"/n/{CODE}/requests/{second}/reject", {"reason": "无关"})
    assert no_csrf.status == 403 and fake.filed[second].state == State.SUBMITTED


async def test_the_api_files_without_echoing_the_number_and_lists(
    client: TestClient, nodes: dict[str, FakeNode]
) -> None:
    auth = bearer(CODE, Role.CLERK)
    body = {
        "holder": "330110", "record_id": "T-HY-1966-0001", "citizen_name": "王秀英",
        "id_number": NUMBER, "relationship": "本人", "purpose": "查档",
    }  # fmt: skip
    made = await client.post(f"/api/v1/nodes/{CODE}/requests", json=body, headers=auth)
    text = await made.text()
    assert made.status == 201 and NUMBER not in text
    listed = await (await client.get(f"/api/v1/nodes/{CODE}/requests", headers=auth)).json()
    assert listed["total"] == 1 and listed["items"][0]["state"] == "submitted"
    bad = await client.post(
        f"/api/v1/nodes/{CODE}/requests", json={**body, "id_number": 330110}, headers=auth
    )
    assert bad.status == 400
    unknown = await client.get(f"/api/v1/nodes/{CODE}/requests/330106-abcdefghij", headers=auth)
    assert unknown.status == 404
    malformed = await client.get(f"/api/v1/nodes/{CODE}/requests/x'", headers=auth)
    assert malformed.status == 400


async def test_delivered_content_downloads_for_the_clerk(
    client: TestClient, nodes: dict[str, FakeNode]
) -> None:
    csrf = await log_in(client, Role.CLERK)
    await post_form(client, f"/n/{CODE}/requests", _form(csrf))
    (rid,) = nodes[CODE].requests.filed
    nodes[CODE].requests.deliver(rid, b"scan")
    page = await (await client.get(f"/n/{CODE}/requests/{rid}")).text()
    assert f"/n/{CODE}/requests/{rid}/content" in page
    got = await client.get(f"/n/{CODE}/requests/{rid}/content")
    assert got.status == 200 and await got.read() == b"scan"
    assert got.headers["Cache-Control"] == "no-store"


async def test_a_holder_without_a_certificate_is_said_on_the_form(
    client: TestClient, nodes: dict[str, FakeNode]
) -> None:
    from node.errors import NotFound

    csrf = await log_in(client, Role.CLERK)
    fake = nodes[CODE].requests

    async def no_key(*args: Any, **kwargs: Any) -> Any:
        raise NotFound("信任目录中没有馆藏单位 330199 的有效证书")

    fake.submit = no_key  # type: ignore[method-assign]
    answer = await post_form(client, f"/n/{CODE}/requests", _form(csrf, holder="330199"))
    text = await answer.text()
    assert answer.status == 404 and "330199" in text and 'name="id_number"' in text
