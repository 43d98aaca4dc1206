"""The handler registry takes each registered call once, in the way the call travels."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from node.federation.handlers import HandlerRegistry
from node.federation.messages import CALLS, ENROL, FETCH, PUSH, SERVICE, Envelope


async def _unary(call: Envelope) -> bytes:
    return b""


async def _stream(call: Envelope) -> AsyncIterator[bytes]:
    yield b""


def test_a_handler_is_registered_once_for_a_call_of_the_registry() -> None:
    handlers = HandlerRegistry()
    handlers.unary(PUSH, _unary)
    assert handlers.unary_handler(PUSH) is _unary
    with pytest.raises(ValueError, match="already has a handler"):
        handlers.unary(PUSH, _unary)
    with pytest.raises(ValueError, match="not in the registry"):
        handlers.unary(SERVICE + "Ping", _unary)


def test_a_handler_is_registered_the_way_its_call_travels() -> None:
    handlers = HandlerRegistry()
    with pytest.raises(ValueError, match="is a stream call"):
        handlers.unary(FETCH, _unary)
    with pytest.raises(ValueError, match="is a self_signed call"):
        handlers.unary(ENROL, _unary)
    handlers.stream(FETCH, _stream)
    assert handlers.stream_handler(FETCH) is _stream
    assert handlers.unary_handler(FETCH) is None


def test_a_call_without_a_handler_is_found_at_start_up() -> None:
    handlers = HandlerRegistry()
    handlers.unary(PUSH, _unary)
    with pytest.raises(RuntimeError, match="without a handler") as raised:
        handlers.check_complete()
    assert PUSH not in str(raised.value)
    assert all(m in str(raised.value) for m in CALLS if m != PUSH)
