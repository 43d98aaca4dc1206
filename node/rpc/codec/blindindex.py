"""Converters for the identity index family: a child's request for the live index keys and
its parent's sealed answer (``blindindex.proto``)."""

from __future__ import annotations

from node.errors import InvalidInput
from node.federation.messages import IndexKeysReply, IndexKeysRequest
from node.rpc.codec.table import Converters
from node.rpc.generated.archive.v1 import blindindex_pb2 as pb

MAX_SEALED_BYTES = 8 * 1024  # a few live keys of 44 bytes each, sealed


def _reply_from_pb(m: pb.IndexKeysReply) -> IndexKeysReply:
    if len(m.sealed_keys) > MAX_SEALED_BYTES:
        raise InvalidInput(f"sealed index keys of {len(m.sealed_keys)} bytes (at most 8 KiB)")
    return IndexKeysReply(newest_version=m.newest_version, sealed_keys=m.sealed_keys)


CONVERTERS: Converters = {
    IndexKeysRequest: (
        pb.IndexKeysRequest,
        lambda r: pb.IndexKeysRequest(known_version=r.known_version),
        lambda m: IndexKeysRequest(known_version=m.known_version),
    ),
    IndexKeysReply: (
        pb.IndexKeysReply,
        lambda r: pb.IndexKeysReply(newest_version=r.newest_version, sealed_keys=r.sealed_keys),
        _reply_from_pb,
    ),
}
