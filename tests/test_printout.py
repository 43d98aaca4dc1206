"""The printed 档案证明: read back by an independent reader (pypdf), attachments byte-equal.

Rendering embeds a CJK font subset, about a second a page: the tests share one rendering.
"""

from __future__ import annotations

import io
from pathlib import Path

import pypdf
import pytest
from copies_helpers import CONTENT, issued, tree
from hypothesis import given, settings
from hypothesis import strategies as st

from node import copies, printout
from node.errors import ConfigError, InvalidInput


@pytest.fixture(scope="module")
def rendered() -> tuple[copies.IssuedCopy, bytes]:
    copy = issued()
    return copy, printout.render(copy, CONTENT, content_name="J001-HY-1966-Y-0007.txt")


def _text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "copy.pdf"
    path.write_bytes(pdf)
    page = pypdf.PdfReader(path).pages[0].extract_text()
    # pypdf 7 pads each CJK glyph of fpdf2's two-byte font encoding with NULs and spaces
    # (poppler's pdftotext reads the same page cleanly): compare without them
    return "".join(page.replace("\x00", "").split())


def test_the_printout_states_the_facts_the_code_and_the_seal(
    rendered: tuple[copies.IssuedCopy, bytes], tmp_path: Path
) -> None:
    copy, pdf = rendered
    text = _text(pdf, tmp_path)
    for expected in (
        "档案证明",
        "（出证）",
        f"核验码：{copy.code}",
        "J001-HY·1966-Y-0007",
        "张某某与李某某结婚登记",
        "余杭区档案馆",
        "档案利用章",
        "查档日期：2026-12-04",
        "办理房产继承",
        "西湖区某社区服务站",
        copy.facts.content_sha256,
        "archive-nodeverify",
    ):
        assert expected in text, expected


def test_the_content_and_the_credential_are_attached_byte_for_byte(
    rendered: tuple[copies.IssuedCopy, bytes], tmp_path: Path
) -> None:
    copy, pdf = rendered
    path = tmp_path / "copy.pdf"
    path.write_bytes(pdf)
    attachments = pypdf.PdfReader(path).attachments
    assert sorted(attachments) == ["J001-HY-1966-Y-0007.txt", printout.CREDENTIAL_NAME]
    assert attachments["J001-HY-1966-Y-0007.txt"] == [CONTENT]
    assert attachments[printout.CREDENTIAL_NAME] == [copy.document]


def test_the_printed_copy_verifies_from_the_pdf_alone(
    rendered: tuple[copies.IssuedCopy, bytes],
) -> None:
    _copy, pdf = rendered
    upload = printout.read_upload(pdf)
    verdict = copies.verify(upload.credential, tree().root.public_key, upload.content)
    assert verdict.ok, verdict.reasons


def test_the_qr_code_carries_the_verify_url_with_the_code(
    rendered: tuple[copies.IssuedCopy, bytes],
) -> None:
    copy, _pdf = rendered
    assert copy.verify_url.endswith(f"/n/330110/verify?code={copy.code}")


def test_a_json_upload_is_taken_as_the_credential() -> None:
    upload = printout.read_upload(b'{"a": 1}')
    assert upload == printout.Upload(credential=b'{"a": 1}', content=None)


@pytest.mark.parametrize(
    "data",
    [b"%PDF-1.7\n", b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF"],
)
def test_a_broken_pdf_is_refused_in_chinese(data: bytes) -> None:
    with pytest.raises(InvalidInput, match="PDF"):
        printout.read_upload(data)


def test_a_pdf_without_the_credential_is_refused(
    rendered: tuple[copies.IssuedCopy, bytes],
) -> None:
    _copy, pdf = rendered
    writer = pypdf.PdfWriter()
    writer.add_blank_page(100, 100)
    writer.add_attachment("other.txt", b"x")
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(InvalidInput, match=printout.CREDENTIAL_NAME):
        printout.read_upload(out.getvalue())


def test_a_changed_byte_of_the_attached_content_is_caught(
    rendered: tuple[copies.IssuedCopy, bytes],
) -> None:
    _copy, pdf = rendered
    upload = printout.read_upload(pdf)
    assert upload.content is not None
    changed = bytes([upload.content[0] ^ 1]) + upload.content[1:]
    verdict = copies.verify(upload.credential, tree().root.public_key, changed)
    assert any("所附档案内容" in r for r in verdict.reasons)


def test_a_missing_font_says_what_to_install(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="fonts-noto-cjk"):
        printout.find_cjk_font((tmp_path,))


def test_the_simplified_chinese_face_is_chosen_by_name() -> None:
    font = printout.find_cjk_font()
    assert font.path.name.startswith("Noto") and font.index >= 0
    from fontTools.ttLib import TTCollection

    if font.path.suffix == ".ttc":
        with TTCollection(str(font.path), lazy=True) as collection:
            assert collection.fonts[font.index]["name"].getDebugName(4).endswith(" SC")


@settings(max_examples=100, deadline=None)
@given(body=st.binary(max_size=2000))
def test_any_bytes_after_a_pdf_header_are_read_or_refused_never_raised(body: bytes) -> None:
    try:
        upload = printout.read_upload(b"%PDF-1.7\n" + body)
    except InvalidInput as exc:
        assert "PDF" in str(exc)
    else:  # pragma: no cover - random bytes do not make a PDF with our attachment
        assert isinstance(upload.credential, bytes)
