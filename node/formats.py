"""What a content file is, told by its bytes, and whether it can be read (可用性, 安全性).

DA/T 70 asks that a transferred file be in a format fit for long-term keeping and readable
as that format: a file's name says nothing (an executable renamed ``.pdf`` is still an
executable). Identification uses ``puremagic`` (a maintained table of file signatures);
readability is checked by opening the file with the library that reads the format: ``pypdf``
(strictly, so a truncated PDF is refused, and an encrypted one), Pillow for JPEG, TIFF and
PNG (decoded in full, so a truncated image is refused; only the standard TIFF compressions),
the zip reader plus ``OFD.xml`` for OFD (GB/T 33190), strict UTF-8 or GB18030 for plain text.

This is the only module that imports puremagic, pypdf and Pillow (``tests/test_layers.py``).
Every function takes a path and reads the file itself; nothing here writes.
"""

from __future__ import annotations

import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

import puremagic
import pypdf
from PIL import Image

HEAD_BYTES = 8192
MAX_IMAGE_PIXELS = 200_000_000  # a scan at 600 dpi of an A0 sheet is about 140 million
MAX_OFD_XML_BYTES = 1 << 20
MAX_TEXT_BYTES = 64 << 20  # plain text is decoded whole to check its encoding
# Formats fit for keeping (DA/T 47 / GB/T 18894 practice), by the media type we give them.
KEEPABLE = {
    "application/pdf": "PDF",
    "application/ofd": "OFD",
    "image/jpeg": "JPEG",
    "image/tiff": "TIFF",
    "image/png": "PNG",
    "text/plain": "文本",
}
# TIFF compressions a viewer reads everywhere (Pillow's names)
_TIFF_COMPRESSIONS = {
    "raw", "tiff_ccitt", "group3", "group4", "tiff_lzw", "packbits", "jpeg",
    "tiff_adobe_deflate", "tiff_deflate",
}  # fmt: skip
_EXECUTABLE_MAGIC = (
    (b"\x7fELF", "ELF 可执行程序"),
    (b"MZ", "Windows 可执行程序"),
    (b"\xcf\xfa\xed\xfe", "Mach-O 可执行程序"),
    (b"\xce\xfa\xed\xfe", "Mach-O 可执行程序"),
    (b"\xca\xfe\xba\xbe", "Java 类文件或 Mach-O 程序"),
    (b"#!", "脚本"),
)
_SCRIPT_SUFFIXES = {
    ".exe", ".dll", ".com", ".bat", ".cmd", ".ps1", ".vbs", ".js", ".jar", ".sh", ".py",
    ".msi", ".scr", ".hta", ".wsf", ".php", ".pl",
}  # fmt: skip


@dataclass(frozen=True)
class FileFormat:
    """What the bytes of one file are: ``media_type`` ("" if unknown), a name for people,
    and the reasons (zh-CN) it is unsafe or unreadable (none: it is fine to keep)."""

    media_type: str
    label: str
    unsafe: tuple[str, ...] = ()  # 安全性
    unusable: tuple[str, ...] = ()  # 可用性

    @property
    def ok(self) -> bool:
        return not self.unsafe and not self.unusable


def identify(path: Path) -> FileFormat:
    """Identify ``path`` by its bytes and check that it is safe and readable as that format."""
    with open(path, "rb") as file:
        head = file.read(HEAD_BYTES)
    for magic, label in _EXECUTABLE_MAGIC:
        if head.startswith(magic):
            return FileFormat("application/x-executable", label, unsafe=(f"文件是{label}",))
    if path.suffix.lower() in _SCRIPT_SUFFIXES:
        return FileFormat("", "程序或脚本", unsafe=(f"扩展名 {path.suffix} 是程序或脚本",))
    media_type = _media_type(head)
    if media_type == "application/zip" and _is_ofd(path):
        media_type = "application/ofd"
    if not media_type and _is_text(path):
        media_type = "text/plain"
    label = KEEPABLE.get(media_type, media_type or "未知格式")
    if media_type not in KEEPABLE:
        return FileFormat(
            media_type,
            label,
            unusable=(f"格式为{label}，不是长期保存格式（PDF、OFD、JPEG、TIFF、PNG、文本）",),
        )
    problem = _READERS[media_type](path)
    return FileFormat(media_type, label, unusable=(problem,) if problem else ())


