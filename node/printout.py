"""The printed certified copy: a PDF laid out like a paper 档案证明, and reading one back.

``render`` draws the facts of an issued copy (``copies.py``) on an A4 page with the holder's
档案利用章 (a drawn seal bearing the holder's name, over the 档号 and 查档日期), the
verification code, and a QR code of the verification URL; the released content and the
credential JSON travel inside the PDF as attached files, so the one file a citizen takes to a
bank carries everything ``archive-node verify`` or any node's verify page needs.
``read_upload`` takes the credential (and the attached content) back out of such a PDF, or
accepts the credential JSON itself.

The page a bank reads is bound to the signed credential by rendering it deterministically
(the creation date and the PDF's /ID derive from the credential's issue time and the bytes
drawn; fpdf2 adds no random bits): ``layout_problem`` renders the PDF again from the attached
credential and content and requires the upload to be byte for byte that rendering, so a
changed character on the page, in the drawing or anywhere else in the file is refused, not
only a change to the attachments the signature covers.

The Chinese text is set in Debian's Noto CJK (package ``fonts-noto-cjk``), Simplified Chinese
face: fpdf2 embeds a subset of a TrueType/OpenType font, and loads one face of the ``.ttc``
collection by its index, which ``find_cjk_font`` looks up by name rather than assuming.
This module alone imports fpdf2, segno, pypdf and fontTools (fpdf2's own font reader).
"""

from __future__ import annotations

import functools
import io
import math
from dataclasses import dataclass, replace
from pathlib import Path

import pypdf
import segno
from fontTools.ttLib import TTCollection, TTFont
from fpdf import FPDF

from node.copies import IssuedCopy, Verdict, read
from node.errors import ConfigError, InvalidInput

CREDENTIAL_NAME = "archive-copy-credential.json"
FONT_DIRS = (Path("/usr/share/fonts/opentype/noto"), Path("/usr/share/fonts"))
FONT_PATTERNS = ("NotoSerifCJK-Regular.ttc", "NotoSansCJK-Regular.ttc", "Noto*CJK*sc*.otf")
MAX_UPLOAD_BYTES = 32 * 1024 * 1024  # a scanned record fits; pypdf reads it in memory
SEAL_RED = (200, 16, 16)
LAYOUT_CHANGED = (
    "证明文件（PDF）在打印后被改动过：与凭证重新生成的版面不一致，"
    "请向出证的服务点索取原文件，或按核验码在核验页面查验"
)


@dataclass(frozen=True)
class CjkFont:
    path: Path
    index: int  # the Simplified Chinese face within a .ttc collection


@dataclass(frozen=True)
class Upload:
    """What an uploaded copy file held: the credential's bytes, and the content if attached."""

    credential: bytes
    content: bytes | None
    content_name: str = "content.bin"
    is_pdf: bool = False


@functools.cache
def find_cjk_font(dirs: tuple[Path, ...] = FONT_DIRS) -> CjkFont:
    """The Noto CJK file and its Simplified Chinese face, else ``ConfigError`` saying what to
    install."""
    for folder in dirs:
        for pattern in FONT_PATTERNS:
            for path in sorted(folder.rglob(pattern)) if folder.is_dir() else []:
                index = _sc_face(path)
                if index is not None:
                    return CjkFont(path, index)
    raise ConfigError(
        "找不到中文字体 Noto CJK，无法生成档案证明 PDF：请安装 fonts-noto-cjk"
        "（Debian/Ubuntu: apt-get install fonts-noto-cjk）"
    )


def _sc_face(path: Path) -> int | None:
    try:
        if path.suffix.lower() == ".ttc":
            with TTCollection(str(path), lazy=True) as collection:
                names = [_name(face) for face in collection.fonts]
        else:
            with TTFont(str(path), lazy=True) as face:
                names = [_name(face)]
    except Exception:  # a broken or unreadable font file is skipped, like a missing one
        return None
    for index, name in enumerate(names):
        if name.endswith(" SC") or "CJKsc" in name or (len(names) == 1 and "SC" in path.name):
            return index
    return None


def _name(face: TTFont) -> str:
    return str(face["name"].getDebugName(4) or "")


