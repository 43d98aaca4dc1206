"""The network's identity index keys, and the keyed blind index of an identity number.

A controlled record shares no names up the tree, so a citizen is found by her identity
number instead: the holder stores, in the record's ``subject_index``, a keyed hash of each
subject's number, and a service point turns the number a citizen shows into the same values
and searches for them. The number itself never leaves the holder (nor the service point).

The value is ``v{version}:`` + the first 22 characters of base64url(HMAC-SHA256(key, the 18
characters of the number)): 132 bits, far beyond a collision among the 1.4 billion numbers
there are, and short enough that 50 of them fit a catalogue entry easily. The key matters:
identity numbers are few enough (about 10^11 with valid check digits and birth dates) that
an unkeyed hash would be reversed by enumeration in hours; under a 32-byte random key only
holders of the key can compute values, and they are enrolled nodes. The version prefix lets
a searcher compute values under every live key while holders re-index under the newest.

Keys are minted by the root registry and rotated by its operator; ``LIVE_VERSIONS`` of the
newest are handed down (sealed to each node's key, ``federation/blind_index.py``), so during
a rotation a searcher still finds records the holder has not re-indexed yet.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from dataclasses import dataclass, field

from node.citizens import IdNumber
from node.errors import InvalidInput

KEY_BYTES = 32
VALUE_CHARS = 22  # base64url characters of the HMAC kept: 132 bits
LIVE_VERSIONS = 2  # the newest keys handed down and searched under
MAX_VERSION = 2**31 - 1
_VALUE = re.compile(r"v([0-9]{1,10}):[A-Za-z0-9_-]{22}")
_RECORD_BYTES = 4 + 8 + KEY_BYTES  # version, created (ms), key


@dataclass(frozen=True)
class IndexKey:
    """One version of the network's index key (``key`` is secret: never shown)."""

    version: int
    key: bytes = field(repr=False)
    created_ms: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.version, int) or not 1 <= self.version <= MAX_VERSION:
            raise InvalidInput(f"索引密钥版本应为 1 到 {MAX_VERSION} 之间的整数")
        if not isinstance(self.key, bytes) or len(self.key) != KEY_BYTES:
            raise InvalidInput(f"索引密钥应为 {KEY_BYTES} 字节")
        if not isinstance(self.created_ms, int) or not 0 <= self.created_ms < 2**63:
            raise InvalidInput("索引密钥的创建时间无效")

    @classmethod
    def generate(cls, version: int, created_ms: int) -> IndexKey:
        return cls(version, os.urandom(KEY_BYTES), created_ms)

    def value(self, number: IdNumber) -> str:
        """The blind index of ``number`` under this key."""
        mac = hmac.new(self.key, number.digits.encode("ascii"), hashlib.sha256).digest()
        return f"v{self.version}:" + base64.urlsafe_b64encode(mac).decode()[:VALUE_CHARS]


def value_version(value: str) -> int | None:
    """The key version a blind-index value was made under, or None if it is not one."""
    match = _VALUE.fullmatch(value) if isinstance(value, str) else None
    return int(match[1]) if match else None


def live(keys: list[IndexKey] | tuple[IndexKey, ...]) -> tuple[IndexKey, ...]:
    """The ``LIVE_VERSIONS`` newest keys, newest first."""
    return tuple(sorted(keys, key=lambda k: k.version, reverse=True)[:LIVE_VERSIONS])


def pack_keys(keys: list[IndexKey] | tuple[IndexKey, ...]) -> bytes:
    """Keys as bytes for sealing: per key 4 bytes version, 8 bytes created, 32 bytes key."""
    return b"".join(
        k.version.to_bytes(4, "big") + k.created_ms.to_bytes(8, "big") + k.key for k in keys
    )


def unpack_keys(data: bytes) -> tuple[IndexKey, ...]:
    """``pack_keys`` undone; ``InvalidInput`` if ``data`` is not a whole number of keys."""
    if len(data) % _RECORD_BYTES or len(data) > 64 * _RECORD_BYTES:
        raise InvalidInput("索引密钥数据长度不符")
    keys = []
    for at in range(0, len(data), _RECORD_BYTES):
        part = data[at : at + _RECORD_BYTES]
        keys.append(
            IndexKey(int.from_bytes(part[:4], "big"), part[12:], int.from_bytes(part[4:12], "big"))
        )
    return tuple(keys)
