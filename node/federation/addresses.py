"""Where neighbours listen, and which TLS certificate they present there.

Learned from configuration and from verified certificate chains: a certificate carries its
node's address and the SHA-256 of its listener's TLS certificate (``Certificate.tls_sha256``),
and every verified call carries its origin's chain, so a parent learns where its children
listen from their first push, and a child knows its parent's pin from its own chain. Only the
newest certificate of a node (by serial) is kept, so an older chain still in circulation
cannot bring back an address or a TLS certificate the node has moved on from.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from node.certificates import Certificate


@dataclass(frozen=True)
class Endpoint:
    """How to reach a neighbour: its gRPC address, and its TLS pin (b"": plaintext)."""

    address: str
    tls_sha256: bytes = b""


class AddressBook:
    def __init__(self, static: dict[str, str] | None = None) -> None:
        self._static = dict(static or {})
        self._learned: dict[str, Certificate] = {}

    def set(self, code: str, address: str) -> None:
        self._static[code] = address

    def learn(self, chain: Iterable[Certificate]) -> None:
        for cert in chain:
            known = self._learned.get(cert.node_id)
            if known is None or cert.serial >= known.serial:
                self._learned[cert.node_id] = cert

    def codes(self) -> frozenset[str]:
        """Every node whose address is known."""
        return frozenset(self._static).union(
            code for code, cert in self._learned.items() if cert.address
        )

    def resolve(self, code: str) -> Endpoint | None:
        cert = self._learned.get(code)
        address = self._static.get(code) or (cert.address if cert else "")
        if not address:
            return None
        return Endpoint(address, cert.tls_sha256 if cert else b"")
