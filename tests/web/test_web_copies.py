"""The public verify page and API: an uploaded PDF or JSON copy, a typed code, bad input.

The service behind them is the real domain under a test root key (``fake_copies``); the
pages' answers are checked for each reason a person must read.
"""

from __future__ import annotations

import json

import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient
from copies_helpers import CONTENT, facts
from fake_service import FakeNode

from node import printout
from node.actors import ANONYMOUS
from node.copies import IssuedCopy

CODE = "330106"


async def _issued(nodes: dict[str, FakeNode]) -> IssuedCopy:
    return await nodes[CODE].copies.issue(facts(), actor=ANONYMOUS)


def _form(**files: bytes | str) -> FormData:
    form = FormData(default_to_multipart=True)
    for name, value in files.items():
        if isinstance(value, bytes):
            form.add_field(name, value, filename=f"{name}.bin")
        else:
            form.add_field(name, value)
    return form


@pytest.mark.asyncio
async def test_the_form_is_public_and_in_chinese(client: TestClient) -> None:
    response = await client.get(f"/n/{CODE}/verify")
    assert response.status == 200
    page = await response.text()
    assert "档案证明核验" in page and 'name="copy"' in page and 'name="code"' in page


@pytest.mark.asyncio
async def test_the_qr_link_shows_the_copy_kept_under_its_code(
    client: TestClient, nodes: dict[str, FakeNode]
) -> None:
    copy = await _issued(nodes)
    response = await client.get(f"/n/{CODE}/verify", params={"code": copy.code.lower()})
    page = await response.text()
    assert response.status == 200
    assert "核验通过" in page and "J001-HY·1966-Y-0007" in page and "余杭区档案馆" in page


@pytest.mark.asyncio
async def test_an_unknown_or_mistyped_code_says_what_to_do(client: TestClient) -> None:
    response = await client.get(f"/n/{CODE}/verify", params={"code": "0000-0000-0000"})
    assert response.status == 404
    assert "本馆没有核验码为" in await response.text()
    response = await client.get(f"/n/{CODE}/verify", params={"code": "abc"})
    assert response.status == 400
    page = await response.text()
    assert "核验码应为 12 位" in page and 'value="abc"' in page  # the form keeps what was typed


@pytest.mark.asyncio
async def test_an_uploaded_pdf_verifies_with_its_attached_content(
    client: TestClient, nodes: dict[str, FakeNode]
) -> None:
    copy = await _issued(nodes)
    pdf = printout.render(copy, CONTENT)
    response = await client.post(f"/n/{CODE}/verify", data=_form(copy=pdf))
    page = await response.text()
    assert response.status == 200 and "核验通过" in page, page
    changed = CONTENT[:-1] + b"!"
    response = await client.post(f"/n/{CODE}/verify", data=_form(copy=pdf, content=changed))
    page = await response.text()
    assert "核验未通过" in page and "所附档案内容" in page


@pytest.mark.asyncio
async def test_a_changed_json_copy_is_refused_with_every_reason(
    client: TestClient, nodes: dict[str, FakeNode]
) -> None:
    copy = await _issued(nodes)
    changed = copy.document.replace("办理房产继承".encode(), "办理贷款抵押".encode())
    response = await client.post(f"/n/{CODE}/verify", data=_form(copy=changed))
    page = await response.text()
    assert "核验未通过" in page and "签名不符" in page and "办理贷款抵押" in page
    assert "未经核实" in page  # the facts of an invalid copy are not presented as true


@pytest.mark.asyncio
async def test_the_api_answers_json(client: TestClient, nodes: dict[str, FakeNode]) -> None:
    copy = await _issued(nodes)
    response = await client.post(
        f"/api/v1/nodes/{CODE}/verify", data=_form(copy=copy.document, content=CONTENT)
    )
    body = await response.json()
    assert response.status == 200 and body["valid"] is True and body["reasons"] == []
    assert body["facts"]["archival_code"] == "J001-HY·1966-Y-0007"
    assert body["certificate_valid_at_issue"] is True
    response = await client.get(f"/api/v1/nodes/{CODE}/verify", params={"code": copy.code})
    assert (await response.json())["code"] == copy.code
    response = await client.post(f"/api/v1/nodes/{CODE}/verify", data=_form(copy=b"[1]"))
    body = await response.json()
    assert body["valid"] is False and body["reasons"][0].startswith("不是有效的档案证明")


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"data": _form()}, "请选择证明文件"),
        ({"data": _form(other=b"x")}, "未知字段"),
        ({"data": "copy=1", "headers": {"Content-Type": "application/x-www-form-urlencoded"}},
         "multipart"),
        ({"data": b"--x\r\nbroken", "headers": {"Content-Type": "multipart/form-data; boundary=x"}},
         "表单"),
    ],
)  # fmt: skip
async def test_bad_uploads_are_400_in_chinese(
    client: TestClient, kwargs: dict, message: str
) -> None:
    response = await client.post(f"/n/{CODE}/verify", **kwargs)
    assert response.status == 400
    assert message in await response.text()
    response = await client.post(f"/api/v1/nodes/{CODE}/verify", **kwargs)
    assert response.status == 400
    assert message in json.dumps(await response.json(), ensure_ascii=False)


@pytest.mark.asyncio
async def test_a_post_from_another_site_is_refused(client: TestClient) -> None:
    response = await client.post(
        f"/n/{CODE}/verify", data=_form(code="x"), headers={"Origin": "http://evil.example"}
    )
    assert response.status == 403
