"""Node certificates: a parent's signature over a child's code, level, key and address.

The province's certificate is signed by the root key, which every node pins in its
configuration. ``check_links`` is what a chain is on its own (shapes, order, signatures up
to the root key): ``federation/trust/verify.py`` adds validity windows, revocations and a
cache for live calls, and ``copies.py`` checks a certified copy's chain offline with it.

A certificate may also bind the node's gRPC listener to TLS: ``tls_sha256`` is the SHA-256 of
the DER bytes of the self-signed X.509 certificate the node's listener presents
(``node/tlscert.py``). A peer dialling the node over TLS accepts only that certificate, so the
directory, not a CA or a host name, says which TLS server is the node. The field came after
the others: a certificate without it (``b""``) is signed over exactly the bytes it always was,
so certificates issued before TLS still verify, and one with it covers it as the last item.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from node import crypto
from node.errors import AuthError, InvalidCode
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
    # SHA-256 of the listener's TLS certificate (DER); b"": the node serves no TLS
    tls_sha256: bytes = b""

    def signing_bytes(self) -> bytes:
        fields: list[crypto.Part] = [
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
        ]
        if self.tls_sha256:  # absent: the bytes certificates before TLS were signed over
            fields.append(self.tls_sha256)
        return crypto.signing_input(CERT_TAG, *fields)

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
            **({"tls_sha256": self.tls_sha256.hex()} if self.tls_sha256 else {}),
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
            tls_sha256=bytes.fromhex(text(data.get("tls_sha256", ""), "tls_sha256", 64)),
        )


def check_links(chain: Sequence[Certificate], root_public_key: bytes) -> None:
    """``AuthError`` unless every link of ``chain`` (leaf first) has a sound shape, is
    followed by its parent's certificate, does not outlive it and is signed by it, and the
    last is the province's, signed by ``root_public_key``. Validity windows and revocations
    are the caller's: they depend on when, and on what the caller knows."""
    for index, cert in enumerate(chain):
        _check_shape(cert)
        if index + 1 < len(chain):
            issuer = chain[index + 1]
            if cert.parent_id != issuer.node_id:
                raise AuthError(f"certificate of {cert.node_id} is not followed by its parent's")
            if cert.not_after_ms > issuer.not_after_ms:
                raise AuthError(f"certificate of {cert.node_id} outlives its parent's")
            issuer_key = issuer.public_key
        else:
            if cert.parent_id != "":
                raise AuthError(f"chain of {chain[0].node_id} does not reach the province")
            issuer_key = root_public_key
        if not cert.signed_by(issuer_key):
            raise AuthError(f"certificate of {cert.node_id} is not signed by its issuer")


def _check_shape(cert: Certificate) -> None:
    try:
        level = level_of(cert.node_id)
    except InvalidCode as exc:
        raise AuthError(f"certificate names an invalid code: {exc}") from None
    if cert.level != int(level):
        raise AuthError(f"certificate of {cert.node_id} claims the wrong level {cert.level}")
    if (parent_of(cert.node_id) or "") != cert.parent_id:
        raise AuthError(f"certificate of {cert.node_id} names {cert.parent_id!r} as parent")
    if cert.key_id != crypto.key_id_of(cert.public_key):
        raise AuthError(f"certificate of {cert.node_id} has a key id that is not its key's")


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
    tls_sha256: bytes = b"",
) -> Certificate:
    """Sign a certificate for ``node_id`` with the parent's key (the root key for a province).

    ``tls_sha256`` binds the node's TLS certificate (see the module docstring); b"" for none.
    """
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
        tls_sha256=tls_sha256,
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
