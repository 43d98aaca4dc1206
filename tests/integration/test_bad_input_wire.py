"""Bad input over real gRPC (issue 9, item 6): every value a peer can send is refused with
INVALID_ARGUMENT (or NOT_FOUND), never INTERNAL, and nothing is applied.

Each case is a call an enrolled child could sign with its own key: the signature is good, the
content is what is wrong. Real gRPC on loopback, real SQLite files.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
import pytest_asyncio

from node.federation.messages import (
    GET_DIRECTORY,
    HEARTBEAT,
    PUSH,
    REPORT_TRUST,
    SEARCH,
    DirectoryRequest,
    Heartbeat,
    PushBatch,
)
from node.records import catalogue_entry
from node.rpc.codec import ProtobufCodec
from node.rpc.generated.archive.v1 import catalogue_pb2, envelope_pb2, trust_pb2

from .network import Network, make_record, tree
from .raw import raw_call

CITY, COUNTY = "3301", "330106"
CODEC = ProtobufCodec()
INVALID_ARGUMENT = grpc.StatusCode.INVALID_ARGUMENT
pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def net(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Network]:
    network = await Network.start(
        tmp_path_factory.mktemp("badwire"), tree("33", CITY, COUNTY, "330110")
    )
    yield network
    await network.stop()


def _signed(net: Network, method: str, payload: bytes) -> bytes:
    # trust reports are for the root registry: the city relays them there
    to = "33" if method == REPORT_TRUST else CITY
    return CODEC.encode(net.node(COUNTY).parts.signer.seal(method, to, payload))


def _entry_pb(**changes: object) -> catalogue_pb2.CatalogueEntry:
    record, _ = make_record(COUNTY, 77, title="越界的目录条目")
    entry = catalogue_entry(record, "西湖区档案馆")
    assert entry is not None
    msg = catalogue_pb2.CatalogueEntry()
    batch = catalogue_pb2.PushBatch()
    batch.ParseFromString(CODEC.encode(PushBatch("x", 0, 1, (entry,))))
    msg.CopyFrom(batch.entries[0])
    for name, value in changes.items():
        setattr(msg, name, value)
    return msg


async def _refused(net: Network, method: str, payload: bytes) -> str:
    city = net.node(CITY)
    before = await city.parts.catalogue.count()
    code, details = await raw_call(net, CITY, method, _signed(net, method, payload))
    assert code == INVALID_ARGUMENT, (code, details)
    assert await city.parts.catalogue.count() == before
    return details


@pytest.mark.parametrize("field", ["from_seq", "to_seq"])
async def test_push_with_a_cursor_past_int64(net: Network, field: str) -> None:
    seqs = {"from_seq": (2**63, 2**63 + 1), "to_seq": (0, 2**63)}[field]
    batch = catalogue_pb2.PushBatch(batch_id="big-cursor", from_seq=seqs[0], to_seq=seqs[1])
    batch.entries.append(_entry_pb())
    details = await _refused(net, PUSH, batch.SerializeToString())
    assert field in details


async def test_push_with_a_content_size_of_2_64_minus_1(net: Network) -> None:
    batch = catalogue_pb2.PushBatch(batch_id="big-size", from_seq=0, to_seq=1)
    batch.entries.append(_entry_pb(content_size=2**64 - 1))
    details = await _refused(net, PUSH, batch.SerializeToString())
    assert "content_size" in details


async def test_push_with_a_version_that_storage_cannot_hold(net: Network) -> None:
    batch = catalogue_pb2.PushBatch(batch_id="neg-version", from_seq=0, to_seq=1)
    batch.entries.append(_entry_pb(version=-5))
    await _refused(net, PUSH, batch.SerializeToString())


async def test_directory_after_version_past_int64(net: Network) -> None:
    request = trust_pb2.DirectoryRequest(after_version=2**63)
    details = await _refused(net, GET_DIRECTORY, request.SerializeToString())
    assert "after_version" in details


async def test_heartbeat_change_head_past_int64(net: Network) -> None:
    beat = trust_pb2.Heartbeat(change_head=2**64 - 1)
    await _refused(net, HEARTBEAT, beat.SerializeToString())


@pytest.mark.parametrize("serial", ["1e999", "1.5", str(2**63), "-1", '"7"'])
async def test_trust_report_with_a_serial_json_cannot_be(net: Network, serial: str) -> None:
    event = '{"at_ms":1,"by":"330106","kind":"revoke","node_id":"330106001","reason":"x",'
    event += f'"serial":{serial}}}'
    report = trust_pb2.TrustReport(events=[event.encode()])
    details = await _refused(net, REPORT_TRUST, report.SerializeToString())
    assert "directory event" in details


async def test_trust_report_nested_too_deep(net: Network) -> None:
    report = trust_pb2.TrustReport(events=[b"[" * 100_000 + b"]" * 100_000])
    await _refused(net, REPORT_TRUST, report.SerializeToString())


async def test_an_unknown_field_appended_to_a_signed_envelope_is_refused(net: Network) -> None:
    good = _signed(net, HEARTBEAT, CODEC.encode(Heartbeat(change_head=0)))
    unknown = good + b"\xf8\x07\x01"  # field 127, varint 1: not in envelope.proto
    code, details = await raw_call(net, CITY, HEARTBEAT, unknown)
    assert code == INVALID_ARGUMENT, details
    assert "canonical" in details


async def test_an_unknown_field_inside_a_certificate_is_refused(net: Network) -> None:
    env = net.node(COUNTY).parts.signer.seal(HEARTBEAT, CITY, CODEC.encode(Heartbeat(0)))
    msg = envelope_pb2.Envelope()
    msg.ParseFromString(CODEC.encode(env))
    cert = msg.chain[0].SerializeToString() + b"\xf8\x07\x01"
    msg.chain[0].Clear()
    msg.chain[0].MergeFromString(cert)
    code, details = await raw_call(net, CITY, HEARTBEAT, msg.SerializeToString())
    assert code == INVALID_ARGUMENT, details


async def test_an_honest_directory_request_is_answered(net: Network) -> None:
    # the cases above send what they claim: the same call in range is accepted
    payload = CODEC.encode(DirectoryRequest(after_version=0))
    code, details = await raw_call(net, CITY, GET_DIRECTORY, _signed(net, GET_DIRECTORY, payload))
    assert code == grpc.StatusCode.OK, details


@pytest.mark.parametrize(
    "changes",
    [
        {"limit": -1},
        {"limit": 2**31 - 1},
        {"offset": -5},
        {"text": "王" * 10_000},
        {"year_from": -(2**31)},
        {"scope": "x"},
        {"cursor": "\x00" * 3},
    ],
    ids=["negative-limit", "huge-limit", "negative-offset", "long-text", "year", "scope", "cursor"],
)
async def test_a_search_no_client_could_send_is_refused(  # a guard: storage checks these
    net: Network, changes: dict[str, object]
) -> None:
    fields: dict[str, object] = {"text": "结婚", "scope": CITY, "limit": 10, **changes}
    request = catalogue_pb2.SearchRequest(**fields)  # type: ignore[arg-type]
    code, details = await raw_call(
        net, CITY, SEARCH, _signed(net, SEARCH, request.SerializeToString())
    )
    assert code == INVALID_ARGUMENT, (code, details)
