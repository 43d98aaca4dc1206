"""In-memory stand-ins for a node's use-case services, for the web and CLI tests.

``FakeNode`` implements the clerk-side Protocols of ``node.federation.services`` (search,
retrieval, ingest, sync admin) over a small catalogue; ``FakeTrust`` and ``FakeRefusals``
the operator's, ``fake_accounts.FakeAccounts`` the staff accounts (one per role).
``FakeNode.services()`` bundles them as ``create_app`` takes them, and
``tests/web/test_fake_protocols.py`` checks every fake against its Protocol, so a change to
a service's signature that the fake does not follow fails there. The real services are
exercised by the integration tests. ``search_error`` / ``fetch_error`` make the next call
raise, and ``corrupt_after`` makes a fetch stream fail after that many bytes.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from fake_accounts import FakeAccounts
from fake_copies import FakeCopies
from fake_requests import FakeRequests

from node.actors import ANONYMOUS, Actor
from node.audit import AuditEntry, AuditFinding, AuditPage, AuditQuery
from node.certificates import Application, Certificate
from node.citizens import IdNumber
from node.errors import AuthError, Forbidden, InvalidInput, NotFound
from node.federation.antientropy import RepairReport
from node.federation.messages import ContentManifest
from node.federation.refusals import Refusal
from node.federation.services import (
    AuditReport,
    BannedKey,
    CheckpointStatus,
    CodeAlias,
    Fetched,
    IndexKeyStatus,
    IngestReport,
    LinkStatus,
    NodeInfo,
    NodeServices,
    NodeStatus,
    RefusalSummary,
    RevokedNode,
    SyncStatus,
    TrustListing,
    TrustOverview,
)
from node.federation.services.appraisal import Decided, ReviewPage, ScanReport, check_kind
from node.federation.services.oai import OaiReply
from node.federation.services.search import KnownNode
from node.federation.trust.events import Revocation
from node.identity import covers, parent_of
from node.records import (
    CATEGORIES,
    Access,
    CatalogueEntry,
    Record,
    Retention,
    SearchPage,
    SearchQuery,
)

CHANGE_HEAD = 7
# The directory the fake nodes know (the real one reads it from certificates).
KNOWN_NODES = tuple(
    KnownNode(code, name, revoked=False)
    for code, name in (
        ("33", "浙江省档案馆"),
        ("3301", "杭州市档案馆"),
        ("330106", "西湖区档案馆"),
        ("330106001", "留下街道档案室"),
        ("330106001001", "留下村档案室"),
        ("330110", "余杭区档案馆"),
    )
)


@dataclass(frozen=True)
class Link:
    """A link as the status test pins it: the four fields ``LinkStatus`` started with."""

    peer: str
    cursor: int
    lag: int
    last_error: str | None


@dataclass(frozen=True)
class Content:
    file_name: str
    media_type: str
    data: bytes


def entry(
    holder: str,
    record_id: str,
    title: str,
    *,
    category: str = "婚姻登记",
    year: int = 2015,
    access: Access = Access.OPEN,
    data: bytes | None = None,
    holder_name: str = "西湖区档案馆",
) -> CatalogueEntry:
    """A catalogue entry with a valid archival code; ``data`` sets the content hash/size."""
    return CatalogueEntry(
        holder=holder,
        record_id=record_id,
        version=1,
        archival_code=f"J001-{CATEGORIES[category]}·{year}-Y-0001",
        category=category,
        year=year,
        retention=Retention.PERMANENT,
        title=title,
        creator="西湖区民政局",
        access=access,
        holder_name=holder_name,
        content_sha256=hashlib.sha256(data).hexdigest() if data is not None else "",
        content_size=len(data) if data is not None else 0,
    )


@dataclass
class FakeNode:
    """One hosted node: its search, retrieval, ingest and sync-admin services."""

    code: str
    name: str
    entries: list[CatalogueEntry] = field(default_factory=list)
    contents: dict[str, Content] = field(default_factory=dict)  # by "HOLDER/RECORD_ID"
    search_error: Exception | None = None
    fetch_error: Exception | None = None
    corrupt_after: int | None = None
    wrong_sha256: bool = False
    chunk_bytes: int = 5
    queries: list[SearchQuery] = field(default_factory=list)
    known: tuple[KnownNode, ...] = field(default_factory=lambda: KNOWN_NODES)
    # identity number digits -> refs of the entries whose subjects include that person
    subjects_by_id: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # the identity number of every search by number, in order (``queries`` has them all)
    id_searches: list[IdNumber] = field(default_factory=list)
    ingested_subject_ids: dict[str, tuple[IdNumber, ...]] = field(default_factory=dict)
    ingested: list[Record] = field(default_factory=list)
    closed_streams: int = 0
    audit: FakeAudit = field(default_factory=lambda: FakeAudit(""))
    staff: FakeAccounts | None = None  # made on first use, one per node
    trust_fake: FakeTrust | None = None  # likewise
    requests_fake: FakeRequests | None = None  # likewise
    copies_fake: FakeCopies | None = None  # likewise

    def __post_init__(self) -> None:
        self.audit.code = self.code

    @property
    def accounts(self) -> FakeAccounts:
        """This node's staff: clerk, archivist, operator (``fake_accounts``)."""
        if self.staff is None:
            self.staff = FakeAccounts(self.code)
        return self.staff

    @property
    def trust(self) -> FakeTrust:
        """This node's trust keeper: it revokes, bans and aliases in memory."""
        if self.trust_fake is None:
            self.trust_fake = FakeTrust(self.code)
        return self.trust_fake

    @property
    def requests(self) -> FakeRequests:
        """This node's utilisation requests, in memory."""
        if self.requests_fake is None:
            self.requests_fake = FakeRequests(self.code)
        return self.requests_fake

    @property
    def copies(self) -> FakeCopies:
        """This node's certified copies: real ones, under the test tree's root key."""
        if self.copies_fake is None:
            self.copies_fake = FakeCopies(self.code)
        return self.copies_fake

    @property
    def info(self) -> NodeInfo:
        return NodeInfo.of(self.code, self.name)

    def services(self) -> NodeServices:
        """This node's services as ``create_app`` serves them (the fakes read this object's
        fields when called, so a test may change them after the app is built)."""
        return NodeServices(
            info=self.info,
            search=self,
            retrieval=self,
            ingest=self,
            sync=self,
            trust=self.trust,
            refusals=FakeRefusals(),
            audit=self.audit,
            accounts=self.accounts,
            requests=self.requests,
            copies=self.copies,
            oai=FakeOai(),
            appraisal=FakeAppraisal(),
        )

    async def search(
        self,
        query: SearchQuery,
        *,
        actor: Actor = ANONYMOUS,
        id_number: IdNumber | None = None,
    ) -> SearchPage:
        self.queries.append(query)
        if id_number is not None:
            self.id_searches.append(id_number)
        if self.search_error is not None:
            raise self.search_error
        refs = self.subjects_by_id.get(id_number.digits, ()) if id_number else None
        words = query.text.split()
        hits = [
            e
            for e in self.entries
            if all(w in e.title or w in e.creator for w in words)
            and (refs is None or e.ref in refs)
            and (query.category is None or e.category == query.category)
            and (query.year_from is None or e.year >= query.year_from)
            and (query.year_to is None or e.year <= query.year_to)
            and (not query.archival_code or e.archival_code == query.archival_code)
        ]
        # The fake's cursor is the offset as text (the real one is opaque).
        start = int(query.cursor) if query.cursor else query.offset
        end = start + query.limit
        return SearchPage(
            total=len(hits),
            hits=tuple(hits[start:end]),
            answered_by=self.code[:2],
            next_cursor=str(end) if end < len(hits) else "",
            prev_cursor=str(max(0, start - query.limit)) if start else "",
        )

    async def known_nodes(self) -> tuple[KnownNode, ...]:
        return self.known

    async def fetch(
        self, holder: str, record_id: str, file_name: str = "", *, actor: Actor = ANONYMOUS
    ) -> Fetched:
        if self.fetch_error is not None:
            raise self.fetch_error
        content = self.contents.get(f"{holder}/{record_id}")
        if content is None or (file_name and file_name != content.file_name):
            raise NotFound(f"未找到档案 {holder}/{record_id} 的内容")
        sha = hashlib.sha256(content.data).hexdigest()
        if self.wrong_sha256:
            sha = hashlib.sha256(b"something else").hexdigest()
        manifest = ContentManifest(
            holder=holder,
            record_id=record_id,
            version=3,
            file_name=content.file_name,
            media_type=content.media_type,
            size=len(content.data),
            sha256=sha,
            chunk_size=self.chunk_bytes,
            chunk_sha256=(),
            title="",
            archival_code="",
        )
        return Fetched(manifest, self._chunks(content.data))

    async def _chunks(self, data: bytes) -> AsyncIterator[bytes]:
        try:
            for start in range(0, len(data), self.chunk_bytes):
                if self.corrupt_after is not None and start >= self.corrupt_after:
                    raise AuthError("chunk does not match its manifest")
                yield data[start : start + self.chunk_bytes]
        finally:
            self.closed_streams += 1

    async def ingest(
        self,
        records: Sequence[Record],
        contents: Mapping[str, bytes] | None = None,
        *,
        actor: Actor,
        subject_ids: Mapping[str, Sequence[IdNumber]] | None = None,
    ) -> IngestReport:
        self.ingested.extend(records)
        self.ingested_subject_ids.update((k, tuple(v)) for k, v in (subject_ids or {}).items())
        return IngestReport(accepted=len(records), change_head=CHANGE_HEAD + len(self.ingested))

    async def status(self) -> NodeStatus:
        link = Link(peer=parent_of(self.code) or "", cursor=5, lag=2, last_error=None)
        return NodeStatus(
            info=self.info,
            records=len(self.entries),
            catalogue_entries=len(self.entries),
            change_head=CHANGE_HEAD,
            links=(link,),  # type: ignore[arg-type]  # the narrower shape the test pins
        )

    async def sync_status(self) -> SyncStatus:
        links = (self._link(),) if parent_of(self.code) else ()
        return SyncStatus(self.code, CHANGE_HEAD, time.time(), links, children=())

    async def retry_sync(self, peer: str | None = None, *, actor: Actor) -> LinkStatus:
        parent = parent_of(self.code)
        if parent is None:
            raise InvalidInput(f"{self.code} 是省级节点，没有上级，无需推送目录")
        if peer and peer != parent:
            raise NotFound(f"{peer} 不是 {self.code} 的上级")
        return self._link()

    async def repair_catalogue(self, *, deep: bool = False, actor: Actor) -> RepairReport:
        parent = parent_of(self.code)
        if parent is None:
            raise InvalidInput(f"{self.code} 是省级节点，没有上级目录可校验")
        return RepairReport(parent, deep=deep)

    def _link(self) -> LinkStatus:
        peer = parent_of(self.code) or ""
        return LinkStatus(peer, cursor=5, lag=2, last_error=None, head=CHANGE_HEAD, state="pending")


