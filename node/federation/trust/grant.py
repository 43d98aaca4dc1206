"""Granting certificates: the one function every certificate this software signs goes through.

A parent approving an application or renewing a child (``enrolment.py``, ``credentials.py``),
``registry issue`` certifying a child offline from its ``enrol-request.json`` (the root key can
stay on a machine never on the network), and ``enrol_tree`` standing up a whole network for
the demo, the tests and the benches all call ``grant``, so every certificate gets its serial,
its validity and its bound by the issuer's own certificate the same way. The time is always
the caller's ``now_ms``, which online callers take from the node's injected clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from node import tlscert
from node.certificates import Certificate, issue
from node.crypto import SigningKey
from node.errors import ConfigError
from node.federation import envelope
from node.federation.envelope import Signer
from node.federation.trust.files import (
    chain_path,
    key_path,
    save_chain,
    tls_cert_path,
    tls_key_path,
)
from node.identity import level_of, parent_of
from node.tlscert import FINGERPRINT_BYTES

YEAR_MS = 365 * 24 * 3600 * 1000
# A new certificate is valid from a minute back, so a verifier whose clock is a little behind
# the issuer's accepts it at once.
NOT_BEFORE_SLACK_MS = 60_000


def serial_for(now_ms: int, after: int = 0) -> int:
    """The serial of a certificate granted at ``now_ms``: it grows with time (a thousand per
    millisecond) and is always above ``after``, the serial it must follow.

    Revocations and retirements name a certificate by node and serial, so a node's serials
    must never repeat, even when two are granted within one millisecond or a clock steps back.
    """
    return max(now_ms * 1000, after + 1)


def grant(
    issuer: SigningKey,
    issuer_chain: Sequence[Certificate],
    *,
    code: str,
    name: str,
    public_key: bytes,
    address: str,
    now_ms: int,
    lifetime_ms: int,
    after_serial: int = 0,
    tls_sha256: bytes = b"",
) -> tuple[Certificate, ...]:
    """Certify ``code``'s ``public_key``: the child's full chain, leaf first.

    ``issuer_chain`` is the issuer's own chain, empty when the root key certifies the
    province. The certificate lives ``lifetime_ms`` from ``now_ms`` but never past the
    issuer's; ``after_serial`` is the serial it must follow (the child's previous
    certificate, or the one granted just before it in a batch). ``tls_sha256`` pins the
    child's TLS certificate (``node/tlscert.py``); b"" when it serves no TLS.
    """
    if tls_sha256 and len(tls_sha256) != FINGERPRINT_BYTES:
        raise ConfigError("TLS 证书指纹应为 32 字节（SHA-256）")
    not_after = now_ms + lifetime_ms
    if issuer_chain:
        not_after = min(not_after, issuer_chain[0].not_after_ms)
    cert = issue(
        issuer,
        node_id=code,
        name=name,
        public_key=public_key,
        address=address,
        not_before_ms=now_ms - NOT_BEFORE_SLACK_MS,
        not_after_ms=not_after,
        serial=serial_for(now_ms, after_serial),
        tls_sha256=tls_sha256,
    )
    return (cert, *issuer_chain)


def grant_child(
    signer: Signer,
    held: Iterable[Certificate],
    *,
    code: str,
    name: str,
    public_key: bytes,
    address: str,
    lifetime_ms: int,
    tls_sha256: bytes = b"",
) -> tuple[Certificate, ...]:
    """A running node certifying its child (approval, renewal, rotation): signed with the
    node's key at the node's clock, with a serial above every certificate in ``held`` (what
    the child is known to have held)."""
    return grant(
        signer.key,
        signer.chain,
        code=code,
        name=name,
        public_key=public_key,
        address=address,
        now_ms=envelope.now_ms(signer.clock),
        lifetime_ms=lifetime_ms,
        after_serial=max((c.serial for c in held), default=0),
        tls_sha256=tls_sha256,
    )


@dataclass(frozen=True)
class Enrolled:
    code: str
    key: SigningKey
    chain: tuple[Certificate, ...]  # leaf first, ending with the province


def enrol_tree(
    root_key: SigningKey,
    nodes: Sequence[tuple[str, str, str]],
    data_dir: Path,
    *,
    now_ms: int,
    lifetime_ms: int = YEAR_MS,
    tls: bool = False,
) -> dict[str, Enrolled]:
    """Give every ``(code, name, address)`` a key (kept if present) and a fresh chain.

    Nodes are issued parents first; each certificate ends no later than its parent's, and
    the serials of one batch follow each other. With ``tls`` every node also gets a TLS key
    and certificate (kept if present), pinned in its certificate.
    """
    enrolled: dict[str, Enrolled] = {}
    serial = 0
    for code, name, address in sorted(nodes, key=lambda n: (int(level_of(n[0])), n[0])):
        parent = parent_of(code)
        issuer: SigningKey
        parent_chain: tuple[Certificate, ...]
        if parent is None:
            issuer, parent_chain = root_key, ()
        elif parent in enrolled:
            issuer, parent_chain = enrolled[parent].key, enrolled[parent].chain
        else:
            raise ConfigError(f"节点 {code} 的上级 {parent} 不在同一批入网节点中")
        node_dir = data_dir / code
        key = SigningKey.load_or_create(key_path(node_dir))
        pin = (
            tlscert.load_or_create(code, tls_key_path(node_dir), tls_cert_path(node_dir)).sha256
            if tls
            else b""
        )
        chain = grant(
            issuer,
            parent_chain,
            code=code,
            name=name,
            public_key=key.public_key,
            address=address,
            now_ms=now_ms,
            lifetime_ms=lifetime_ms,
            after_serial=serial,
            tls_sha256=pin,
        )
        serial = chain[0].serial
        save_chain(chain_path(node_dir), chain)
        enrolled[code] = Enrolled(code, key, chain)
    return enrolled


def enrolment_request(
    code: str, name: str, key: SigningKey, address: str, tls_sha256: bytes = b""
) -> dict[str, str]:
    """What a new node hands its parent's operator to be certified (no secret in it)."""
    request = {"code": code, "name": name, "public_key": key.public_key.hex(), "address": address}
    if tls_sha256:
        request["tls_sha256"] = tls_sha256.hex()
    return request


