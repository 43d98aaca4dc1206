"""Keys, signatures, hashing and staff passwords. Nothing else in the node imports ``nacl``
(nor ``base58``, the multibase text of keys and signatures that W3C Data Integrity proofs use).

Signatures are always made over a *signing input*: a length-prefixed tuple of byte strings
(``signing_input``), never over a protobuf serialisation, which is not canonical.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from pathlib import Path

import base58
import nacl.bindings
import nacl.exceptions
import nacl.public
import nacl.pwhash.argon2id
import nacl.signing

from node.errors import ConfigError, InvalidInput

DOMAIN_TAG = b"archfed/v1"
PUBLIC_KEY_BYTES = 32
SIGNATURE_BYTES = 64

Part = bytes | str | int | bool


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# argon2id at libsodium's "interactive" profile: 64 MiB and 2 passes, about 75 ms per hash on
# the demo machine (docs/performance.md, bench/bench_login.py). Above OWASP's floor (19 MiB,
# 2 passes); "moderate" (256 MiB) would let a handful of parallel logins take a gigabyte.
PASSWORD_OPSLIMIT = nacl.pwhash.argon2id.OPSLIMIT_INTERACTIVE
PASSWORD_MEMLIMIT = nacl.pwhash.argon2id.MEMLIMIT_INTERACTIVE
TOKEN_BYTES = 32


def hash_password(
    password: str, *, opslimit: int = PASSWORD_OPSLIMIT, memlimit: int = PASSWORD_MEMLIMIT
) -> str:
    """An argon2id hash of ``password`` in the modular crypt format (``$argon2id$v=19$...``),
    with its own random salt and parameters, so they may change without a migration.
    Slow on purpose (tens of milliseconds): call it off the event loop."""
    hashed: bytes = nacl.pwhash.argon2id.str(
        password.encode("utf-8"), opslimit=opslimit, memlimit=memlimit
    )
    return hashed.decode("ascii")


def verify_password(stored: str, password: str) -> bool:
    """True if ``password`` is the one ``stored`` (from ``hash_password``) was made from."""
    try:
        return bool(nacl.pwhash.argon2id.verify(stored.encode("ascii"), password.encode("utf-8")))
    except (nacl.exceptions.InvalidkeyError, nacl.exceptions.CryptoError, ValueError):
        return False


def random_token(nbytes: int = TOKEN_BYTES) -> str:
    """A new secret (API token, session id, CSRF token): ``nbytes`` random bytes, URL-safe."""
    return secrets.token_urlsafe(nbytes)


def token_digest(token: str) -> str:
    """How a token or session id is stored: its sha256 (a stolen database holds no usable
    credential, and the token has 256 bits, so no slow hash is needed)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _encode_part(part: Part) -> bytes:
    if isinstance(part, bytes):
        return part
    if isinstance(part, str):
        return part.encode("utf-8")
    if isinstance(part, bool):
        return b"\x01" if part else b"\x00"
    return part.to_bytes(8, "big", signed=True)


def signing_input(*parts: Part) -> bytes:
    """Canonical bytes for a tuple: each part as 4-byte big-endian length + bytes.

    Length prefixes make the tuple unambiguous (``("ab","c")`` differs from ``("a","bc")``).
    Built with one join: it runs four times per signed round trip.
    """
    chunks: list[bytes] = []
    for part in parts:
        encoded = _encode_part(part)
        chunks.append(len(encoded).to_bytes(4, "big"))
        chunks.append(encoded)
    return b"".join(chunks)


def key_id_of(public_key: bytes) -> str:
    """Short, stable name of a public key: ``ed25519:`` + first 16 hex of its sha256."""
    return "ed25519:" + hashlib.sha256(public_key).hexdigest()[:16]


_KEY_ID = re.compile(r"ed25519:[0-9a-f]{16}")


def validate_key_id(key_id: object) -> str:
    """``key_id`` if it is written as ``key_id_of`` writes one, else ``InvalidInput``."""
    if not isinstance(key_id, str) or not _KEY_ID.fullmatch(key_id):
        raise InvalidInput(
            f"密钥标识应为 ed25519: 加 16 位小写十六进制（如 ed25519:0123456789abcdef）: "
            f"{str(key_id)[:40]!r}"
        )
    return key_id


def verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """True if ``signature`` is ``public_key``'s Ed25519 signature over ``message``.

    Calls libsodium directly: ``VerifyKey(...).verify`` builds objects and copies the message
    on every call, which costs more than a tenth of the verification itself.
    """
    if len(public_key) != PUBLIC_KEY_BYTES or len(signature) != SIGNATURE_BYTES:
        return False
    try:
        nacl.bindings.crypto_sign_open(signature + message, public_key)
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError, TypeError):
        return False
    return True