_NO_DIRECTORY = "测试替身没有信任目录"
# Names the fake directory knows (the real one reads them from certificates).
DIRECTORY_NAMES = {"330106002": "翠苑街道", "330106002001": "翠苑一区社区"}


@dataclass
class FakeTrust:
    """A node with a certificate, no applications and an in-memory directory: it revokes a
    descendant, bans a key, aliases a code at the province (registry), and refuses the rest
    like the real keeper would (``Forbidden``)."""

    code: str
    revoked: list[Revocation] = field(default_factory=list)
    banned: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    index_key_version: int = 1

    async def listing(self) -> TrustListing:
        names = DIRECTORY_NAMES
        return TrustListing(
            revoked=tuple(
                RevokedNode(r.node_id, names.get(r.node_id, ""), r.serial, r.by, r.at_ms, r.reason)
                for r in reversed(self.revoked)
            ),
            banned=tuple(BannedKey(k, v, "", "") for k, v in sorted(self.banned.items())),
            aliases=tuple(
                CodeAlias(o, names.get(o, ""), n, names.get(n, ""))
                for o, n in sorted(self.aliases.items())
            ),
        )

    async def overview(self) -> TrustOverview:
        return TrustOverview(
            node=self.code,
            key_id="fake-key",
            serial=1,
            not_after_ms=4_102_444_800_000,  # 2100-01-01
            directory_version=0,
            directory_issued_at_ms=0,
            certificates=0,
            revocations=0,
            retired_keys=0,
            aliases={},
            banned_keys={},
            unreported_events=0,
        )

    async def applications(self, status: str | None = None) -> tuple[Application, ...]:
        return ()

    async def approve(self, code: str, key_id: str, *, actor: Actor) -> tuple[Certificate, ...]:
        raise NotFound(f"没有 {code} 的入网申请")

    async def reject(self, code: str, note: str = "", *, actor: Actor) -> None:
        raise NotFound(f"没有 {code} 的入网申请")

    async def revoke(self, code: str, reason: str, *, actor: Actor) -> Revocation:
        if code == self.code or not covers(self.code, code):
            raise Forbidden(f"{_NO_DIRECTORY}：只能吊销本节点的下级节点")
        revocation = Revocation(code, 0, self.code, int(time.time() * 1000), reason)
        self.revoked.append(revocation)
        return revocation

    async def rotate(self, *, actor: Actor) -> tuple[str, str]:
        raise Forbidden(_NO_DIRECTORY)

    async def renew(self, *, actor: Actor) -> tuple[Certificate, ...]:
        raise Forbidden(_NO_DIRECTORY)

    async def refresh(self, *, actor: Actor) -> int:
        return 0

    async def ban(self, key_id: str, reason: str, *, actor: Actor) -> None:
        if not key_id.startswith("ed25519:"):
            raise InvalidInput("密钥标识应形如 ed25519:…")
        self.banned[key_id] = reason

    async def unban(self, key_id: str, *, actor: Actor) -> bool:
        return self.banned.pop(key_id, None) is not None

    async def alias(self, old: str, new: str, *, actor: Actor) -> None:
        if len(self.code) != 2:
            raise Forbidden(f"{_NO_DIRECTORY}：区划代码变更只能在省级（注册中心）办理")
        self.aliases[old] = new

    async def index_keys(self) -> IndexKeyStatus:
        return IndexKeyStatus(self.index_key_version, 0, (self.index_key_version,))

    async def rotate_index_key(self, *, actor: Actor) -> IndexKeyStatus:
        if len(self.code) != 2:
            raise Forbidden(f"{_NO_DIRECTORY}：只有省级根注册节点可以轮换身份索引密钥")
        self.index_key_version += 1
        return await self.index_keys()


