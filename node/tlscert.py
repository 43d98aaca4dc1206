"""A node's TLS identity: a self-signed X.509 certificate for its gRPC listener, pinned by hash.

Federation traffic between machines carries citizens' names (search queries, hits), so a node
that listens for other machines serves gRPC over TLS. Nobody runs a CA for the archives, and a
host name says nothing about which archive answers, so the TLS certificate is bound to the
node's signed node certificate instead: ``archive-node init`` (and ``enrol_tree`` for demo and
test networks) makes a P-256 key and a self-signed certificate for it here, the node's
enrolment request carries the certificate's SHA-256 (DER), and the parent signs that
fingerprint into the node certificate (``Certificate.tls_sha256``). A peer dialling the node
(``node/rpc/peers.py``) accepts only a TLS certificate with that fingerprint.

The name in the certificate (``server_name``) is not looked up anywhere: it lets one listener
that hosts several nodes present each node's own certificate (the client asks for it by SNI)
and gives gRPC's host-name check something to match. The certificate is valid for 30 years:
its lifetime is the node certificate's, which names it and is renewed by the parent.

A daemon makes missing files at start (``Host``) and has its parent pin the new certificate
by renewal (``federation/trust/credentials.py``). Only key generation and hashing live here
(the ``cryptography`` package); the files are written beside the node key
(``federation/trust/files.py`` names them).
"""

from __future__ import annotations

import datetime
import hashlib
import os
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from node.errors import ConfigError

FINGERPRINT_BYTES = 32  # SHA-256
LIFETIME = datetime.timedelta(days=30 * 365)


def server_name(code: str) -> str:
    """The DNS name in node ``code``'s TLS certificate (``.invalid``: never resolved)."""
    return f"node-{code}.archive-node.invalid"


def fingerprint(cert_pem: bytes) -> bytes:
    """SHA-256 of the certificate's DER bytes: what a node certificate pins."""
    try:
        der = ssl.PEM_cert_to_DER_cert(cert_pem.decode("ascii"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(f"TLS 证书不是有效的 PEM: {exc}") from None
    return hashlib.sha256(der).digest()


def der_fingerprint(cert_der: bytes) -> bytes:
    return hashlib.sha256(cert_der).digest()


@dataclass(frozen=True)
class TlsIdentity:
    """What a listener presents: its private key and certificate (PEM); ``sha256`` pins it."""

    code: str
    key_pem: bytes
    cert_pem: bytes

    @property
    def sha256(self) -> bytes:
        return fingerprint(self.cert_pem)


def generate(code: str) -> TlsIdentity:
    """A new P-256 key and a self-signed certificate for node ``code``'s listener."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, server_name(code))])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + LIFETIME)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(server_name(code))]), False)
        # the client trusts exactly this certificate as its own root (peers.py)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA256())
    )
    return TlsIdentity(
        code=code,
        key_pem=key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
        cert_pem=cert.public_bytes(serialization.Encoding.PEM),
    )


def save(identity: TlsIdentity, key_file: Path, cert_file: Path) -> None:
    """Write key (owner-only) and certificate, each atomically."""
    key_file.parent.mkdir(parents=True, exist_ok=True)
    files = ((key_file, identity.key_pem, 0o600), (cert_file, identity.cert_pem, 0o644))
    for path, data, mode in files:
        tmp = path.with_suffix(path.suffix + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)


def load(code: str, key_file: Path, cert_file: Path) -> TlsIdentity:
    try:
        identity = TlsIdentity(code, key_file.read_bytes(), cert_file.read_bytes())
    except FileNotFoundError as exc:
        raise ConfigError(
            f"TLS 密钥或证书不存在: {exc.filename}（host.tls = true 时需要；"
            "由 archive-node init 生成，见 docs/operations.md）"
        ) from None
    identity.sha256  # noqa: B018 - a damaged certificate fails here, at start
    return identity


def load_or_create(code: str, key_file: Path, cert_file: Path) -> TlsIdentity:
    if key_file.exists() and cert_file.exists():
        return load(code, key_file, cert_file)
    identity = generate(code)
    save(identity, key_file, cert_file)
    return identity
