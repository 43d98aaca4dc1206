"""The identity index at one node: the network's index keys, the holder's subject numbers,
the blind-index values of records, and re-indexing after a key rotation.

Keys (``node/index_keys.py``) are minted by the root registry (the province): one at its
first start, another when its operator rotates (``rotate``) or when the newest is older than
``trust.index_key_rotation`` (``refresh`` on the upkeep tick). Every other node pulls the
live keys from its parent with ``IndexKeys`` (at start and on every upkeep tick), sealed to
its own certificate key by the parent, which got them from its own parent the same way; a
parent that has none yet pulls first, so a new village gets them in one call down the tree.

At rest the keys, and the identity numbers of the subjects of the node's own records, are
sealed to the node's *at-rest key* (``rest.key`` beside ``node.key``): not the certificate
key, which rotates, and whose rotation would otherwise make the sealed numbers unreadable.
The numbers exist only at their holder, sealed; everywhere else, a record carries only its
blind-index values. A holder indexes under the newest key; when a newer one arrives it
re-indexes its records as new versions, which travel up like any change, so the values
under an old key leave the catalogues. A searcher computes values under every live key,
so a record not yet re-indexed is still found during a rotation.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from node import index_keys
from node.actors import ANONYMOUS, Actor, node_actor
from node.citizens import IdNumber
from node.crypto import SigningKey, seal
from node.errors import Forbidden, Misaddressed, NodeError, NotReady, ProtocolError, StorageError
from node.federation.client import FederationClient
from node.federation.messages import INDEX_KEYS, Envelope, IndexKeysReply, IndexKeysRequest
from node.federation.parts import NodeParts
from node.identity import parent_of
from node.index_keys import IndexKey
from node.records import Record
from node.storage.audit import TxnHook
from node.storage.blind_index import BlindIndexStore, put_subjects_txn

log = logging.getLogger(__name__)

NOT_SYNCED = (
    "身份索引密钥尚未同步到本节点，暂不能按身份证号码检索或登记当事人证件号。"
    "请稍候几分钟再试；如长时间仍不可用，请运维管理员检查与上级节点的连接。"
)
REINDEX_BATCH = 500
ROTATE_ACT = "index_key.rotate"
REINDEX_ACT = "record.reindex"


class BlindIndex:
    """One node's identity index keys and its records' subject numbers."""

    def __init__(
        self,
        parts: NodeParts,
        client: FederationClient,
        store: BlindIndexStore,
        rest_key: SigningKey,
        *,
        rotation_ms: int,
        settle_ms: int,
        pull_through_s: float,
    ) -> None:
        self.parts = parts
        self.client = client
        self.store = store
        self.rest_key = rest_key  # seals keys and numbers at rest
        self.rotation_ms = rotation_ms
        # A new key indexes records once it is this old: by then every node has pulled it
        # (each pulls on its upkeep tick, through parents that pull when theirs is older
        # than ``pull_through_s``), so no searcher lacks the key a holder re-indexed under.
        self.settle_ms = settle_ms
        self.pull_through_s = pull_through_s
        self._pulled_at = float("-inf")  # when the last pull from the parent answered
        self._indexed_under = 0  # the key version the last re-index ran for (0: not yet)
        self.parent = parent_of(parts.code)
        self._keys: tuple[IndexKey, ...] = ()  # every key known here, newest first
        self._lock = asyncio.Lock()  # one pull (or rotation) at a time
        # told after re-indexed records were stored (``Node`` wakes the outbox)
        self.on_reindexed: Callable[[], None] = lambda: None

    @property
    def is_registry(self) -> bool:
        return self.parent is None

    @property
    def newest_version(self) -> int:
        return self._keys[0].version if self._keys else 0

    def live_keys(self) -> tuple[IndexKey, ...]:
        return index_keys.live(self._keys)

    async def open(self) -> None:
        """Load the stored keys; the registry mints its first key if it has none."""
        keys: list[IndexKey] = []
        stored = await self.store.keys()
        for version, created_ms, sealed in stored:
            try:
                packed = self.rest_key.unseal(sealed)
            except Exception:  # nacl's CryptoError: rest.key was replaced; pulled again
                log.warning("%s cannot open stored index key v%d", self.parts.code, version)
                continue
            keys.extend(
                k
                for k in index_keys.unpack_keys(packed)
                if (k.version, k.created_ms) == (version, created_ms)
            )
        self._keys = tuple(sorted(keys, key=lambda k: k.version, reverse=True))
        if self.is_registry and not self._keys:
            # a version never seen before, even if stored ones could not be opened
            after = max((version for version, _, _ in stored), default=0)
            await self._add([IndexKey.generate(after + 1, self._now_ms())])

    def _now_ms(self) -> int:
        return int(self.parts.signer.clock() * 1000)

    async def _add(self, keys: Sequence[IndexKey]) -> None:
        rows = [(k.version, k.created_ms, seal(self.rest_key.public_key, index_keys.pack_keys([k])))
                for k in keys]  # fmt: skip
        await self.store.put_keys(rows)
        known = {k.version: k for k in self._keys}
        known.update((k.version, k) for k in keys)
        self._keys = tuple(sorted(known.values(), key=lambda k: k.version, reverse=True))

    # -- values ------------------------------------------------------------------------------

    def search_values(self, number: IdNumber) -> tuple[str, ...]:
        """The values to search for ``number``: one per live key, newest first.

        Raises:
            NotReady: this node has no index key yet (zh-CN, says to wait).
        """
        live = self.live_keys()
        if not live:
            raise NotReady(NOT_SYNCED)
        return tuple(key.value(number) for key in live)

    def indexing_key(self) -> IndexKey:
        """The key records are indexed under: the newest that has settled (``settle_ms``
        old), else the oldest live one (the only one, at a network's first start).

        Raises:
            NotReady: this node has no index key yet.
        """
        live = self.live_keys()
        if not live:
            raise NotReady(NOT_SYNCED)
        settled = [k for k in live if self._now_ms() - k.created_ms >= self.settle_ms]
        return settled[0] if settled else live[-1]

    def index_values(self, numbers: Sequence[IdNumber]) -> tuple[str, ...]:
        """A record's ``subject_index`` for its subjects' numbers, under ``indexing_key``."""
        if not numbers:
            return ()
        key = self.indexing_key()
        return tuple(dict.fromkeys(key.value(n) for n in numbers))

    # -- the holder's subject numbers --------------------------------------------------------

    def seal_numbers(self, numbers: Sequence[IdNumber]) -> bytes:
        digits = json.dumps([n.digits for n in numbers]).encode()
        return seal(self.rest_key.public_key, digits)

    def _open_numbers(self, sealed: bytes) -> tuple[IdNumber, ...]:
        try:
            opened = self.rest_key.unseal(sealed)
        except Exception:  # nacl's CryptoError: not sealed to this rest.key
            raise StorageError(
                f"本节点 {self.parts.code} 保存的当事人证件号无法用 rest.key 打开："
                "请从备份恢复 rest.key（docs/operations.md，备份）"
            ) from None
        return tuple(IdNumber(d) for d in json.loads(opened))

    async def numbers(self, record_ids: Sequence[str]) -> dict[str, tuple[IdNumber, ...]]:
        """The subject numbers of those of ``record_ids`` (records held here) that have any."""
        stored = await self.store.subjects(record_ids)
        return {rid: self._open_numbers(sealed) for rid, sealed in stored.items()}

    async def prepare(
        self,
        records: Sequence[Record],
        subject_ids: Mapping[str, Sequence[IdNumber]],
    ) -> tuple[list[Record], TxnHook | None]:
        """Records as they are to be stored, with their blind index, and a function for the
        put's transaction that stores the sealed numbers given in ``subject_ids`` (by record
        id). A record with no numbers given keeps the numbers stored for it, indexed under
        the newest key; one with none anywhere keeps the ``subject_index`` it came with.

        Raises:
            NotReady: numbers are to be indexed and this node has no index key yet.
        """
        stored = await self.numbers(
            [r.record_id for r in records if r.record_id not in subject_ids]
        )
        prepared = []
        for record in records:
            numbers = subject_ids.get(record.record_id) or stored.get(record.record_id)
            if numbers:
                record = replace(record, subject_index=self.index_values(numbers))
            prepared.append(record)
        rows = [(rid, self.seal_numbers(list(n))) for rid, n in subject_ids.items() if n]
        return prepared, (lambda conn: put_subjects_txn(conn, rows)) if rows else None

    async def matches(self, number: IdNumber, record: Record) -> bool:
        """Whether ``number`` is the identity number of one of ``record``'s subjects, by the
        numbers sealed here at ingest (only the holder can answer; a record ingested with
        blind-index values but no numbers is matched by its values under the live keys).
        For the holder's rule that the subject asking for her own record is approved at
        once. False for a record another node holds."""
        if record.holder != self.parts.code:
            return False
        mine = (await self.numbers([record.record_id])).get(record.record_id)
        if mine is None:  # indexed elsewhere (ingested with ``subject_index`` only)
            values = self.search_values(number) if self._keys else ()
            return any(value in record.subject_index for value in values)
        return any(hmac.compare_digest(n.digits, number.digits) for n in mine)

    # -- keys from the parent, keys for the children -----------------------------------------

    async def refresh(self) -> bool:
        """Pull the live keys from the parent (the registry: rotate if due); re-index this
        node's records once a newer key has settled. True if a newer key arrived."""
        async with self._lock:
            before = self.newest_version
            if self.is_registry:
                due = self._keys and self._now_ms() - self._keys[0].created_ms >= self.rotation_ms
                if due:
                    key = await self._mint()
                    actor = node_actor(self.parts.code, self.parts.code)
                    detail = {"version": key.version, "scheduled": True}
                    await self.parts.audit.append(actor, ROTATE_ACT, self.parts.code, detail)
            else:
                await self._pull()
            newer = self.newest_version > before
        if self._keys and self.indexing_key().version != self._indexed_under:
            await self.reindex()
        return newer

    async def _pull(self) -> None:
        assert self.parent is not None
        request = IndexKeysRequest(known_version=self.newest_version)
        reply_env = await self.client.call(
            INDEX_KEYS, self.parent, self.parts.codec.encode(request)
        )
        reply = self.parts.codec.decode(IndexKeysReply, reply_env.payload)
        self._pulled_at = self.parts.signer.clock()
        if reply.newest_version <= self.newest_version or not reply.sealed_keys:
            return
        # sealed to the key the call was signed with, which is this node's current key
        try:
            packed = self.parts.signer.key.unseal(reply.sealed_keys)
        except Exception:  # nacl's CryptoError (only node/crypto.py may import nacl)
            raise ProtocolError(
                f"index keys from {self.parent} are not sealed to the key of {self.parts.code}"
            ) from None
        keys = index_keys.unpack_keys(packed)
        fresh = [k for k in keys if k.version not in {m.version for m in self._keys}]
        await self._add(fresh)
        log.info("%s holds identity index key v%d", self.parts.code, self.newest_version)

    async def answer(self, call: Envelope) -> IndexKeysReply:
        """A child's ``IndexKeys``: the live keys, sealed to the key its call was signed
        with (the verified leaf of its chain), so nobody else can read them."""
        if parent_of(call.origin) != self.parts.code:
            raise Misaddressed(f"{call.origin} is not a child of {self.parts.code}")
        request = self.parts.codec.decode(IndexKeysRequest, call.payload)
        if not self.is_registry and self._behind():
            # pull first if this node's copy may be behind (or it has none): a key minted at
            # the registry reaches a village on the village's own next tick
            try:
                async with self._lock:
                    if self._behind():  # not if another child's call just pulled
                        await self._pull()
            except NodeError as exc:
                # answer with what this node has; its children do not wait on a parent that
                # is down at every call, only once per pull_through_s
                self._pulled_at = self.parts.signer.clock()
                log.warning("%s could not pull index keys for %s: %s", self.parts.code,
                            call.origin, exc)  # fmt: skip
        newest = self.newest_version
        if newest == 0 or request.known_version >= newest:
            return IndexKeysReply(newest_version=newest)
        packed = index_keys.pack_keys(self.live_keys())
        return IndexKeysReply(newest, seal(call.chain[0].public_key, packed))

    def _behind(self) -> bool:
        stale = self.parts.signer.clock() - self._pulled_at > self.pull_through_s
        return stale or not self._keys

    async def rotate(self) -> IndexKey:
        """The registry mints a new key version (its operator's act, audited by the caller);
        every holder (the registry too) re-indexes once it has settled."""
        if not self.is_registry:
            raise Forbidden("只有省级根注册节点可以轮换身份索引密钥：请在省级节点上执行")
        async with self._lock:
            key = await self._mint()
        return key

    async def _mint(self) -> IndexKey:
        key = IndexKey.generate(self.newest_version + 1, self._now_ms())
        await self._add([key])
        log.info("registry %s minted identity index key v%d", self.parts.code, key.version)
        return key

    # -- re-indexing -------------------------------------------------------------------------

    async def reindex(self, *, actor: Actor = ANONYMOUS) -> int:
        """Store a new version of every record held here whose blind index is not under
        ``indexing_key``, with its values under that key; return how many. Each goes in the
        audit log with the record, and up the tree as any change does."""
        if not self._keys:
            return 0
        key = self.indexing_key()  # one key for the whole run
        under = key.version
        actor = actor if actor != ANONYMOUS else node_actor(self.parts.code, self.parts.code)
        record_ids = await self.store.indexed_records()
        changed = 0
        for start in range(0, len(record_ids), REINDEX_BATCH):
            chunk = record_ids[start : start + REINDEX_BATCH]
            numbers = await self.numbers(chunk)
            updated = []
            for record in await self.parts.records.get_many(chunk):
                mine = numbers.get(record.record_id, ())
                values = tuple(dict.fromkeys(key.value(n) for n in mine))
                if values and not record.deleted and record.subject_index != values:
                    updated.append(record.next_version(subject_index=values))
            if updated:
                entries = [
                    (actor, REINDEX_ACT, r.ref, {"version": r.version, "key": under})
                    for r in updated
                ]
                await self.parts.records.put(updated, self.parts.name,
                                             also=self.parts.audit.hook(entries))  # fmt: skip
                changed += len(updated)
                self.on_reindexed()
        self._indexed_under = under
        return changed
