"""The registry of calls (``federation/messages.py``) agrees with the .proto service (the codec
table's agreement with ``MESSAGE_TYPES`` is checked when ``node.rpc.codec`` is imported)."""

from __future__ import annotations

from node.federation.messages import CALLS, SERVICE
from node.rpc.server import FEDERATION_SERVICE


def test_the_registry_names_exactly_the_calls_of_the_proto_service() -> None:
    in_proto = {SERVICE + m.name: m.server_streaming for m in FEDERATION_SERVICE.methods}
    assert in_proto == {method: call.streaming for method, call in CALLS.items()}
