"""What a person can do at one node: search the network, fetch a record, ingest records.

The web API, the CLI (through the web API) and the tests all call this one object; the gRPC
servicer calls ``FederationServer`` for the other side of the same flows.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from node import crypto
from node.errors import AuthError, InvalidInput, InvalidQuery, InvalidRecord, NotFound
from node.federation.antientropy import CatalogueRepairer, RepairReport
from node.federation.client import FederationClient
from node.federation.messages import CHUNK_BYTES, FETCH, SEARCH, ContentManifest, FetchRequest
from node.federation.parts import NodeParts
from node.federation.refusals import RefusalLog
from node.federation.server import FederationServer
from node.federation.sync import CataloguePusher
from node.federation.trust.keeper import TrustKeeper
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
    """One outgoing sync link as an operator sees it (``archive-node stats``)."""

    peer: str
    cursor: int  # the last change the peer acknowledged
    lag: int  # changes logged here the peer has not acknowledged
    last_error: str | None
    head: int = 0  # this node's last change
    lag_s: float = 0.0  # age of the oldest unacknowledged change
    state: str = "idle"  # idle (nothing to send), pending, pushing, backoff
    failures: int = 0  # consecutive failed attempts
    next_retry_at: float | None = None  # unix time the backoff ends
    last_error_at: float | None = None
    last_success_at: float | None = None  # unix time of the last acknowledgement


@dataclass(frozen=True)
class ChildSyncStatus:
    """What this node acknowledged to one child, and when it last applied a batch of it."""

    child: str
    cursor: int
    last_batch_at: float


@dataclass(frozen=True)
class SyncStatus:
    code: str
    change_head: int
    at: float  # when this was read (unix time): lags and retries are relative to it
    links: tuple[LinkStatus, ...]
    children: tuple[ChildSyncStatus, ...]


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
        refusals: RefusalLog | None = None,
        pusher: CataloguePusher | None = None,
        repairer: CatalogueRepairer | None = None,
    ) -> None:
        self.parts = parts
        self.pusher = pusher  # the outbox toward the parent (None at the province)
        self.client = client
        self.server = server
        self.on_catalogue_changed = on_catalogue_changed
        self.refusals = refusals or RefusalLog()  # the hosting daemon's refusals
        self.repairer = repairer  # anti-entropy with the parent (None at the province)
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

    async def repair_catalogue(self, *, deep: bool = False) -> RepairReport:
        """Compare this node's subtree catalogue with its parent's copy and repair it now
        (``deep``: every field of every entry, see ``CatalogueRepairer.repair``)."""
        if self.repairer is None:
            raise InvalidInput(f"{self.parts.code} 是省级节点，没有上级目录可校验")
        return await self.repairer.repair(deep=deep)

    async def status(self) -> NodeStatus:
        p = self.parts
        links = await self._links()
        return NodeStatus(
            info=self.info,
            records=await p.records.count(),
            catalogue_entries=await p.catalogue.count(),
            change_head=await p.changelog.head(),
            links=links,
        )

    async def sync_status(self) -> SyncStatus:
        """Every sync link of this node: toward the parent, and what each child delivered."""
        links = await self._links()
        children = tuple(
            ChildSyncStatus(c.child, c.cursor, c.updated_at)
            for c in await self.parts.catalogue.child_links()
        )
        return SyncStatus(
            code=self.parts.code,
            change_head=await self.parts.changelog.head(),
            at=time.time(),
            links=links,
            children=children,
        )

    async def retry_sync(self, peer: str | None = None) -> LinkStatus:
        """End the link's backoff and push now; ``peer`` defaults to (and must be) the parent."""
        if self.pusher is None:
            raise InvalidInput(f"{self.parts.code} 是省级节点，没有上级，无需推送目录")
        if peer and peer != self.pusher.parent:
            raise NotFound(
                f"{peer} 不是 {self.parts.code} 的上级；"
                f"本节点只向上级 {self.pusher.parent} 推送目录"
            )
        self.pusher.retry_now()
        return await self._link(self.pusher.parent)

    async def _links(self) -> tuple[LinkStatus, ...]:
        peers = {s.peer for s in await self.parts.peers.all()}
        if self.pusher is not None:
            peers.add(self.pusher.parent)
        return tuple([await self._link(peer) for peer in sorted(peers)])

    async def _link(self, peer: str) -> LinkStatus:
        p = self.parts
        state = await p.peers.get(peer)
        head, first_unacked_at = await p.changelog.backlog(state.cursor)
        lag = max(0, head - state.cursor)
        pusher = self.pusher if self.pusher is not None and self.pusher.parent == peer else None
        if state.next_attempt_at is not None and lag:
            phase = "backoff"
        elif pusher is not None and pusher.pushing:
            phase = "pushing"
        else:
            phase = "pending" if lag else "idle"
        return LinkStatus(
            peer=peer,
            cursor=state.cursor,
            lag=lag,
            last_error=state.last_error,
            head=head,
            lag_s=max(0.0, time.time() - first_unacked_at) if first_unacked_at else 0.0,
            state=phase,
            failures=state.failures,
            next_retry_at=state.next_attempt_at,
            last_error_at=state.last_error_at,
            last_success_at=state.last_success_at,
        )


def _checked(query: SearchQuery) -> SearchQuery:
    fields = (query.text, query.scope, query.category, query.retention, query.access, query.cursor)
    for value in fields:
        if value is None:
            continue
        if not isinstance(value, str):
            raise InvalidQuery(f"检索条件应为文本，收到 {type(value).__name__}。")
        try:  # the wire carries UTF-8: a lone surrogate cannot reach the answering node
            value.encode()
        except UnicodeEncodeError:
            raise InvalidQuery(
                "查询词或筛选条件含有无效字符（不成对的代理码位）：请删除后重试。"
            ) from None
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
