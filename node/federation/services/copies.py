"""Certified copies (出证) as one node's use cases: issue as the holder, look up, verify, print.

The holder issues: it signs with its current node key and certificate chain (read from the
signer at each call, so a renewed or rotated key is used at once), keeps the copy by its
verification code and records ``copy.issue`` in the audit log in the same transaction.
Anybody may look a copy up by its code (the code is 60 random-looking bits taken from the
signature, printed on the paper: knowing it is holding the copy) or verify an uploaded copy
against this node's pinned root key and what its directory knows: a copy signed after its
signer's certificate was revoked (or its key retired) is refused, one signed before stands.
Verifying and printing are CPU work (a PDF of up to 32 MB to parse, a font to subset), so
they run off the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from node import copies, printout
from node.actors import Actor
from node.copies import CopyFacts, IssuedCopy, Verdict
from node.errors import InvalidInput
from node.federation.parts import NodeParts
from node.federation.trust.events import TrustState
from node.storage.copies import CopyStore, StoredCopy


@dataclass(frozen=True)
class CopyLookup:
    """A copy this node issued, found by its code, with the verdict on it now."""

    code: str
    request_id: str
    record_id: str
    issued_at_ms: int
    credential: bytes
    verdict: Verdict


@runtime_checkable
class CopyService(Protocol):
    async def issue(self, facts: CopyFacts, *, actor: Actor) -> IssuedCopy:
        """Sign ``facts`` as this node (the holder), keep the copy, audit ``copy.issue``.

        Raises:
            InvalidInput: ``facts.holder`` is not this node.
        """
        ...

    async def lookup(self, code: str) -> CopyLookup | None:
        """The copy this node issued under verification ``code`` (as a person typed it),
        or None. ``InvalidInput`` if ``code`` cannot be a code."""
        ...

    async def verify(self, upload: bytes, content: bytes | None = None) -> Verdict:
        """The verdict on an uploaded copy (the printed PDF, or the credential JSON) against
        this node's pinned root key; the content is checked if given or attached."""
        ...

    async def printout(
        self, document: bytes, content: bytes, *, content_name: str = "content.bin"
    ) -> bytes:
        """The PDF of a copy that verifies with ``content``; ``InvalidInput`` with the
        reasons otherwise (nobody prints a copy that a bank would refuse)."""
        ...


class NodeCopies:
    """``CopyService`` for one node."""

    def __init__(
        self,
        parts: NodeParts,
        store: CopyStore,
        root_public_key: bytes,
        verify_url_base: Callable[[], str],
        state: TrustState | None = None,
    ) -> None:
        self.parts = parts
        self.store = store
        self.root_public_key = root_public_key
        self.state = state if state is not None else TrustState()  # this node's directory
        self.verify_url_base = verify_url_base  # where banks reach this node's web pages

    async def issue(self, facts: CopyFacts, *, actor: Actor) -> IssuedCopy:
        if facts.holder != self.parts.code:
            raise InvalidInput(
                f"只有馆藏单位能出具档案证明：本节点是 {self.parts.code}，档案在 {facts.holder}"
            )
        signer = self.parts.signer
        issued = copies.issue(facts, signer.key, signer.chain, self.verify_url_base())
        kept = StoredCopy(
            issued.code, facts.request_id, facts.record_id, facts.issued_at_ms, issued.document
        )
        detail = {"code": issued.code, "request": facts.request_id, "to": facts.requester}
        hook = self.parts.audit.hook(
            [(actor, "copy.issue", f"{facts.holder}/{facts.record_id}", detail)]
        )
        await self.store.put(kept, also=hook)
        return issued

    async def lookup(self, code: str) -> CopyLookup | None:
        kept = await self.store.get(copies.normalise_code(code))
        if kept is None:
            return None
        verdict = await asyncio.to_thread(self._verify, kept.credential, None)
        return CopyLookup(
            kept.code,
            kept.request_id,
            kept.record_id,
            kept.issued_at_ms,
            kept.credential,
            verdict,
        )

    async def verify(self, upload: bytes, content: bytes | None = None) -> Verdict:
        return await asyncio.to_thread(self._verify_upload, upload, content)

    async def printout(
        self, document: bytes, content: bytes, *, content_name: str = "content.bin"
    ) -> bytes:
        verdict = await asyncio.to_thread(self._verify, document, content)
        if not verdict.ok:
            raise InvalidInput("档案证明未通过核验，不能打印：" + "；".join(verdict.reasons))
        copy = copies.read(document)
        return await asyncio.to_thread(printout.render, copy, content, content_name=content_name)

    def _verify(self, document: bytes, content: bytes | None) -> Verdict:
        """The domain's verdict, with what this node's directory knows of revocations and
        retired keys (as evidence: a copy signed before its signer was revoked stands)."""
        return copies.verify(
            document,
            self.root_public_key,
            content,
            revoked=lambda cert, at_ms: self.state.refusal(cert, at_ms, live=False),
        )

    def _verify_upload(self, upload: bytes, content: bytes | None) -> Verdict:
        try:
            found = printout.read_upload(upload)
        except InvalidInput as exc:
            return Verdict(reasons=(f"不是有效的档案证明：{exc}",))
        verdict = self._verify(found.credential, content if content is not None else found.content)
        return printout.with_layout(verdict, upload, found)  # the printed page is the signed one
