"""The identity-number routes of the JSON API over the fake nodes: the number only in a POST
body, checked once (a wrong one is a 400 in Chinese that does not repeat it), staff only;
ingest's ``subject_ids`` checked and handed to the service, never echoed."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient
from fake_accounts import bearer
from fake_service import FakeNode

from node.actors import Role

VILLAGE = "330106001001"
CITIZEN = "330110196603150027"  # synthetic, valid
WRONG = CITIZEN[:-1] + "1"
URL = f"/api/v1/nodes/{VILLAGE}/search"


@pytest.mark.asyncio
async def test_a_clerk_searches_by_number_in_the_body(
    client: TestClient, nodes: dict[str, FakeNode]
) -> None:
    nodes[VILLAGE].subjects_by_id[CITIZEN] = ("330106/HY-2015-0001",)
    body = {"id_number": CITIZEN, "category": "婚姻登记", "limit": 5}
    response = await client.post(URL, json=body, headers=bearer(VILLAGE, Role.CLERK))
    assert response.status == 200, await response.text()
    assert [h["ref"] for h in (await response.json())["hits"]] == ["330106/HY-2015-0001"]
    (number,) = nodes[VILLAGE].id_searches
    assert number.digits == CITIZEN
    (query,) = nodes[VILLAGE].queries
    assert (query.category, query.limit, query.subject_index) == ("婚姻登记", 5, ())


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (WRONG, "校验位"),
        (CITIZEN[:17], "18 位"),
        ("33011019661315002X", "出生日期"),
        ("", "请填写"),
    ],
)
async def test_a_wrong_number_is_a_400_that_does_not_repeat_it(
    client: TestClient, nodes: dict[str, FakeNode], value: str, reason: str
) -> None:
    response = await client.post(
        URL, json={"id_number": value}, headers=bearer(VILLAGE, Role.CLERK)
    )
    text = await response.text()
    assert response.status == 400 and reason in text
    assert not value or value not in text
    assert nodes[VILLAGE].id_searches == []


@pytest.mark.asyncio
async def test_a_number_in_the_url_is_refused_for_get_and_post(client: TestClient) -> None:
    for method in ("GET", "POST"):
        response = await client.request(
            method, f"{URL}?id_number={CITIZEN}", headers=bearer(VILLAGE, Role.CLERK)
        )
        text = await response.text()
        assert response.status == 400 and "网址" in text and CITIZEN not in text


@pytest.mark.asyncio
async def test_ingest_takes_checked_subject_ids(
    client: TestClient, nodes: dict[str, FakeNode]
) -> None:
    record = {
        "record_id": "HY-1966-Y-0001", "archival_code": "J001-HY·1966-Y-0001", "fonds": "J001",
        "category": "婚姻登记", "year": 1966, "retention": "永久", "title": "结婚登记",
        "access": "controlled", "subject_ids": [CITIZEN],
    }  # fmt: skip
    url = f"/api/v1/nodes/{VILLAGE}/records"
    headers = bearer(VILLAGE, Role.ARCHIVIST)
    done = await client.post(url, json={"records": [record]}, headers=headers)
    assert done.status == 200, await done.text()
    (numbers,) = nodes[VILLAGE].ingested_subject_ids.values()
    assert [n.digits for n in numbers] == [CITIZEN]
    bad = {**record, "record_id": "HY-1966-Y-0002", "subject_ids": [CITIZEN, WRONG]}
    refused = await client.post(url, json={"records": [record, bad]}, headers=headers)
    text = await refused.text()
    assert refused.status == 400 and "第 2 条档案" in text and "第 2 个当事人证件号" in text
    assert WRONG not in text
