"""The archival domain: records, access levels, catalogue entries, searches; 档号 (archival
codes), retention and 门类 are in ``node/archival.py`` and re-exported here.

A ``Record`` is what the holder keeps; a ``CatalogueEntry`` is the shareable part of it that
flows up the tree. Both are frozen: a change is a new version.

This is the domain boundary for records: a ``Record``, ``ContentFile`` or ``CatalogueEntry``
cannot be built with a field of the wrong type or out of range (``node/fields.py``), whichever
transport parsed it. The limits (``MAX_*`` below, listed in docs/operations.md) keep every
accepted record storable in SQLite and its catalogue entry small enough for any push batch,
so a record that is accepted can always be shared.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date as calendar_date
from enum import StrEnum

from node.archival import (  # noqa: F401  (re-exported: records.py is where callers look)
    CATEGORIES,
    CATEGORY_BY_CODE,
    ArchivalCode,
    Retention,
    nonstandard_reason,
    parse_archival_code,
)
from node.errors import InvalidCode, InvalidRecord
from node.fields import MAX_INT64, flag, integer, text, texts
from node.identity import validate_code


class Access(StrEnum):
    """Who may receive a record's content."""

    OPEN = "open"  # 开放: anyone
    CONTROLLED = "controlled"  # 控制使用: on an approved utilisation request
    CLOSED = "closed"  # never leaves the holder

    @property
    def zh(self) -> str:
        return {"open": "开放", "controlled": "控制使用", "closed": "不开放"}[self.value]


