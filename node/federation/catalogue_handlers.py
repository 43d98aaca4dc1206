"""The catalogue's federation calls, answered at the receiving node: push, search, fetch,
and anti-entropy compare and repair (``antientropy.CatalogueComparer``).

Each handler gets a call ``FederationServer`` has already admitted and addressed to this node.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace

from node import crypto
from node.actors import node_actor
from node.audit import Act, search_detail
from node.errors import Forbidden, InvalidInput, Misaddressed, NodeError
from node.federation import release
from node.federation.antientropy import CatalogueComparer
from node.federation.handlers import HandlerRegistry
from node.federation.messages import (
    CHUNK_BYTES,
    COMPARE,
    FETCH,
    MANIFEST_SUFFIX,
    PUSH,
    REPAIR,
    SEARCH,
    ContentManifest,
    Envelope,
    FetchPart,
    FetchRequest,
    PushAck,
    PushBatch,
)
from node.federation.parts import NodeParts
from node.identity import covers, parent_of
from node.records import MAX_BATCH_ENTRIES, SearchQuery

log = logging.getLogger(__name__)


Certify = Callable[[FetchRequest, ContentManifest, str], Awaitable[bytes]]
"""The holder's certified copy for a release on a request (``request_copies.py``)."""


def register(
    handlers: HandlerRegistry,
    parts: NodeParts,
    on_catalogue_changed: Callable[[], None],
    certify: Certify | None = None,
) -> None:
    """Register the catalogue's handlers; ``on_catalogue_changed`` after a change applied;
    ``certify`` issues the copy that travels sealed with a release on a request."""
    catalogue = CatalogueHandlers(parts, on_catalogue_changed, certify)
    handlers.unary(PUSH, catalogue.push)
    handlers.unary(SEARCH, catalogue.search)
    handlers.stream(FETCH, catalogue.fetch)
    comparer = CatalogueComparer(parts, on_catalogue_changed)
    handlers.unary(COMPARE, comparer.compare)
    handlers.unary(REPAIR, comparer.repair, changes_state=True)


class CatalogueHandlers:
    """Push, search and fetch at the receiving node."""

    def __init__(
        self,
        parts: NodeParts,
        on_catalogue_changed: Callable[[], None],
        certify: Certify | None = None,
    ) -> None:
        self.parts = parts
        self.code = parts.code
        self.on_catalogue_changed = on_catalogue_changed
        self.certify = certify

    async def push(self, call: Envelope) -> bytes:
        p = self.parts
        if parent_of(call.origin) != self.code:
            raise Misaddressed(f"{call.origin} is not a child of {self.code}; it may not push here")
        batch = p.codec.decode(PushBatch, call.payload)
        if len(batch.entries) > MAX_BATCH_ENTRIES:
            raise InvalidInput(
                f"batch of {len(batch.entries)} entries (at most {MAX_BATCH_ENTRIES})"
            )
        # A child speaks for its own subtree only: an entry held by a sibling's (or by this
        # node) would let it rewrite records it does not hold. Checked for every entry before
        # any is applied. The store validates each entry itself.
        for entry in batch.entries:
            if not covers(call.origin, entry.holder):
                raise Forbidden(
                    f"{call.origin} pushed an entry held by {entry.holder}, outside its subtree"
                )
        result = await p.catalogue.apply_batch(
            call.origin, batch.from_seq, batch.to_seq, batch.entries, batch.batch_id
        )
        if result.applied:
            self.on_catalogue_changed()
        return p.codec.encode(PushAck(cursor=result.cursor, applied=result.applied))

    async def search(self, call: Envelope) -> bytes:
        p = self.parts
        query = p.codec.decode(SearchQuery, call.payload)
        scope = query.scope or self.code
        if not covers(self.code, scope):
            raise InvalidInput(f"{self.code} does not cover the search scope {scope}")
        page = await p.catalogue.search(query)
        page = replace(page, answered_by=self.code)
        by = node_actor(call.origin, self.code)
        p.audit.note(by, Act.SEARCH, scope, search_detail(query, page))
        return p.codec.encode(page)

    async def fetch(self, call: Envelope) -> AsyncIterator[bytes]:
        """The holder's side: a signed manifest, then the chunks (if ``release`` allows)."""
        p = self.parts
        request = p.codec.decode(FetchRequest, call.payload)
        if request.holder != self.code:
            raise Misaddressed(f"fetch for a record held by {request.holder} reached {self.code}")
        by = node_actor(call.origin, self.code)
        subject = f"{self.code}/{request.record_id}"
        try:
            manifest = await release.manifest_for(p, request, call.origin)
        except NodeError as exc:
            detail = {"file": request.file_name, "refused": type(exc).__name__}
            if request.request_id:
                detail["request"] = request.request_id
            p.audit.note(by, Act.FETCH, subject, detail)
            raise
        detail = {"file": manifest.file_name, "sha256": manifest.sha256}
        # A release on a utilisation request travels sealed to the key that signed the call
        # (the requester's, verified up to the root): relays carry bytes they cannot read.
        sealed_to = call.chain[0].public_key if request.request_id else None
        if sealed_to is not None:
            detail["request"] = request.request_id
        p.audit.note(by, Act.FETCH, subject, detail)
        if sealed_to is None:
            shown = manifest
        else:
            issued = b""
            if self.certify is not None:
                issued = await self.certify(request, manifest, call.origin)
            shown = release.seal_manifest(manifest, sealed_to, issued)
        signed = p.signer.seal(
            FETCH + MANIFEST_SUFFIX,
            call.origin,
            p.codec.encode(shown),
            transaction_id=call.transaction_id,
        )
        yield p.codec.encode(FetchPart(manifest=signed))
        async for chunk in p.blobs.read_chunks(manifest.sha256, CHUNK_BYTES):
            if sealed_to is not None:
                chunk = crypto.seal(sealed_to, chunk)
            yield p.codec.encode(FetchPart(chunk=chunk))
        log.info("released %s/%s to %s", self.code, request.record_id, call.origin)
