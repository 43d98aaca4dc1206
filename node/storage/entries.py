"""How a ``CatalogueEntry`` maps to a row of the ``catalogue`` table (and back).

Shared by the catalogue store, its search and the change log, which all read entries.
"""

from __future__ import annotations

import json
from typing import Any

from node.records import Access, CatalogueEntry, Retention

ENTRY_COLUMNS = (
    "holder", "record_id", "version", "archival_code", "category", "year", "retention",
    "title", "creator", "access", "holder_name", "subjects", "subject_index",
    "content_sha256", "content_size", "deleted", "disposal",
)  # fmt: skip
# JSON text for the tuple fields; one encoder, not one per call (bulk ingests).
dump_json = json.JSONEncoder(ensure_ascii=False).encode
SELECT_ENTRY = ", ".join(f"c.{name}" for name in ENTRY_COLUMNS)  # the table aliased as ``c``


_decode_json = json.JSONDecoder().decode
_RETENTIONS = {r.value: r for r in Retention}
_ACCESS_LEVELS = {a.value: a for a in Access}


def _names(text: str) -> tuple[str, ...]:
    return () if text == "[]" else tuple(_decode_json(text))  # most entries have none


def entry_from_row(row: Any) -> CatalogueEntry:
    """Build an entry from the ``ENTRY_COLUMNS`` of a catalogue row.

    On the path of every pushed batch and search hit: dict lookups instead of enum calls,
    and no JSON parse for an empty list.
    """
    (holder, record_id, version, archival_code, category, year, retention, title, creator,
     access, holder_name, subjects, subject_index, sha, size, deleted, disposal) = row  # fmt: skip
    return CatalogueEntry(
        holder=holder,
        record_id=record_id,
        version=version,
        archival_code=archival_code,
        category=category,
        year=year,
        retention=_RETENTIONS[retention],
        title=title,
        creator=creator,
        access=_ACCESS_LEVELS[access],
        holder_name=holder_name,
        subjects=_names(subjects),
        subject_index=_names(subject_index),
        content_sha256=sha,
        content_size=size,
        deleted=bool(deleted),
        disposal=disposal,
    )


def row_values(entry: CatalogueEntry) -> tuple[object, ...]:
    """The ``ENTRY_COLUMNS`` values to store for ``entry``."""
    return (
        entry.holder, entry.record_id, entry.version, entry.archival_code, entry.category,
        entry.year, str(entry.retention), entry.title, entry.creator, str(entry.access),
        entry.holder_name, dump_json(list(entry.subjects)),
        dump_json(list(entry.subject_index)), entry.content_sha256, entry.content_size,
        int(entry.deleted), entry.disposal,
    )  # fmt: skip
