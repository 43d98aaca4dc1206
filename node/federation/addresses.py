"""Where neighbours listen: learned from configuration and from verified certificate chains.

A certificate carries its node's address, and every verified call carries its origin's chain,
so a parent learns where its children listen from their first push.
"""

from __future__ import annotations

from collections.abc import Iterable

from node.certificates import Certificate


class AddressBook:
    def __init__(self, static: dict[str, str] | None = None) -> None:
        self._static = dict(static or {})
        self._learned: dict[str, str] = {}

    def set(self, code: str, address: str) -> None:
        self._static[code] = address

    def learn(self, chain: Iterable[Certificate]) -> None:
        for cert in chain:
            if cert.address:
                self._learned[cert.node_id] = cert.address

    def codes(self) -> frozenset[str]:
        """Every node whose address is known."""
        return frozenset(self._static).union(self._learned)

    def resolve(self, code: str) -> str | None:
        return self._static.get(code) or self._learned.get(code)
