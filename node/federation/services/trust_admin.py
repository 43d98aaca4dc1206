"""The operator's side of trust: enrolment decisions, own keys, revocation, bans, aliases.

What ``archive-node registry ...`` and the registry page ask for. The trust keeper does the
work (and answers the federation side: applications arriving, reports, renewals); this is
the part an operator may call, plus a frozen overview of the node's certificate and its copy
of the directory.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from node import crypto
from node.actors import Actor
from node.audit import Act
from node.certificates import Application, Certificate
from node.federation.blind_index import ROTATE_ACT, BlindIndex
from node.federation.parts import NodeParts
from node.federation.services.audit import audited
from node.federation.trust.events import Revocation
from node.federation.trust.keeper import TrustKeeper


@dataclass(frozen=True)
class TrustOverview:
    """This node's certificate and its copy of the directory (fields in the API's order)."""

    node: str
    key_id: str
    serial: int
    not_after_ms: int
    directory_version: int
    directory_issued_at_ms: int
    certificates: int
    revocations: int
    retired_keys: int
    aliases: Mapping[str, str]  # succeeded division code -> successor (a copy)
    banned_keys: Mapping[str, str]  # key id -> reason (a copy)
    unreported_events: int  # trust events made here the root registry has not acknowledged
    # children whose certified address answers as another node: code -> what was seen
    child_address_problems: Mapping[str, str] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True)
class RevokedNode:
    """A revocation in the directory, with the revoked node's name where a certificate of it
    is known (``""`` if none is)."""

    code: str
    name: str
    serial: int  # 0: every certificate of the node issued before ``at_ms``
    by: str
    at_ms: int
    reason: str


@dataclass(frozen=True)
class BannedKey:
    """A key banned on this node, with the node that held it where the directory knows."""

    key_id: str
    reason: str
    code: str  # "" when no certificate in the directory carries this key
    name: str


@dataclass(frozen=True)
class CodeAlias:
    """A succeeded division code and its successor, each with its name where known."""

    old: str
    old_name: str
    new: str
    new_name: str


@dataclass(frozen=True)
class TrustListing:
    """What the registry page lists of the directory: revocations (newest first), bans and
    aliases (by code)."""

    revoked: tuple[RevokedNode, ...]
    banned: tuple[BannedKey, ...]
    aliases: tuple[CodeAlias, ...]


@dataclass(frozen=True)
class IndexKeyStatus:
    """The identity index keys this node holds: versions only, never a key."""

    newest_version: int  # 0: none yet
    newest_created_ms: int
    live_versions: tuple[int, ...]  # searched under, newest first


@runtime_checkable
class TrustAdminService(Protocol):
    async def overview(self) -> TrustOverview: ...

    async def listing(self) -> TrustListing:
        """The revoked nodes, banned keys and code aliases, with node names next to codes."""
        ...

    async def applications(self, status: str | None = None) -> tuple[Application, ...]:
        """Enrolment applications from children (``status``: pending, approved, rejected)."""
        ...

    async def approve(self, code: str, key_id: str, *, actor: Actor) -> tuple[Certificate, ...]:
        """Certify ``code``'s pending application for the key ``key_id`` the operator checked
        (``InvalidInput`` if the application's key is another); the child's new chain."""
        ...

    async def reject(self, code: str, note: str = "", *, actor: Actor) -> None: ...

    async def revoke(self, code: str, reason: str, *, actor: Actor) -> Revocation:
        """Revoke every certificate descendant ``code`` holds (``Forbidden`` otherwise)."""
        ...

    async def rotate(self, *, actor: Actor) -> tuple[str, str]:
        """Move this node to a new key; (old key id, new key id)."""
        ...

    async def renew(self, *, actor: Actor) -> tuple[Certificate, ...]:
        """A fresh certificate for the current key from the parent; the new chain."""
        ...

    async def refresh(self, *, actor: Actor) -> int:
        """Fetch the directory from the parent now; the version held afterwards."""
        ...

    async def ban(self, key_id: str, reason: str, *, actor: Actor) -> None: ...

    async def unban(self, key_id: str, *, actor: Actor) -> bool:
        """Lift a ban; whether there was one."""
        ...

    async def alias(self, old: str, new: str, *, actor: Actor) -> None:
        """Registry only: division code ``old`` is now ``new``."""
        ...

    async def index_keys(self) -> IndexKeyStatus:
        """Which identity index key versions this node holds."""
        ...

    async def rotate_index_key(self, *, actor: Actor) -> IndexKeyStatus:
        """Registry only (``Forbidden`` elsewhere): mint a new identity index key version;
        the nodes pull it on their next upkeep and their holders re-index."""
        ...


class TrustAdmin:
    """``TrustAdminService`` over this node's trust keeper."""

    def __init__(self, keeper: TrustKeeper, parts: NodeParts, blind_index: BlindIndex) -> None:
        self.keeper = keeper
        self.parts = parts
        self.blind_index = blind_index

    async def overview(self) -> TrustOverview:
        keeper = self.keeper
        leaf = self.parts.signer.chain[0]  # read now: renewal and rotation replace the signer
        state = keeper.state
        return TrustOverview(
            node=self.parts.code,
            key_id=leaf.key_id,
            serial=leaf.serial,
            not_after_ms=leaf.not_after_ms,
            directory_version=keeper.head.version,
            directory_issued_at_ms=keeper.head.issued_at_ms,
            certificates=sum(len(c) for c in state.certificates.values()),
            revocations=len(state.revoked),
            retired_keys=len(state.retired),
            aliases=dict(state.aliases),
            banned_keys=dict(state.banned),
            unreported_events=await keeper.reports.unreported_events(),
            child_address_problems=dict(keeper.directory.address_problems),
        )

    async def listing(self) -> TrustListing:
        state = self.keeper.state
        # Names from the directory's certificates; for a child enrolled here whose
        # certificate has not come back down in the directory yet, from its application.
        names = {a.code: a.name for a in await self.keeper.enrolment.applications("approved")}
        names.update({code: certs[-1].name for code, certs in state.certificates.items() if certs})
        holders = {
            cert.key_id: code for code, certs in state.certificates.items() for cert in certs
        }
        revoked = sorted(state.revoked.values(), key=lambda r: (-r.at_ms, r.node_id))
        return TrustListing(
            revoked=tuple(
                RevokedNode(r.node_id, names.get(r.node_id, ""), r.serial, r.by, r.at_ms, r.reason)
                for r in revoked
            ),
            banned=tuple(
                BannedKey(key, reason, holders.get(key, ""), names.get(holders.get(key, ""), ""))
                for key, reason in sorted(state.banned.items())
            ),
            aliases=tuple(
                CodeAlias(old, names.get(old, ""), new, names.get(new, ""))
                for old, new in sorted(state.aliases.items())
            ),
        )

    async def applications(self, status: str | None = None) -> tuple[Application, ...]:
        return tuple(await self.keeper.enrolment.applications(status))

    # Each act is appended to the audit log once the keeper has done it (its writes are the
    # keeper's own transactions), before the operator hears back; refusals are logged too.

    async def approve(self, code: str, key_id: str, *, actor: Actor) -> tuple[Certificate, ...]:
        work = self.keeper.enrolment.approve(code, key_id)
        return await audited(self.parts.audit, actor, Act.APPROVE, code, {"key_id": key_id}, work)

    async def reject(self, code: str, note: str = "", *, actor: Actor) -> None:
        work = self.keeper.enrolment.reject(code, note)
        await audited(self.parts.audit, actor, Act.REJECT, code, {"note": note}, work)

    async def revoke(self, code: str, reason: str, *, actor: Actor) -> Revocation:
        work = self.keeper.revocation.revoke(code, reason)
        return await audited(self.parts.audit, actor, Act.REVOKE, code, {"reason": reason}, work)

    async def rotate(self, *, actor: Actor) -> tuple[str, str]:
        old = self.parts.signer.key.key_id
        work = self.keeper.credentials.rotate()
        keys = await audited(self.parts.audit, actor, Act.ROTATE, old, {}, work)
        return keys

    async def renew(self, *, actor: Actor) -> tuple[Certificate, ...]:
        work = self.keeper.credentials.renew()
        return await audited(self.parts.audit, actor, Act.RENEW, self.parts.code, {}, work)

    async def refresh(self, *, actor: Actor) -> int:
        work = self.keeper.directory.refresh()
        return await audited(self.parts.audit, actor, Act.REFRESH, self.parts.code, {}, work)

    async def ban(self, key_id: str, reason: str, *, actor: Actor) -> None:
        """Ban ``key_id`` here; ``InvalidInput`` unless it is written as key ids are."""
        work = self.keeper.revocation.ban(crypto.validate_key_id(key_id), reason)
        await audited(self.parts.audit, actor, Act.BAN, key_id, {"reason": reason}, work)

    async def unban(self, key_id: str, *, actor: Actor) -> bool:
        work = self.keeper.revocation.unban(key_id)
        return await audited(self.parts.audit, actor, Act.UNBAN, key_id, {}, work)

    async def alias(self, old: str, new: str, *, actor: Actor) -> None:
        work = self.keeper.revocation.alias(old, new)
        await audited(self.parts.audit, actor, Act.ALIAS, old, {"new": new}, work)

    async def index_keys(self) -> IndexKeyStatus:
        live = self.blind_index.live_keys()
        return IndexKeyStatus(
            newest_version=live[0].version if live else 0,
            newest_created_ms=live[0].created_ms if live else 0,
            live_versions=tuple(k.version for k in live),
        )

    async def rotate_index_key(self, *, actor: Actor) -> IndexKeyStatus:
        detail = {"version": self.blind_index.newest_version + 1}
        work = self.blind_index.rotate()
        await audited(self.parts.audit, actor, ROTATE_ACT, self.parts.code, detail, work)
        return await self.index_keys()
