from __future__ import annotations

import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from node.errors import ProtocolError
from node.federation.messages import (
    MAX_MESSAGE_BYTES,
    ContentManifest,
    Envelope,
    FetchPart,
    FetchRequest,
    IndexKeysReply,
    IndexKeysRequest,
    PushAck,
    PushBatch,
)
from node.records import Access, CatalogueEntry, Retention, SearchPage, SearchQuery
from node.rpc.codec import ProtobufCodec

codec = ProtobufCodec()
ENTRY = CatalogueEntry(
    holder="330110",
    record_id="HY-2015-Y-0001",
    version=3,
    archival_code="J001-HY·2015-Y-0001",
    category="婚姻登记",
    year=2015,
    retention=Retention.PERMANENT,
    title="王秀英、李建国结婚登记档案",
    creator="余杭区民政局",
    access=Access.OPEN,
    holder_name="余杭区档案馆",
    subjects=("王秀英", "李建国"),
    content_sha256="ab" * 32,
    content_size=1234,
)


@pytest.mark.parametrize(
    "message",
    [
        Envelope("33", "3301", "k", 5, b"n" * 16, "tx", True, b"\x00payload", b"s" * 64),
        PushBatch("b1", 0, 9, (ENTRY,)),
        PushAck(9, 1),
        SearchQuery("婚姻登记", "330110", "婚姻登记", 2000, 2020, 20, 40),
        SearchQuery(scope="33", archival_code="J001-HY·2015-Y-0001"),
        SearchQuery(subject_index=("v1:" + "x" * 22,)),
        IndexKeysRequest(2),
        IndexKeysReply(2, b"sealed bytes"),
        SearchPage(1, (ENTRY,), "3301"),
        FetchRequest("330110", "HY-2015-Y-0001"),
        ContentManifest(
            "330110", "r", 1, "r.txt", "text/plain", 10, "ab" * 32, 4, (b"h" * 32,), "t", "a"
        ),
        FetchPart(chunk=b"chunk"),
    ],
)
def test_roundtrip(message: object) -> None:
    assert codec.decode(type(message), codec.encode(message)) == message  # type: ignore[arg-type]


@given(st.binary(max_size=512))
def test_random_bytes_give_a_protocol_error_or_a_message(data: bytes) -> None:
    try:
        codec.decode(Envelope, data)
        codec.decode(PushBatch, data)
    except ProtocolError:
        pass


def test_oversized_input_is_refused_before_parsing() -> None:
    with pytest.raises(ProtocolError, match="size limit"):
        codec.decode(Envelope, os.urandom(16) * (MAX_MESSAGE_BYTES // 16 + 1))


def test_entry_without_access_level_is_refused() -> None:
    data = codec.encode(PushBatch("b", 0, 1, (ENTRY,))).replace(b"\x50\x01", b"\x50\x00")
    with pytest.raises(ProtocolError):
        codec.decode(PushBatch, data)


def test_a_search_with_too_many_or_too_long_index_values_is_refused() -> None:
    many = codec.encode(SearchQuery(subject_index=tuple(f"v1:{i:022d}" for i in range(9))))
    with pytest.raises(ProtocolError, match="subject_index"):
        codec.decode(SearchQuery, many)
    long = codec.encode(SearchQuery(subject_index=("v1:" + "x" * 200,)))
    with pytest.raises(ProtocolError, match="subject_index"):
        codec.decode(SearchQuery, long)


def test_oversized_sealed_index_keys_are_refused() -> None:
    with pytest.raises(ProtocolError, match="sealed index keys"):
        codec.decode(IndexKeysReply, codec.encode(IndexKeysReply(1, b"x" * 10_000)))
