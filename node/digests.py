"""Value types of catalogue anti-entropy: key ranges, and what each side holds in them.

They travel on the wire (``CompareCatalogue`` / ``RepairCatalogue``) and are computed by
``storage/digest.py``, so they live in the domain, below both (docs/architecture.md, "The
layers"). A key is ``(holder, record_id)``, ordered as the catalogue's unique index orders it.
"""

from __future__ import annotations

from dataclasses import dataclass

Key = tuple[str, str]  # (holder, record_id)


@dataclass(frozen=True)
class KeyRange:
    """The keys ``lo <= key < hi``."""

    lo: Key
    hi: Key

    def params(self) -> tuple[str, str, str, str]:
        return (*self.lo, *self.hi)

    def contains(self, key: Key) -> bool:
        return self.lo <= key < self.hi

    def within(self, outer: KeyRange) -> bool:
        return outer.lo <= self.lo < self.hi <= outer.hi


def subtree_range(code: str) -> KeyRange:
    """Every key whose holder is ``code`` or under it (codes are digits; ``:`` follows ``9``)."""
    return KeyRange((code, ""), (code + ":", ""))


@dataclass(frozen=True)
class EntryDigest:
    holder: str
    record_id: str
    digest: bytes  # b"" = no such entry

    @property
    def key(self) -> Key:
        return (self.holder, self.record_id)


@dataclass(frozen=True)
class RangeDigest:
    """What one side holds in a range: how many entries and their combined digest."""

    range: KeyRange
    count: int
    digest: bytes


@dataclass(frozen=True)
class RangeView:
    """The parent's answer for a range that differs: its entries' digests, or a cut of it.

    When not ``listed``, ``splits`` cut the range into ``len(splits) + 1`` sub-ranges and
    ``parts`` gives the parent's ``(count, digest)`` of each, so the child can tell which
    sub-ranges differ without another call (a Merkle tree's next level).
    """

    range: KeyRange
    count: int
    listed: bool  # True: ``entries`` is every entry the parent holds in the range
    entries: tuple[EntryDigest, ...] = ()
    splits: tuple[Key, ...] = ()  # increasing, inside the range
    parts: tuple[tuple[int, bytes], ...] = ()

    def sub_ranges(self) -> list[KeyRange]:
        bounds = [self.range.lo, *self.splits, self.range.hi]
        return [KeyRange(a, b) for a, b in zip(bounds, bounds[1:], strict=False)]


@dataclass(frozen=True)
class RepairCounts:
    written: int = 0  # entries replaced or added with the child's copy
    removed: int = 0  # entries the child does not hold, deleted
    unchanged: int = 0  # already equal to the child's copy
    skipped: int = 0  # changed since the comparison (a push raced it): left for next time