def _media_type(head: bytes) -> str:
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if not head:
        return ""
    try:
        matches = puremagic.magic_string(head)
    except puremagic.PureError:
        return ""
    for match in matches:
        if match.mime_type in KEEPABLE or match.mime_type == "application/zip":
            return str(match.mime_type)
    return str(matches[0].mime_type) if matches else ""


def _check_pdf(path: Path) -> str:
    with open(path, "rb") as file:
        file.seek(0, 2)
        size = file.tell()
        file.seek(max(0, size - 1024))
        if b"%%EOF" not in file.read():
            return "PDF 文件不完整（缺少文件尾 %%EOF），可能在传输中被截断"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = pypdf.PdfReader(path, strict=True)
            if reader.is_encrypted:
                return "PDF 文件已加密，无法长期读取；请移交未加密的文件"
            if len(reader.pages) < 1:
                return "PDF 文件没有页面"
            reader.pages[0].extract_text()  # decodes the first page's content stream
    except Exception as exc:  # pypdf raises many kinds for a broken file: any is unreadable
        return f"PDF 文件无法读取（{type(exc).__name__}）"
    return ""


def _check_image(path: Path) -> str:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
            with Image.open(path) as image:
                compression = str(image.info.get("compression", "raw"))
                image.load()  # decodes every pixel: a truncated file fails here
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        return f"图像超过 {MAX_IMAGE_PIXELS} 像素，疑为解压炸弹"
    except Exception as exc:  # Pillow raises OSError, SyntaxError, ValueError... for bad files
        return f"图像文件无法读取或不完整（{type(exc).__name__}）"
    if image.format == "TIFF" and compression not in _TIFF_COMPRESSIONS:
        return f"TIFF 使用了非标准压缩 {compression}，请转为无压缩或 LZW/CCITT G4"
    return ""


def _is_ofd(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            return "OFD.xml" in archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return False


def _check_ofd(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo("OFD.xml")
            if info.flag_bits & 0x1:
                return "OFD 文件已加密"
            if info.file_size > MAX_OFD_XML_BYTES:
                return "OFD.xml 过大"
            xml = archive.read(info)
            bad = archive.testzip()
    except (zipfile.BadZipFile, OSError, KeyError, RuntimeError) as exc:
        return f"OFD 文件无法读取（{type(exc).__name__}）"
    if bad is not None:
        return f"OFD 文件中的 {bad} 已损坏"
    if b"<!DOCTYPE" in xml or b"<!ENTITY" in xml:
        return "OFD.xml 含有 DTD 或实体声明，不予接收"
    if b"OFD" not in xml.split(b">", 2)[-1][:400] and b":OFD" not in xml and b"<OFD" not in xml:
        return "OFD.xml 不是 OFD 文档入口（缺少 OFD 根元素）"
    return ""


def _is_text(path: Path) -> bool:
    return path.stat().st_size <= MAX_TEXT_BYTES and not _check_text(path)


def _check_text(path: Path) -> str:
    data = path.read_bytes()
    if b"\x00" in data:
        return "文本文件含有空字节，不是纯文本"
    for encoding in ("utf-8", "gb18030"):
        try:
            data.decode(encoding)
            return ""
        except UnicodeDecodeError:
            continue
    return "文本文件既不是 UTF-8 也不是 GB18030 编码"


_READERS = {
    "application/pdf": _check_pdf,
    "application/ofd": _check_ofd,
    "image/jpeg": _check_image,
    "image/tiff": _check_image,
    "image/png": _check_image,
    "text/plain": _check_text,
}
