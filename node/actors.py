"""Who is acting: a staff account at a hosted node, a verified node, or an anonymous visitor.

Every act that changes state or shows non-public data names its actor (docs/architecture.md,
"People and authority"), so the audit log and the authority checks speak of the same thing.
People authenticate to their node (``web/`` sessions and API tokens); nodes authenticate to each
other by signatures (``federation/``). An ``Actor`` is made at that boundary and passed down,
never guessed below.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """Staff roles at one node (docs/architecture.md, "People and authority")."""

    CLERK = "clerk"  # service point: search, file and follow requests, print copies
    ARCHIVIST = "archivist"  # ingest, decide requests and appraisals
    OPERATOR = "operator"  # enrolment, revocation, rotation, bans, aliases, sync, accounts

    @property
    def zh(self) -> str:
        return _ROLE_ZH[self]


_ROLE_ZH = {Role.CLERK: "窗口工作人员", Role.ARCHIVIST: "档案员", Role.OPERATOR: "运维管理员"}


class ActorKind(StrEnum):
    ACCOUNT = "account"  # a person, logged in (or by API token) at ``node``
    NODE = "node"  # another node, by a verified signed call; ``name`` is its code
    ANONYMOUS = "anonymous"  # a visitor: may search and view open records only


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    name: str  # the account name, the calling node's code, or "" for a visitor
    node: str = ""  # the hosted node the act is done at ("" if none yet)
    roles: frozenset[Role] = frozenset()  # the account's roles at ``node``

    def has(self, role: Role) -> bool:
        return role in self.roles

    @property
    def label(self) -> str:
        """How the audit log and the pages name the actor: ``account:wang@330106``."""
        if self.kind == ActorKind.ANONYMOUS:
            return "anonymous"
        return f"{self.kind.value}:{self.name}" + (f"@{self.node}" if self.node else "")


ANONYMOUS = Actor(ActorKind.ANONYMOUS, "")


def node_actor(code: str, at: str = "") -> Actor:
    """A verified node calling ``at``."""
    return Actor(ActorKind.NODE, code, at)
