"""Node certificates: a parent's signature over a child's code, level, key and address.

The province's certificate is signed by the root key, which every node pins in its
configuration. Chain walking lives in ``federation/trust/verify.py``; this module only knows
one link.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from node import crypto
from node.fields import MAX_INT64, integer, text
from node.identity import level_of, parent_of

CERT_TAG = b"archfed/v1/certificate"


@dataclass(frozen=True)
class Certificate:
    """One link of a trust chain."""

    node_id: str
    level: int
    parent_id: str  # "" for the province
    name: str
    key_id: str
    public_key: bytes
    address: str
    not_before_ms: int
    not_after_ms: int
    serial: int
    signature: bytes = b""

    def signing_bytes(self) -> bytes:
        return crypto.signing_input(
            CERT_TAG,
            self.node_id,
            self.level,
            self.parent_id,
            self.name,
            self.key_id,
            self.public_key,
            self.address,
            self.not_before_ms,
            self.not_after_ms,
            self.serial,
        )

    def signed_by(self, public_key: bytes) -> bool:
        return crypto.verify(public_key, self.signing_bytes(), self.signature)

    def valid_at(self, now_ms: int) -> bool:
        return self.not_before_ms <= now_ms <= self.not_after_ms

    def to_json(self) -> dict[str, object]:
        return {
            "node_id": self.node_id,
            "level": self.level,
            "parent_id": self.parent_id,
            "name": self.name,
            "key_id": self.key_id,
            "public_key": self.public_key.hex(),
            "address": self.address,
            "not_before_ms": self.not_before_ms,
            "not_after_ms": self.not_after_ms,
            "serial": self.serial,
            "signature": self.signature.hex(),
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Certificate:
        """A certificate from ``to_json``'s form, every field typed and in range (a serial
        of ``1e999`` or 2**63 is ``InvalidInput``, as is a missing field: ``KeyError``)."""
        return cls(
            node_id=text(data["node_id"], "node_id", 12),
            level=integer(data["level"], "level", 0, 4),
            parent_id=text(data["parent_id"], "parent_id", 12),
            name=text(data["name"], "name", 200),
            key_id=text(data["key_id"], "key_id", 64),
            public_key=bytes.fromhex(text(data["public_key"], "public_key", 128)),
            address=text(data["address"], "address", 300),
            not_before_ms=integer(data["not_before_ms"], "not_before_ms", -MAX_INT64),
            not_after_ms=integer(data["not_after_ms"], "not_after_ms", -MAX_INT64),
            serial=integer(data["serial"], "serial"),
            signature=bytes.fromhex(text(data["signature"], "signature", 256)),
        )


def issue(
    issuer: crypto.SigningKey,
    *,
    node_id: str,
    name: str,
    public_key: bytes,
    address: str,
    not_before_ms: int,
    not_after_ms: int,
    serial: int,
) -> Certificate:
    """Sign a certificate for ``node_id`` with the parent's key (the root key for a province)."""
    unsigned = Certificate(
        node_id=node_id,
        level=int(level_of(node_id)),
        parent_id=parent_of(node_id) or "",
        name=name,
        key_id=crypto.key_id_of(public_key),
        public_key=public_key,
        address=address,
        not_before_ms=not_before_ms,
        not_after_ms=not_after_ms,
        serial=serial,
    )
    return replace(unsigned, signature=issuer.sign(unsigned.signing_bytes()))


@dataclass(frozen=True)
class Application:
    """A node's request to be enrolled by this node, and what became of it."""

    code: str
    name: str
    public_key: bytes
    address: str
    requested_at: float
    status: str  # "pending", "approved" or "rejected"
    decided_at: float | None
    chain_json: str  # the issued chain when approved, else ""
    note: str
