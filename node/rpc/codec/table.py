"""The shape every message family's converters share, and the merge into one table.

Each family module (``envelope``, ``catalogue``, ``trust``, ``antientropy``) exports
``CONVERTERS``: for each domain type it encodes, the generated protobuf type and the two
functions between them. ``ProtobufCodec`` looks types up in the merged table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from google.protobuf.message import Message as PbMessage

# domain type -> (protobuf type, to_pb, from_pb)
Converter = tuple[type[PbMessage], Callable[[Any], Any], Callable[[Any], Any]]
Converters = dict[type, Converter]


def merged(*families: Mapping[type, Converter]) -> Converters:
    """One table from the families' tables; a type converted by two families is a bug."""
    table: Converters = {}
    for family in families:
        twice = table.keys() & family.keys()
        if twice:
            raise RuntimeError(
                f"converted by two codec families: {sorted(t.__name__ for t in twice)}"
            )
        table.update(family)
    return table
