"""Searching the network's catalogue from one node: answered here or by the covering ancestor.

Also the nodes this node knows from its copy of the trust directory (``known_nodes``), by
name: the search page offers scopes by name and says who answered, and why, and names the
holder when it cannot be reached or its certificate was revoked.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Protocol, runtime_checkable

from node.actors import ANONYMOUS, Actor
from node.audit import Act, search_detail
from node.citizens import IdNumber
from node.errors import InvalidInput, InvalidQuery
from node.federation.blind_index import BlindIndex
from node.federation.client import FederationClient
from node.federation.messages import SEARCH
from node.federation.parts import NodeParts
from node.federation.trust.events import TrustState
from node.identity import covering_ancestor, validate_code
from node.records import MAX_PAGE, MAX_QUERY_CHARS, SearchPage, SearchQuery


@dataclass(frozen=True)
class KnownNode:
    """A node of the trust directory as this node's copy has it."""

    code: str
    name: str  # the archive's name in its newest certificate
    revoked: bool  # every certificate it had is revoked (or its key retired without a new one)


@runtime_checkable
class SearchService(Protocol):
    async def search(
        self,
        query: SearchQuery,
        *,
        actor: Actor = ANONYMOUS,
        id_number: IdNumber | None = None,
    ) -> SearchPage:
        """One page of catalogue entries matching ``query`` over ``query.scope``, searched
        by ``actor`` (logged in the audit log with the scope, filters and total);
        ``id_number``: the records of that citizen (by blind index; never logged).

        With ``id_number`` only entries whose subjects include that person match (by the
        keyed blind index: the number is turned into index values here and never sent);
        the text and filters still apply. The audit entry shows the number masked.

        Raises ``InvalidQuery``/``InvalidInput`` for a query no node would answer,
        ``NotReady`` (zh-CN) for ``id_number`` before this node has the index key,
        ``PeerUnavailable`` when the answering ancestor cannot be reached.
        """
        ...

    async def known_nodes(self) -> tuple[KnownNode, ...]:
        """Every node of this node's copy of the trust directory, by code."""
        ...


class CatalogueSearch:
    """``SearchService`` over this node's catalogue and its ancestors'."""

    def __init__(
        self,
        parts: NodeParts,
        client: FederationClient,
        directory: TrustState,
        blind_index: BlindIndex,
    ) -> None:
        self.parts = parts
        self.client = client
        self.directory = directory  # resolves succeeded division codes (aliases)
        self.blind_index = blind_index

    async def search(
        self,
        query: SearchQuery,
        *,
        actor: Actor = ANONYMOUS,
        id_number: IdNumber | None = None,
    ) -> SearchPage:
        """Search the catalogue over ``query.scope`` (default: the whole province).

        Answered here if this node covers the scope, else by the lowest ancestor that does.
        The search is noted in the audit log (queued: see ``storage/audit.py``).
        """
        code = self.parts.code
        if id_number is not None:
            if not isinstance(id_number, IdNumber):
                raise InvalidInput("身份证号码应先经校验（IdNumber.parse）")
            query = replace(query, subject_index=self.blind_index.search_values(id_number))
        elif query.subject_index:
            # values come only from a number checked here: a caller cannot probe with its own
            raise InvalidQuery("身份索引检索值只能由本节点按身份证号码生成：请输入身份证号码")
        query = _checked(replace(query, scope=query.scope or code[:2]))
        query = replace(query, scope=self.directory.resolve(query.scope))
        answerer = covering_ancestor(code, query.scope)
        if answerer == code:
            page = replace(await self.parts.catalogue.search(query), answered_by=code)
        else:
            reply = await self.client.call(SEARCH, answerer, self.parts.codec.encode(query))
            page = self.parts.codec.decode(SearchPage, reply.payload)
        detail = search_detail(query, page)
        if id_number is not None:
            detail["id_number"] = id_number.masked
        self.parts.audit.note(actor, Act.SEARCH, query.scope, detail)
        return page

    async def known_nodes(self) -> tuple[KnownNode, ...]:
        state = self.directory
        return tuple(
            KnownNode(code, certs[-1].name, not state.current(code))
            for code, certs in sorted(state.certificates.items())
            if certs
        )


def _checked(query: SearchQuery) -> SearchQuery:
    fields = (
        query.text,
        query.scope,
        query.category,
        query.retention,
        query.access,
        query.cursor,
        query.archival_code,
    )
    for value in fields:
        if value is None:
            continue
        if not isinstance(value, str):
            raise InvalidQuery(f"检索条件应为文本，收到 {type(value).__name__}。")
        try:  # the wire carries UTF-8: a lone surrogate cannot reach the answering node
            value.encode()
        except UnicodeEncodeError:
            raise InvalidQuery(
                "查询词或筛选条件含有无效字符（不成对的代理码位）：请删除后重试。"
            ) from None
    validate_code(query.scope)
    if len(query.text) > MAX_QUERY_CHARS:
        raise InvalidInput(f"查询词过长（最多 {MAX_QUERY_CHARS} 字）")
    if len(query.archival_code) > MAX_QUERY_CHARS:
        raise InvalidInput(f"档号过长（最多 {MAX_QUERY_CHARS} 字）")
    if not 1 <= query.limit <= MAX_PAGE:
        raise InvalidInput(f"每页条数应在 1 到 {MAX_PAGE} 之间")
    if query.offset < 0:
        raise InvalidInput("偏移量不能为负数")
    return query
