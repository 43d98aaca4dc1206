"""The holder's certified copy (出证) of what it releases on an approved utilisation request.

When the requesting node fetches an approved request's content, the holder issues a copy
through its ``CopyService`` (a W3C Verifiable Credential signed with its node key: the
record's 档号, 题名, 年度, 全宗, the content's sha256, the request, its purpose, the requesting
node, the 查档日期) and the fetch handler seals it with the manifest to the requester, so the
copy, which names the record's real title, is as unreadable to relays as the content.

A copy that cannot be issued does not hold back the delivery: the content is the citizen's
due, the copy can be asked again by fetching again; the failure is logged.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from node import copies
from node.actors import node_actor
from node.copies import CopyFacts
from node.errors import InvalidInput, NodeError
from node.federation.messages import ContentManifest, FetchRequest
from node.federation.parts import NodeParts
from node.federation.services.copies import CopyService
from node.federation.trust.events import TrustState
from node.requests import CHINA

log = logging.getLogger(__name__)


class RequestCertifier:
    """Issues the copy for a release on a request (``catalogue_handlers.Certify``)."""

    def __init__(
        self,
        parts: NodeParts,
        directory: TrustState,
        copies: Callable[[], CopyService],
        clock: Callable[[], float],
    ) -> None:
        self.parts = parts
        self.directory = directory
        self.copies = copies  # built after the handlers: looked up when a copy is issued
        self.clock = clock

    async def __call__(
        self, request: FetchRequest, manifest: ContentManifest, requester: str
    ) -> bytes:
        p = self.parts
        try:
            filed = await p.requests.get(request.request_id)
            record = await p.records.get(request.record_id)
            if filed is None:
                return b""
            names = self.directory.current(requester)
            now = dt.datetime.fromtimestamp(int(self.clock()), dt.UTC)
            facts = CopyFacts(
                holder=p.code,
                holder_name=p.name,
                record_id=record.record_id,
                archival_code=record.archival_code,
                title=record.title,
                year=record.year,
                fonds=record.fonds,
                category=record.category,
                content_sha256=manifest.sha256,
                content_size=manifest.size,
                request_id=request.request_id,
                purpose=filed.request.purpose,
                requester=requester,
                requester_name=names[-1].name if names else requester,
                consulted_on=now.astimezone(CHINA).date(),
                issued_at=now,
            )
            issued = await self.copies().issue(facts, actor=node_actor(requester, p.code))
        except NodeError as exc:
            log.warning("no certified copy for request %s: %s", request.request_id, exc)
            return b""
        return issued.document


def delivered_copy(document: bytes) -> tuple[str, bytes | None]:
    """The verification code of a copy delivered with content, and its bytes to keep (none
    if it is not a copy: the content is kept all the same)."""
    if not document:
        return "", None
    try:
        return copies.read(document).code, document
    except InvalidInput as exc:
        log.warning("a certified copy came that is not one: %s", exc)
        return "", None
