"""Taking trust away, and renaming: revocations, local key bans and division-code aliases.

A revocation is made by an ancestor of the revoked node and travels through the registry's
directory, so every node refuses the certificate once the directory reaches it (and the
revoking node at once). A ban is local: this node refuses a key whatever its certificate
says, kept in this node's database and in no directory. An alias (a merger, a county become
a district) is the registry's alone to record.
"""

from __future__ import annotations

import logging

from node.errors import Forbidden, InvalidInput
from node.federation.trust.directory import Directory
from node.federation.trust.events import Alias, Revocation
from node.federation.trust.reports import Reporter
from node.identity import covers, validate_code
from node.storage.trust import TrustStore

log = logging.getLogger(__name__)


class Revoker:
    """Revocation of descendants, this node's ban list, and (at the registry) aliases."""

    def __init__(self, store: TrustStore, directory: Directory, reports: Reporter) -> None:
        self.store = store
        self.directory = directory
        self.reports = reports

    @property
    def code(self) -> str:
        return self.directory.code

    async def open(self) -> None:
        """Load the stored ban list into the state every call is checked against."""
        self.directory.state.banned.update(await self.store.bans())

    async def revoke(self, code: str, reason: str) -> Revocation:
        """Revoke every certificate descendant ``code`` holds now; refused here at once,
        everywhere once the directory carrying it arrives."""
        code = validate_code(code)
        if code == self.code or not covers(self.code, code):
            raise Forbidden(f"{self.code} 只能吊销其下级节点的证书，不能吊销 {code}")
        revocation = Revocation(code, 0, self.code, self.directory.now_ms, reason)
        self.directory.state.revoked[(code, 0)] = revocation  # before the directory round trip
        await self.reports.report([revocation])
        log.warning("revoked every certificate of %s: %s", code, reason)
        return revocation

    async def ban(self, key_id: str, reason: str) -> None:
        """Refuse ``key_id`` on this node at once, whatever its certificate says."""
        await self.store.ban(key_id, reason)
        self.directory.state.banned[key_id] = reason
        log.warning("banned key %s on %s: %s", key_id, self.code, reason)

    async def unban(self, key_id: str) -> bool:
        self.directory.state.banned.pop(key_id, None)
        return await self.store.unban(key_id)

    async def alias(self, old: str, new: str) -> None:
        """Registry only: record that division code ``old`` is now ``new``."""
        if not self.directory.is_registry:
            raise Forbidden("区划代码变更只能由省级根登记处登记")
        old, new = validate_code(old), validate_code(new)
        if old == new or self.directory.state.resolve(new) == old:
            raise InvalidInput(f"{old} -> {new} 会形成循环")
        await self.directory.record([Alias(old, new, self.directory.now_ms)])
