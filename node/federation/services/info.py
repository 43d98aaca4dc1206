"""``NodeInfo``: who a hosted node is, as every page and the node list show it."""

from __future__ import annotations

from dataclasses import dataclass

from node.identity import level_of, parent_of


@dataclass(frozen=True)
class NodeInfo:
    code: str
    name: str
    level: int  # node.identity.Level value
    parent: str | None

    @classmethod
    def of(cls, code: str, name: str) -> NodeInfo:
        """The info of the node with division ``code`` and archive ``name``."""
        return cls(code=code, name=name, level=int(level_of(code)), parent=parent_of(code))
