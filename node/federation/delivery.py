"""Sealed delivery: the requesting node's side of fetching an approved request's content.

The holder releases a record on an approved request only to the node that filed it, and
seals both the real manifest and every chunk to the key that signed the fetch
(``release.seal_manifest``, ``catalogue_handlers.fetch``), so relays carry bytes they cannot
read. Here the signed outer manifest is checked like any fetch's (``FederationClient.stream``),
then the inner one is opened with this node's key and each chunk unsealed and checked against
it (``retrieval.verified_chunks``): a relay that swaps a sealed chunk for one of its own (anyone
can seal to a public key) fails the inner manifest's hash.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from node.actors import node_actor
from node.audit import Act
from node.errors import AuthError, NotFound
from node.federation import release
from node.federation.client import FederationClient
from node.federation.messages import FETCH, ContentManifest, FetchRequest
from node.federation.request_copies import delivered_copy
from node.federation.services.retrieval import verified_chunks
from node.federation.trust.events import TrustState
from node.requests import Delivered, FiledRequest, State, UtilisationRequest

if TYPE_CHECKING:  # the desk calls this module
    from node.federation.requests import RequestDesk

ACT_DELIVER = Act.REQUEST_DELIVER

MAX_DELIVERY_BYTES = 512 * 1024 * 1024  # kept in memory until its whole hash is checked


@dataclass(frozen=True)
class Received:
    manifest: ContentManifest  # the real one, opened
    content: bytes
    certified_copy: bytes  # the holder's signed copy (W3C VC), b"" if it issued none


def sealing_key(directory: TrustState, holder: str) -> bytes:
    """The public key of ``holder``'s newest valid certificate, to seal a request to."""
    current = directory.current(holder)
    if not current:
        raise NotFound(
            f"信任目录中没有馆藏单位 {holder} 的有效证书，无法加密申请。"
            "请核对馆藏单位代码；如该单位刚入网，请稍后重试。"
        )
    return max(current, key=lambda c: c.not_before_ms).public_key


async def fetch_sealed(client: FederationClient, request: UtilisationRequest) -> Received:
    """The content ``request`` was approved for, unsealed and checked.

    Raises ``PeerUnavailable`` (try again later), ``AccessDenied``/``NotFound`` (the holder
    refuses), ``AuthError`` (something did not match what the holder signed).
    """
    p = client.parts
    ask = FetchRequest(request.holder, request.record_id, request_id=request.request_id)
    envelope, chunks = await client.stream(FETCH, request.holder, p.codec.encode(ask))
    outer = p.codec.decode(ContentManifest, envelope.payload)
    if (outer.holder, outer.record_id) != (request.holder, request.record_id):
        raise AuthError(f"{request.holder} answered with a manifest for another record")
    if not outer.sealed_manifest:
        raise AuthError(f"{request.holder} released {request.ref} unsealed")
    inner, certified_copy = release.open_manifest(p.signer.key, outer)
    if inner.size > MAX_DELIVERY_BYTES:
        raise AuthError(f"{request.ref} is larger than a delivery may be")

    async def unsealed():  # type: ignore[no-untyped-def]
        async for sealed in chunks:
            try:
                yield p.signer.key.unseal(sealed)
            except Exception:  # not sealed to us: a relay's or a broken chunk
                raise AuthError(f"a chunk of {request.ref} cannot be opened") from None

    parts = [chunk async for chunk in verified_chunks(inner, unsealed())]
    return Received(inner, b"".join(parts), certified_copy)


async def deliver(desk: RequestDesk, filed: FiledRequest) -> None:
    """Fetch the approved content sealed to this node, keep it, tell the holder."""
    p = desk.parts
    got = await fetch_sealed(desk.client, filed.request)
    sha256, size = await p.blobs.put(got.content)
    content = Delivered(sha256, got.manifest.file_name, got.manifest.media_type, size)
    change = desk.sign(filed.request, State.DELIVERED, "已送达受理单位")
    code, document = delivered_copy(got.certified_copy)
    await desk._move(
        filed,
        change,
        node_actor(filed.request.holder, p.code),
        ACT_DELIVER,
        tell=True,
        content=content,
        record_title=got.manifest.title,
        archival_code=got.manifest.archival_code,
        copy_code=code,
        copy_document=document,
    )
