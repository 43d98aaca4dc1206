"""The web tests' fakes implement the same Protocols as the real services, signature for
signature, so the fake cannot drift from what the web layer is given in production."""

from __future__ import annotations

import dataclasses
import inspect
import typing

import pytest
from fake_service import network

from node.federation.services import NodeInfo, NodeServices


def _members(protocol: type) -> list[str]:
    return [
        name
        for name, value in vars(protocol).items()
        if callable(value) and not name.startswith("_")
    ]


SERVICES = {
    f.name: typing.get_type_hints(NodeServices)[f.name]
    for f in dataclasses.fields(NodeServices)
    # preservation (issue 11) has no fake: its pages and API are tested against real nodes
    # (tests/preservation), and a fake bundle leaves it None
    if f.name not in ("info", "preservation")
}


def test_every_service_has_a_protocol_with_members() -> None:
    assert set(SERVICES) == {
        "search", "retrieval", "ingest", "sync", "trust", "refusals", "audit", "accounts",
        "requests",
        "copies",
        "oai", "appraisal",
    }  # fmt: skip
    for protocol in SERVICES.values():
        assert getattr(protocol, "_is_protocol", False) and _members(protocol)


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_the_fake_implements_the_protocol(name: str) -> None:
    protocol = SERVICES[name]
    for node in network().values():
        bundle = node.services()
        assert isinstance(bundle.info, NodeInfo)
        fake = getattr(bundle, name)
        assert isinstance(fake, protocol), f"{type(fake).__name__} is not a {protocol.__name__}"
        for member in _members(protocol):
            wanted = inspect.signature(getattr(protocol, member))
            wanted = wanted.replace(parameters=list(wanted.parameters.values())[1:])  # self
            got = inspect.signature(getattr(fake, member))
            assert got == wanted, f"{type(fake).__name__}.{member}{got} != {wanted}"
            assert inspect.iscoroutinefunction(getattr(fake, member)), member
