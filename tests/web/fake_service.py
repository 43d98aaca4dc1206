"""An in-memory stand-in for ``NodeService`` (info, search, fetch, status) for web and CLI tests.

It mirrors the facade's signatures and return shapes; the real one is exercised by the
integration tests. ``search_error`` / ``fetch_error`` make the next call raise, and
``corrupt_after`` makes a fetch stream fail after that many bytes.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field

from node.errors import AuthError, NotFound
from node.federation.messages import ContentManifest
from node.identity import level_of, parent_of
from node.records import (
    CATEGORIES,
    Access,
    CatalogueEntry,
    Retention,
    SearchPage,
    SearchQuery,
)


@dataclass(frozen=True)
class Info:
    code: str
    name: str
    level: int
    parent: str | None


@dataclass(frozen=True)
class Link:
    peer: str
    cursor: int
    lag: int
    last_error: str | None


@dataclass(frozen=True)
class Status:
    info: Info
    records: int
    catalogue_entries: int
    change_head: int
    links: tuple[Link, ...]


@dataclass
class Fetched:
    manifest: ContentManifest
    chunks: AsyncIterator[bytes]


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
    closed_streams: int = 0

    @property
    def info(self) -> Info:
        return Info(self.code, self.name, int(level_of(self.code)), parent_of(self.code))

    async def search(self, query: SearchQuery) -> SearchPage:
        self.queries.append(query)
        if self.search_error is not None:
            raise self.search_error
        words = query.text.split()
        hits = [
            e
            for e in self.entries
            if all(w in e.title or w in e.creator for w in words)
            and (query.category is None or e.category == query.category)
            and (query.year_from is None or e.year >= query.year_from)
            and (query.year_to is None or e.year <= query.year_to)
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

    async def fetch(self, holder: str, record_id: str, file_name: str = "") -> Fetched:
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

    async def status(self) -> Status:
        return Status(
            info=self.info,
            records=len(self.entries),
            catalogue_entries=len(self.entries),
            change_head=7,
            links=(Link(peer=parent_of(self.code) or "", cursor=5, lag=2, last_error=None),),
        )


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
