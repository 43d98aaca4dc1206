"""The four-property check (DA/T 70): each check with a package that fails it and one that
passes; the unsafe packages (``../``, absolute paths, links, NFD names, a zip bomb, an
executable renamed ``.pdf``, a truncated PDF) refused before anything is extracted."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import stat
import unicodedata
import zipfile
from pathlib import Path

import bagit
import pypdf
import pytest

from node.fourcheck import check_package
from node.transfer import PackageLimits, PackageRefused, open_package

from .kit import (
    HEADER,
    HOLDER,
    csv_bytes,
    good_package,
    image_bytes,
    pdf_bytes,
    row,
    write_package,
    zip_folder,
)


def check(path: Path, limits: PackageLimits | None = None):  # type: ignore[no-untyped-def]
    with open_package(path, limits) as package:
        return check_package(package, HOLDER, 0)


def checks_failed(path: Path) -> set[tuple[str, str]]:
    return {(f.property, f.check) for f in check(path).report.findings}


def test_a_good_package_passes_all_four_and_yields_its_records(tmp_path: Path) -> None:
    batch = check(good_package(tmp_path / "p"))
    assert batch.report.ok and not batch.report.fatal
    assert [r.archival_code for r in batch.records] == [
        f"J001-HY·2015-Y-{i:04d}" for i in (1, 2, 3)
    ]
    assert all(r.files[0].media_type == "application/pdf" for r in batch.records)
    assert len(batch.contents) == 3
    assert batch.report.to_json()["properties"] == dict.fromkeys(
        ("真实性", "完整性", "可用性", "安全性"), True
    )
    assert "未发现问题" in batch.report.to_html()


def test_a_zipped_package_and_a_zipped_folder_pass(tmp_path: Path) -> None:
    folder = good_package(tmp_path / "p")
    assert check(zip_folder(folder, tmp_path / "p.zip")).report.ok
    with zipfile.ZipFile(tmp_path / "nested.zip", "w") as archive:
        for path in folder.rglob("*"):
            if path.is_file():
                archive.write(path, "pkg/" + path.relative_to(folder).as_posix())
    assert check(tmp_path / "nested.zip").report.ok


# -- 真实性 ------------------------------------------------------------------------------------


def test_a_content_hash_unlike_the_manifest_fails_authenticity(tmp_path: Path) -> None:
    folder = good_package(tmp_path / "p")
    (folder / "content/0002.pdf").write_bytes(pdf_bytes() + b"% changed\n")
    report = check(folder).report
    assert ("真实性", "hash") in {(f.property, f.check) for f in report.findings}
    assert not report.passed("真实性") and "摘要清单不符" in report.to_html()


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"形成日期": "2015-13-40"}, "形成日期"),
        ({"题名": "题" * 501}, "题名"),
        ({"保管期限": "五年"}, "保管期限"),
        ({"开放状态": "半开放"}, "开放状态"),
    ],
)
def test_metadata_of_the_wrong_type_length_or_range_fails_authenticity(
    tmp_path: Path, change: dict[str, str], reason: str
) -> None:
    rows = [row(1), row(2, **change), row(3)]
    report = check(write_package(tmp_path / "p", rows, {})).report
    (finding,) = report.findings
    assert (finding.property, finding.row) == ("真实性", 3) and reason in finding.reason
    assert report.bad_rows == {3} and not report.fatal


def test_a_badly_formed_archival_code_fails_authenticity(tmp_path: Path) -> None:
    rows = [row(1, 档号="J1-HY·2015-Y-1")]
    (finding,) = check(write_package(tmp_path / "p", rows, {})).report.findings
    assert finding.check == "archival_code" and "全宗号应为 4 位" in finding.reason
    rows = [row(1, 档号="J001-XX·2015-Y-0001")]
    assert (
        "门类代码未知" in check(write_package(tmp_path / "q", rows, {})).report.findings[0].reason
    )


def test_file_attributes_unlike_their_metadata_fail_authenticity(tmp_path: Path) -> None:
    header = (*HEADER, "计算机文件大小", "文件格式")
    data = pdf_bytes()

    folder = write_package(tmp_path / "p", [row(1, files="a.pdf")], {"a.pdf": data})
    (folder / "metadata.csv").write_bytes(
        csv_bytes([{**row(1, files="a.pdf"), "计算机文件大小": "99", "文件格式": "PDF"}], header)
    )
    (finding,) = check(folder).report.findings
    assert finding.check == "attributes" and "99" in finding.reason
    (folder / "metadata.csv").write_bytes(
        csv_bytes(
            [{**row(1, files="a.pdf"), "计算机文件大小": str(len(data)), "文件格式": "PDF"}], header
        )
    )
    assert check(folder).report.ok


def test_a_duplicate_archival_code_fails(tmp_path: Path) -> None:
    rows = [row(1), row(2), row(2, 题名="另一件")]
    report = check(write_package(tmp_path / "p", rows, {})).report
    assert [(f.check, f.row) for f in report.findings] == [("unique", 4), ("unique", 4)]


# -- 完整性 ------------------------------------------------------------------------------------


def test_counts_unlike_the_register_fail_integrity(tmp_path: Path) -> None:
    folder = good_package(tmp_path / "p")
    (folder / "register.json").write_text('{"件数": 4, "文件数": 3, "总字节数": 1}')
    found = check(folder).report.findings
    assert {f.check for f in found} == {"register"} and len(found) == 2
    assert check(folder).report.fatal
    (folder / "register.json").unlink()
    assert "缺少登记表" in check(folder).report.findings[0].reason


def test_a_missing_required_element_fails_integrity(tmp_path: Path) -> None:
    report = check(write_package(tmp_path / "p", [row(1, 责任者="")], {})).report
    assert [(f.property, f.check, f.row) for f in report.findings] == [("完整性", "required", 2)]
    assert "责任者" in report.findings[0].reason


def test_a_listed_file_missing_or_an_extra_file_fails_integrity(tmp_path: Path) -> None:
    folder = write_package(tmp_path / "p", [row(1, files="a.pdf；b.pdf")], {"a.pdf": pdf_bytes()})
    assert checks_failed(folder) == {("完整性", "file")}
    folder = write_package(
        tmp_path / "q", [row(1, files="a.pdf")], {"a.pdf": pdf_bytes(), "x.pdf": pdf_bytes()}
    )
    assert checks_failed(folder) == {("完整性", "extra")}


def test_a_gap_in_item_numbers_fails_integrity(tmp_path: Path) -> None:
    report = check(write_package(tmp_path / "p", [row(1), row(2), row(5)], {})).report
    (finding,) = report.findings
    assert finding.check == "continuity" and "0003、0004" in finding.reason and report.fatal


# -- 可用性 ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("a.pdf", pdf_bytes()),
        ("a.png", image_bytes("PNG")),
        ("a.jpg", image_bytes("JPEG")),
        ("a.tif", image_bytes("TIFF")),
        ("a.txt", "结婚证明".encode("gb18030")),
    ],
)
def test_files_of_keepable_formats_pass_usability(tmp_path: Path, name: str, data: bytes) -> None:
    assert check(write_package(tmp_path / "p", [row(1, files=name)], {name: data})).report.ok


def test_an_ofd_is_its_zip_with_ofd_xml(tmp_path: Path) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(
            "OFD.xml", '<?xml version="1.0"?><ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016"/>'
        )
        archive.writestr("Doc_0/Document.xml", "<ofd:Document/>")
    folder = write_package(tmp_path / "p", [row(1, files="a.ofd")], {"a.ofd": out.getvalue()})
    assert check(folder).report.ok
    assert check(folder).records[0].files[0].media_type == "application/ofd"


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("a.pdf", pdf_bytes()[:-40], "截断"),
        ("a.png", image_bytes("PNG")[:-30], "不完整"),
        ("a.jpg", image_bytes("JPEG")[:200], "不完整"),
        ("a.pdf", b"PK\x03\x04" + b"\x00" * 100, "长期保存格式"),
        ("a.txt", b"\xff\xfe\x00\x00bad", "文本"),
    ],
)
def test_truncated_or_unfit_files_fail_usability(
    tmp_path: Path, name: str, data: bytes, reason: str
) -> None:
    report = check(write_package(tmp_path / "p", [row(1, files=name)], {name: data})).report
    assert {(f.property, f.check) for f in report.findings} == {("可用性", "format")}
    assert reason in report.findings[0].reason


def test_an_encrypted_pdf_fails_usability(tmp_path: Path) -> None:
    writer = pypdf.PdfWriter()
    writer.add_blank_page(width=100, height=100)
    writer.encrypt("secret")
    out = io.BytesIO()
    writer.write(out)
    report = check(
        write_package(tmp_path / "p", [row(1, files="a.pdf")], {"a.pdf": out.getvalue()})
    ).report
    assert "加密" in report.findings[0].reason


# -- 安全性 ------------------------------------------------------------------------------------


def test_an_executable_renamed_pdf_fails_security_and_refuses_the_package(tmp_path: Path) -> None:
    elf = b"\x7fELF\x02\x01\x01" + b"\x00" * 200
    report = check(write_package(tmp_path / "p", [row(1, files="a.pdf")], {"a.pdf": elf})).report
    assert ("安全性", "executable") in {(f.property, f.check) for f in report.findings}
    assert report.fatal
    script = b"#!/bin/sh\nrm -rf /\n"
    report = check(write_package(tmp_path / "q", [row(1, files="a.txt")], {"a.txt": script})).report
    assert report.fatal and "脚本" in report.findings[0].reason


def test_a_classified_record_is_refused(tmp_path: Path) -> None:
    report = check(write_package(tmp_path / "p", [row(1, 密级="秘密")], {})).report
    assert [(f.property, f.check) for f in report.findings] == [("安全性", "classified")]
    assert (
        report.fatal
        and not check(write_package(tmp_path / "q", [row(1, 密级="公开")], {})).report.findings
    )


@pytest.mark.parametrize(
    ("member", "reason"),
    [("../evil.pdf", "路径穿越"), ("content/../../evil.pdf", "路径穿越"),
     ("/etc/evil.pdf", "绝对路径"), ("C:/evil.pdf", "绝对路径"), ("content\\evil.pdf", "反斜杠")],
)  # fmt: skip
def test_a_zip_with_an_unsafe_path_is_refused_before_extracting(
    tmp_path: Path, member: str, reason: str
) -> None:
    target = tmp_path / "p.zip"
    with zipfile.ZipFile(target, "w") as archive:
        archive.writestr("metadata.csv", "档号,题名,责任者\n")
        archive.writestr(member, b"x")
    before = set(Path("/tmp").iterdir()) if os.access("/tmp", os.R_OK) else set()
    with pytest.raises(PackageRefused) as refused:
        open_package(target)
    assert reason in str(refused.value) and refused.value.findings[0].property == "安全性"
    assert not (tmp_path / "evil.pdf").exists() and not Path("/etc/evil.pdf").exists()
    assert not any(
        p.name.startswith("archive-package-") for p in set(Path("/tmp").iterdir()) - before
    )


def test_a_symlink_in_a_folder_or_a_zip_is_refused(tmp_path: Path) -> None:
    folder = good_package(tmp_path / "p")
    (folder / "content/link.pdf").symlink_to("/etc/passwd")
    with pytest.raises(PackageRefused, match="符号链接"):
        open_package(folder)
    target = tmp_path / "l.zip"
    with zipfile.ZipFile(target, "w") as archive:
        info = zipfile.ZipInfo("content/link.pdf")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(info, "/etc/passwd")
    with pytest.raises(PackageRefused, match="符号链接"):
        open_package(target)


def test_nfd_names_are_normalised_to_nfc_and_match_their_metadata(tmp_path: Path) -> None:
    nfc = "content/café-结婚证.pdf"
    folder = write_package(tmp_path / "p", [row(1, files=nfc)], {})
    nfd = unicodedata.normalize("NFD", nfc)
    assert nfd != nfc
    (folder / "content").mkdir()
    (folder / nfd).write_bytes(pdf_bytes())
    (folder / "register.json").write_text(
        json.dumps({"件数": 1, "文件数": 1, "总字节数": len(pdf_bytes())})
    )
    (folder / "manifest-sha256.txt").write_text(
        f"{hashlib.sha256(pdf_bytes()).hexdigest()}  {nfc}\n"
    )
    batch = check(folder)
    assert batch.report.ok, batch.report.findings
    assert batch.records[0].files[0].name == "café-结婚证.pdf" and "NFC" in batch.report.notes[0]
    assert check(zip_folder(folder, tmp_path / "p.zip")).report.ok


def test_two_names_alike_after_nfc_are_refused(tmp_path: Path) -> None:
    target = tmp_path / "p.zip"
    with zipfile.ZipFile(target, "w") as archive:
        archive.writestr("café.pdf", b"1")
        archive.writestr(unicodedata.normalize("NFD", "café.pdf"), b"2")
    with pytest.raises(PackageRefused, match="NFC"):
        open_package(target)


def test_a_zip_bomb_is_refused_by_ratio_and_by_total(tmp_path: Path) -> None:
    target = tmp_path / "bomb.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("metadata.csv", "档号,题名,责任者\n")
        archive.writestr("content/zeros.pdf", b"\x00" * (8 << 20))
    with pytest.raises(PackageRefused, match="解压炸弹"):
        open_package(target)
    with pytest.raises(PackageRefused, match="超过"):
        open_package(target, PackageLimits(max_total_bytes=1 << 20, max_ratio=10**6))
    assert open_package(target, PackageLimits(max_ratio=10**6)).files  # the same zip, allowed


def test_a_zip_entry_larger_than_its_header_says_is_stopped(tmp_path: Path) -> None:
    target = tmp_path / "liar.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("metadata.csv", "档号,题名,责任者\n")
    data = bytearray(target.read_bytes())
    # the central directory's uncompressed size of the one entry, made smaller than it is
    central = data.rfind(b"PK\x01\x02")
    data[central + 24 : central + 28] = (3).to_bytes(4, "little")
    target.write_bytes(bytes(data))
    with pytest.raises(PackageRefused):
        open_package(target)


# -- BagIt --------------------------------------------------------------------------------------


def test_a_bagit_bag_is_a_package_validated_in_full(tmp_path: Path) -> None:
    folder = good_package(tmp_path / "bag")
    (folder / "register.json").unlink()
    (folder / "manifest-sha256.txt").unlink()
    bagit.make_bag(str(folder), {"Source-Organization": "西湖区档案馆"}, checksums=["sha256"])
    batch = check(folder)
    assert batch.report.ok and batch.report.kind == "bag" and len(batch.records) == 3
    assert check(zip_folder(folder, tmp_path / "bag.zip")).report.ok
    (folder / "data/content/0001.pdf").write_bytes(pdf_bytes() + b"% x\n")
    report = check(folder).report
    assert ("真实性", "bagit") in {(f.property, f.check) for f in report.findings} and report.fatal
    shutil.rmtree(folder / "data/content")
    assert not check(folder).report.ok


def test_a_bad_row_keeps_its_files_and_leaves_the_good_rows_storable(tmp_path: Path) -> None:
    rows = [
        row(1, files="a.pdf"),
        row(2, 形成日期="bad", files="b.pdf"),
        row(3, 题名="", files="c.pdf"),
    ]
    files = {
        "a.pdf": pdf_bytes() + b"% a\n",
        "b.pdf": pdf_bytes() + b"% b\n",
        "c.pdf": pdf_bytes() + b"% c\n",
    }
    batch = check(write_package(tmp_path / "p", rows, files))
    assert [(f.check, f.row) for f in batch.report.findings] == [("metadata", 3), ("required", 4)]
    assert not batch.report.fatal and [r.archival_code[-4:] for r in batch.records] == ["0001"]
    assert len(batch.contents) == 1  # only the good row's content is to be stored
