"""Converters for the envelope every call travels in and the certificates it carries."""

from __future__ import annotations

from node.certificates import Certificate
from node.federation.messages import Envelope
from node.rpc.codec.table import Converters
from node.rpc.generated.archive.v1 import envelope_pb2 as pb


def cert_to_pb(cert: Certificate) -> pb.Certificate:
    return pb.Certificate(
        node_id=cert.node_id,
        level=cert.level,
        parent_id=cert.parent_id,
        name=cert.name,
        key_id=cert.key_id,
        public_key=cert.public_key,
        address=cert.address,
        not_before_ms=cert.not_before_ms,
        not_after_ms=cert.not_after_ms,
        serial=cert.serial,
        signature=cert.signature,
        tls_sha256=cert.tls_sha256,
    )


def cert_from_pb(msg: pb.Certificate) -> Certificate:
    return Certificate(
        node_id=msg.node_id,
        level=msg.level,
        parent_id=msg.parent_id,
        name=msg.name,
        key_id=msg.key_id,
        public_key=msg.public_key,
        address=msg.address,
        not_before_ms=msg.not_before_ms,
        not_after_ms=msg.not_after_ms,
        serial=msg.serial,
        signature=msg.signature,
        tls_sha256=msg.tls_sha256,
    )


def envelope_to_pb(env: Envelope) -> pb.Envelope:
    return pb.Envelope(
        origin=env.origin,
        destination=env.destination,
        key_id=env.key_id,
        timestamp_ms=env.timestamp_ms,
        nonce=env.nonce,
        transaction_id=env.transaction_id,
        relayed=env.relayed,
        payload=env.payload,
        signature=env.signature,
        chain=[cert_to_pb(c) for c in env.chain],
    )


def envelope_from_pb(msg: pb.Envelope) -> Envelope:
    return Envelope(
        origin=msg.origin,
        destination=msg.destination,
        key_id=msg.key_id,
        timestamp_ms=msg.timestamp_ms,
        nonce=msg.nonce,
        transaction_id=msg.transaction_id,
        relayed=msg.relayed,
        payload=msg.payload,
        signature=msg.signature,
        chain=tuple(cert_from_pb(c) for c in msg.chain),
    )


CONVERTERS: Converters = {
    Envelope: (pb.Envelope, envelope_to_pb, envelope_from_pb),
}
