"""A node's own key and certificate over time: renewal and key rotation, both ways round.

As a child a node asks its parent for a fresh certificate before its own runs out
(``renew_if_due``, from the upkeep tick) or for a new key (``rotate``). As a parent it grants
those requests (``grant_renewal``). A certificate never outlives its issuer's, so a child
waits for its parent to renew first rather than asking again for the same end.

A node serving TLS also keeps its certificate pinning its listener's TLS certificate
(``tls_sha256``, set by the host): when they differ (a node enrolled online, whose
application carries no pin, or one whose ``tls.crt`` was replaced) the next upkeep asks the
parent for a certificate that pins the one it serves. The request is signed by the node's own
key, the authority on what the node is; the parent keeps the pin across later renewals.

Rotation never loses a key: the new one is saved beside the old before it is certified,
published in the directory before the node switches to it, and the old one is only retired
(kept on disk, and reported so evidence it signed before still verifies) afterwards.

A node moves to another address the same way: ``[[node]] advertise`` (set by the host) that
differs from the address its certificate names makes the next upkeep ask the parent for a
certificate naming it, in a renewal signed by the node's own key, which the parent grants,
logs in its audit log and reports like any renewal.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import replace

from node import crypto
from node.actors import node_actor
from node.audit import Act
from node.certificates import Certificate
from node.config import TrustSettings
from node.errors import AuthError, Forbidden, InvalidInput
from node.federation.client import FederationClient
from node.federation.messages import RENEW, RenewReply, RenewRequest
from node.federation.trust.directory import Directory
from node.federation.trust.events import Retirement
from node.federation.trust.files import KeyFiles, save_chain
from node.federation.trust.grant import grant_child
from node.federation.trust.reports import Reporter
from node.identity import parent_of
from node.tlscert import FINGERPRINT_BYTES

log = logging.getLogger(__name__)


class Credentials:
    """Renewing and rotating this node's certificate, and granting its children's."""

    def __init__(
        self,
        client: FederationClient,
        files: KeyFiles,
        settings: TrustSettings,
        directory: Directory,
        reports: Reporter,
    ) -> None:
        self.client = client
        self.parts = client.parts
        self.files = files
        self.settings = settings
        self.directory = directory
        self.reports = reports
        # the SHA-256 of the TLS certificate this node's listener presents; b"": no TLS
        self.tls_sha256 = b""
        self._tls_asked = False
        # where this node says other machines reach it (``[[node]] advertise``); "" = not said
        self.advertise = ""
        self._address_asked = ""

    @property
    def code(self) -> str:
        return self.parts.code

    async def grant_renewal(self, current: Certificate, request: RenewRequest) -> RenewReply:
        """A child renews its certificate (same key) or rotates to a new key."""
        if parent_of(current.node_id) != self.code:
            raise Forbidden(f"{current.node_id} is not a child of {self.code}")
        public_key = request.new_public_key or current.public_key
        if len(public_key) != 32:
            raise InvalidInput("new public key must be 32 bytes")
        if request.tls_sha256 and len(request.tls_sha256) != FINGERPRINT_BYTES:
            raise InvalidInput("tls_sha256 must be 32 bytes (SHA-256)")
        chain = grant_child(
            self.parts.signer,
            [current, *self.directory.state.certificates.get(current.node_id, [])],
            code=current.node_id,
            name=current.name,
            public_key=public_key,
            address=request.address or current.address,
            lifetime_ms=self.settings.cert_lifetime_ms,
            # the listener's TLS certificate stays pinned unless the child names a new one
            tls_sha256=request.tls_sha256 or current.tls_sha256,
        )
        await self.reports.report([chain[0]])
        detail: dict[str, object] = {"serial": chain[0].serial, "address": chain[0].address}
        if chain[0].address != current.address:
            detail["previous_address"] = current.address
        if request.new_public_key:
            detail["key_id"] = chain[0].key_id
        await self.parts.audit.append(
            node_actor(current.node_id, self.code), Act.CHILD_RENEWED, current.node_id, detail
        )
        log.info(
            "%s %s (serial %d, address %s)",
            "rotated key of" if request.new_public_key else "renewed",
            current.node_id,
            chain[0].serial,
            chain[0].address or "-",
        )
        return RenewReply(chain=chain)

    def tls_unpinned(self) -> bool:
        """This node serves TLS, but its certificate does not pin that TLS certificate."""
        return bool(self.tls_sha256) and self.parts.signer.chain[0].tls_sha256 != self.tls_sha256

    def address_changed(self) -> bool:
        """The configured address is not the one this node's certificate names."""
        return bool(self.advertise) and self.parts.signer.chain[0].address != self.advertise

    async def renew_if_due(self) -> bool:
        leaf = self.parts.signer.chain[0]
        parent = self.directory.parent
        if self.address_changed() and parent is not None and self._address_asked != self.advertise:
            log.info(
                "asking %s for a certificate naming the address %s of %s (was %s)",
                parent,
                self.advertise,
                self.code,
                leaf.address or "-",
            )
            await self.renew()  # a failure (parent down) is retried at the next upkeep
            self._address_asked = self.advertise
            return True
        if self.tls_unpinned() and self.directory.parent is not None and not self._tls_asked:
            log.info(
                "asking %s for a certificate pinning the TLS certificate of %s",
                self.directory.parent,
                self.code,
            )
            await self.renew()  # a failure (parent down) is retried at the next upkeep
            self._tls_asked = True  # once answered: a parent that ignores it is not asked again
            if self.tls_unpinned():
                log.warning(
                    "%s renewed %s without pinning its TLS certificate (an older version?): "
                    "peers cannot reach it over TLS; see docs/operations.md",
                    self.directory.parent,
                    self.code,
                )
            return True
        if leaf.not_after_ms - self.directory.now_ms > self.settings.renew_before_ms:
            return False
        if parent is None:
            log.warning(
                "the province certificate expires at %d ms; sign a new one with the root key "
                "(docs/operations.md)",
                leaf.not_after_ms,
            )
            return False
        # A child's certificate ends with its parent's: until the parent has renewed, asking
        # again would only log another certificate with the same end.
        parent_ends = max(
            [c.not_after_ms for c in self.directory.state.current(parent)]
            + [self.parts.signer.chain[1].not_after_ms]
        )
        if parent_ends <= leaf.not_after_ms:
            log.warning(
                "certificate of %s ends with its parent's; waiting for the parent to renew",
                self.code,
            )
            return False
        await self.renew()
        return True

    async def renew(self, new_key: crypto.SigningKey | None = None) -> tuple[Certificate, ...]:
        """Ask the parent for a fresh certificate (for ``new_key`` when rotating)."""
        parent = self.directory.parent
        if parent is None:
            raise Forbidden("省级节点的证书须用根密钥离线签发（见 docs/operations.md）")
        signer = self.parts.signer
        request = RenewRequest(
            new_public_key=new_key.public_key if new_key else b"",
            address=self.advertise,  # "": the parent keeps the address the certificate names
            tls_sha256=self.tls_sha256,
        )
        reply = await self.client.call(RENEW, parent, self.parts.codec.encode(request))
        chain = self.parts.codec.decode(RenewReply, reply.payload).chain
        key = new_key or signer.key
        if not chain or chain[0].node_id != self.code or chain[0].public_key != key.public_key:
            raise AuthError("the parent answered with a certificate for another node or key")
        self.parts.gatekeeper.chains.verify(chain, self.directory.now_ms)
        if new_key is None:
            save_chain(self.files.chain, chain)
            self.parts.signer = replace(signer, chain=chain)
        return chain

    async def rotate(self, publish_timeout_s: float = 30.0) -> tuple[str, str]:
        """Move to a new key: certified and published beside the old one, then switched to,
        then the old one retired. Returns (old key id, new key id)."""
        old = self.parts.signer
        new_key = crypto.SigningKey.generate()
        pending = self.files.key.with_name(self.files.key.name + ".next")
        new_key.save(pending)  # kept if we crash before switching; never lost
        chain = await self.renew(new_key)
        deadline = time.monotonic() + publish_timeout_s
        while chain[0] not in self.directory.state.certificates.get(self.code, []):
            if time.monotonic() > deadline:
                log.warning("new key of %s not yet in the directory; switching anyway", self.code)
                break
            await asyncio.sleep(0.2)
            await self.directory.refresh_logged()
        retired = self.files.key.with_name(f"{self.files.key.name}.{old.key.key_id}.retired")
        self.files.key.replace(retired)
        pending.replace(self.files.key)
        save_chain(self.files.chain, chain)
        self.parts.signer = replace(old, key=new_key, chain=chain)
        await self.reports.report(
            [Retirement(self.code, old.chain[0].serial, self.directory.now_ms)]
        )
        log.info("%s rotated its key %s -> %s", self.code, old.key.key_id, new_key.key_id)
        return old.key.key_id, new_key.key_id
