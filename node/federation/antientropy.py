"""Anti-entropy: a child and its parent compare the child's subtree catalogue and repair drift.

The push path keeps the parent's copy current as long as nothing goes wrong behind its back;
this catches what it cannot (a restored backup, a hand edit, a bug): rows lost, stale
versions, rows the child never had, a tombstone flipped.

The child drives, Merkle-style, over key ranges of ``(holder, record_id)`` (see
``storage/digest.py``). It sends the count and digest of its whole subtree; the parent
answers only the ranges that differ: with the digest of each of its entries when it holds
few there, else with split keys and its count and digest of every piece (about 64 entries
each). The child compares the pieces with its own digests locally and asks only about those
that differ; for each listed range it sends exactly the entries whose digests differ (with
the parent's digest as compared) and names the parent's entries it does not hold. The parent
applies them compare-and-set in one transaction per call, so a push that raced the
comparison is never rolled back. An intact pair costs one call with one range; a damaged one
usually two rounds and the repair calls.

A child may only compare and repair its own subtree; requests are bounded in ranges and
entries. Both calls are ordinary signed federation calls (admission, idempotency, limits).
"""

from __future__ import annotations

import asyncio
import bisect
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field

from node.digests import (
    EntryDigest,
    Key,
    KeyRange,
    RangeDigest,
    RangeView,
    RepairCounts,
    subtree_range,
)
from node.errors import Forbidden, InvalidInput, Misaddressed, NodeError, ProtocolError
from node.federation.client import FederationClient
from node.federation.messages import (
    COMPARE,
    MAX_PAYLOAD_BYTES,
    REPAIR,
    CompareReply,
    CompareRequest,
    Envelope,
    RepairRequest,
)
from node.federation.parts import NodeParts
from node.identity import covers, parent_of
from node.storage.digest import DIGEST_BYTES, CatalogueDigests, combine

log = logging.getLogger(__name__)

LEAF_ENTRIES = 64  # the parent lists a range's entries when it holds at most this many
MAX_FANOUT = 4096  # sub-ranges a differing range is cut into (so one round reaches leaves)
MAX_RANGES = 256  # ranges per CompareCatalogue call: sorted, disjoint
MAX_PARTS = 16_384  # sub-ranges per CompareReply (with the listings: about 2 MB at most)
MAX_REPAIR = 2_000  # entries plus removals per RepairCatalogue call
MAX_ROUNDS = 12  # only a misbehaving parent would need more
SNAPSHOT_ENTRIES = 250_000  # the child keeps its digests in memory up to this many (~50 MB)


@dataclass
class RepairReport:
    """What one anti-entropy run compared, sent and changed at the parent."""

    parent: str
    deep: bool = False  # every field compared, not only key, version and tombstone flag
    ranges: int = 0  # range digests compared
    differing: int = 0  # of them, ranges that differed
    rounds: int = 0
    sent: int = 0  # entries re-sent to the parent
    removals: int = 0  # parent entries named for removal
    counts: RepairCounts = field(default_factory=RepairCounts)
    seconds: float = 0.0

    @property
    def intact(self) -> bool:
        return self.differing == 0


def _add(a: RepairCounts, b: RepairCounts) -> RepairCounts:
    return RepairCounts(
        a.written + b.written,
        a.removed + b.removed,
        a.unchanged + b.unchanged,
        a.skipped + b.skipped,
    )


