"""The registry of calls (``federation/messages.py``) agrees with the .proto service and codec."""

from __future__ import annotations

from node.federation.messages import CALLS, MESSAGE_TYPES, SERVICE, UNARY_METHODS
from node.rpc.codec import TABLE
from node.rpc.server import FEDERATION_SERVICE


def test_the_registry_names_exactly_the_calls_of_the_proto_service() -> None:
    in_proto = {SERVICE + m.name: m.server_streaming for m in FEDERATION_SERVICE.methods}
    assert in_proto == {method: call.streaming for method, call in CALLS.items()}


def test_unary_methods_are_the_registry_s_calls_that_do_not_stream() -> None:
    assert set(UNARY_METHODS) == {m for m, c in CALLS.items() if not c.streaming}


def test_the_codec_converts_every_registered_message_and_no_other() -> None:
    assert TABLE.keys() == MESSAGE_TYPES
