"""Where a node's key and certificate chain live on disk, and how a chain file is read and
written.

``init`` makes the key (and the TLS key and certificate), ``enrol`` or ``registry issue``
write the chain, ``Node`` loads both at start, and renewal and rotation (``credentials.py``)
replace them; a chain is written to a temporary file and renamed, so a crash never leaves
half a chain.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from node.certificates import Certificate
from node.errors import ConfigError, InvalidInput


@dataclass(frozen=True)
class KeyFiles:
    """Where the node's key and chain live, so renewal and rotation can replace them."""

    key: Path
    chain: Path


def key_path(node_dir: Path) -> Path:
    return node_dir / "node.key"


def chain_path(node_dir: Path) -> Path:
    return node_dir / "chain.json"


def tls_key_path(node_dir: Path) -> Path:
    """The private key of the node's TLS listener (``node/tlscert.py``)."""
    return node_dir / "tls.key"


def tls_cert_path(node_dir: Path) -> Path:
    """The self-signed TLS certificate whose SHA-256 the node certificate pins."""
    return node_dir / "tls.crt"


def key_files(node_dir: Path) -> KeyFiles:
    return KeyFiles(key=key_path(node_dir), chain=chain_path(node_dir))


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
    except (ValueError, KeyError, TypeError, RecursionError, InvalidInput) as exc:
        raise ConfigError(f"证书链文件已损坏: {path}: {exc}") from None
