"""Fetching an open record's content from its holder, hop by hop, checked against its manifest.

A local record is released by the same decision a remote holder makes
(``federation/release.py``); its chunks come from the blob store, read off the loop.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from node.errors import AuthError, NotFound, PeerUnavailable
from node.federation import release
from node.federation.client import FederationClient
from node.federation.messages import CHUNK_BYTES, FETCH, ContentManifest, FetchRequest
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
    async def fetch(self, holder: str, record_id: str, file_name: str = "") -> Fetched:
        """The content of ``holder``'s open record ``record_id`` (its first file, or the one
        named ``file_name``).

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

    async def fetch(self, holder: str, record_id: str, file_name: str = "") -> Fetched:
        """Fetch an open record's content from its holder, hop by hop through the tree.

        A holder whose division code was succeeded (``registry alias``) is reached under its
        successor's code. Raises ``NotFound`` (also for a holder code that no node of the
        directory has: never a ``PeerUnavailable`` for a node that does not exist),
        ``AccessDenied`` (not open), ``PeerUnavailable``, ``AuthError``.
        """
        p = self.parts
        holder = self.directory.resolve(validate_code(holder))
        request = FetchRequest(holder=holder, record_id=record_id, file_name=file_name)
        if holder == p.code:
            manifest = await release.manifest_for(p, request)
            chunks = p.blobs.read_chunks(manifest.sha256, CHUNK_BYTES)
        else:
            try:
                envelope, chunks = await self.client.stream(FETCH, holder, p.codec.encode(request))
            except PeerUnavailable:
                if holder in self.directory.certificates:
                    raise  # a node that exists, down or unreachable: try again later
                # No node was ever certified under this code (as far as this node's copy of
                # the directory says), and no hop could route to it: a 404, not a 502 saying
                # "try again later" for a code that will never answer.
                raise NotFound(
                    f"目录中没有区划代码为 {holder} 的节点，无法调阅。请核对档案的馆藏单位"
                    "代码；如该节点刚刚入网，请稍后重试。"
                ) from None
            manifest = p.codec.decode(ContentManifest, envelope.payload)
            if (manifest.holder, manifest.record_id) != (holder, record_id):
                raise AuthError(f"{holder} answered with a manifest for another record")
        return Fetched(manifest=manifest, chunks=_verified(manifest, chunks))


async def _verified(
    manifest: ContentManifest, chunks: AsyncIterator[bytes]
) -> AsyncIterator[bytes]:
    """Pass chunks through, checking each against the signed manifest and the whole at the end."""
    whole = hashlib.sha256()
    size = 0
    index = 0
    try:
        async for chunk in chunks:
            expected = manifest.chunk_sha256
            if expected and (
                index >= len(expected) or hashlib.sha256(chunk).digest() != expected[index]
            ):
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
    if size != manifest.size or whole.hexdigest() != manifest.sha256:
        raise AuthError(
            f"content of {manifest.holder}/{manifest.record_id} does not match its sha256"
        )