def _chunks(items: Sequence[KeyRange], size: int) -> list[Sequence[KeyRange]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


class _Digests:
    """This node's ``(key, digest)`` pairs by range: from one in-memory snapshot of the whole
    subtree when it is small enough, else read from the database (streamed, or in pages)."""

    def __init__(
        self, store: CatalogueDigests, pairs: list[tuple[Key, bytes]] | None, deep: bool
    ) -> None:
        self.store = store
        self.deep = deep
        self.pairs = pairs
        self.keys = [key for key, _ in pairs] if pairs is not None else []

    @classmethod
    async def of(cls, store: CatalogueDigests, whole: KeyRange, deep: bool) -> _Digests:
        if await store.count(whole) <= SNAPSHOT_ENTRIES:
            return cls(store, await store.scan(whole, deep=deep), deep)
        return cls(store, None, deep)

    def _slice(self, key_range: KeyRange) -> list[tuple[Key, bytes]]:
        assert self.pairs is not None
        lo = bisect.bisect_left(self.keys, key_range.lo)
        hi = bisect.bisect_left(self.keys, key_range.hi)
        return self.pairs[lo:hi]

    async def summary(self, key_range: KeyRange) -> tuple[int, bytes]:
        if self.pairs is None:
            return await self.store.summary(key_range, deep=self.deep)
        pairs = self._slice(key_range)
        return len(pairs), combine(digest for _, digest in pairs)

    async def pages(self, key_range: KeyRange) -> AsyncIterator[list[tuple[Key, bytes]]]:
        if self.pairs is not None:
            yield self._slice(key_range)
            return
        after: Key | None = None
        while page := await self.store.scan(key_range, after, MAX_REPAIR, deep=self.deep):
            yield page
            after = page[-1][0]


class CatalogueRepairer:
    """The child's side: compare this node's subtree with its parent's copy and repair it."""

    def __init__(self, client: FederationClient, parent: str) -> None:
        self.client = client
        self.parent = parent
        self.digests = CatalogueDigests(client.parts.catalogue.db)
        self._lock = asyncio.Lock()

    @property
    def code(self) -> str:
        return self.client.parts.code

    async def run_scheduled(self) -> RepairReport | None:
        """The scheduled run: skipped while the outbox still has changes to push (they would
        show as differences that the push is about to fix anyway); errors are logged."""
        parts = self.client.parts
        cursor = await parts.peers.get_cursor(self.parent)
        # something left to send (not ``cursor < head``: a change whose row anti-entropy
        # removed is never sent, and must not block this job for good)
        if await parts.changelog.entries_after(cursor, 1):
            log.debug("anti-entropy %s -> %s skipped: changes still queued", self.code, self.parent)
            return None
        try:
            return await self.repair()
        except NodeError as exc:
            log.warning("anti-entropy %s -> %s failed: %s", self.code, self.parent, exc)
            return None

    async def repair(self, *, deep: bool = False) -> RepairReport:
        """Compare and repair now; one run at a time per node.

        ``deep`` compares every field of every entry (reading whole rows on both sides), not
        only keys, versions and tombstone flags (read from an index): slower, and needed only
        to find a field changed without a new version, e.g. by a hand edit.
        """
        async with self._lock:
            started = time.monotonic()
            report = RepairReport(self.parent, deep=deep)
            whole = subtree_range(self.code)
            mine = await _Digests.of(self.digests, whole, deep)
            repairs = _RepairBuffer(self, report)
            pending = [whole]
            while pending:
                report.rounds += 1
                if report.rounds > MAX_ROUNDS:
                    raise ProtocolError(
                        f"{self.parent} kept splitting ranges past round {MAX_ROUNDS}"
                    )
                next_round: list[KeyRange] = []
                for chunk in _chunks(pending, MAX_RANGES):
                    for view in await self._compare(chunk, mine, report):
                        if view.listed:
                            await repairs.resolve(view, mine)
                        else:
                            next_round.extend(await self._differing_parts(view, mine, report))
                pending = next_round
            await repairs.flush()
            report.seconds = time.monotonic() - started
            c = report.counts
            log.info(
                "anti-entropy %s -> %s%s: %d ranges compared in %d rounds, %d differed; sent %d "
                "entries and %d removals; parent wrote %d, removed %d, unchanged %d, "
                "skipped %d; %.2f s",
                self.code, self.parent, " (deep)" if deep else "", report.ranges,
                report.rounds, report.differing, report.sent, report.removals, c.written,
                c.removed, c.unchanged, c.skipped, report.seconds,
            )  # fmt: skip
            return report

    async def _compare(
        self, ranges: Sequence[KeyRange], mine: _Digests, report: RepairReport
    ) -> list[RangeView]:
        parts = self.client.parts
        request = CompareRequest(
            tuple([RangeDigest(r, *await mine.summary(r)) for r in ranges]), deep=mine.deep
        )
        reply = await self.client.call(COMPARE, self.parent, parts.codec.encode(request))
        views = list(parts.codec.decode(CompareReply, reply.payload).differing)
        asked = set(ranges)
        for view in views:
            if view.range not in asked:
                raise ProtocolError(f"{self.parent} answered for a range that was not asked")
            asked.discard(view.range)  # each at most once
        report.ranges += len(ranges)
        report.differing += len(views)
        return views

    async def _differing_parts(
        self, view: RangeView, mine: _Digests, report: RepairReport
    ) -> list[KeyRange]:
        """The sub-ranges of a cut range whose digests differ from the parent's parts."""
        subs = _sub_ranges(view)
        differing = []
        for sub, theirs in zip(subs, view.parts, strict=True):
            if await mine.summary(sub) != theirs:
                differing.append(sub)
        report.ranges += len(subs)
        report.differing += len(differing)
        return differing


class _RepairBuffer:
    """Collects the entries to send and the keys to remove; sends them in bounded calls."""

    def __init__(self, repairer: CatalogueRepairer, report: RepairReport) -> None:
        self.repairer = repairer
        self.report = report
        self.entries: list[tuple[Key, bytes]] = []  # keys to send, with the parent's digest
        self.removals: list[EntryDigest] = []

    async def resolve(self, view: RangeView, mine: _Digests) -> None:
        """Compare the parent's listing of a range with this node's digests there."""
        theirs: dict[Key, bytes] = {}
        for listed in view.entries:
            if not view.range.contains(listed.key) or len(listed.digest) != DIGEST_BYTES:
                raise ProtocolError(f"{self.repairer.parent} listed an entry outside the range")
            theirs[listed.key] = listed.digest
        async for page in mine.pages(view.range):
            for key, digest in page:
                expected = theirs.pop(key, b"")
                if expected != digest:
                    self.entries.append((key, expected))
            await self.flush(full_only=True)
        self.removals.extend(EntryDigest(*key, digest) for key, digest in theirs.items())
        await self.flush(full_only=True)

    async def flush(self, *, full_only: bool = False) -> None:
        while self.entries or self.removals:
            if full_only and len(self.entries) + len(self.removals) < MAX_REPAIR:
                return
            entries = self.entries[:MAX_REPAIR]
            removals = self.removals[: MAX_REPAIR - len(entries)]
            del self.entries[: len(entries)]
            del self.removals[: len(removals)]
            await self._send(entries, removals)

    async def _send(self, keyed: list[tuple[Key, bytes]], removals: list[EntryDigest]) -> None:
        repairer = self.repairer
        parts = repairer.client.parts
        expected = dict(keyed) | {r.key: r.digest for r in removals}
        # The current entries: newer than the comparison is fine, the parent checks its side.
        # A key to remove that arrived here since the comparison (and was pushed up) is sent
        # instead: the parent only ever gets this subtree's entries from this node.
        current = await repairer.digests.entries(list(expected))
        entries = tuple((e, expected[(e.holder, e.record_id)]) for e in current)
        present = {(e.holder, e.record_id) for e in current}
        request = RepairRequest(
            entries, tuple(r for r in removals if r.key not in present), deep=self.report.deep
        )
        payload = parts.codec.encode(request)
        if len(payload) > MAX_PAYLOAD_BYTES and len(keyed) > 1:
            # large entries: send the keys in two calls rather than one the parent refuses
            half = len(keyed) // 2
            await self._send(keyed[:half], removals)
            await self._send(keyed[half:], [])
            return
        reply = await repairer.client.call(REPAIR, repairer.parent, payload)
        self.report.sent += len(request.entries)
        self.report.removals += len(request.removals)
        self.report.counts = _add(
            self.report.counts, parts.codec.decode(RepairCounts, reply.payload)
        )


def _sub_ranges(view: RangeView) -> list[KeyRange]:
    """The parent's cut of a differing range (checked: increasing keys inside it, one part
    per sub-range, the parts' counts adding up)."""
    bounds = [view.range.lo, *view.splits, view.range.hi]
    if (
        not view.splits
        or any(a >= b for a, b in zip(bounds, bounds[1:], strict=False))
        or len(view.parts) != len(view.splits) + 1
        or sum(count for count, _ in view.parts) != view.count
    ):
        raise ProtocolError("the parent's split keys do not cut the range")
    return view.sub_ranges()


class CatalogueComparer:
    """The parent's side: answer a child's range digests and apply its repairs."""

    def __init__(self, parts: NodeParts, on_catalogue_changed: Callable[[], None]) -> None:
        self.parts = parts
        self.on_catalogue_changed = on_catalogue_changed
        self.digests = CatalogueDigests(parts.catalogue.db)

    def _check_child(self, call: Envelope, what: str) -> None:
        if parent_of(call.origin) != self.parts.code:
            raise Misaddressed(
                f"{call.origin} is not a child of {self.parts.code}; it may not {what}"
            )

    async def compare(self, call: Envelope) -> bytes:
        self._check_child(call, "compare catalogues here")
        request = self.parts.codec.decode(CompareRequest, call.payload)
        if not 1 <= len(request.ranges) <= MAX_RANGES:
            raise InvalidInput(
                f"compare request of {len(request.ranges)} ranges (1 to {MAX_RANGES})"
            )
        subtree = subtree_range(call.origin)
        ranges = [asked.range for asked in request.ranges]
        if any(a.hi > b.lo for a, b in zip(ranges, ranges[1:], strict=False)):
            raise InvalidInput("compare request ranges must be sorted and disjoint")
        for asked in request.ranges:
            if len(asked.digest) != DIGEST_BYTES:
                raise InvalidInput(f"range digest of {len(asked.digest)} bytes ({DIGEST_BYTES})")
            if not asked.range.within(subtree):
                raise Forbidden(
                    f"{call.origin} may only compare its own subtree; range "
                    f"{asked.range.lo}..{asked.range.hi} is outside it"
                )
        fanout = min(MAX_FANOUT, max(2, MAX_PARTS // len(ranges)))
        mine = await self.digests.views(ranges, LEAF_ENTRIES, fanout, deep=request.deep)
        differing = tuple(
            view
            for asked, (summary, view) in zip(request.ranges, mine, strict=True)
            if (asked.count, asked.digest) != (summary.count, summary.digest)
        )
        return self.parts.codec.encode(CompareReply(differing))

    async def repair(self, call: Envelope) -> bytes:
        self._check_child(call, "repair catalogues here")
        request = self.parts.codec.decode(RepairRequest, call.payload)
        size = len(request.entries) + len(request.removals)
        if size > MAX_REPAIR:
            raise InvalidInput(f"repair of {size} entries and removals (at most {MAX_REPAIR})")
        digests = [d for _, d in request.entries if d] + [r.digest for r in request.removals]
        if any(len(d) != DIGEST_BYTES for d in digests):
            raise InvalidInput(f"repair names an entry digest that is not {DIGEST_BYTES} bytes")
        holders = [e.holder for e, _ in request.entries] + [r.holder for r in request.removals]
        for holder in holders:
            if not covers(call.origin, holder):
                raise Forbidden(
                    f"{call.origin} may only repair its own subtree; {holder} is outside it"
                )
        counts = await self.digests.repair(request.entries, request.removals, deep=request.deep)
        if counts.written:
            self.on_catalogue_changed()  # repaired entries travel up like any change
        log.info(
            "anti-entropy repair from %s: wrote %d, removed %d, unchanged %d, skipped %d",
            call.origin, counts.written, counts.removed, counts.unchanged, counts.skipped,
        )  # fmt: skip
        return self.parts.codec.encode(counts)
