"""``CopyService`` for the web tests: the real domain (issue, verify, PDF) with the test tree
of ``copies_helpers`` (root key, holder 330110) and copies kept in memory."""

from __future__ import annotations

from copies_helpers import Tree, tree

from node import copies, printout
from node.actors import Actor
from node.copies import CopyFacts, IssuedCopy, Verdict
from node.errors import InvalidInput
from node.federation.services.copies import CopyLookup


class FakeCopies:
    def __init__(self, code: str) -> None:
        self.code = code
        self.tree: Tree = tree()
        self.kept: dict[str, IssuedCopy] = {}
        self.issued_by: list[Actor] = []

    async def issue(self, facts: CopyFacts, *, actor: Actor) -> IssuedCopy:
        copy = copies.issue(facts, self.tree.holder_key, self.tree.chain, "http://127.0.0.1")
        self.kept[copy.code] = copy
        self.issued_by.append(actor)
        return copy

    async def lookup(self, code: str) -> CopyLookup | None:
        copy = self.kept.get(copies.normalise_code(code))
        if copy is None:
            return None
        verdict = copies.verify(copy.document, self.tree.root.public_key)
        facts = copy.facts
        return CopyLookup(
            copy.code, facts.request_id, facts.record_id, facts.issued_at_ms, copy.document, verdict
        )

    async def verify(self, upload: bytes, content: bytes | None = None) -> Verdict:
        try:
            found = printout.read_upload(upload)
        except InvalidInput as exc:
            return Verdict(reasons=(f"不是有效的档案证明：{exc}",))
        attached = content if content is not None else found.content
        return copies.verify(found.credential, self.tree.root.public_key, attached)

    async def printout(
        self, document: bytes, content: bytes, *, content_name: str = "content.bin"
    ) -> bytes:
        return printout.render(copies.read(document), content, content_name=content_name)
