"""Integers a peer may send, range-checked against what the domain and SQLite hold.

Protobuf's ``uint64`` reaches 2**64 - 1, but SQLite's INTEGER (and the domain's counts,
cursors, versions and serials, which are stored there) is signed 64-bit: a cursor of 2**63
that decoded fine failed later in a query, as gRPC INTERNAL. So every unsigned 64-bit field
of every message, at any depth, is checked at decoding. The checks are derived from the
message descriptors, not listed by hand, so a ``uint64`` field added to a ``.proto`` later
is checked too (``tests/rpc/test_codec_bad_input.py`` fuzzes each one).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from node.errors import ProtocolError
from node.fields import MAX_INT64

_UNSIGNED_64 = (FieldDescriptor.TYPE_UINT64, FieldDescriptor.TYPE_FIXED64)

Check = Callable[[Any], None]


def check_int64(message: Any) -> None:
    """Raise ``ProtocolError`` naming the first unsigned field of ``message`` over int64."""
    check = checker(message.DESCRIPTOR)
    if check is not None:
        check(message)


@cache
def checker(descriptor: Descriptor) -> Check | None:
    """The check for one message type, or ``None`` when nothing in it can be out of range."""
    scalars: list[str] = []
    lists: list[str] = []
    nested: list[tuple[str, bool, Check]] = []
    for field in descriptor.fields:
        repeated = field.is_repeated
        if field.type in _UNSIGNED_64:
            (lists if repeated else scalars).append(field.name)
        elif field.type == FieldDescriptor.TYPE_MESSAGE and field.message_type is not descriptor:
            inner = checker(field.message_type)
            if inner is not None:
                nested.append((field.name, repeated, inner))
    if not (scalars or lists or nested):
        return None
    name = descriptor.name

    def check(message: Any) -> None:
        for field in scalars:
            if getattr(message, field) > MAX_INT64:
                raise ProtocolError(_over(name, field, getattr(message, field)))
        for field in lists:
            if any(value > MAX_INT64 for value in getattr(message, field)):
                raise ProtocolError(_over(name, field, max(getattr(message, field))))
        for field, repeated, inner in nested:
            if repeated:
                for item in getattr(message, field):
                    inner(item)
            elif message.HasField(field):
                inner(getattr(message, field))

    return check


def _over(message: str, field: str, value: int) -> str:
    return f"{message}.{field} = {value} is over the largest signed 64-bit integer ({MAX_INT64})"
