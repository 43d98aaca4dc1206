"""Protobuf <-> domain conversion: the federation's ``Codec``, implemented over generated code.

One module per message family (``envelope``, ``catalogue``, ``trust``, ``antientropy``,
``audit``, ``blindindex``, ``requests``, like the ``.proto`` files) exports its converters;
they are merged into one table here, which must cover exactly the federation's
``MESSAGE_TYPES`` (checked on import, so a call added to the registry without its converters
fails at once, not on first use).

Decoding never trusts its input: a parse failure or a field out of range is a
``ProtocolError`` (INVALID_ARGUMENT on the wire), never a crash. Unsigned 64-bit fields are
range-checked to what SQLite holds (``ranges.py``); the converters build domain values, whose
own checks (``node/records.py``) refuse the rest. Envelopes must also be canonically encoded,
so each signed envelope has exactly one byte form: no unknown field, at any depth.
"""

from __future__ import annotations

from typing import cast

from google.protobuf.message import DecodeError

from node.errors import InvalidInput, ProtocolError
from node.federation.codec import M, Message
from node.federation.messages import MAX_MESSAGE_BYTES, MESSAGE_TYPES, Envelope
from node.rpc.codec import antientropy, audit, blindindex, catalogue, envelope, requests, trust
from node.rpc.codec.ranges import check_int64
from node.rpc.codec.table import merged

TABLE = merged(
    envelope.CONVERTERS,
    catalogue.CONVERTERS,
    trust.CONVERTERS,
    antientropy.CONVERTERS,
    audit.CONVERTERS,
    blindindex.CONVERTERS,
    requests.CONVERTERS,
)
if TABLE.keys() != MESSAGE_TYPES:
    raise RuntimeError(
        "the codec families do not convert exactly the registered messages: "
        f"missing {sorted(t.__name__ for t in MESSAGE_TYPES - TABLE.keys())}, "
        f"not registered {sorted(t.__name__ for t in TABLE.keys() - MESSAGE_TYPES)}"
    )


class ProtobufCodec:
    """``node.federation.codec.Codec`` over the generated ``archive.v1`` messages."""

    def encode(self, message: Message) -> bytes:
        _, to_pb, _ = TABLE[type(message)]
        return cast(bytes, to_pb(message).SerializeToString())

    def decode(self, kind: type[M], data: bytes) -> M:
        if len(data) > MAX_MESSAGE_BYTES:
            raise ProtocolError(f"{kind.__name__} of {len(data)} bytes is over the size limit")
        pb_type, _, from_pb = TABLE[kind]
        msg = pb_type()
        try:
            msg.ParseFromString(data)
            if kind is Envelope:
                # Only the canonical encoding is accepted: no second spelling of one envelope
                # (a bool written as 2, a varint padded, a field repeated or unknown) passes.
                # Protobuf keeps unknown fields and writes them back out, so a round trip
                # alone let an appended unknown field through: drop them (at every depth)
                # before comparing.
                msg.DiscardUnknownFields()
                if msg.SerializeToString() != data:
                    raise ProtocolError("envelope is not canonically encoded")
            check_int64(msg)
            return cast(M, from_pb(msg))
        except ProtocolError:
            raise
        except (
            DecodeError,
            ValueError,  # includes UnicodeError
            TypeError,
            OverflowError,
            RecursionError,
            InvalidInput,
            RuntimeWarning,
        ) as exc:
            raise ProtocolError(f"malformed {kind.__name__}: {exc}") from None
