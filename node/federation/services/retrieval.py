"""Fetching an open record's content from its holder, hop by hop, checked against its manifest.

A local record is released by the same decision a remote holder makes
(``federation/release.py``); its chunks come from the blob store, read off the loop.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from node.actors import ANONYMOUS, Actor
from node.audit import Act
from node.errors import AuthError, NodeError, NotFound, PeerUnavailable
from node.federation import release
from node.federation.client import FederationClient
from node.federation.messages import CHUNK_BYTES, FETCH, ContentManifest, Envelope, FetchRequest
from node.federation.parts import NodeParts
from node.federation.trust.events import TrustState
from node.identity import validate_code


@dataclass(frozen=True)
class Fetched:
    """A record's content on its way here: the holder-signed manifest, then verified chunks.

    Iterating ``chunks`` raises ``AuthError`` if a chunk does not match the manifest.
    """

    manifest: ContentManifest
    chunks: AsyncIterator[bytes]


@runtime_checkable
class RetrievalService(Protocol):
    async def fetch(
        self, holder: str, record_id: str, file_name: str = "", *, actor: Actor = ANONYMOUS
    ) -> Fetched:
        """The content of ``holder``'s open record ``record_id`` (its first file, or the one
        named ``file_name``), fetched by ``actor`` (logged, refusals too).

        Raises ``NotFound``, ``AccessDenied`` (not open), ``PeerUnavailable``, ``AuthError``.
        """
        ...


class Retrieval:
    """``RetrievalService`` through this node's federation client."""

    def __init__(
        self,
        parts: NodeParts,
        client: FederationClient,
        directory: TrustState,
    ) -> None:
        self.parts = parts
        self.client = client
        self.directory = directory  # resolves succeeded division codes (aliases)

    async def fetch(
        self, holder: str, record_id: str, file_name: str = "", *, actor: Actor = ANONYMOUS
    ) -> Fetched:
        """Fetch an open record's content from its holder, hop by hop through the tree.

        A holder whose division code was succeeded (``registry alias``) is reached under its
        successor's code. Raises ``NotFound`` (also for a holder code that no node of the
        directory has: never a ``PeerUnavailable`` for a node that does not exist),
        ``AccessDenied`` (not open), ``PeerUnavailable``, ``AuthError``.
        """
        p = self.parts
        holder = self.directory.resolve(validate_code(holder))
        request = FetchRequest(holder=holder, record_id=record_id, file_name=file_name)
        subject = f"{holder}/{record_id}"
        try:
            if holder == p.code:
                manifest = await release.manifest_for(p, request)
                chunks = p.blobs.read_chunks(manifest.sha256, CHUNK_BYTES)
            else:
                envelope, chunks = await self._stream(holder, request)
                manifest = p.codec.decode(ContentManifest, envelope.payload)
                if (manifest.holder, manifest.record_id) != (holder, record_id):
                    raise AuthError(f"{holder} answered with a manifest for another record")
        except NodeError as exc:
            p.audit.note(
                actor, Act.FETCH, subject, {"file": file_name, "refused": type(exc).__name__}
            )
            raise
        p.audit.note(
            actor,
            Act.FETCH,
            subject,
            {"file": manifest.file_name, "sha256": manifest.sha256, "remote": holder != p.code},
        )
        return Fetched(manifest=manifest, chunks=verified_chunks(manifest, chunks))

    async def _stream(
        self, holder: str, request: FetchRequest
    ) -> tuple[Envelope, AsyncIterator[bytes]]:
        """The holder's signed manifest envelope and its chunks, hop by hop."""
        p = self.parts
        try:
            return await self.client.stream(FETCH, holder, p.codec.encode(request))
        except PeerUnavailable:
            if holder in self.directory.certificates:
                raise  # a node that exists, down or unreachable: try again later
            # No node was ever certified under this code (as far as this node's copy of the
            # directory says), and no hop could route to it: a 404, not a 502 saying "try
            # again later" for a code that will never answer.
            raise NotFound(
                f"目录中没有区划代码为 {holder} 的节点，无法调阅。请核对档案的馆藏单位"
                "代码；如该节点刚刚入网，请稍后重试。"
            ) from None


async def verified_chunks(
    manifest: ContentManifest, chunks: AsyncIterator[bytes]
) -> AsyncIterator[bytes]:
    """Pass chunks through, checking each against the signed manifest and the whole at the end.

    Every chunk is checked before it is passed on, so a manifest for content that lists no
    chunk hashes is refused before the first byte: its bytes could only be checked once all
    of them were out (a browser would have the whole file before the abort). The whole's
    size and sha256, and the number of chunks, are checked at the end all the same.
    """
    whole = hashlib.sha256()
    size = 0
    index = 0
    expected = manifest.chunk_sha256
    try:
        if manifest.size and not expected:
            raise AuthError(
                f"manifest of {manifest.holder}/{manifest.record_id} lists no chunk hashes"
            )
        async for chunk in chunks:
            if index >= len(expected) or hashlib.sha256(chunk).digest() != expected[index]:
                raise AuthError(
                    f"chunk {index} of {manifest.holder}/{manifest.record_id} "
                    "does not match its manifest"
                )
            whole.update(chunk)
            size += len(chunk)
            index += 1
            if size > manifest.size:
                raise AuthError("more content arrived than the manifest announced")
            yield chunk
    finally:
        # a reader that stops early must not leave the upstream call open
        close = getattr(chunks, "aclose", None)
        if close is not None:
            await close()
    if index != len(expected):
        raise AuthError(
            f"{index} chunks of {manifest.holder}/{manifest.record_id} arrived, "
            f"its manifest lists {len(expected)}"
        )
    if size != manifest.size or whole.hexdigest() != manifest.sha256:
        raise AuthError(
            f"content of {manifest.holder}/{manifest.record_id} does not match its sha256"
        )


_verified = verified_chunks  # the name the invariant tests import
