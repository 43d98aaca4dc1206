"""The bytes on the wire do not change: one message of every kind, encoded, against bytes
captured from the codec as it stood before it was split into families (issue 8).

``wire_bytes.json`` holds those captured bytes (hex). A difference here means a node built
from this tree could not talk to one built before: change a ``.proto`` field number, name or
type only with a new message or field, never in place.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from node.certificates import Certificate
from node.digests import EntryDigest, KeyRange, RangeDigest, RangeView, RepairCounts
from node.federation.messages import (
    CompareReply,
    CompareRequest,
    ContentManifest,
    DirectoryPage,
    DirectoryRequest,
    EnrolApplication,
    EnrolStatus,
    Envelope,
    FetchPart,
    FetchRequest,
    Heartbeat,
    HeartbeatReply,
    IndexKeysReply,
    IndexKeysRequest,
    PushAck,
    PushBatch,
    RenewReply,
    RenewRequest,
    RepairRequest,
    TrustReport,
    TrustReportAck,
)
from node.federation.trust.events import DirectoryHead
from node.records import Access, CatalogueEntry, Retention, SearchPage, SearchQuery
from node.rpc.codec import ProtobufCodec

GOLDEN = Path(__file__).with_name("wire_bytes.json")

# Every field set, to pin every field's encoding: no node sends a controlled entry with
# subject names (``validate_entry`` refuses them) or, since issue 9, with a content hash and
# size (``catalogue_entry`` leaves them empty). The codec is unchanged, so are these bytes.
CERT = Certificate("3301", 2, "33", "杭州市档案馆", "k1", b"p" * 32, "h:1", 1, 2, 7, b"s" * 64)
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
    access=Access.CONTROLLED,
    holder_name="余杭区档案馆",
    subjects=("王秀英", "李建国"),
    subject_index=("wang", "li"),
    content_sha256="ab" * 32,
    content_size=1234,
    deleted=False,
)
ENVELOPE = Envelope("33", "3301", "k", 5, b"n" * 16, "tx", True, b"\x00payload", b"s" * 64, (CERT,))
RANGE = KeyRange(("3301", "a"), ("3302", ""))
DIGEST = EntryDigest("330110", "r1", b"d" * 16)
MANIFEST = ContentManifest(
    "330110", "r", 1, "r.txt", "text/plain", 10, "ab" * 32, 4, (b"h" * 32, b"i" * 32), "t", "a"
)

SAMPLES: dict[str, object] = {
    "Envelope": ENVELOPE,
    "PushBatch": PushBatch("b1", 2, 9, (ENTRY, ENTRY)),
    "PushAck": PushAck(9, 1),
    "SearchQuery": SearchQuery("婚姻", "3301", "婚姻登记", 2000, 2020, 20, 40, "永久", "open", "c"),
    "SearchPage": SearchPage(41, (ENTRY,), "3301", False, "next", "prev"),
    "FetchRequest": FetchRequest("330110", "HY-2015-Y-0001", "a.pdf"),
    "ContentManifest": MANIFEST,
    "FetchPart.manifest": FetchPart(manifest=ENVELOPE),
    "FetchPart.chunk": FetchPart(chunk=b"chunk"),
    "Heartbeat": Heartbeat(12, 3),
    "HeartbeatReply": HeartbeatReply(11, 4),
    "DirectoryRequest": DirectoryRequest(5, 100),
    "DirectoryPage": DirectoryPage(
        DirectoryHead(9, b"c" * 32, 123, b"s" * 64, (CERT,)), 6, (b"e1", b"e2")
    ),
    "DirectoryPage.empty": DirectoryPage(None, 0, ()),
    "EnrolApplication": EnrolApplication("330110", "余杭区档案馆", b"p" * 32, "h:2"),
    "EnrolStatus": EnrolStatus("approved", "好", (CERT, CERT)),
    "RenewRequest": RenewRequest(b"q" * 32, "h:3"),
    "RenewReply": RenewReply((CERT,)),
    "TrustReport": TrustReport((b"e1", b"e2")),
    "TrustReportAck": TrustReportAck(17),
    "CompareRequest": CompareRequest((RangeDigest(RANGE, 5, b"g" * 16),), deep=True),
    "CompareReply": CompareReply(
        (
            RangeView(RANGE, 2, True, entries=(DIGEST,)),
            RangeView(RANGE, 300, False, splits=(("3301", "m"),), parts=((100, b"x"), (200, b"y"))),
        )
    ),
    "RepairRequest": RepairRequest(((ENTRY, b"d" * 16), (ENTRY, b"")), (DIGEST,), deep=True),
    "RepairCounts": RepairCounts(1, 2, 3, 4),
    "SearchQuery.subject_index": SearchQuery(subject_index=("v2:" + "a" * 22, "v1:" + "b" * 22)),
    "IndexKeysRequest": IndexKeysRequest(3),
    "IndexKeysReply": IndexKeysReply(4, b"sealed"),
}


def _golden() -> dict[str, str]:
    return dict(json.loads(GOLDEN.read_text()))


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_encoding_is_the_bytes_captured_before(name: str) -> None:
    message = SAMPLES[name]
    encoded = ProtobufCodec().encode(message)  # type: ignore[arg-type]
    assert encoded.hex() == _golden()[name]
    assert ProtobufCodec().decode(type(message), encoded) == message  # type: ignore[arg-type]


def test_every_message_kind_has_a_sample() -> None:
    assert set(_golden()) == set(SAMPLES)


if __name__ == "__main__":  # capture (only when a wire change is intended)
    golden = {n: ProtobufCodec().encode(m).hex() for n, m in sorted(SAMPLES.items())}  # type: ignore[arg-type]
    GOLDEN.write_text(json.dumps(golden, indent=1, ensure_ascii=False) + "\n")
