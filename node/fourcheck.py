"""The four-property check (四性检测, DA/T 70) of a transfer package, and its report.

- 真实性 (authenticity): each content file hashes to what the manifest says; metadata values
  have the right type, length and range; each 档号 is well formed (DA/T 22) and unique; the
  files' size and format are what the metadata states.
- 完整性 (integrity): the counts and total bytes are what the register says; the required
  elements are there; every file a row names is in the package and the package has no file
  no row names; item numbers run without a gap within each 档号 series.
- 可用性 (usability): each file is identified by its bytes (``node/formats.py``) as a format
  fit for keeping and opens as that format, not encrypted.
- 安全性 (security): what ``node/transfer.py`` refuses before reading (paths, links, sizes,
  zip bombs, names), no executable or script, nothing classified.

A finding about one row (``Finding.row``) leaves that row out when the archivist chooses
"ingest the good rows"; any other finding (about the package as a whole, or 安全性) means
nothing is stored. ``CheckReport`` is frozen, with ``to_json`` and a printable ``to_html``.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

from node.checkreport import CheckReport
from node.errors import InvalidRecord
from node.formats import FileFormat, identify
from node.metadata import Row, rows_of
from node.records import ContentFile, Record, parse_archival_code
from node.transfer import MANIFEST_NAME, METADATA_NAMES, REGISTER_NAME, Finding, Package

Progress = Callable[[int, int], None]
_HASH_CHUNK = 1 << 20


@dataclass(frozen=True)
class CheckedBatch:
    """A checked batch: its report, the records of the rows without findings (with their
    files), and where each of their contents is (sha256 -> path inside the package)."""

    report: CheckReport
    records: tuple[Record, ...] = ()
    contents: dict[str, Path] = field(default_factory=dict)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _row_subject(row: Row) -> str:
    code = f"（档号 {row.record.archival_code}）" if row.record else ""
    return f"第 {row.number} 行{code}"


def check_package(
    package: Package, holder: str, at_ms: int, progress: Progress | None = None
) -> CheckedBatch:
    """Check ``package`` (opened by ``transfer.open_package``) for ``holder``."""
    findings: list[Finding] = list(package.bag_problems)
    notes = [f"文件名已统一为 NFC：{n}" for n in package.renamed[:20]]
    payload = package.payload()
    meta_name = next((n for n in METADATA_NAMES if n in payload), "")
    base = CheckReport(package.source, holder, at_ms, package.kind, 0, 0, 0)
    if not meta_name:
        findings.append(
            Finding("完整性", "metadata", "移交包", "缺少元数据文件 metadata.csv 或 metadata.jsonl")
        )
        return CheckedBatch(replace(base, findings=tuple(findings), notes=tuple(notes)))
    rows, unknown, problem = rows_of(meta_name, payload[meta_name].read_bytes(), holder)
    if unknown:
        notes.append(f"未采用的著录项：{'、'.join(unknown[:20])}")
    if problem:
        findings.append(Finding("真实性", "metadata", meta_name, problem))
    for row in rows:
        findings += [Finding(p, c, _row_subject(row), r, row.number) for p, c, r in row.problems]
    special = {meta_name, REGISTER_NAME, MANIFEST_NAME, "metadata.xml"}  # a bag we exported
    content = {n: p for n, p in payload.items() if n not in special}
    total = len(rows) + len(content)
    done = 0
    hashes: dict[str, str] = {}
    formats: dict[str, FileFormat] = {}
    for name, path in sorted(content.items()):
        hashes[name] = sha256_file(path)
        formats[name] = identify(path)
        done += 1
        if progress is not None:
            progress(done, total)
    sizes = {n: p.stat().st_size for n, p in content.items()}
    findings += _register(package, payload, len(rows), sizes)
    findings += _manifest(package, payload, hashes)
    for name, fmt in formats.items():
        findings += [Finding("安全性", "executable", name, r) for r in fmt.unsafe]
    named: set[str] = set()
    records: list[tuple[int, Record]] = []
    seen_codes: dict[str, int] = {}
    seen_ids: dict[str, int] = {}
    for row in rows:
        done += 1
        if progress is not None and (done % 1000 == 0 or done == total):
            progress(done, total)
        if row.record is None:
            named.update(str(PurePosixPath(raw.replace("\\", "/"))) for raw in row.files)
            continue
        subject = _row_subject(row)
        mine: list[Finding] = []
        code = row.record.archival_code
        if code in seen_codes:
            mine.append(
                Finding(
                    "真实性", "unique", subject, f"档号与第 {seen_codes[code]} 行重复", row.number
                )
            )
        seen_codes.setdefault(code, row.number)
        if row.record.record_id in seen_ids:
            mine.append(
                Finding(
                    "真实性",
                    "unique",
                    subject,
                    f"档案标识与第 {seen_ids[row.record.record_id]} 行重复",
                    row.number,
                )
            )
        seen_ids.setdefault(row.record.record_id, row.number)
        files: list[ContentFile] = []
        for raw in row.files:
            name = str(PurePosixPath(raw.replace("\\", "/")))
            named.add(name)
            if name not in content:
                mine.append(
                    Finding(
                        "完整性", "file", subject, f"著录的电子文件 {raw} 不在移交包中", row.number
                    )
                )
                continue
            fmt = formats[name]
            mine += [
                Finding("可用性", "format", subject, f"{raw}：{r}", row.number)
                for r in fmt.unusable
            ]
            try:
                files.append(
                    ContentFile(
                        PurePosixPath(name).name,
                        hashes[name],
                        sizes[name],
                        fmt.media_type or "application/octet-stream",
                    )
                )
            except InvalidRecord as exc:
                mine.append(Finding("真实性", "file", subject, str(exc), row.number))
        mine += _attributes(row, files, formats, subject)
        if mine or row.problems:
            findings += mine
            continue
        try:
            record = replace(row.record, files=tuple(files)) if files else row.record
            records.append((row.number, record))
        except InvalidRecord as exc:
            findings.append(Finding("真实性", "metadata", subject, str(exc), row.number))
    for extra in sorted(set(content) - named):
        findings.append(
            Finding("完整性", "extra", extra, "移交包中的文件没有对应的著录条目（多余文件）")
        )
    findings += _continuity(rows)
    counts = Counter(f.media_type or "未知" for f in formats.values())
    report = replace(
        base,
        rows=len(rows),
        files=len(content),
        total_bytes=sum(sizes.values()),
        findings=tuple(findings),
        notes=tuple(notes),
        formats=tuple(sorted(counts.items())),
    )
    bad = report.bad_rows
    keep = tuple(r for number, r in records if number not in bad)
    wanted = {f.sha256 for r in keep for f in r.files}
    contents = {hashes[n]: content[n] for n in content if hashes[n] in wanted}
    return CheckedBatch(report, keep, contents)


def _attributes(
    row: Row, files: list[ContentFile], formats: dict[str, FileFormat], subject: str
) -> list[Finding]:
    found = []
    size = sum(f.size for f in files)
    if row.file_bytes is not None and files and row.file_bytes != size:
        found.append(
            Finding(
                "真实性",
                "attributes",
                subject,
                f"著录的文件大小 {row.file_bytes} 字节与实际 {size} 字节不符",
                row.number,
            )
        )
    if row.file_format and files:
        labels = {
            formats[str(PurePosixPath(n))].label.upper()
            for n in row.files
            if str(PurePosixPath(n)) in formats
        }
        if row.file_format.upper() not in labels:
            found.append(
                Finding(
                    "真实性",
                    "attributes",
                    subject,
                    f"著录的文件格式 {row.file_format} 与实际格式 {'、'.join(sorted(labels))} 不符",
                    row.number,
                )
            )
    return found


def _register(
    package: Package, payload: dict[str, Path], rows: int, sizes: dict[str, int]
) -> list[Finding]:
    path = payload.get(REGISTER_NAME)
    if path is None:
        if sizes and package.kind != "bag":
            return [
                Finding(
                    "完整性",
                    "register",
                    REGISTER_NAME,
                    "移交包含电子文件，但缺少登记表 register.json",
                )
            ]
        return []
    try:
        data = json.loads(path.read_bytes().decode("utf-8-sig"))
        if not isinstance(data, dict):
            raise ValueError
    except (ValueError, UnicodeDecodeError):
        return [Finding("完整性", "register", REGISTER_NAME, "登记表不是有效的 JSON 对象")]
    found = []
    for keys, actual, label in (
        (("件数", "record_count"), rows, "条目数"),
        (("文件数", "file_count"), len(sizes), "文件数"),
        (("总字节数", "total_bytes"), sum(sizes.values()), "总字节数"),
    ):
        stated = next((data[k] for k in keys if k in data), None)
        if stated is None:
            found.append(
                Finding("完整性", "register", REGISTER_NAME, f"登记表缺少{label}（{keys[0]}）")
            )
        elif stated != actual:
            found.append(
                Finding(
                    "完整性",
                    "register",
                    REGISTER_NAME,
                    f"登记的{label} {stated} 与实际 {actual} 不符",
                )
            )
    return found


def _manifest(package: Package, payload: dict[str, Path], hashes: dict[str, str]) -> list[Finding]:
    if package.kind == "bag":
        return []  # the bag's own manifests were recomputed in full by ``transfer.validate_bag``
    path = payload.get(MANIFEST_NAME)
    if path is None:
        if hashes:
            return [
                Finding(
                    "真实性",
                    "manifest",
                    MANIFEST_NAME,
                    "移交包含电子文件，但缺少摘要清单 manifest-sha256.txt",
                )
            ]
        return []
    listed: dict[str, str] = {}
    found = []
    for number, line in enumerate(path.read_bytes().decode("utf-8", "replace").splitlines(), 1):
        if not line.strip():
            continue
        digest, _, name = line.strip().partition(" ")
        listed[str(PurePosixPath(name.strip().lstrip("*")))] = digest.lower()
        if len(digest) != 64:
            found.append(
                Finding("真实性", "manifest", MANIFEST_NAME, f"第 {number} 行不是 sha256 摘要")
            )
    for name, digest in sorted(hashes.items()):
        if name not in listed:
            found.append(Finding("完整性", "manifest", name, "文件不在摘要清单中"))
        elif listed[name] != digest:
            found.append(
                Finding("真实性", "hash", name, "文件的 sha256 与摘要清单不符（内容被改动或损坏）")
            )
    for name in sorted(set(listed) - set(hashes)):
        found.append(Finding("完整性", "manifest", name, "摘要清单列出的文件不在移交包中"))
    return found


def _continuity(rows: list[Row]) -> list[Finding]:
    series: dict[str, set[int]] = defaultdict(set)
    for row in rows:
        try:
            code = parse_archival_code(row.code)
        except InvalidRecord:
            continue  # the row's own finding says why
        series[code.series].add(code.item)
    found = []
    for name, items in sorted(series.items()):
        gaps = sorted(set(range(min(items), max(items) + 1)) - items)
        if gaps:
            shown = "、".join(f"{i:04d}" for i in gaps[:10])
            found.append(
                Finding(
                    "完整性",
                    "continuity",
                    name,
                    f"件号不连续，缺少 {shown}{'等' if len(gaps) > 10 else ''}",
                )
            )
    return found
