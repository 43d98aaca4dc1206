"""The printed page is bound to the signed credential (issue 10, item 4: "changing any byte of
the copy or its content fails verification"): a PDF whose page, drawing or structure was
changed after printing is refused, though its attachments still verify; the untouched PDF and
the credential JSON pass as before.
"""

from __future__ import annotations

import pytest
from copies_helpers import CONTENT, issued, tree

from node import copies, printout
from node.errors import InvalidInput

NAME = "J001-HY-1966-Y-0007.txt"


@pytest.fixture(scope="module")
def pdf() -> bytes:
    return printout.render(issued(), CONTENT, content_name=NAME)


def check(data: bytes) -> copies.Verdict:
    """What the CLI and the verify page do with an upload."""
    try:
        found = printout.read_upload(data)
    except InvalidInput as exc:
        return copies.Verdict(reasons=(str(exc),))
    verdict = copies.verify(found.credential, tree().root.public_key, found.content)
    return printout.with_layout(verdict, data, found)


def test_the_printout_is_rendered_the_same_every_time(pdf: bytes) -> None:
    assert printout.render(issued(), CONTENT, content_name=NAME) == pdf
    verdict = check(pdf)
    assert verdict.ok, verdict.reasons


@pytest.mark.slow
def test_a_changed_byte_anywhere_in_the_pdf_is_refused(pdf: bytes) -> None:
    stride = max(1, len(pdf) // 40)
    for at in [*range(0, len(pdf), stride), len(pdf) // 2, len(pdf) - 1]:
        changed = pdf[:at] + bytes([pdf[at] ^ 0x01]) + pdf[at + 1 :]
        assert not check(changed).ok, f"byte {at} of {len(pdf)} changed, still valid"


def test_a_page_changed_with_its_attachments_intact_says_why_in_chinese(pdf: bytes) -> None:
    # the middle of the file is the page's drawing (compressed), not the attachments: the
    # credential and the content read back unchanged, so only the re-rendering can tell
    at = len(pdf) // 2
    changed = pdf[:at] + bytes([pdf[at] ^ 0x01]) + pdf[at + 1 :]
    found = printout.read_upload(changed)
    assert found.credential == issued().document and found.content == CONTENT
    assert copies.verify(found.credential, tree().root.public_key, found.content).ok
    reasons = check(changed).reasons
    assert reasons == (printout.LAYOUT_CHANGED,)
    assert reasons[0].startswith("证明文件（PDF）在打印后被改动过")


def test_bytes_added_at_the_end_are_refused(pdf: bytes) -> None:
    assert check(pdf + b"\n%").reasons == (printout.LAYOUT_CHANGED,)


def test_the_credential_json_is_checked_as_before() -> None:
    document = issued().document
    found = printout.read_upload(document)
    verdict = copies.verify(found.credential, tree().root.public_key, CONTENT)
    assert verdict.ok and printout.with_layout(verdict, document, found) == verdict
    assert printout.layout_problem(document, found) is None