class SigningKey:
    """An Ed25519 signing key (a node's, or the offline root key)."""

    def __init__(self, seed: bytes) -> None:
        self._key = nacl.signing.SigningKey(seed)
        # libsodium's own form of the key (seed + public key), for signing without wrappers
        self.public_key, self._secret = nacl.bindings.crypto_sign_seed_keypair(seed)
        self.key_id: str = key_id_of(self.public_key)

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(os.urandom(32))

    @property
    def seed(self) -> bytes:
        return bytes(self._key)

    def sign(self, message: bytes) -> bytes:
        return nacl.bindings.crypto_sign(message, self._secret)[:SIGNATURE_BYTES]

    def save(self, path: Path) -> None:
        """Write the seed as hex, readable only by the owner, atomically."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(self.seed.hex() + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> SigningKey:
        try:
            seed = bytes.fromhex(path.read_text().strip())
        except FileNotFoundError:
            raise ConfigError(
                f"密钥文件不存在: {path}（新节点请先运行 archive-node init）"
            ) from None
        except ValueError:
            raise ConfigError(f"密钥文件不是十六进制种子: {path}") from None
        if len(seed) != 32:
            raise ConfigError(f"密钥文件应含 32 字节种子: {path}")
        return cls(seed)

    @classmethod
    def load_or_create(cls, path: Path) -> SigningKey:
        if path.exists():
            return cls.load(path)
        key = cls.generate()
        key.save(path)
        return key

    def unseal(self, sealed: bytes) -> bytes:
        """Open content sealed to this key's public key with ``seal``."""
        private = self._key.to_curve25519_private_key()
        return nacl.public.SealedBox(private).decrypt(sealed)


def seal(public_key: bytes, plaintext: bytes) -> bytes:
    """Encrypt to an Ed25519 public key so only its holder can read it (relays cannot)."""
    curve = nacl.signing.VerifyKey(public_key).to_curve25519_public_key()
    return nacl.public.SealedBox(curve).encrypt(plaintext)


# Multibase (base58btc, prefix "z") and Multikey: how W3C Data Integrity proofs write a
# signature (``proofValue``) and an Ed25519 key (``did:key:z6Mk...``). The multicodec prefixes
# are the unsigned varints of ed25519-pub (0xed) and ed25519-priv (0x1300).
_ED25519_PUB_PREFIX = b"\xed\x01"
_ED25519_PRIV_PREFIX = b"\x80\x26"
MAX_MULTIBASE_CHARS = 200  # base58 decoding is quadratic: refuse long text before decoding


def multibase_encode(data: bytes) -> str:
    """``data`` as multibase base58btc text (``z`` + base58 with Bitcoin's alphabet)."""
    return "z" + base58.b58encode(data).decode("ascii")


def multibase_decode(value: object) -> bytes:
    """The bytes of multibase base58btc text, else ``InvalidInput`` (any type is checked)."""
    if not isinstance(value, str) or not value.startswith("z"):
        raise InvalidInput("应为以 z 开头的 base58btc 多重编码文本")
    if len(value) > MAX_MULTIBASE_CHARS:
        raise InvalidInput(f"base58btc 文本过长（最多 {MAX_MULTIBASE_CHARS} 字符）")
    try:
        return base58.b58decode(value[1:].encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise InvalidInput("base58btc 文本含有不允许的字符") from None


def public_multikey(public_key: bytes) -> str:
    """An Ed25519 public key as Multikey text (``z6Mk...``), as ``did:key`` writes it."""
    return multibase_encode(_ED25519_PUB_PREFIX + public_key)


def public_key_from_multikey(value: object) -> bytes:
    """The 32-byte Ed25519 public key of Multikey text, else ``InvalidInput``."""
    raw = multibase_decode(value)
    if len(raw) != 2 + PUBLIC_KEY_BYTES or not raw.startswith(_ED25519_PUB_PREFIX):
        raise InvalidInput("不是 Ed25519 公钥的 Multikey 文本")
    return raw[2:]


def seed_from_multikey(value: object) -> bytes:
    """The 32-byte Ed25519 seed of a private Multikey text (the W3C test vectors' key)."""
    raw = multibase_decode(value)
    if len(raw) != 34 or not raw.startswith(_ED25519_PRIV_PREFIX):
        raise InvalidInput("不是 Ed25519 私钥的 Multikey 文本")
    return raw[2:]
