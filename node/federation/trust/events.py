"""The root registry's directory: a signed log of trust events, and what it says now.

Every certificate a parent issues, every revocation, every key retired by rotation and every
division-code alias is an event. The province (the root registry) appends events to one log
and signs its head: the number of events and a running SHA-256 over their exact bytes. The
log flows down the tree page by page; a node that holds the head can check any page it is
given against it, so a parent can pass the directory on but can neither forge nor withhold
an event. ``TrustState`` indexes the log for the checks made on every call.

Events are JSON written once by the registry and kept as bytes; nothing is re-serialised
before hashing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from node import crypto
from node.certificates import Certificate
from node.errors import AuthError, InvalidInput, ProtocolError
from node.fields import integer, text
from node.identity import covers, validate_code

DIRECTORY_TAG = b"archfed/v1/directory"
GENESIS_HASH = crypto.sha256(DIRECTORY_TAG)
MAX_ALIAS_HOPS = 8


@dataclass(frozen=True)
class Revocation:
    """``node_id``'s certificate ``serial`` may no longer be used, from ``at_ms`` on.

    Serial 0 revokes every certificate of ``node_id`` valid from before ``at_ms``: what an
    operator means by "revoke this node" (a later re-enrolment gets a new certificate).
    """

    node_id: str
    serial: int
    by: str  # the revoking node: the revoked node's parent or another ancestor
    at_ms: int
    reason: str = ""


@dataclass(frozen=True)
class Retirement:
    """A key replaced by rotation: evidence signed before ``at_ms`` still verifies."""

    node_id: str
    serial: int
    at_ms: int


@dataclass(frozen=True)
class Alias:
    """Division code ``old`` was succeeded by ``new`` (a merger, a county become a district)."""

    old: str
    new: str
    at_ms: int


TrustEvent = Certificate | Revocation | Retirement | Alias


def encode_event(event: TrustEvent) -> bytes:
    """The bytes the registry logs for ``event`` (written once, then only copied)."""
    body: dict[str, object]
    if isinstance(event, Certificate):
        body = {"kind": "cert", "cert": event.to_json()}
    elif isinstance(event, Revocation):
        body = {"kind": "revoke", **event.__dict__}
    elif isinstance(event, Retirement):
        body = {"kind": "retire", **event.__dict__}
    else:
        body = {"kind": "alias", **event.__dict__}
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def decode_event(data: bytes) -> TrustEvent:
    """The event logged as ``data``; ``ProtocolError`` if it is not one, with every field of
    its type and in range (``node/fields.py``: a serial of ``1e999``, ``1.5`` or 2**63 is
    refused here, not as a crash in storage)."""
    try:
        body = json.loads(data)
        kind = body.pop("kind")
        if kind == "cert":
            return Certificate.from_json(body["cert"])
        if kind == "revoke":
            return Revocation(
                _text(body["node_id"]),
                integer(body["serial"], "serial"),
                _text(body["by"]),
                integer(body["at_ms"], "at_ms"),
                _text(body["reason"]),
            )
        if kind == "retire":
            return Retirement(
                _text(body["node_id"]),
                integer(body["serial"], "serial"),
                integer(body["at_ms"], "at_ms"),
            )
        if kind == "alias":
            return Alias(
                validate_code(body["old"]),
                validate_code(body["new"]),
                integer(body["at_ms"], "at_ms"),
            )
    except (
        ValueError, KeyError, TypeError, AttributeError, OverflowError, RecursionError, InvalidInput
    ) as exc:  # fmt: skip
        raise ProtocolError(f"malformed directory event: {exc}") from None
    raise ProtocolError(f"unknown directory event kind {kind!r}")


def _text(value: object) -> str:
    return text(value, "directory event text", 500)


def next_hash(previous: bytes, event: bytes) -> bytes:
    return crypto.sha256(previous + crypto.sha256(event))


@dataclass(frozen=True)
class DirectoryHead:
    """How many events the log holds and their running hash, signed by the province."""

    version: int
    chain_hash: bytes
    issued_at_ms: int
    signature: bytes = b""
    chain: tuple[Certificate, ...] = ()  # the province's certificate (root-signed)

    def signing_bytes(self) -> bytes:
        return crypto.signing_input(DIRECTORY_TAG, self.version, self.chain_hash, self.issued_at_ms)

    def signed(self, key: crypto.SigningKey, chain: tuple[Certificate, ...]) -> DirectoryHead:
        return replace(self, signature=key.sign(self.signing_bytes()), chain=chain)

    def to_json(self) -> dict[str, object]:
        return {
            "version": self.version,
            "chain_hash": self.chain_hash.hex(),
            "issued_at_ms": self.issued_at_ms,
            "signature": self.signature.hex(),
            "chain": [c.to_json() for c in self.chain],
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> DirectoryHead:
        return cls(
            version=int(data["version"]),  # type: ignore[call-overload]
            chain_hash=bytes.fromhex(str(data["chain_hash"])),
            issued_at_ms=int(data["issued_at_ms"]),  # type: ignore[call-overload]
            signature=bytes.fromhex(str(data["signature"])),
            chain=tuple(Certificate.from_json(c) for c in data["chain"]),  # type: ignore[attr-defined]
        )


EMPTY_HEAD = DirectoryHead(version=0, chain_hash=GENESIS_HASH, issued_at_ms=0)


@dataclass
class TrustState:
    """The directory as the checks on every call need it, plus this node's local ban list."""

    version: int = 0
    chain_hash: bytes = GENESIS_HASH
    certificates: dict[str, list[Certificate]] = field(default_factory=dict)
    revoked: dict[tuple[str, int], Revocation] = field(default_factory=dict)
    retired: dict[tuple[str, int], Retirement] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    banned: dict[str, str] = field(default_factory=dict)  # key id -> reason

    def apply(self, event: bytes) -> TrustEvent:
        """Append one logged event (its bytes) and move the version and hash on."""
        decoded = decode_event(event)
        if isinstance(decoded, Certificate):
            self.certificates.setdefault(decoded.node_id, []).append(decoded)
        elif isinstance(decoded, Revocation):
            self.revoked[(decoded.node_id, decoded.serial)] = decoded
        elif isinstance(decoded, Retirement):
            self.retired[(decoded.node_id, decoded.serial)] = decoded
        else:
            self.aliases[decoded.old] = decoded.new
        self.version += 1
        self.chain_hash = next_hash(self.chain_hash, event)
        return decoded

    def refusal(self, cert: Certificate, at_ms: int, *, live: bool) -> str | None:
        """Why ``cert`` may not vouch for a signature made at ``at_ms``, or None.

        A live call is refused once a certificate is revoked or its key retired; evidence
        made before the revocation or retirement still verifies.
        """
        if cert.key_id in self.banned:
            return f"key {cert.key_id} of {cert.node_id} is banned on this node"
        revocation = self.revocation_of(cert)
        if revocation is not None and (live or at_ms >= revocation.at_ms):
            return f"certificate of {cert.node_id} (serial {cert.serial}) is revoked"
        retirement = self.retired.get((cert.node_id, cert.serial))
        if retirement is not None and (live or at_ms >= retirement.at_ms):
            return f"key {cert.key_id} of {cert.node_id} was retired by rotation"
        return None

    def revocation_of(self, cert: Certificate) -> Revocation | None:
        revocation = self.revoked.get((cert.node_id, cert.serial))
        if revocation is None:
            every = self.revoked.get((cert.node_id, 0))
            if every is not None and cert.not_before_ms < every.at_ms:
                revocation = every
        return revocation

    def current(self, node_id: str) -> list[Certificate]:
        """The certificates of ``node_id`` that are neither revoked nor retired."""
        return [
            c
            for c in self.certificates.get(node_id, [])
            if self.revocation_of(c) is None and (c.node_id, c.serial) not in self.retired
        ]

    def resolve(self, code: str) -> str:
        """The code that now stands for ``code``, following recorded aliases."""
        for _ in range(MAX_ALIAS_HOPS):
            successor = self.aliases.get(code)
            if successor is None:
                return code
            code = successor
        raise ProtocolError(f"alias chain from {code} is too long")


