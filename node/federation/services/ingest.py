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
from node.actors import ANONYMOUS, Actor
from node.audit import Act
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
        self,
        records: Sequence[Record],
        contents: Mapping[str, bytes] | None = None,
        *,
        actor: Actor = ANONYMOUS,
    ) -> IngestReport:
        """Store ``records`` (held by this node) and ``contents`` (sha256 -> bytes), ingested
        by ``actor`` (one audit entry per record, in the same transaction).

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
        self,
        records: Sequence[Record],
        contents: Mapping[str, bytes] | None = None,
        *,
        actor: Actor = ANONYMOUS,
    ) -> IngestReport:
        """Store records held by this node, with the content of their files.

        ``contents`` maps sha256 to bytes for files not yet in the blob store; every file of
        every record must be present (given or stored) before anything is written.
        """
        p = self.parts
        contents = contents or {}
        if contents:
            await asyncio.to_thread(_check_digests, contents)
        # ContentFile has checked every sha256 is well formed, so one batch of lookups
        # refuses exactly what a lookup per file, in order, would.
        missing = await p.blobs.missing(
            f.sha256 for r in records for f in r.files if f.sha256 not in contents
        )
        for record in records:
            if record.holder != p.code:
                raise InvalidRecord(f"档案 {record.ref} 的馆藏单位不是本节点 {p.code}")
            for file in record.files:
                if file.sha256 in missing:
                    raise InvalidRecord(f"档案 {record.ref} 的文件 {file.name} 缺少内容")
        for data in contents.values():
            await p.blobs.put(data)
        entries = [
            (
                actor,
                Act.INGEST,
                r.ref,
                {"version": r.version, "access": str(r.access), "deleted": r.deleted},
            )
            for r in records
        ]
        await p.records.put(records, p.name, also=p.audit.hook(entries))
        self.on_catalogue_changed()
        return IngestReport(accepted=len(records), change_head=await p.changelog.head())


def _check_digests(contents: Mapping[str, bytes]) -> None:
    for sha, data in contents.items():
        if crypto.sha256_hex(data) != sha:
            raise InvalidRecord(f"内容摘要不符: {sha}")
