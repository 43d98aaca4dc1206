from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from node import crypto
from node.errors import ConfigError


def test_sign_verify_roundtrip_and_tamper() -> None:
    key = crypto.SigningKey.generate()
    sig = key.sign(b"message")
    assert crypto.verify(key.public_key, b"message", sig)
    assert not crypto.verify(key.public_key, b"messagE", sig)
    assert not crypto.verify(crypto.SigningKey.generate().public_key, b"message", sig)
    assert not crypto.verify(key.public_key, b"message", sig[:-1])
    assert not crypto.verify(b"short", b"message", sig)


@given(st.lists(st.binary(max_size=8), max_size=4), st.lists(st.binary(max_size=8), max_size=4))
def test_signing_input_is_unambiguous(a: list[bytes], b: list[bytes]) -> None:
    if a != b:
        assert crypto.signing_input(*a) != crypto.signing_input(*b)


def test_key_file_roundtrip_is_private(tmp_path: Path) -> None:
    path = tmp_path / "k" / "node.key"
    key = crypto.SigningKey.load_or_create(path)
    assert path.stat().st_mode & 0o077 == 0
    assert crypto.SigningKey.load(path).public_key == key.public_key
    assert key.key_id.startswith("ed25519:") and len(key.key_id) == 24


@pytest.mark.parametrize("content", ["zz", "00" * 31, ""])
def test_broken_key_file_is_a_config_error(tmp_path: Path, content: str) -> None:
    path = tmp_path / "node.key"
    path.write_text(content)
    with pytest.raises(ConfigError, match="密钥"):
        crypto.SigningKey.load(path)


def test_sealed_content_opens_only_with_the_recipient_key() -> None:
    alice, eve = crypto.SigningKey.generate(), crypto.SigningKey.generate()
    sealed = crypto.seal(alice.public_key, b"controlled record")
    assert alice.unseal(sealed) == b"controlled record"
    with pytest.raises(Exception):  # noqa: B017 - nacl's CryptoError
        eve.unseal(sealed)