SECRECY_OPEN = ("", "公开", "非密", "无")  # 密级 values that are no state secret
_RECORD_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_FILE_NAME = re.compile(r"[^/\\\x00-\x1f]{1,128}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
MIN_YEAR, MAX_YEAR = 1600, 2100
# Field limits: generous for real records, and small enough that the largest catalogue entry
# (about 12 KB) times a full push batch stays far below what the wire carries per message
# (the pusher also splits a batch that would not fit).
MAX_TITLE_CHARS = 500
MAX_CREATOR_CHARS = 200
MAX_SUBJECTS = 50  # persons a record is about
MAX_SUBJECT_CHARS = 64
MAX_INDEX_CHARS = 128  # one blind-index value
MAX_FILES = 100
MAX_MEDIA_TYPE_CHARS = 127
MAX_DOC_TYPE_CHARS = 20
MAX_NAME_CHARS = 100  # a holder's name carried in its entries
MAX_DISPOSAL_CHARS = 300  # the disposal decision a disposed record's tombstone keeps
MAX_VERSION = MAX_INT64
MAX_CONTENT_SIZE = MAX_INT64
CLASSIFIED_MARKERS = ("涉密", "秘密", "机密", "绝密")


@dataclass(frozen=True)
class ContentFile:
    """One digital file of a record, stored by its sha256."""

    name: str
    sha256: str
    size: int
    media_type: str = "application/octet-stream"

    def __post_init__(self) -> None:
        name = text(self.name, "文件名", 128)
        if not _FILE_NAME.fullmatch(name) or name in (".", ".."):
            raise InvalidRecord(f"文件名不能含路径或控制字符: {name!r}")
        if not _SHA256.fullmatch(text(self.sha256, "文件摘要", 64)):
            raise InvalidRecord(f"文件摘要应为 64 位小写十六进制 sha256: {self.sha256!r}")
        integer(self.size, "文件大小（字节）", 0, MAX_CONTENT_SIZE)
        text(self.media_type, "文件类型（media_type）", MAX_MEDIA_TYPE_CHARS)


@dataclass(frozen=True)
class Record:
    """An archive record (件) as its holder keeps it."""

    holder: str
    record_id: str
    archival_code: str
    fonds: str
    category: str
    year: int
    retention: Retention
    title: str
    creator: str
    date: str  # 形成日期, ISO yyyy-mm-dd
    access: Access
    subjects: tuple[str, ...] = ()  # names of the persons the record is about
    subject_index: tuple[str, ...] = ()  # keyed blind index of their identity numbers
    files: tuple[ContentFile, ...] = ()
    version: int = 1
    deleted: bool = False
    disposal: str = ""  # a disposed record: the appraisal decision (date and reason)
    doc_type: str = ""  # 文种 (通知, 证明, 决定...)
    secrecy: str = ""  # 密级: only "", 公开, 非密, 无 are accepted (nothing classified)

    def __post_init__(self) -> None:
        validate_record(self)

    @property
    def ref(self) -> str:
        """``HOLDER/RECORD_ID``, how people and the CLI refer to a record."""
        return f"{self.holder}/{self.record_id}"

    def next_version(self, **changes: object) -> Record:
        return replace(self, version=self.version + 1, **changes)  # type: ignore[arg-type]


def validate_record(record: Record) -> None:
    """Raise ``InvalidRecord`` naming the first thing wrong with ``record``: each field's type
    and range first, then how the fields agree with each other and with the 档号."""
    _holder(record.holder, "馆藏单位（holder）")
    if not _RECORD_ID.fullmatch(text(record.record_id, "档案标识（record_id）", 64)):
        raise InvalidRecord(
            f"档案标识只能含字母、数字、点、下划线和连字符（最长 64 位）: {record.record_id!r}"
        )
    _facets(record.category, record.year, record.retention, record.access)
    text(record.fonds, "全宗号（fonds）", 8)
    text(record.title, "题名（title）", MAX_TITLE_CHARS)
    text(record.creator, "责任者（creator）", MAX_CREATOR_CHARS)
    _date(record.date)
    texts(record.subjects, "当事人（subjects）", MAX_SUBJECTS, MAX_SUBJECT_CHARS)
    texts(record.subject_index, "身份索引（subject_index）", MAX_SUBJECTS, MAX_INDEX_CHARS)
    if not isinstance(record.files, tuple) or len(record.files) > MAX_FILES:
        raise InvalidRecord(f"文件（files）应为列表，最多 {MAX_FILES} 个")
    if not all(isinstance(f, ContentFile) for f in record.files):
        raise InvalidRecord("文件（files）的每一项应为文件说明")
    integer(record.version, "版本号（version）", 1, MAX_VERSION)
    flag(record.deleted, "删除标记（deleted）")
    if text(record.disposal, "销毁鉴定", MAX_DISPOSAL_CHARS, lines=True) and not record.deleted:
        raise InvalidRecord("只有已销毁（deleted）的档案才带有销毁鉴定（disposal）")
    text(record.doc_type, "文种（doc_type）", MAX_DOC_TYPE_CHARS)
    if text(record.secrecy, "密级（secrecy）", 10) not in SECRECY_OPEN:
        raise InvalidRecord(
            f"密级为 {record.secrecy} 的涉密档案不得进入本网络，请按保密规定另行处理"
        )
    code = parse_archival_code(text(record.archival_code, "档号（archival_code）", 40))
    if CATEGORIES[record.category] != code.category_code:
        raise InvalidRecord(f"档号门类代码 {code.category_code} 与门类 {record.category} 不符")
    if code.year != record.year:
        raise InvalidRecord(f"档号年度 {code.year} 与年度 {record.year} 不符")
    if code.retention != record.retention:
        raise InvalidRecord(
            f"档号保管期限 {code.retention.code} 与保管期限 {record.retention} 不符"
        )
    if code.fonds != record.fonds:
        raise InvalidRecord(f"档号全宗号 {code.fonds} 与全宗号 {record.fonds} 不符")
    if not record.title.strip():
        raise InvalidRecord("题名不能为空")
    if any(marker in record.title for marker in CLASSIFIED_MARKERS):
        raise InvalidRecord("涉密档案不得进入本网络，请按保密规定另行处理")


def _holder(code: object, label: str) -> str:
    try:
        return validate_code(code)  # type: ignore[arg-type]  # any type: it is checked
    except InvalidCode as exc:
        raise InvalidRecord(f"{label}应为区划代码: {exc}") from None


def _facets(category: object, year: object, retention: object, access: object) -> None:
    """The filing facets a record and its entry share, typed (a plain string is not an
    ``Access``: whoever builds a record converts, so the value is known to be one)."""
    if not isinstance(category, str) or category not in CATEGORIES:
        known = "、".join(f"{name}（{code}）" for name, code in CATEGORIES.items())
        raise InvalidRecord(f"门类未知: {category!r}（可选: {known}）")
    integer(year, "年度（year）", MIN_YEAR, MAX_YEAR)
    if not isinstance(retention, Retention):
        raise InvalidRecord(f"保管期限未知: {retention!r}（可选: 永久、30年、10年）")
    if not isinstance(access, Access):
        raise InvalidRecord(f"开放状态未知: {access!r}（可选: open、controlled、closed）")


def _date(value: object) -> None:
    """形成日期: empty, or a real calendar date written ``yyyy-mm-dd``."""
    if not text(value, "形成日期（date）", 10):
        return
    try:
        if not _DATE.fullmatch(str(value)):
            raise ValueError
        calendar_date.fromisoformat(str(value))
    except ValueError:
        raise InvalidRecord(f"形成日期应为 yyyy-mm-dd（如 2015-05-20）: {value!r}") from None


def redacted_title(record: Record) -> str:
    """Title shown in catalogues for records that are not open: category and year only."""
    return f"{record.category}档案（{record.year}年，{record.access.zh}）"


@dataclass(frozen=True)
class CatalogueEntry:
    """The shareable part of a record; upserted by (holder, record_id, version)."""

    holder: str
    record_id: str
    version: int
    archival_code: str
    category: str
    year: int
    retention: Retention
    title: str
    creator: str
    access: Access
    holder_name: str = ""
    subjects: tuple[str, ...] = ()
    subject_index: tuple[str, ...] = ()
    content_sha256: str = ""
    content_size: int = 0
    deleted: bool = False
    disposal: str = ""  # a tombstone of a disposed record: the decision, as its holder took it

    @property
    def ref(self) -> str:
        return f"{self.holder}/{self.record_id}"


def validate_entry(entry: CatalogueEntry) -> None:
    """Raise ``InvalidRecord`` if an entry received from another node is malformed: the same
    types and limits as a record's (an entry a child could not have made is refused)."""
    _holder(entry.holder, "目录条目的馆藏单位")
    if not _RECORD_ID.fullmatch(text(entry.record_id, "目录条目的档案标识", 64)):
        raise InvalidRecord(f"目录条目的档案标识无效: {entry.record_id!r}")
    integer(entry.version, f"目录条目 {entry.ref} 的版本号", 1, MAX_VERSION)
    _facets(entry.category, entry.year, entry.retention, entry.access)
    text(entry.archival_code, "目录条目的档号", 40)
    text(entry.title, "目录条目的题名", MAX_TITLE_CHARS + 40)  # a redacted title is longer
    text(entry.creator, "目录条目的责任者", MAX_CREATOR_CHARS)
    text(entry.holder_name, "目录条目的馆藏单位名称", MAX_NAME_CHARS)
    texts(entry.subjects, "目录条目的当事人", MAX_SUBJECTS, MAX_SUBJECT_CHARS)
    texts(entry.subject_index, "目录条目的身份索引", MAX_SUBJECTS, MAX_INDEX_CHARS)
    if text(entry.content_sha256, "目录条目的内容摘要", 64) and not _SHA256.fullmatch(
        entry.content_sha256
    ):
        raise InvalidRecord(f"目录条目 {entry.ref} 的内容摘要无效")
    integer(entry.content_size, f"目录条目 {entry.ref} 的内容大小", 0, MAX_CONTENT_SIZE)
    flag(entry.deleted, "目录条目的删除标记")
    text(entry.disposal, "目录条目的销毁鉴定", MAX_DISPOSAL_CHARS, lines=True)
    if entry.access != Access.OPEN and entry.subjects:
        raise InvalidRecord(f"目录条目 {entry.ref} 不是开放档案，不得带有当事人姓名")


def catalogue_entry(record: Record, holder_name: str = "") -> CatalogueEntry | None:
    """The entry a record contributes to the catalogues above it, or ``None`` if it is closed.

    A closed record contributes a tombstone if it was shared before (version > 1) so that
    its earlier entry leaves the catalogues above; so does a deleted one. A tombstone carries
    the record's key, version and filing facets only. A record that is not open shares a
    redacted title and no subject names: otherwise a search for a person's name would tell
    anyone that this person has, say, a controlled social-security record. Its keyed blind
    index of identity numbers still travels. Nor does it share its content's hash and size:
    only those who may fetch content need them, and content is fetched only from open
    records; a hash seen in a catalogue is what an alias of that content would name.
    """
    if record.access == Access.CLOSED and record.version == 1:
        return None
    # A tombstone says only which record went: no text, no blind index, no content hash
    # stays behind in the catalogues above once a record is closed or deleted.
    tombstone = CatalogueEntry(
        holder=record.holder,
        record_id=record.record_id,
        version=record.version,
        archival_code=record.archival_code,
        category=record.category,
        year=record.year,
        retention=record.retention,
        title="",
        creator="",
        access=record.access,
        holder_name=holder_name,
        deleted=True,
        disposal=record.disposal,  # a disposed record's 档号 and decision stay behind
    )
    if record.access == Access.CLOSED or record.deleted:
        return tombstone
    shared = record.access == Access.OPEN
    first = record.files[0] if record.files and shared else None
    return replace(
        tombstone,
        title=record.title if shared else redacted_title(record),
        creator=record.creator,
        subjects=record.subjects if shared else (),
        subject_index=record.subject_index,
        content_sha256=first.sha256 if first else "",
        content_size=first.size if first else 0,
        deleted=False,
    )


MAX_QUERY_CHARS = 200
MAX_QUERY_INDEX = 8  # blind-index values in one search: one per live key version
MAX_PAGE = 200
MAX_BATCH_ENTRIES = 5_000  # catalogue entries in one push batch: what a parent accepts
MAX_INGEST_RECORDS = 1_000  # per ingest request; the CLI sends larger files in several


@dataclass(frozen=True)
class SearchQuery:
    """A catalogue search: free text plus filters, over the subtree of ``scope``.

    ``text`` may be empty (filters only). Words separated by spaces must all match; each
    word matches as a substring of the title, creator or a subject name.
    """

    text: str = ""
    scope: str = ""  # division code prefix; "" = the whole catalogue this node holds
    category: str | None = None
    year_from: int | None = None
    year_to: int | None = None
    limit: int = 20
    offset: int = 0
    retention: str | None = None  # a Retention value: 永久, 30年, 10年
    access: str | None = None  # an Access value: open, controlled
    cursor: str = ""  # from the previous page's next_cursor / prev_cursor; bound to the query
    archival_code: str = ""  # one 档号, canonical (``node.lookup``); "" = any
    # Blind-index values of one identity number, one per live key version (never the
    # number): only entries carrying one of them match. Set by the service point.
    subject_index: tuple[str, ...] = ()


@dataclass(frozen=True)
class SearchPage:
    """One page of search results and the total number of matches.

    ``total`` is exact when ``total_exact``; otherwise more than ``total`` entries match.
    The cursors ("" if there is no such page) fetch the next and the previous page of the
    same query.
    """

    total: int
    hits: tuple[CatalogueEntry, ...]
    answered_by: str = ""
    total_exact: bool = True
    next_cursor: str = ""
    prev_cursor: str = ""