def render(
    copy: IssuedCopy,
    content: bytes,
    *,
    content_name: str = "content.bin",
    font: CjkFont | None = None,
) -> bytes:
    """The printable 档案证明 of ``copy`` as PDF bytes, with ``content`` and the credential
    attached. Takes a second or two (the font is subset); call it off the event loop."""
    font = font or find_cjk_font()
    facts = copy.facts
    pdf = FPDF(format="A4")
    pdf.set_title(f"档案证明 {facts.archival_code}")
    pdf.set_author(facts.holder_name)
    pdf.set_creation_date(facts.issued_at)
    pdf.add_font("cjk", fname=str(font.path), collection_font_number=font.index)
    pdf.set_auto_page_break(auto=False)
    pdf.add_page()
    pdf.set_font("cjk", size=26)
    pdf.set_xy(20, 22)
    pdf.cell(170, 14, "档 案 证 明", align="C")
    pdf.set_font("cjk", size=12)
    pdf.set_xy(20, 37)
    pdf.cell(170, 7, "（出证）", align="C")
    pdf.set_xy(20, 46)
    pdf.cell(170, 6, f"核验码：{copy.code}", align="R")
    pdf.set_xy(20, 56)
    pdf.set_font("cjk", size=12)
    pdf.multi_cell(
        170,
        7,
        f"\u3000\u3000兹证明，{facts.requester_name}（{facts.requester}）于 "
        f"{facts.consulted_on.isoformat()} 因“{facts.purpose}”申请查阅本馆所藏下列档案，"
        f"所附电子文件（SHA-256 见下）系本馆依利用申请 {facts.request_id} 提供，"
        "与馆藏档案一致。",
        align="L",
    )
    rows = [
        ("档号", facts.archival_code),
        ("题名", facts.title),
        ("年度", str(facts.year)),
        ("全宗号", facts.fonds),
        ("门类", facts.category),
        ("馆藏单位", f"{facts.holder_name}（{facts.holder}）"),
        ("档案标识", facts.record_id),
        ("利用申请编号", facts.request_id),
        ("利用目的", facts.purpose),
        ("申请单位", f"{facts.requester_name}（{facts.requester}）"),
        ("查档日期", facts.consulted_on.isoformat()),
        ("出证时间", facts.issued_at.strftime("%Y-%m-%d %H:%M:%S UTC")),
        ("内容大小", f"{facts.content_size} 字节"),
        ("内容摘要", facts.content_sha256),
    ]
    pdf.set_y(pdf.get_y() + 4)
    pdf.set_font("cjk", size=10.5)
    for label, value in rows:
        y = pdf.get_y()
        pdf.set_xy(20, y)
        pdf.cell(32, 8, label, border=1)
        pdf.set_xy(52, y)
        pdf.multi_cell(138, 8, value, border=1, new_x="LMARGIN", new_y="NEXT")
    top = pdf.get_y() + 8
    _seal(pdf, facts.holder_name, cx=158, cy=top + 24)
    pdf.set_font("cjk", size=10.5)
    pdf.set_xy(126, top + 50)
    pdf.multi_cell(64, 6, f"档号：{facts.archival_code}\n查档日期：{facts.consulted_on}", align="C")
    _qr(pdf, copy.verify_url, x=18, y=top, size=42)
    pdf.set_font("cjk", size=9)
    pdf.set_xy(62, top + 3)
    pdf.multi_cell(
        60,
        5,
        f"扫描左侧二维码，或打开 {copy.verify_url.split('?')[0]} 输入核验码 {copy.code}，"
        "核验本证明。也可用 archive-node verify 离线核验本 PDF（附件中有证明文件 "
        f"{CREDENTIAL_NAME} 和档案内容）。",
        align="L",
    )
    pdf.embed_file(
        bytes=copy.document,
        basename=CREDENTIAL_NAME,
        mime_type="application/vc+json",
        modification_date=facts.issued_at,
    )
    pdf.embed_file(bytes=content, basename=content_name, modification_date=facts.issued_at)
    return bytes(pdf.output())


