"""The blind index of an identity number under the network's keys (``node/index_keys.py``)."""

from __future__ import annotations

import pytest

from node.citizens import IdNumber
from node.errors import InvalidInput
from node.index_keys import (
    KEY_BYTES,
    IndexKey,
    live,
    pack_keys,
    unpack_keys,
    value_version,
)

CITIZEN = IdNumber.parse("330110196603150027")
OTHER = IdNumber.parse("330106197011080045")


def test_a_value_is_versioned_keyed_and_short() -> None:
    key = IndexKey(3, b"k" * KEY_BYTES)
    value = key.value(CITIZEN)
    assert value.startswith("v3:") and len(value) == 3 + 22
    assert value == IndexKey(3, b"k" * KEY_BYTES).value(CITIZEN)  # deterministic
    assert value != key.value(OTHER)
    assert value[3:] != IndexKey(3, b"j" * KEY_BYTES).value(CITIZEN)[3:]  # another key
    assert CITIZEN.digits not in value
    assert value_version(value) == 3 and value_version("v3:short") is None


def test_a_key_is_never_shown() -> None:
    key = IndexKey.generate(1, 0)
    assert key.key.hex() not in repr(key) and str(key.key) not in repr(key)


@pytest.mark.parametrize(
    ("version", "key"), [(0, b"k" * 32), (1, b"k" * 31), (2**31, b"k" * 32), (1, "k" * 32)]
)
def test_a_malformed_key_is_refused(version: int, key: bytes) -> None:
    with pytest.raises(InvalidInput):
        IndexKey(version, key)


def test_keys_pack_and_unpack_and_the_newest_two_are_live() -> None:
    keys = [IndexKey.generate(v, 1000 * v) for v in (1, 3, 2)]
    assert unpack_keys(pack_keys(keys)) == tuple(keys)
    assert [k.version for k in live(keys)] == [3, 2]
    with pytest.raises(InvalidInput):
        unpack_keys(pack_keys(keys)[:-1])