@dataclass
class FakeOai:
    """An OAI-PMH feed that answers every request with an empty Identify (the real one is
    tested over a real network in tests/integration/test_oai.py)."""

    def __init__(self) -> None:
        self.requests: list[tuple[list[tuple[str, str]], str]] = []

    async def respond(self, arguments: Sequence[tuple[str, str]], base_url: str) -> OaiReply:
        self.requests.append((list(arguments), base_url))
        return OaiReply(b"<?xml version='1.0' encoding='utf-8'?><OAI-PMH/>")


class FakeAppraisal:
    """Empty review lists; decisions are recorded (the real service: test_appraisal.py)."""

    def __init__(self) -> None:
        self.decisions: list[tuple[str, str, list[str], str, Actor]] = []

    async def scan(self, *, actor: Actor) -> ScanReport:
        return ScanReport(0, 0)

    async def pending(self, kind: str, limit: int = 50, offset: int = 0) -> ReviewPage:
        return ReviewPage(check_kind(kind), 0, ())

    async def decide(
        self, decision: str, kind: str, record_ids: Sequence[str], reason: str, *, actor: Actor
    ) -> Decided:
        self.decisions.append((decision, kind, list(record_ids), reason, actor))
        return Decided(decision, kind, tuple(record_ids))


class FakeRefusals:
    """A node that has refused nothing (and admitted nothing)."""

    async def recent(self, limit: int = 100) -> tuple[Refusal, ...]:
        return ()

    async def summary(self, limit: int = 100) -> RefusalSummary:
        return RefusalSummary(accepted=0, refused_by_kind={}, recent=())