def _seal(pdf: FPDF, holder_name: str, *, cx: float, cy: float, r: float = 22) -> None:
    """A round red 档案利用章: the holder's name along the upper rim, a star, the seal's name."""
    pdf.set_draw_color(*SEAL_RED)
    pdf.set_text_color(*SEAL_RED)
    pdf.set_fill_color(*SEAL_RED)
    pdf.set_line_width(1.2)
    pdf.ellipse(cx - r, cy - r, 2 * r, 2 * r)
    _star(pdf, cx, cy, 6)
    chars = list(holder_name)[:20]
    span = min(240.0, 20.0 * len(chars))  # degrees of the rim the name covers
    size = 13 if len(chars) <= 10 else 10
    pdf.set_font("cjk", size=size)
    for i, char in enumerate(chars):
        angle = -span / 2 + span * (i + 0.5) / len(chars)  # 0 is straight up, clockwise
        x = cx + (r - 5.5) * math.sin(math.radians(angle))
        y = cy - (r - 5.5) * math.cos(math.radians(angle))
        with pdf.rotation(-angle, x, y):
            pdf.set_xy(x - 3, y - 3)
            pdf.cell(6, 6, char, align="C")
    pdf.set_font("cjk", size=10)
    pdf.set_xy(cx - 15, cy + 8)
    pdf.cell(30, 6, "档案利用章", align="C")
    pdf.set_text_color(0, 0, 0)
    pdf.set_draw_color(0, 0, 0)
    pdf.set_line_width(0.2)


def _star(pdf: FPDF, cx: float, cy: float, r: float) -> None:
    points = []
    for i in range(10):
        radius = r if i % 2 == 0 else r * 0.38
        angle = math.radians(-90 + 36 * i)
        points.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    pdf.polygon(points, style="F")


def _qr(pdf: FPDF, url: str, *, x: float, y: float, size: float) -> None:
    """The QR code drawn as filled squares: vector, so it prints sharp at any resolution."""
    matrix = [list(row) for row in segno.make(url, error="m").matrix]
    quiet = 2
    module = size / (len(matrix) + 2 * quiet)
    pdf.set_fill_color(0, 0, 0)
    for row, cells in enumerate(matrix):
        for col, dark in enumerate(cells):
            if dark:
                pdf.rect(
                    x + (col + quiet) * module, y + (row + quiet) * module, module, module, "F"
                )


def read_upload(data: bytes) -> Upload:
    """The credential in an uploaded file: a PDF from ``render`` (credential and content
    from its attachments) or the credential JSON as it is; else ``InvalidInput``."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidInput(f"文件过大（最多 {MAX_UPLOAD_BYTES // 1024 // 1024} MB）")
    if not data.lstrip()[:5].startswith(b"%PDF-"):
        return Upload(credential=data, content=None)
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        attachments = {name: list(values) for name, values in reader.attachments.items()}
    # pypdf raises many kinds of exception on a damaged or hostile file (its own errors,
    # KeyError, TypeError, RecursionError...): whatever it is, the upload is refused
    except Exception:
        raise InvalidInput("PDF 文件已损坏或无法读取，请上传出证时的原文件") from None
    credentials = attachments.pop(CREDENTIAL_NAME, [])
    if len(credentials) != 1:
        raise InvalidInput(
            f"PDF 中没有档案证明附件 {CREDENTIAL_NAME}：它不是本网络出具的档案证明，或附件被删除了"
        )
    others = [(name, value) for name, values in attachments.items() for value in values]
    if len(others) != 1:
        return Upload(credential=credentials[0], content=None, is_pdf=True)
    name, content = others[0]
    return Upload(credentials[0], content, content_name=name, is_pdf=True)


def layout_problem(data: bytes, found: Upload) -> str | None:
    """None if ``data`` (a PDF) is exactly what ``render`` makes of the credential and
    content attached to it, else ``LAYOUT_CHANGED``; None for a credential JSON (its bytes
    are all signed). Costs one rendering (about half a second: the font is subset)."""
    if not found.is_pdf:
        return None
    if found.content is None:  # render always attaches one: an attachment was removed
        return LAYOUT_CHANGED
    try:
        again = render(read(found.credential), found.content, content_name=found.content_name)
    except InvalidInput:  # not a copy's shape: the credential's own check says why
        return LAYOUT_CHANGED
    return None if again == data else LAYOUT_CHANGED


def with_layout(verdict: Verdict, data: bytes, found: Upload) -> Verdict:
    """``verdict`` on the credential in ``data``, refused too if the PDF around it is not the
    one printed from it. A verdict that already failed is not re-rendered (it is refused
    either way, and rendering costs)."""
    if not verdict.ok:
        return verdict
    problem = layout_problem(data, found)
    if problem is None:
        return verdict
    return replace(verdict, reasons=(*verdict.reasons, problem))
