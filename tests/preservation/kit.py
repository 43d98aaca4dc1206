"""Building transfer packages for the tests: real files of every format, written to tmp."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import pypdf
from PIL import Image

HOLDER = "330106001001"
HEADER = ("档号", "题名", "责任者", "形成日期", "文种", "密级", "保管期限", "开放状态", "电子文件")


def pdf_bytes() -> bytes:
    writer = pypdf.PdfWriter()
    writer.add_blank_page(width=200, height=200)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def image_bytes(kind: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 32), (200, 10, 10)).save(out, format=kind)
    return out.getvalue()


def row(item: int, *, files: str = "", **changes: str) -> dict[str, str]:
    values = {
        "档号": f"J001-HY·2015-Y-{item:04d}",
        "题名": f"张三与李四结婚登记 {item}",
        "责任者": "西湖区民政局",
        "形成日期": "20150520",
        "文种": "证明",
        "密级": "",
        "保管期限": "永久",
        "开放状态": "开放",
        "电子文件": files,
    }
    values.update(changes)
    return values


def csv_bytes(rows: Sequence[Mapping[str, str]], header: Sequence[str] = HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(header), extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def write_package(
    root: Path,
    rows: Sequence[Mapping[str, str]],
    files: Mapping[str, bytes],
    *,
    register: Mapping[str, int] | None | bool = True,
    manifest: Mapping[str, str] | None | bool = True,
) -> Path:
    """A package folder: metadata.csv, content files, register.json and the manifest."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "metadata.csv").write_bytes(csv_bytes(rows))
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    if register is True:
        register = {
            "件数": len(rows),
            "文件数": len(files),
            "总字节数": sum(len(d) for d in files.values()),
        }
    if register:
        (root / "register.json").write_text(json.dumps(register, ensure_ascii=False))
    if manifest is True:
        manifest = {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}
    if manifest:
        (root / "manifest-sha256.txt").write_text(
            "".join(f"{sha}  {name}\n" for name, sha in manifest.items()), encoding="utf-8"
        )
    return root


def good_package(root: Path, count: int = 3) -> Path:
    files = {f"content/{i:04d}.pdf": pdf_bytes() + f"% {i}\n".encode() for i in range(1, count + 1)}
    rows = [row(i, files=f"content/{i:04d}.pdf") for i in range(1, count + 1)]
    return write_package(root, rows, files)


def zip_folder(folder: Path, target: Path) -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())
    return target
