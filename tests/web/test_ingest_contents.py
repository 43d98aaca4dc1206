"""The ingest API's ``contents`` (issue 14): sha256 -> base64, checked where it arrives."""

from __future__ import annotations

import base64
import hashlib

import pytest

from node.errors import InvalidRecord
from node.web.ingest import _contents


def test_contents_are_decoded_by_their_sha256() -> None:
    data = b"%PDF scan"
    sha = hashlib.sha256(data).hexdigest()
    assert _contents({sha.upper(): base64.b64encode(data).decode()}) == {sha: data}


@pytest.mark.parametrize(
    "value",
    [[], "text", {"short": "AAAA"}, {"a" * 64: "not base64!"}, {"a" * 64: 5}],
    ids=["list", "text", "short-key", "not-base64", "not-text"],
)
def test_malformed_contents_are_refused(value: object) -> None:
    with pytest.raises(InvalidRecord, match="内容"):
        _contents(value)
