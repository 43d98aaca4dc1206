"""What a record shares with the catalogues above its holder, and what a parent accepts."""

from __future__ import annotations

from dataclasses import replace

import pytest
from storage.factories import make_record

from node.errors import InvalidRecord
from node.records import Access, ContentFile, catalogue_entry, validate_entry

SCAN = ContentFile("扫描件.pdf", "ab" * 32, 4096, "application/pdf")


def test_an_open_record_shares_its_title_and_subjects() -> None:
    record = make_record(1, title="王秀英、李建国结婚登记档案", subjects=("王秀英", "李建国"))
    entry = catalogue_entry(record, "西湖区档案馆")
    assert entry is not None and not entry.deleted
    assert (entry.title, entry.subjects) == (record.title, ("王秀英", "李建国"))
    validate_entry(entry)


def test_a_controlled_record_shares_neither_title_nor_names() -> None:
    record = make_record(
        2, title="张伟、刘洋结婚登记档案", subjects=("张伟", "刘洋"), access=Access.CONTROLLED
    )
    entry = catalogue_entry(record)
    assert entry is not None
    assert entry.title == "婚姻登记档案（2015年，控制使用）" and entry.subjects == ()
    assert "张伟" not in repr(entry)


@pytest.mark.parametrize("access", [Access.OPEN, Access.CONTROLLED])
def test_only_an_open_record_shares_its_contents_hash_and_size(access: Access) -> None:
    # a hash in a catalogue is what an alias of that content would name; only an open
    # record's content may be fetched, so only its entry says which content it is
    entry = catalogue_entry(make_record(5, access=access, subjects=(), files=(SCAN,)))
    assert entry is not None
    shared = (entry.content_sha256, entry.content_size)
    assert shared == ((SCAN.sha256, SCAN.size) if access == Access.OPEN else ("", 0))


def test_a_closed_record_shares_nothing_and_its_tombstone_no_names() -> None:
    record = make_record(3, title="周敏房屋所有权登记", subjects=("周敏",), access=Access.CLOSED)
    assert catalogue_entry(record) is None
    tombstone = catalogue_entry(replace(record, version=2))
    assert tombstone is not None and tombstone.deleted
    assert "周敏" not in repr(tombstone)


def test_a_parent_refuses_names_on_an_entry_that_is_not_open() -> None:
    record = make_record(4, subjects=("张伟",), access=Access.CONTROLLED)
    entry = catalogue_entry(record)
    assert entry is not None
    with pytest.raises(InvalidRecord, match="不得带有当事人姓名"):
        validate_entry(replace(entry, subjects=("张伟",)))


def test_a_disposed_records_tombstone_keeps_its_code_and_the_decision() -> None:
    record = make_record(1, access=Access.CONTROLLED)
    disposed = record.next_version(deleted=True, disposal="2026-12-04 鉴定销毁：期满")
    tombstone = catalogue_entry(disposed)
    assert tombstone is not None and tombstone.deleted
    assert tombstone.archival_code == record.archival_code
    assert tombstone.disposal == "2026-12-04 鉴定销毁：期满"
    assert not tombstone.title and not tombstone.subject_index
    with pytest.raises(InvalidRecord, match="只有已销毁"):
        record.next_version(disposal="not deleted")
    with pytest.raises(InvalidRecord):
        record.next_version(deleted=True, disposal="x" * 301)
