"""Deciding whether to believe a signed envelope (docs/architecture.md, "The wire").

``Gatekeeper.authenticate`` runs, cheapest first: the chain's leaf names the origin and key
id; the timestamp is within the skew bound; every link of the chain is signed by its parent,
lies in its parent's namespace one level down, is within its validity window, is neither
revoked nor retired nor banned (``TrustState``), and the last is the province signed by the
pinned root key; then the envelope's signature. ``check_nonce`` comes last and only then
remembers the nonce, so refused calls cannot fill the cache. ``verify`` is both; a server
runs them apart, so that a retried transaction gets its stored answer (``admission.py``).

The nonce cache is in memory, so a restart empties it while a captured call is still within
the skew bound. For a call that changes state (``HandlerRegistry.unary(...,
changes_state=True)``) the server also awaits ``claim_nonce``, which records the nonce in
the node's database (``storage/trust.py`` ``SeenNonces``) before the call takes effect.
Read-only calls skip that write: replaying a search, fetch, heartbeat or directory page
after a restart changes nothing and earns the replayer only an answer signed for, and
addressed to, the node that made the original call, whose content the capture already held.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import Protocol

from node import crypto
from node.certificates import Certificate, check_links
from node.errors import AuthError
from node.federation.envelope import Clock, now_ms, signed_tuple
from node.federation.messages import Envelope
from node.federation.trust.events import TrustState
from node.identity import MAX_DEPTH

SKEW_MS = 120_000
NONCE_TTL_MS = 2 * SKEW_MS
MAX_NONCES = 1_000_000
MAX_VERIFIED_CHAINS = 100_000


class ChainVerifier:
    """Verifies certificate chains up to the pinned root key, caching verified chains.

    Shapes and signatures of a chain do not change with time, so they are checked once per
    distinct chain; the validity window of every link is checked on every use.
    """

    def __init__(self, root_public_key: bytes, state: TrustState | None = None) -> None:
        self.root_public_key = root_public_key
        self.state = state if state is not None else TrustState()
        self._verified: OrderedDict[tuple[Certificate, ...], None] = OrderedDict()

    def verify(self, chain: Sequence[Certificate], at_ms: int, *, live: bool = True) -> Certificate:
        """Return the leaf if ``chain`` (leaf first) is valid at ``at_ms``; else ``AuthError``.

        Revocations, retirements and bans are looked up on every use, like validity windows.
        """
        chain = tuple(chain)
        if not 1 <= len(chain) <= MAX_DEPTH:
            raise AuthError(f"certificate chain has {len(chain)} links (1 to {MAX_DEPTH} allowed)")
        if chain in self._verified:
            self._verified.move_to_end(chain)
        else:
            self._check_links(chain)
            self._verified[chain] = None
            if len(self._verified) > MAX_VERIFIED_CHAINS:
                self._verified.popitem(last=False)
        for cert in chain:
            if not cert.valid_at(at_ms):
                raise AuthError(
                    f"certificate of {cert.node_id} (serial {cert.serial}) is not valid now"
                )
            refusal = self.state.refusal(cert, at_ms, live=live)
            if refusal is not None:
                raise AuthError(refusal)
        return chain[0]

    def _check_links(self, chain: tuple[Certificate, ...]) -> None:
        check_links(chain, self.root_public_key)


class NonceCache:
    """Nonces seen within the replay window, bounded in memory."""

    def __init__(self, ttl_ms: int = NONCE_TTL_MS, max_entries: int = MAX_NONCES) -> None:
        self.ttl_ms = ttl_ms
        self.max_entries = max_entries
        self._seen: OrderedDict[tuple[str, bytes], int] = OrderedDict()

    def seen(self, origin: str, nonce: bytes, at_ms: int) -> bool:
        return (origin, nonce) in self._seen and self._seen[(origin, nonce)] > at_ms

    def remember(self, origin: str, nonce: bytes, at_ms: int) -> None:
        self._prune(at_ms)
        self._seen[(origin, nonce)] = at_ms + self.ttl_ms

    def forget(self, origin: str, nonce: bytes) -> None:
        self._seen.pop((origin, nonce), None)

    def _prune(self, at_ms: int) -> None:
        while self._seen:
            key, expiry = next(iter(self._seen.items()))
            if expiry > at_ms and len(self._seen) < self.max_entries:
                break
            del self._seen[key]

    def __len__(self) -> int:
        return len(self._seen)


class DurableNonces(Protocol):
    """Nonces kept across restarts (``storage.trust.SeenNonces``)."""

    async def claim(self, origin: str, nonce: bytes, expires_ms: int, now_ms: int) -> bool: ...

    async def release(self, origin: str, nonce: bytes) -> None: ...


class Gatekeeper:
    """One node's checks on every envelope it receives."""

    def __init__(
        self, chains: ChainVerifier, clock: Clock = time.time, durable: DurableNonces | None = None
    ) -> None:
        self.chains = chains
        self.clock = clock
        self.nonces = NonceCache()
        self.durable = durable

    def verify(self, envelope: Envelope, method: str, *, live: bool = True) -> Certificate:
        """Check ``envelope`` was signed for ``method`` by a certified key; return its leaf.

        ``live`` calls also get the skew and replay checks; evidence (a manifest kept for
        later) only needs chain and signature, judged at the time it was signed.
        """
        leaf = self.authenticate(envelope, method, live=live)
        if live:
            self.check_nonce(envelope)
        return leaf

    def authenticate(self, envelope: Envelope, method: str, *, live: bool = True) -> Certificate:
        """Every check of ``verify`` but the nonce's."""
        at = now_ms(self.clock)
        if not envelope.chain:
            raise AuthError(f"call from {envelope.origin!r} carries no certificate")
        leaf = envelope.chain[0]
        if leaf.node_id != envelope.origin or leaf.key_id != envelope.key_id:
            raise AuthError(
                f"certificate is for {leaf.node_id} {leaf.key_id}, "
                f"not the signer {envelope.origin!r} {envelope.key_id!r}"
            )
        if live:
            self.check_skew(envelope, at)
        self.chains.verify(envelope.chain, at if live else envelope.timestamp_ms, live=live)
        if not crypto.verify(leaf.public_key, signed_tuple(method, envelope), envelope.signature):
            raise AuthError(f"signature of call from {envelope.origin} does not verify")
        return leaf

    def authenticate_applicant(self, envelope: Envelope, method: str, public_key: bytes) -> None:
        """Check an uncertified applicant's envelope: signed by the key it asks to enrol."""
        if envelope.chain:
            raise AuthError("an enrolment application carries no certificate chain")
        if envelope.key_id != crypto.key_id_of(public_key):
            raise AuthError("the application is not signed by the key it asks to enrol")
        self.check_skew(envelope, now_ms(self.clock))
        if not crypto.verify(public_key, signed_tuple(method, envelope), envelope.signature):
            raise AuthError(f"signature of the application from {envelope.origin} does not verify")

    def check_skew(self, envelope: Envelope, at: int) -> None:
        if abs(at - envelope.timestamp_ms) > SKEW_MS:
            raise AuthError(
                f"timestamp of call from {envelope.origin} is "
                f"{(at - envelope.timestamp_ms) / 1000:.0f} s "
                "off this node's clock (check NTP)"
            )

    def check_nonce(self, envelope: Envelope) -> None:
        """Refuse a nonce seen within the window, else remember it."""
        at = now_ms(self.clock)
        if len(envelope.nonce) < 16:
            raise AuthError("nonce shorter than 16 bytes")
        if self.nonces.seen(envelope.origin, envelope.nonce, at):
            raise AuthError(f"replayed nonce from {envelope.origin}")
        self.nonces.remember(envelope.origin, envelope.nonce, at)

    def forget_nonce(self, envelope: Envelope) -> None:
        """Let an identical retry through after a failure that applied nothing."""
        self.nonces.forget(envelope.origin, envelope.nonce)

    async def claim_nonce(self, envelope: Envelope) -> None:
        """Record the nonce of a state-changing call in the database, or refuse it as a
        replay if it is there already (seen before a restart). After ``check_nonce``."""
        if self.durable is None:
            return
        at = now_ms(self.clock)
        if not await self.durable.claim(envelope.origin, envelope.nonce, at + NONCE_TTL_MS, at):
            raise AuthError(f"replayed nonce from {envelope.origin} (seen before a restart)")

    async def release_nonce(self, envelope: Envelope) -> None:
        """Undo ``claim_nonce`` after a failure that applied nothing (with ``forget_nonce``)."""
        if self.durable is not None:
            await self.durable.release(envelope.origin, envelope.nonce)
