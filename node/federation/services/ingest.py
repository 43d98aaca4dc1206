"""Ingest: records held by this node, with their content, stored all or nothing.

Content is stored by its sha256, so naming a hash is not having the bytes: a record may name
a file without sending its content only if the stored version of that same record already
has that file. Otherwise anyone allowed to ingest could alias a controlled record's content
under an open record of their own and have it released (``release.py`` refuses that too).

Content is hashed, checked and written off the event loop (the blob store's async calls), so
a large file being stored does not hold up searches and syncs of the other hosted nodes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from node import crypto
from node.actors import Actor
from node.audit import Act
from node.citizens import IdNumber
from node.errors import InvalidRecord
from node.federation.blind_index import BlindIndex
from node.federation.parts import NodeParts
from node.records import MAX_SUBJECTS, Record
from node.storage.audit import chain_hooks
from node.storage.preservation import PreservationStore


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
        actor: Actor,
        subject_ids: Mapping[str, Sequence[IdNumber]] | None = None,
    ) -> IngestReport:
        """Store ``records`` (held by this node) and ``contents`` (sha256 -> bytes), ingested
        by ``actor`` (one audit entry per record, in the same transaction).

        ``subject_ids`` maps a record id to the identity numbers of its subjects: the
        record's ``subject_index`` becomes their blind index (``federation/blind_index.py``)
        and the numbers are kept here only, sealed.

        Raises ``InvalidRecord`` naming the first record that cannot be stored; then
        nothing is stored. ``NotReady`` if numbers are given before the node has an index
        key.
        """
        ...


class Ingest:
    """``IngestService`` into this node's record and blob stores."""

    def __init__(
        self,
        parts: NodeParts,
        on_catalogue_changed: Callable[[], None],
        blind_index: BlindIndex,
    ) -> None:
        self.parts = parts
        self.on_catalogue_changed = on_catalogue_changed  # wakes the outbox toward the parent
        self.blind_index = blind_index

    async def ingest(
        self,
        records: Sequence[Record],
        contents: Mapping[str, bytes] | None = None,
        *,
        actor: Actor,
        subject_ids: Mapping[str, Sequence[IdNumber]] | None = None,
    ) -> IngestReport:
        """Store records held by this node, with the content of their files.

        ``contents`` maps sha256 to bytes. A file whose content is not in ``contents`` must
        be a file of the stored version of the same record (a new version keeping its
        scan); every file must have the size the record gives it. Else ``InvalidRecord``
        names the file and nothing is written. Each record's fields were checked when it was
        built (``node/records.py``), whichever transport it came by.
        """
        p = self.parts
        contents = contents or {}
        if contents:
            await asyncio.to_thread(_check_digests, contents)
        for record in records:
            if record.holder != p.code:
                raise InvalidRecord(f"档案 {record.ref} 的馆藏单位不是本节点 {p.code}")
        subject_ids = dict(subject_ids or {})
        known = {r.record_id for r in records}
        for record_id, numbers in subject_ids.items():
            if record_id not in known:
                raise InvalidRecord(f"当事人证件号所属的档案 {record_id} 不在本次登记中")
            if len(numbers) > MAX_SUBJECTS or not all(isinstance(n, IdNumber) for n in numbers):
                raise InvalidRecord(
                    f"档案 {record_id} 的当事人证件号应为证件号列表，最多 {MAX_SUBJECTS} 个"
                )
        # the blind index of the subjects' numbers, and their sealed copies for this node
        records, keep_numbers = await self.blind_index.prepare(records, subject_ids)
        await _codes_unique(p, records)
        unsent = [(r, f) for r in records for f in r.files if f.sha256 not in contents]
        if unsent:
            earlier = await p.records.stored_files([r.record_id for r, _ in unsent])
            for record, file in unsent:
                if file.sha256 not in earlier.get(record.record_id, frozenset()):
                    raise InvalidRecord(
                        f"档案 {record.ref} 的文件 {file.name} 没有随档案上传内容；"
                        "本档案此前的版本中也没有这一文件。请将该文件的内容与档案一并上传"
                        "（archive-node ingest --content 目录：按 files 中的 name 把文件放在该目录"
                        "下；见 docs/operations.md「Ingesting records」）"
                    )
        # ContentFile has checked every sha256 is well formed, so one batch of lookups
        # refuses exactly what a lookup per file, in order, would.
        sizes = await p.blobs.sizes(f.sha256 for _, f in unsent)
        sizes.update((sha, len(data)) for sha, data in contents.items())
        for record in records:
            for file in record.files:
                if file.sha256 not in sizes:
                    raise InvalidRecord(
                        f"档案 {record.ref} 的文件 {file.name} 的内容已不在本节点，请重新上传"
                    )
                if sizes[file.sha256] != file.size:
                    # the manifest announces the registered size: a wrong one makes every
                    # fetch of this file fail its check, so the record could never be used
                    raise InvalidRecord(
                        f"档案 {record.ref} 的文件 {file.name} 实际为 {sizes[file.sha256]} 字节，"
                        f"与登记的大小 {file.size} 不符。请更正 size 后重试。"
                    )
        await p.blobs.put_many(contents)
        entries = [
            (
                actor,
                Act.INGEST,
                r.ref,
                {"version": r.version, "access": str(r.access), "deleted": r.deleted},
            )
            for r in records
        ]
        also = chain_hooks(p.audit.hook(entries), keep_numbers)
        await p.records.put(records, p.name, also=also)
        self.on_catalogue_changed()
        return IngestReport(accepted=len(records), change_head=await p.changelog.head())


async def _codes_unique(p: NodeParts, records: Sequence[Record]) -> None:
    """A 档号 names one record of its holder: not two of the batch, not another stored one."""
    seen: dict[str, str] = {}
    for record in records:
        other = seen.setdefault(record.archival_code, record.record_id)
        if other != record.record_id:
            raise InvalidRecord(
                f"档号 {record.archival_code} 同时用于档案 {other} 与 {record.record_id}"
            )
    held = await PreservationStore(p.records.db).holders_of_codes(seen)
    for code, record_id in held.items():
        if seen[code] != record_id:
            raise InvalidRecord(
                f"档号 {code} 已由本节点的档案 {record_id} 使用，不能再用于 {seen[code]}"
            )


def _check_digests(contents: Mapping[str, bytes]) -> None:
    for sha, data in contents.items():
        if crypto.sha256_hex(data) != sha:
            raise InvalidRecord(f"内容摘要不符: {sha}")
