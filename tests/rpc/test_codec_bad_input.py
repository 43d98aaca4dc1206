"""The federation's decoders take any bytes: a domain value in range, or ``ProtocolError``
(INVALID_ARGUMENT on the wire), never another exception (issue 9, item 6).

Three kinds of input per message type: random bytes; messages built field by field from the
descriptors with any value each field's wire type can carry (invalid UTF-8 in a string, a
varint up to 2**64 - 1, a nested message that is garbage, an unknown field); and, for every
unsigned 64-bit field at any depth, a valid message with that one field past int64.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from node.errors import ProtocolError
from node.fields import MAX_INT64
from node.rpc.codec import TABLE, ProtobufCodec

CODEC = ProtobufCodec()
KINDS = sorted(TABLE, key=lambda kind: kind.__name__)
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _tag(number: int, wire_type: int) -> bytes:
    return _varint(number << 3 | wire_type)


def _length_delimited(number: int, payload: bytes) -> bytes:
    return _tag(number, 2) + _varint(len(payload)) + payload


VARINTS = st.sampled_from([0, 1, 2**31, 2**32 - 1, 2**63 - 1, 2**63, 2**64 - 1]) | st.integers(
    0, 2**64 - 1
)
STRINGS = (
    st.text(max_size=20).map(lambda t: t.encode("utf-8", "surrogatepass"))  # lone surrogates
    | st.binary(max_size=20)  # not UTF-8 at all
    | st.sampled_from([b"33", b"330106", "婚姻登记".encode(), "永久".encode(), b"\xff"])
)


def _field(field: FieldDescriptor, depth: int) -> st.SearchStrategy[bytes]:
    number = field.number
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        inner = _message(field.message_type, depth + 1) if depth < 3 else st.binary(max_size=8)
        return (inner | st.binary(max_size=12)).map(lambda b: _length_delimited(number, b))
    if field.type in (FieldDescriptor.TYPE_STRING, FieldDescriptor.TYPE_BYTES):
        return STRINGS.map(lambda b: _length_delimited(number, b))
    # varint types (ints, bools, enums), sometimes sent with the wrong wire type
    return VARINTS.map(lambda v: _tag(number, 0) + _varint(v)) | st.binary(max_size=4).map(
        lambda b: _length_delimited(number, b)
    )


def _message(descriptor: Descriptor, depth: int = 0) -> st.SearchStrategy[bytes]:
    fields = [_field(f, depth) for f in descriptor.fields]
    unknown = st.integers(100, 2000).map(lambda n: _tag(n, 0) + b"\x01")
    parts = st.lists(st.one_of(*fields) | unknown if fields else unknown, max_size=6)
    return parts.map(b"".join)


def _ints(value: Any) -> Iterator[int]:
    """Every integer inside a decoded domain value."""
    if isinstance(value, bool):
        return
    if isinstance(value, int):
        yield value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            yield from _ints(getattr(value, field.name))
    elif isinstance(value, tuple | list):
        for item in value:
            yield from _ints(item)


def _decodes_or_refuses(kind: type, data: bytes) -> None:
    try:
        value = CODEC.decode(kind, data)
    except ProtocolError:
        return
    assert isinstance(value, kind)
    assert all(-MAX_INT64 - 1 <= i <= MAX_INT64 for i in _ints(value)), value


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.__name__)
@FUZZ
@given(data=st.binary(max_size=300))
def test_random_bytes_decode_or_are_refused(kind: type, data: bytes) -> None:
    _decodes_or_refuses(kind, data)


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.__name__)
@FUZZ
@given(data=st.data())
def test_any_fields_decode_in_range_or_are_refused(kind: type, data: st.DataObject) -> None:
    descriptor = TABLE[kind][0].DESCRIPTOR
    _decodes_or_refuses(kind, data.draw(_message(descriptor)))


Path = tuple[FieldDescriptor, ...]


def _unsigned_paths(descriptor: Descriptor, prefix: Path = ()) -> Iterator[Path]:
    for field in descriptor.fields:
        path = (*prefix, field)
        if field.type in (FieldDescriptor.TYPE_UINT64, FieldDescriptor.TYPE_FIXED64):
            yield path
        elif field.type == FieldDescriptor.TYPE_MESSAGE and len(path) < 4:
            yield from _unsigned_paths(field.message_type, path)


def _set(message: Any, path: tuple[FieldDescriptor, ...], value: int) -> None:
    *parents, last = path
    for field in parents:
        if field.is_repeated:
            message = getattr(message, field.name).add()
        else:
            message = getattr(message, field.name)
    if last.is_repeated:
        getattr(message, last.name).append(value)
    else:
        setattr(message, last.name, value)


UNSIGNED = [(kind, path) for kind in KINDS for path in _unsigned_paths(TABLE[kind][0].DESCRIPTOR)]


@pytest.mark.parametrize(
    ("kind", "path"),
    UNSIGNED,
    ids=[f"{k.__name__}.{'.'.join(f.name for f in p)}" for k, p in UNSIGNED],
)
@pytest.mark.parametrize("value", [2**63, 2**64 - 1], ids=["2**63", "2**64-1"])
def test_every_unsigned_field_past_int64_is_refused(
    kind: type, path: tuple[FieldDescriptor, ...], value: int
) -> None:
    message = TABLE[kind][0]()
    _set(message, path, value)
    with pytest.raises(ProtocolError, match=path[-1].name):
        CODEC.decode(kind, message.SerializeToString())
    largest = TABLE[kind][0]()
    _set(largest, path, MAX_INT64)  # the largest that fits is not refused for its size
    try:
        CODEC.decode(kind, largest.SerializeToString())
    except ProtocolError as exc:
        assert "64-bit" not in str(exc)


def test_the_unsigned_fields_are_all_found() -> None:
    names = {".".join(f.name for f in p) for _, p in UNSIGNED}
    assert {"from_seq", "to_seq", "entries.content_size", "after_version", "cursor"} <= names
    assert "chain.serial" in names  # inside an envelope's certificates
