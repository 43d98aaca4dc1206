"""What a person can do at one node: search the network, fetch a record, ingest records.

The web API, the CLI (through the web API) and the tests all call this one object; the gRPC
servicer calls ``FederationServer`` for the other side of the same flows.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from node import crypto
from node.errors import AuthError, InvalidInput, InvalidRecord
from node.federation.antientropy import CatalogueRepairer, RepairReport
from node.federation.audit import AuditLog
from node.federation.client import FederationClient
from node.federation.keeper import TrustKeeper
from node.federation.messages import CHUNK_BYTES, FETCH, SEARCH, ContentManifest, FetchRequest
from node.federation.parts import NodeParts
from node.federation.server import FederationServer
from node.identity import covering_ancestor, level_of, parent_of, validate_code
from node.records import MAX_PAGE, MAX_QUERY_CHARS, Record, SearchPage, SearchQuery


@dataclass(frozen=True)
class NodeInfo:
    code: str
    name: str
    level: int  # node.identity.Level value
    parent: str | None


@dataclass
class Fetched:
    """A record's content on its way here: the holder-signed manifest, then verified chunks.

    Iterating ``chunks`` raises ``AuthError`` if a chunk does not match the manifest.
    """

    manifest: ContentManifest
    chunks: AsyncIterator[bytes]


@dataclass(frozen=True)
class IngestReport:
    accepted: int
    change_head: int


@dataclass(frozen=True)
class LinkStatus:
    peer: str
    cursor: int
    lag: int
    last_error: str | None


@dataclass(frozen=True)
class NodeStatus:
    info: NodeInfo
    records: int
    catalogue_entries: int
    change_head: int
    links: tuple[LinkStatus, ...]


class NodeService:
    """Facade over one node's stores and federation client (built by ``node.node.Node``)."""

    def __init__(
        self,
        parts: NodeParts,
        client: FederationClient,
        server: FederationServer,
        on_catalogue_changed: Callable[[], None] = lambda: None,
        audit: AuditLog | None = None,
    ) -> None:
        self.parts = parts
        self.client = client
        self.server = server
        self.on_catalogue_changed = on_catalogue_changed
        self.audit = audit or AuditLog()  # the hosting daemon's refusals
        self.repairer: CatalogueRepairer | None = None  # set by ``Node`` when it has a parent
        self.info = NodeInfo(
            code=parts.code,
            name=parts.name,
            level=int(level_of(parts.code)),
            parent=parent_of(parts.code),
        )

    @property
    def province(self) -> str:
        return self.parts.code[:2]

    @property
    def trust(self) -> TrustKeeper:
        """Enrolment, renewal, rotation, revocation and the directory (operators' side)."""
        return self.server.keeper

    async def search(self, query: SearchQuery) -> SearchPage:
        """Search the catalogue over ``query.scope`` (default: the whole province).

        Answered here if this node covers the scope, else by the lowest ancestor that does.
        """
        query = _checked(replace(query, scope=query.scope or self.province))
        query = replace(query, scope=self.trust.state.resolve(query.scope))
        answerer = covering_ancestor(self.parts.code, query.scope)
        if answerer == self.parts.code:
            page = await self.parts.catalogue.search(query)
            return replace(page, answered_by=self.parts.code)
        reply = await self.client.call(SEARCH, answerer, self.parts.codec.encode(query))
        return self.parts.codec.decode(SearchPage, reply.payload)

    async def fetch(self, holder: str, record_id: str, file_name: str = "") -> Fetched:
        """Fetch an open record's content from its holder, hop by hop through the tree.

        A holder whose division code was succeeded (``registry alias``) is reached under its
        successor's code. Raises ``NotFound``, ``AccessDenied`` (not open),
        ``PeerUnavailable``, ``AuthError``.
        """
        holder = self.trust.state.resolve(validate_code(holder))
        request = FetchRequest(holder=holder, record_id=record_id, file_name=file_name)
        if holder == self.parts.code:
            manifest = await self.server.manifest_for(request)
            chunks = self.parts.blobs.read_chunks(manifest.sha256, CHUNK_BYTES)
        else:
            envelope, chunks = await self.client.stream(
                FETCH, holder, self.parts.codec.encode(request)
            )
            manifest = self.parts.codec.decode(ContentManifest, envelope.payload)
            if (manifest.holder, manifest.record_id) != (holder, record_id):
                raise AuthError(f"{holder} answered with a manifest for another record")
        return Fetched(manifest=manifest, chunks=_verified(manifest, chunks))

    async def ingest(
        self, records: Sequence[Record], contents: Mapping[str, bytes] | None = None
    ) -> IngestReport:
        """Store records held by this node, with the content of their files.

        ``contents`` maps sha256 to bytes for files not yet in the blob store; every file of
        every record must be present (given or stored) before anything is written.
        """
        contents = contents or {}
        for sha, data in contents.items():
            if crypto.sha256_hex(data) != sha:
                raise InvalidRecord(f"内容摘要不符: {sha}")
        for record in records:
            if record.holder != self.parts.code:
                raise InvalidRecord(f"档案 {record.ref} 的馆藏单位不是本节点 {self.parts.code}")
            for file in record.files:
                if file.sha256 not in contents and not self.parts.blobs.has(file.sha256):
                    raise InvalidRecord(f"档案 {record.ref} 的文件 {file.name} 缺少内容")
        for data in contents.values():
            self.parts.blobs.put_bytes(data)
        await self.parts.records.put(records, self.parts.name)
        self.on_catalogue_changed()
        return IngestReport(accepted=len(records), change_head=await self.parts.changelog.head())

    async def repair_catalogue(self) -> RepairReport:
        """Compare this node's subtree catalogue with its parent's copy and repair it now."""
        if self.repairer is None:
            raise InvalidInput(f"{self.parts.code} 是省级节点，没有上级目录可校验")
        return await self.repairer.repair()

    async def status(self) -> NodeStatus:
        p = self.parts
        head = await p.changelog.head()
        links = tuple(
            LinkStatus(
                peer=s.peer, cursor=s.cursor, lag=max(0, head - s.cursor), last_error=s.last_error
            )
            for s in await p.peers.all()
        )
        return NodeStatus(
            info=self.info,
            records=await p.records.count(),
            catalogue_entries=await p.catalogue.count(),
            change_head=head,
            links=links,
        )


def _checked(query: SearchQuery) -> SearchQuery:
    validate_code(query.scope)
    if len(query.text) > MAX_QUERY_CHARS:
        raise InvalidInput(f"查询词过长（最多 {MAX_QUERY_CHARS} 字）")
    if not 1 <= query.limit <= MAX_PAGE:
        raise InvalidInput(f"每页条数应在 1 到 {MAX_PAGE} 之间")
    if query.offset < 0:
        raise InvalidInput("偏移量不能为负数")
    return query


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