@dataclass
class FakeAudit:
    """An in-memory audit log: ``entries`` (oldest first) filtered as the real one filters;
    ``finding`` makes ``verify`` report that entry as bad."""

    code: str
    log: list[AuditEntry] = field(default_factory=list)
    finding: AuditFinding | None = None
    queries: list[AuditQuery] = field(default_factory=list)

    def add(self, actor: str, act: str, subject: str, detail: str = "{}") -> None:
        self.log.append(
            AuditEntry(len(self.log) + 1, 1_700_000_000_000, actor, act, subject, detail)
        )

    async def entries(self, query: AuditQuery) -> AuditPage:
        self.queries.append(query)
        found = [
            e
            for e in reversed(self.log)
            if (not query.actor or query.actor in e.actor)
            and (not query.act or e.act == query.act)
            and (not query.subject or e.subject == query.subject)
            and (not query.before or e.seq < query.before)
            and (not query.after or e.seq > query.after)
        ]
        page = tuple(found[-query.limit :] if query.after else found[: query.limit])
        older = bool(page) and any(e.seq < page[-1].seq for e in found)
        newer = bool(page) and page[0].seq < max((e.seq for e in self.log), default=0)
        return AuditPage(
            page, len(self.log), page[-1].seq if older else 0, page[0].seq if newer else 0
        )

    async def verify(self) -> AuditReport:
        parent = parent_of(self.code) or ""
        return AuditReport(
            code=self.code,
            ok=self.finding is None,
            size=len(self.log),
            head="00" * 32,
            checkpoints_checked=0,
            finding=self.finding,
            parent=parent,
            parent_witnessed=0,
            parent_note="测试替身没有上级见证",
        )

    async def checkpoints(self) -> CheckpointStatus:
        return CheckpointStatus(self.code, len(self.log), "00" * 32, (), ())