def issue_for_request(
    request: dict[str, str],
    issuer: SigningKey,
    issuer_chain: Sequence[Certificate],
    *,
    now_ms: int,
    lifetime_ms: int = YEAR_MS,
) -> tuple[Certificate, ...]:
    """Certify a child from its enrolment request: the child's full chain, leaf first.

    ``issuer_chain`` is empty when the root key certifies the province. The child must sit
    directly under the issuer; its certificate never outlives the issuer's.
    """
    try:
        code = str(request["code"])
        public_key = bytes.fromhex(str(request["public_key"]))
        name, address = str(request["name"]), str(request.get("address", ""))
        tls_sha256 = bytes.fromhex(str(request.get("tls_sha256", "")))
    except (KeyError, ValueError) as exc:
        raise ConfigError(f"入网申请格式错误: {exc}") from None
    if len(public_key) != 32:
        raise ConfigError("入网申请中的公钥应为 32 字节（64 位十六进制）")
    expected_parent = issuer_chain[0].node_id if issuer_chain else ""
    if (parent_of(code) or "") != expected_parent:
        raise ConfigError(
            f"节点 {code} 不是 {expected_parent or '根密钥'} 的直接下级，不能由它签发证书"
        )
    if issuer_chain and issuer_chain[0].public_key != issuer.public_key:
        raise ConfigError("签发密钥与上级证书不符")
    return grant(
        issuer,
        issuer_chain,
        code=code,
        name=name,
        public_key=public_key,
        address=address,
        now_ms=now_ms,
        lifetime_ms=lifetime_ms,
        tls_sha256=tls_sha256,
    )
