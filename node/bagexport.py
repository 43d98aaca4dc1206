"""Writing records and their content as a BagIt bag (RFC 8493), which re-ingests as a package.

The bag: ``bagit.txt`` (``BagIt-Version: 1.0``), ``bag-info.txt`` (the holder, its name, the
export time, ``Payload-Oxum``, ``Bag-Size``), ``manifest-sha256.txt`` and
``manifest-sha512.txt`` over the payload, ``tagmanifest-*`` over the tag files, and in
``data/``: ``metadata.jsonl`` (one record per line, our field names, its files as paths in the
bag), ``metadata.xml`` (the same records as DA/T 46-style elements, for other tools),
``register.json`` (counts and bytes) and ``content/RECORD_ID/FILE``. ``node/transfer.py`` reads
it back as a package, so an exported bag ingests into another node as the same records.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from xml.sax.saxutils import escape

from node.records import Record

_CHUNK = 1 << 20


def record_row(record: Record) -> dict[str, object]:
    """A record as a metadata line of the bag (what ``node/metadata.py`` reads back)."""
    return {
        "record_id": record.record_id,
        "archival_code": record.archival_code,
        "fonds": record.fonds,
        "category": record.category,
        "year": record.year,
        "retention": str(record.retention),
        "title": record.title,
        "creator": record.creator,
        "date": record.date,
        "access": str(record.access),
        "doc_type": record.doc_type,
        "secrecy": record.secrecy,
        "subjects": list(record.subjects),
        "subject_index": list(record.subject_index),
        "files": [f"content/{record.record_id}/{f.name}" for f in record.files],
    }


def record_xml(record: Record) -> str:
    """One record as DA/T 46-style XML elements (档号, 题名, 责任者, 形成日期...)."""
    e = escape
    files = "".join(
        f"<电子文件><计算机文件名>{e(f.name)}</计算机文件名><计算机文件大小>{f.size}"
        f'</计算机文件大小><格式信息>{e(f.media_type)}</格式信息><摘要 算法="SHA-256">'
        f"{f.sha256}</摘要></电子文件>"
        for f in record.files
    )
    return (
        f"<文件><档号>{e(record.archival_code)}</档号><全宗号>{e(record.fonds)}</全宗号>"
        f"<门类>{e(record.category)}</门类><年度>{record.year}</年度>"
        f"<保管期限>{e(str(record.retention))}</保管期限><题名>{e(record.title)}</题名>"
        f"<责任者>{e(record.creator)}</责任者><形成日期>{e(record.date)}</形成日期>"
        f"<文种>{e(record.doc_type)}</文种><密级>{e(record.secrecy)}</密级>"
        f"<开放状态>{e(record.access.zh)}</开放状态>{files}</文件>\n"
    )


def _digests(path: Path) -> tuple[str, str]:
    sha256, sha512 = hashlib.sha256(), hashlib.sha512()
    with open(path, "rb") as file:
        while chunk := file.read(_CHUNK):
            sha256.update(chunk)
            sha512.update(chunk)
    return sha256.hexdigest(), sha512.hexdigest()


def write_bag(
    target: Path,
    records: Sequence[Record],
    content_path: Callable[[str], Path],
    bag_info: dict[str, str],
) -> tuple[int, int]:
    """Write ``records`` and their content (``content_path(sha256)``) as a bag in the new
    folder ``target``; return (files, payload bytes). The folder must not exist."""
    data = target / "data"
    (data / "content").mkdir(parents=True)
    lines = [json.dumps(record_row(r), ensure_ascii=False) + "\n" for r in records]
    (data / "metadata.jsonl").write_text("".join(lines), encoding="utf-8")
    xml = "".join(record_xml(r) for r in records)
    (data / "metadata.xml").write_text(
        f'<?xml version="1.0" encoding="UTF-8"?>\n<档案 件数="{len(records)}">\n{xml}</档案>\n',
        encoding="utf-8",
    )
    content_files = total = 0
    for record in records:
        folder = data / "content" / record.record_id
        folder.mkdir(exist_ok=True)
        for file in record.files:
            target_file = folder / file.name
            # a copy, never a link: whatever is done to the bag leaves the store as it was
            shutil.copyfile(content_path(file.sha256), target_file)
            content_files += 1
            total += file.size
    register = {"件数": len(records), "文件数": content_files, "总字节数": total}
    (data / "register.json").write_text(json.dumps(register, ensure_ascii=False), "utf-8")
    manifests: dict[str, list[str]] = {"sha256": [], "sha512": []}
    oxum_bytes = oxum_files = 0
    for path in sorted(p for p in data.rglob("*") if p.is_file()):
        rel = path.relative_to(target).as_posix()
        sha256, sha512 = _digests(path)
        manifests["sha256"].append(f"{sha256}  {rel}\n")
        manifests["sha512"].append(f"{sha512}  {rel}\n")
        oxum_bytes += path.stat().st_size
        oxum_files += 1
    (target / "bagit.txt").write_text(
        "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n", "utf-8"
    )
    info = {**bag_info, "Payload-Oxum": f"{oxum_bytes}.{oxum_files}"}
    (target / "bag-info.txt").write_text(
        "".join(f"{key}: {value}\n" for key, value in info.items()), "utf-8"
    )
    for algorithm, entries in manifests.items():
        (target / f"manifest-{algorithm}.txt").write_text("".join(entries), "utf-8")
    tags = ["bagit.txt", "bag-info.txt", "manifest-sha256.txt", "manifest-sha512.txt"]
    for algorithm in ("sha256", "sha512"):
        entries = []
        for name in tags:
            digest = dict(zip(("sha256", "sha512"), _digests(target / name), strict=True))
            entries.append(f"{digest[algorithm]}  {name}\n")
        (target / f"tagmanifest-{algorithm}.txt").write_text("".join(entries), "utf-8")
    return content_files, total


def zip_bag(folder: Path, target: Path) -> None:
    """The bag in ``folder`` as a zip whose one top folder is the bag (as BagIt tools zip)."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, f"{folder.name}/{path.relative_to(folder).as_posix()}")
