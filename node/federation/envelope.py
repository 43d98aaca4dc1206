"""Signing envelopes, and what a signature covers.

The signature is over a length-prefixed tuple (``crypto.signing_input``) of the domain tag,
the full gRPC method name, every header field and the SHA-256 of the payload bytes, so a
signature for one method, destination or payload never verifies for another.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from node import crypto
from node.certificates import Certificate
from node.federation.messages import Envelope

Clock = Callable[[], float]  # seconds since the epoch, like time.time


def now_ms(clock: Clock = time.time) -> int:
    return int(clock() * 1000)


def signed_tuple(method: str, envelope: Envelope) -> bytes:
    return _signed_fields(method, *_header(envelope))


def _header(e: Envelope) -> tuple[str, str, str, int, bytes, str, bool, bytes]:
    """The header fields a signature covers, in signing order, ending with the payload."""
    return (e.origin, e.destination, e.key_id, e.timestamp_ms, e.nonce, e.transaction_id,
            e.relayed, e.payload)  # fmt: skip


def _signed_fields(
    method: str,
    origin: str,
    destination: str,
    key_id: str,
    timestamp_ms: int,
    nonce: bytes,
    transaction_id: str,
    relayed: bool,
    payload: bytes,
) -> bytes:
    return crypto.signing_input(
        crypto.DOMAIN_TAG,
        method,
        origin,
        destination,
        key_id,
        timestamp_ms,
        nonce,
        transaction_id,
        relayed,
        crypto.sha256(payload),
    )


@dataclass(frozen=True)
class Signer:
    """A node's signing identity: its code, key and certificate chain (leaf first)."""

    code: str
    key: crypto.SigningKey
    chain: tuple[Certificate, ...]
    clock: Clock = time.time

    def seal(
        self,
        method: str,
        destination: str,
        payload: bytes,
        *,
        relayed: bool = False,
        transaction_id: str | None = None,
    ) -> Envelope:
        header = (
            self.code,
            destination,
            self.key.key_id,
            now_ms(self.clock),
            os.urandom(16),
            transaction_id or os.urandom(16).hex(),
            relayed,
            payload,
        )
        signature = self.key.sign(_signed_fields(method, *header))
        return Envelope(*header, signature, self.chain)  # built once, not copied to sign
