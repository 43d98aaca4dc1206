"""Ingest: records held by this node, with their content, stored all or nothing.

Content is hashed, checked and written off the event loop (the blob store's async calls), so
a large file being stored does not hold up searches and syncs of the other hosted nodes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from node import crypto
from node.errors import InvalidRecord
from node.federation.parts import NodeParts
from node.records import Record


@dataclass(frozen=True)
class IngestReport:
    accepted: int
    change_head: int


@runtime_checkable
class IngestService(Protocol):
    async def ingest(
        self, records: Sequence[Record], contents: Mapping[str, bytes] | None = None
    ) -> IngestReport:
        """Store ``records`` (held by this node) and ``contents`` (sha256 -> bytes).

        Raises ``InvalidRecord`` naming the first record that cannot be stored; then
        nothing is stored.
        """
        ...


class Ingest:
    """``IngestService`` into this node's record and blob stores."""

    def __init__(self, parts: NodeParts, on_catalogue_changed: Callable[[], None]) -> None:
        self.parts = parts
        self.on_catalogue_changed = on_catalogue_changed  # wakes the outbox toward the parent

    async def ingest(
        self, records: Sequence[Record], contents: Mapping[str, bytes] | None = None
    ) -> IngestReport:
        """Store records held by this node, with the content of their files.

        ``contents`` maps sha256 to bytes for files not yet in the blob store; every file of
        every record must be present (given or stored), with the size the record gives it,
        before anything is written. Each record's fields were checked when it was built
        (``node/records.py``), whichever transport it came by.
        """
        p = self.parts
        contents = contents or {}
        if contents:
            await asyncio.to_thread(_check_digests, contents)
        # ContentFile has checked every sha256 is well formed, so one batch of lookups
        # refuses exactly what a lookup per file, in order, would.
        sizes = await p.blobs.sizes(
            f.sha256 for r in records for f in r.files if f.sha256 not in contents
        )
        sizes.update((sha, len(data)) for sha, data in contents.items())
        for record in records:
            if record.holder != p.code:
                raise InvalidRecord(f"档案 {record.ref} 的馆藏单位不是本节点 {p.code}")
            for file in record.files:
                if file.sha256 not in sizes:
                    raise InvalidRecord(f"档案 {record.ref} 的文件 {file.name} 缺少内容")
                if sizes[file.sha256] != file.size:
                    # the manifest announces the registered size: a wrong one makes every
                    # fetch of this file fail its check, so the record could never be used
                    raise InvalidRecord(
                        f"档案 {record.ref} 的文件 {file.name} 实际为 {sizes[file.sha256]} 字节，"
                        f"与登记的大小 {file.size} 不符。请更正 size 后重试。"
                    )
        for data in contents.values():
            await p.blobs.put(data)
        await p.records.put(records, p.name)
        self.on_catalogue_changed()
        return IngestReport(accepted=len(records), change_head=await p.changelog.head())


def _check_digests(contents: Mapping[str, bytes]) -> None:
    for sha, data in contents.items():
        if crypto.sha256_hex(data) != sha:
            raise InvalidRecord(f"内容摘要不符: {sha}")
