"""Signing envelopes, and what a signature covers.

The signature is over a length-prefixed tuple (``crypto.signing_input``) of the domain tag,
the full gRPC method name, every header field and the SHA-256 of the payload bytes, so a
signature for one method, destination or payload never verifies for another.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace

from node import crypto
from node.certificates import Certificate
from node.federation.messages import Envelope

Clock = Callable[[], float]  # seconds since the epoch, like time.time


def now_ms(clock: Clock = time.time) -> int:
    return int(clock() * 1000)


def signed_tuple(method: str, envelope: Envelope) -> bytes:
    return crypto.signing_input(
        crypto.DOMAIN_TAG,
        method,
        envelope.origin,
        envelope.destination,
        envelope.key_id,
        envelope.timestamp_ms,
        envelope.nonce,
        envelope.transaction_id,
        envelope.relayed,
        crypto.sha256(envelope.payload),
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
        unsigned = Envelope(
            origin=self.code,
            destination=destination,
            key_id=self.key.key_id,
            timestamp_ms=now_ms(self.clock),
            nonce=os.urandom(16),
            transaction_id=transaction_id or uuid.uuid4().hex,
            relayed=relayed,
            payload=payload,
            chain=self.chain,
        )
        return replace(unsigned, signature=self.key.sign(signed_tuple(method, unsigned)))
