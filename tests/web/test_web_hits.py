"""A search hit as the API gives it: content hash and size only for an open record."""

from __future__ import annotations

from dataclasses import replace

import pytest

from node.records import Access, CatalogueEntry, Retention
from node.web.api import hit_json

ENTRY = CatalogueEntry(
    holder="330106",
    record_id="SB-2015-0001",
    version=1,
    archival_code="J001-SB·2015-Y-0001",
    category="社保",
    year=2015,
    retention=Retention.PERMANENT,
    title="社保档案（2015年，控制使用）",
    creator="西湖区人社局",
    access=Access.CONTROLLED,
    content_sha256="ab" * 32,  # as a row stored before entries were redacted may hold
    content_size=4096,
)


@pytest.mark.parametrize("access", [Access.CONTROLLED, Access.CLOSED])
def test_a_hit_that_may_not_be_fetched_says_nothing_of_its_content(access: Access) -> None:
    hit = hit_json(replace(ENTRY, access=access))
    assert "content_sha256" not in hit and "content_size" not in hit
    assert "ab" * 32 not in repr(hit)


def test_an_open_hit_gives_what_a_fetch_checks() -> None:
    hit = hit_json(replace(ENTRY, access=Access.OPEN))
    assert (hit["content_sha256"], hit["content_size"]) == ("ab" * 32, 4096)