def verify_head(head: DirectoryHead, root_public_key: bytes, at_ms: int) -> None:
    """Check that the province signed ``head`` with a key the root key certified."""
    if len(head.chain) != 1 or head.chain[0].parent_id != "":
        raise AuthError("directory head is not signed by the province")
    province = head.chain[0]
    if not province.signed_by(root_public_key) or not province.valid_at(at_ms):
        raise AuthError("the province certificate on the directory head is not valid")
    if not crypto.verify(province.public_key, head.signing_bytes(), head.signature):
        raise AuthError("directory head signature does not verify")


def check_events(state: TrustState, head: DirectoryHead, events: Sequence[bytes]) -> None:
    """Refuse ``events`` unless, appended to ``state``, they lead exactly to ``head``.

    Callers gather every page up to the head first and apply nothing before this passes, so
    a relaying parent can neither slip in an event nor hold one back.
    """
    if state.version + len(events) != head.version:
        raise ProtocolError(
            f"directory has {state.version} + {len(events)} events, its head says {head.version}"
        )
    running = state.chain_hash
    for event in events:
        running = next_hash(running, event)
    if running != head.chain_hash:
        raise AuthError("directory events do not match the signed head")


def may_report(origin: str, event: TrustEvent) -> str | None:
    """Why node ``origin`` may not report ``event`` to the registry, or None if it may.

    Parents report the certificates they issue, ancestors the revocations they make, a node
    the retirement of its own old key; aliases are the registry's alone.
    """
    if isinstance(event, Certificate):
        return None if event.parent_id == origin else f"{origin} did not issue {event.node_id}'s"
    if isinstance(event, Revocation):
        if event.by != origin or event.node_id == origin or not covers(origin, event.node_id):
            return f"{origin} may not revoke {event.node_id}"
        return None
    if isinstance(event, Retirement):
        return None if event.node_id == origin else f"{origin} may not retire {event.node_id}'s key"
    return "aliases are recorded by the root registry only"
