"""Reading a transfer package safely: a folder, a zip, or a BagIt bag (RFC 8493).

The layout is in docs/ingest.md. Whatever a package contains is hostile until checked, so
reading it applies the 安全性 rules before anything is extracted or opened:

- no absolute path, drive letter, backslash, ``..`` component or control character in a name;
  no symbolic or hard link (a zip entry whose mode says link, a symlink in a folder);
- names are normalised to NFC (a Mac writes NFD: ``é`` as ``e`` + accent), and two names that
  normalise alike are refused, as is a name longer than ``MAX_NAME_CHARS``;
- a zip is refused before extracting if it has too many entries, an entry or the total is over
  the size limits, or an entry (or the whole) expands more than ``max_ratio`` times (a zip
  bomb); extraction counts the bytes it writes, so a header that lies is caught too;
- encrypted zip entries are refused (they could not be checked).

``open_package`` returns a ``Package`` (a context manager: an extracted zip lives in a temporary
folder that is removed on exit) whose ``files`` map each NFC relative name to where it is on
disk. A BagIt bag is validated in full by the Library of Congress ``bagit`` package (the only
module that imports it).
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import TracebackType

import bagit

from node.errors import InvalidInput

METADATA_NAMES = ("metadata.csv", "metadata.jsonl", "metadata.json")
REGISTER_NAME = "register.json"
MANIFEST_NAME = "manifest-sha256.txt"
MAX_NAME_CHARS = 255
_COPY = 1 << 20


@dataclass(frozen=True)
class PackageLimits:
    """What a package may be at most (settings ``[preservation]``, docs/configuration.md)."""

    max_files: int = 100_000
    max_file_bytes: int = 4 << 30
    max_total_bytes: int = 64 << 30
    max_ratio: int = 200  # uncompressed / compressed, per entry and for the whole zip


@dataclass(frozen=True)
class Finding:
    """One thing wrong: which property (真实性, 完整性, 可用性, 安全性), which check (English
    id), what it is about (a file name, a row: ``第 3 行``) and why, in zh-CN."""

    property: str
    check: str
    subject: str
    reason: str
    row: int = 0  # the metadata row it is about; 0: the package as a whole


class PackageRefused(InvalidInput):
    """The package cannot be read at all (安全性 or its layout); ``findings`` say why."""

    def __init__(self, findings: list[Finding]) -> None:
        self.findings = tuple(findings)
        first = findings[0]
        more = f"（另有 {len(findings) - 1} 处问题）" if len(findings) > 1 else ""
        super().__init__(f"移交包不予接收：{first.subject}：{first.reason}{more}")


def _security(check: str, subject: str, reason: str) -> Finding:
    return Finding("安全性", check, subject, reason)


def safe_name(raw: str) -> tuple[str, Finding | None]:
    """The NFC form of a package member's name, and a finding if the name is unsafe."""
    shown = raw[:120]
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in raw):
        return raw, _security("name", repr(shown), "文件名含控制字符")
    if "\\" in raw:
        return raw, _security("path", shown, "路径含反斜杠（Windows 路径），请用 / 分隔")
    if raw.startswith("/") or (len(raw) > 1 and raw[1] == ":"):
        return raw, _security("path", shown, "路径是绝对路径，移交包内只能用相对路径")
    parts = [p for p in raw.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        return raw, _security("path", shown, "路径含 ..，可能越出移交包（路径穿越）")
    name = unicodedata.normalize("NFC", "/".join(parts))
    if not name or len(name) > MAX_NAME_CHARS:
        return raw, _security("name", shown, f"文件名为空或超过 {MAX_NAME_CHARS} 个字符")
    return name, None


@dataclass
class Package:
    """A package opened for checking: where it is, its kind, and its files by NFC name."""

    source: str
    root: Path
    kind: str  # "package" or "bag"
    files: dict[str, Path] = field(default_factory=dict)
    renamed: tuple[str, ...] = ()  # names that were not NFC
    bag_problems: tuple[Finding, ...] = ()
    bag_info: dict[str, str] = field(default_factory=dict)
    _temp: Path | None = None

    @property
    def payload_prefix(self) -> str:
        return "data/" if self.kind == "bag" else ""

    def payload(self) -> dict[str, Path]:
        """The files of the package proper (a bag's ``data/``), by their name inside it."""
        prefix = self.payload_prefix
        return {n[len(prefix) :]: p for n, p in self.files.items() if n.startswith(prefix)}

    def close(self) -> None:
        if self._temp is not None:
            shutil.rmtree(self._temp, ignore_errors=True)
            self._temp = None

    def __enter__(self) -> Package:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def open_package(path: Path, limits: PackageLimits | None = None) -> Package:
    """Open a folder or zip as a package (``PackageRefused`` if unsafe; nothing is left behind).

    A single ``.csv`` / ``.jsonl`` file is a package of its metadata alone.
    """
    limits = limits or PackageLimits()
    path = Path(path)
    if path.is_symlink():
        raise PackageRefused([_security("link", path.name, "移交包本身是符号链接")])
    if path.is_dir():
        files, renamed = _folder_files(path, limits)
        package = Package(str(path), path, "package", files, renamed)
    elif zipfile.is_zipfile(path):
        temp = Path(tempfile.mkdtemp(prefix="archive-package-"))
        try:
            files, renamed = _extract(path, temp, limits)
        except BaseException:
            shutil.rmtree(temp, ignore_errors=True)
            raise
        package = Package(str(path), temp / "tree", "package", files, renamed, _temp=temp)
    elif path.suffix.lower() in (".csv", ".jsonl", ".json") and path.is_file():
        name = "metadata.csv" if path.suffix.lower() == ".csv" else "metadata.jsonl"
        return Package(str(path), path.parent, "package", {name: path})
    else:
        raise PackageRefused(
            [Finding("完整性", "layout", path.name, "不是文件夹、zip 或 CSV/JSONL 文件")]
        )
    try:
        _finish(package)
    except BaseException:
        package.close()
        raise
    return package


def _finish(package: Package) -> None:
    markers = ("bagit.txt", *METADATA_NAMES)
    tops = {name.split("/", 1)[0] for name in package.files}
    if not any(m in package.files for m in markers) and len(tops) == 1:
        # a zip of a folder: the package is that folder
        top = tops.pop()
        if all("/" in name for name in package.files):
            package.files = {n[len(top) + 1 :]: p for n, p in package.files.items()}
            package.root = package.root / top
    if "bagit.txt" in package.files:
        package.kind = "bag"
        package.bag_problems, package.bag_info = validate_bag(package.root)


def validate_bag(root: Path) -> tuple[tuple[Finding, ...], dict[str, str]]:
    """Full BagIt validation (every checksum recomputed), as findings."""
    try:
        bag = bagit.Bag(str(root))
        info = {str(k): str(v) for k, v in bag.info.items()}
        bag.validate(processes=1, fast=False, completeness_only=False)
    except bagit.BagValidationError as exc:
        details = getattr(exc, "details", None) or []
        found = [Finding("真实性", "bagit", str(getattr(d, "path", "") or "bag"), _bag_reason(d))
                 for d in details]  # fmt: skip
        return tuple(found or [Finding("真实性", "bagit", "bag", f"BagIt 校验未通过：{exc}")]), {}
    except bagit.BagError as exc:
        return (Finding("完整性", "bagit", "bag", f"不是有效的 BagIt 包：{exc}"),), {}
    return (), info


def _bag_reason(detail: object) -> str:
    if isinstance(detail, bagit.ChecksumMismatch):
        return f"{detail.algorithm} 摘要与清单不符（文件内容被改动或损坏）"
    if isinstance(detail, bagit.FileMissing):
        return "清单中列出的文件不存在"
    if isinstance(detail, bagit.UnexpectedFile):
        return "文件不在清单中"
    return str(detail)


def _folder_files(root: Path, limits: PackageLimits) -> tuple[dict[str, Path], tuple[str, ...]]:
    files: dict[str, Path] = {}
    renamed: list[str] = []
    problems: list[Finding] = []
    total = 0
    for directory, dirs, names in os.walk(root, followlinks=False):
        here = Path(directory)
        for name in [*dirs, *names]:
            if (here / name).is_symlink():
                rel = (here / name).relative_to(root).as_posix()
                problems.append(_security("link", rel, "移交包内不得含符号链接"))
        dirs[:] = [d for d in dirs if not (here / d).is_symlink()]
        for name in names:
            full = here / name
            if full.is_symlink():
                continue
            rel, problem = safe_name(full.relative_to(root).as_posix())
            info = full.lstat()
            if problem is None and not stat.S_ISREG(info.st_mode):
                problem = _security("kind", rel, "不是普通文件（设备、管道或套接字）")
            if problem is None and info.st_nlink > 1:
                problem = _security("link", rel, "移交包内不得含硬链接")
            if problem is None and info.st_size > limits.max_file_bytes:
                problem = _security("size", rel, f"文件超过 {limits.max_file_bytes} 字节的上限")
            if problem is None and rel in files:
                problem = _security("name", rel, "两个文件名统一为 NFC 后相同")
            if problem is not None:
                problems.append(problem)
                continue
            files[rel] = full
            if rel != full.relative_to(root).as_posix():
                renamed.append(rel)
            total += info.st_size
    if len(files) > limits.max_files:
        problems.append(_security("count", root.name, f"文件超过 {limits.max_files} 个"))
    if total > limits.max_total_bytes:
        problems.append(_security("size", root.name, f"总大小超过 {limits.max_total_bytes} 字节"))
    if problems:
        raise PackageRefused(problems)
    return files, tuple(renamed)


def _zip_problems(infos: list[zipfile.ZipInfo], limits: PackageLimits) -> list[Finding]:
    """Everything wrong with a zip's entries, decided from its directory alone."""
    problems: list[Finding] = []
    if len(infos) > limits.max_files:
        problems.append(_security("count", "zip", f"条目超过 {limits.max_files} 个"))
        return problems
    names: set[str] = set()
    total = packed = 0
    for info in infos:
        name, problem = safe_name(info.filename)
        mode = info.external_attr >> 16
        if problem is None and stat.S_ISLNK(mode):
            problem = _security("link", name, "zip 内不得含符号链接")
        if problem is None and info.flag_bits & 0x1:
            problem = Finding("可用性", "encrypted", name, "zip 条目已加密，无法检测")
        if problem is None and info.file_size > limits.max_file_bytes:
            problem = _security("size", name, f"文件超过 {limits.max_file_bytes} 字节的上限")
        ratio = info.file_size / max(info.compress_size, 1)
        if problem is None and info.file_size > (1 << 20) and ratio > limits.max_ratio:
            problem = _security("zipbomb", name, f"压缩比 {ratio:.0f} 倍，疑为解压炸弹")
        if problem is None and not info.is_dir() and name in names:
            problem = _security("name", name, "两个条目的文件名统一为 NFC 后相同")
        if problem is not None:
            problems.append(problem)
        names.add(name)
        total += info.file_size
        packed += info.compress_size
    if total > limits.max_total_bytes:
        problems.append(_security("size", "zip", f"解压后超过 {limits.max_total_bytes} 字节"))
    elif total > (16 << 20) and total / max(packed, 1) > limits.max_ratio:
        problems.append(_security("zipbomb", "zip", "整体压缩比过高，疑为解压炸弹"))
    return problems


def _extract(
    path: Path, into: Path, limits: PackageLimits
) -> tuple[dict[str, Path], tuple[str, ...]]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise PackageRefused(
            [Finding("可用性", "zip", path.name, f"zip 文件损坏：{exc}")]
        ) from None
    with archive:
        infos = archive.infolist()
        problems = _zip_problems(infos, limits)
        if problems:
            raise PackageRefused(problems)
        files: dict[str, Path] = {}
        renamed = tuple(
            n for i in infos if (n := safe_name(i.filename)[0]) != i.filename.strip("/")
        )
        written = 0
        for number, info in enumerate(infos):
            if info.is_dir():
                continue
            name, _ = safe_name(info.filename)
            # stored under a plain number: the real name is only ever a key, never a path
            target = into / f"{number:06d}"
            size = 0
            try:
                with archive.open(info) as source, open(target, "xb") as out:
                    while chunk := source.read(_COPY):
                        size += len(chunk)
                        written += len(chunk)
                        if size > info.file_size or written > limits.max_total_bytes:
                            raise PackageRefused(
                                [_security("zipbomb", name, "解压出的内容比登记的大小多")]
                            )
                        out.write(chunk)
            except (zipfile.BadZipFile, OSError, EOFError) as exc:
                raise PackageRefused(
                    [Finding("可用性", "zip", name, f"zip 条目无法解压：{exc}")]
                ) from None
            files[name] = target
        _lay_out(files, into)
        return files, renamed


def _lay_out(files: dict[str, Path], into: Path) -> None:
    """Move extracted files to their (checked, NFC) names, so a bag's tools see its layout."""
    tree = into / "tree"
    tree.mkdir(exist_ok=True)
    for name, temp in list(files.items()):
        target = tree.joinpath(*PurePosixPath(name).parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(temp, target)
        files[name] = target