def hosted(nodes: Mapping[str, FakeNode]) -> dict[str, NodeServices]:
    """``nodes`` as ``create_app`` takes them: division code -> that node's services."""
    return {code: node.services() for code, node in nodes.items()}


def network(extra_entries: Iterable[CatalogueEntry] = ()) -> dict[str, FakeNode]:
    """Two hosted nodes (a village and its county) sharing a small catalogue."""
    certificate = "结婚证存根：张三、李四\n".encode() * 3
    entries = [
        entry("330106", "HY-2015-0001", "张三与李四结婚登记", data=certificate),
        entry(
            "330106",
            "XSS-1",
            "<script>alert(1)</script>张三的学籍卡",
            category="学籍",
            year=1998,
            data=b"<html><script>alert(1)</script></html>",
        ),
        entry(
            "330106",
            "SB-2010-0007",
            "社保档案（2010年，控制使用）",
            category="社保",
            year=2010,
            access=Access.CONTROLLED,
        ),
        entry(
            "330106001",
            "TD-2003-0002",
            "张三家庭土地承包合同",
            category="土地承包",
            year=2003,
            holder_name="留下街道",
        ),
        *extra_entries,
    ]
    contents = {
        "330106/HY-2015-0001": Content("结婚登记证明.pdf", "application/pdf", certificate),
        "330106/XSS-1": Content(
            "page.html", "text/html", b"<html><script>alert(1)</script></html>"
        ),
    }
    return {
        "330106001001": FakeNode("330106001001", "留下村", entries, contents),
        "330106": FakeNode("330106", "西湖区档案馆", entries, contents),
    }
