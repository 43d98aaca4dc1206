"""The approving operator sees the address a child applied with, flagged when no other machine
could dial it (issue 14: a parent approved ``0.0.0.0:50051`` and never reached the child)."""

from __future__ import annotations

import pytest

from node.certificates import Application
from node.web.views.admin import application_row


def _application(address: str) -> Application:
    return Application(
        code="330106", name="西湖区档案馆", public_key=bytes(32), address=address,
        requested_at=0.0, status="pending", decided_at=None, chain_json="", note="",
    )  # fmt: skip


@pytest.mark.parametrize("address", ["0.0.0.0:50051", "127.0.0.1:50051", "[::]:50051", ""])
def test_a_local_address_is_flagged(address: str) -> None:
    shown = application_row("3301", _application(address)).address
    assert "本机或未指定的地址" in shown and (address in shown)


def test_a_reachable_address_is_shown_as_it_is() -> None:
    assert application_row("3301", _application("10.0.0.5:50051")).address == "10.0.0.5:50051"
