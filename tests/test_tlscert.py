"""The TLS pin in node certificates: signed when set, absent from older certificates' bytes,
carried by enrolment requests, and the self-signed TLS certificate it pins."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from node import crypto, tlscert
from node.certificates import CERT_TAG, Certificate, issue
from node.config import settings_from_mapping
from node.errors import ConfigError
from node.federation.trust.grant import enrolment_request, issue_for_request
from node.rpc.codec.envelope import cert_from_pb, cert_to_pb

ROOT = crypto.SigningKey.generate()
PIN = b"\x07" * 32


def _province(tls_sha256: bytes = b"") -> Certificate:
    return issue(
        ROOT,
        node_id="33",
        name="浙江省档案馆",
        public_key=crypto.SigningKey.generate().public_key,
        address="h:1",
        not_before_ms=1,
        not_after_ms=2,
        serial=3,
        tls_sha256=tls_sha256,
    )


def test_a_certificate_without_a_pin_signs_the_bytes_it_always_did() -> None:
    cert = _province()
    before_tls = crypto.signing_input(
        CERT_TAG, "33", cert.level, "", "浙江省档案馆", cert.key_id, cert.public_key, "h:1", 1, 2, 3
    )
    assert cert.signing_bytes() == before_tls
    assert "tls_sha256" not in cert.to_json()


def test_the_pin_is_covered_by_the_signature() -> None:
    cert = _province(PIN)
    assert cert.signed_by(ROOT.public_key)
    assert not dataclasses.replace(cert, tls_sha256=b"\x08" * 32).signed_by(ROOT.public_key)
    assert not dataclasses.replace(cert, tls_sha256=b"").signed_by(ROOT.public_key)
    assert Certificate.from_json(cert.to_json()) == cert
    assert cert_from_pb(cert_to_pb(cert)) == cert


def test_an_enrolment_request_carries_the_pin_into_the_certificate() -> None:
    key = crypto.SigningKey.generate()
    request = enrolment_request("33", "浙江省档案馆", key, "h:1", PIN)
    chain = issue_for_request(request, ROOT, (), now_ms=10_000)
    assert chain[0].tls_sha256 == PIN and chain[0].signed_by(ROOT.public_key)
    with pytest.raises(ConfigError, match="32"):
        issue_for_request({**request, "tls_sha256": "ab"}, ROOT, (), now_ms=10_000)


def test_a_tls_identity_is_saved_loaded_and_pinned_by_its_der_hash(tmp_path: Path) -> None:
    made = tlscert.load_or_create("3301", tmp_path / "tls.key", tmp_path / "tls.crt")
    assert (tmp_path / "tls.key").stat().st_mode & 0o777 == 0o600
    again = tlscert.load_or_create("3301", tmp_path / "tls.key", tmp_path / "tls.crt")
    assert again.sha256 == made.sha256 and len(made.sha256) == 32
    assert tlscert.generate("3301").sha256 != made.sha256
    with pytest.raises(ConfigError, match="tls.crt"):
        tlscert.load("3301", tmp_path / "tls.key", tmp_path / "missing" / "tls.crt")


def test_host_tls_is_a_boolean() -> None:
    base = {"host": {"root_public_key": "ab" * 32}, "node": [{"code": "33", "name": "省馆"}]}
    assert not settings_from_mapping(base, {}, Path(".")).tls
    on = {**base, "host": {**base["host"], "tls": True}}
    assert settings_from_mapping(on, {}, Path(".")).tls
    with pytest.raises(ConfigError, match="host.tls"):
        settings_from_mapping({**base, "host": {**base["host"], "tls": "yes"}}, {}, Path("."))
