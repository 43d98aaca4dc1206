"""Issuing a tree of certificates: the root key signs the province, each parent its children.

Used by the demo and the tests to stand up a network in one step, and by ``init`` to make a
node's key. (Online enrolment with an operator's approval is a later step.)
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from node.certificates import Certificate, issue
from node.crypto import SigningKey
from node.errors import ConfigError
from node.identity import level_of, parent_of

YEAR_MS = 365 * 24 * 3600 * 1000


@dataclass(frozen=True)
class Enrolled:
    code: str
    key: SigningKey
    chain: tuple[Certificate, ...]  # leaf first, ending with the province


def key_path(node_dir: Path) -> Path:
    return node_dir / "node.key"


def chain_path(node_dir: Path) -> Path:
    return node_dir / "chain.json"


def save_chain(path: Path, chain: Sequence[Certificate]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps([c.to_json() for c in chain], ensure_ascii=False, indent=1))
    tmp.replace(path)


def load_chain(path: Path) -> tuple[Certificate, ...]:
    try:
        return tuple(Certificate.from_json(item) for item in json.loads(path.read_text()))
    except FileNotFoundError:
        raise ConfigError(f"证书链文件不存在: {path}（节点尚未入网）") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"证书链文件已损坏: {path}: {exc}") from None


def enrol_tree(
    root_key: SigningKey,
    nodes: Sequence[tuple[str, str, str]],
    data_dir: Path,
    *,
    now_ms: int,
    lifetime_ms: int = YEAR_MS,
) -> dict[str, Enrolled]:
    """Give every ``(code, name, address)`` a key (kept if present) and a fresh chain.

    Nodes are issued parents first; each certificate ends no later than its parent's.
    """
    enrolled: dict[str, Enrolled] = {}
    for code, name, address in sorted(nodes, key=lambda n: (int(level_of(n[0])), n[0])):
        parent = parent_of(code)
        parent_chain: tuple[Certificate, ...]
        if parent is None:
            issuer, parent_chain, not_after = root_key, (), now_ms + lifetime_ms
        elif parent in enrolled:
            issuer = enrolled[parent].key
            parent_chain = enrolled[parent].chain
            not_after = min(now_ms + lifetime_ms, parent_chain[0].not_after_ms)
        else:
            raise ConfigError(f"节点 {code} 的上级 {parent} 不在同一批入网节点中")
        node_dir = data_dir / code
        key = SigningKey.load_or_create(key_path(node_dir))
        cert = issue(
            issuer,
            node_id=code,
            name=name,
            public_key=key.public_key,
            address=address,
            not_before_ms=now_ms - 60_000,
            not_after_ms=not_after,
            serial=now_ms * 1000 + len(enrolled),
        )
        chain = (cert, *parent_chain)
        save_chain(chain_path(node_dir), chain)
        enrolled[code] = Enrolled(code, key, chain)
    return enrolled


def enrolment_request(code: str, name: str, key: SigningKey, address: str) -> dict[str, str]:
    """What a new node hands its parent's operator to be certified (no secret in it)."""
    return {"code": code, "name": name, "public_key": key.public_key.hex(), "address": address}


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
    not_after = now_ms + lifetime_ms
    if issuer_chain:
        not_after = min(not_after, issuer_chain[0].not_after_ms)
    cert = issue(
        issuer,
        node_id=code,
        name=name,
        public_key=public_key,
        address=address,
        not_before_ms=now_ms - 60_000,
        not_after_ms=not_after,
        serial=now_ms * 1000,
    )
    return (cert, *issuer_chain)
