"""One node's copy of the trust directory (docs/architecture.md, "The wire" and "The flows").

At the province (the root registry) reported events are appended to the directory log and a
new head is signed. Everywhere else the directory is pulled from the parent on a schedule,
and at once when the parent announces a newer version; whoever gets a newer directory
announces it to its own children, so a revocation crosses the tree in seconds, not in one
interval per level.

The directory is kept in the node's database, so a node whose parent is down keeps
verifying from its copy. The log itself (events, head, ``TrustState``) is ``events.py``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Iterable, Sequence
from typing import Any

from node.actors import node_actor
from node.audit import Act
from node.certificates import Certificate
from node.errors import AuthError, Forbidden, NodeError, ProtocolError
from node.federation.client import FederationClient
from node.federation.envelope import now_ms
from node.federation.messages import (
    GET_DIRECTORY,
    HEARTBEAT,
    DirectoryPage,
    DirectoryRequest,
    Heartbeat,
)
from node.federation.trust.events import (
    EMPTY_HEAD,
    DirectoryHead,
    Retirement,
    Revocation,
    TrustEvent,
    TrustState,
    check_events,
    encode_event,
    next_hash,
    verify_head,
)
from node.identity import parent_of
from node.storage.trust import TrustStore

log = logging.getLogger(__name__)

PAGE_EVENTS = 1_000
ANNOUNCE_TIMEOUT_S = 5.0


def answers_as_another(exc: BaseException) -> bool:
    """Whether a failed call to a node reached a listener that is not that node's: another
    daemon hosting other nodes, a TLS certificate other than the pinned one, an answer signed
    by another node."""
    text = str(exc)
    return (
        "no node hosted here takes calls" in text
        or "is not the one its node certificate pins" in text
        or (isinstance(exc, AuthError) and text.startswith("answer signed by"))
    )


class Background:
    """The trust work one node runs in the background, all cancelled by ``stop``."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


class Directory:
    """The directory log as this node holds it: recorded (registry), pulled, paged, announced."""

    def __init__(
        self,
        client: FederationClient,
        store: TrustStore,
        state: TrustState,
        root_public_key: bytes,
        background: Background,
    ) -> None:
        self.client = client
        self.parts = client.parts
        self.store = store
        self.state = state
        self.root_public_key = root_public_key
        self.background = background
        # children whose certified address answered as another node: code -> what was seen
        self.address_problems: dict[str, str] = {}
        # codes whose address is known: where children are (the host sets it)
        self.known_nodes: Callable[[], Iterable[str]] = tuple
        # told every certificate the directory brings (addresses; the host sets it)
        self.learn: Callable[[Iterable[Certificate]], None] = lambda certificates: None
        self.head: DirectoryHead = EMPTY_HEAD
        self.parent = parent_of(self.parts.code)
        self._refreshing: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()  # one directory update at a time

    @property
    def code(self) -> str:
        return self.parts.code

    @property
    def is_registry(self) -> bool:
        return self.parent is None

    @property
    def now_ms(self) -> int:
        return now_ms(self.parts.signer.clock)

    async def open(self) -> None:
        """Rebuild the in-memory state from the stored directory."""
        events, head = await self.store.load_directory()
        self._apply(events)
        if head is not None:
            self.head = DirectoryHead.from_json(head)
            if (self.head.version, self.head.chain_hash) != (
                self.state.version,
                self.state.chain_hash,
            ):
                raise AuthError("the stored trust directory does not match its head")

    async def record(self, events: Sequence[TrustEvent]) -> None:
        """Registry only: append ``events`` to the log, sign the new head, announce it."""
        if not events:
            return
        async with self._lock:
            bodies = [encode_event(e) for e in events]
            running = self.state.chain_hash
            for body in bodies:
                running = next_hash(running, body)
            signer = self.parts.signer
            head = DirectoryHead(
                version=self.state.version + len(bodies),
                chain_hash=running,
                issued_at_ms=self.now_ms,
            ).signed(signer.key, signer.chain)
            await self.store.append_directory(self.state.version + 1, bodies, head.to_json())
            self._apply(bodies)
            self.head = head
        log.info("directory of %s is now version %d", self.code, head.version)
        self._announce_soon()

    def _apply(self, events: Iterable[bytes]) -> None:
        applied = [self.state.apply(event) for event in events]
        self.learn(e for e in applied if isinstance(e, Certificate))

    async def register(self, certificates: Sequence[Certificate]) -> None:
        """Registry only: log certificates issued offline (``registry issue``, a test or demo
        tree) that the directory does not hold yet."""
        if not self.is_registry:
            raise Forbidden(f"{self.code} is not the root registry")
        await self.record([c for c in certificates if not self.already_logged(c)])

    def already_logged(self, event: TrustEvent) -> bool:
        if isinstance(event, Certificate):
            return event in self.state.certificates.get(event.node_id, [])
        if isinstance(event, Revocation):
            return (event.node_id, event.serial) in self.state.revoked
        if isinstance(event, Retirement):
            return (event.node_id, event.serial) in self.state.retired
        return self.state.aliases.get(event.old) == event.new

    async def page(self, request: DirectoryRequest) -> DirectoryPage:
        """What a child asked for: events after its version, and this node's head."""
        if self.head.version == 0:
            return DirectoryPage(head=None, first_version=0, events=())
        limit = min(request.limit or PAGE_EVENTS, PAGE_EVENTS)
        events = await self.store.events_after(request.after_version, limit)
        return DirectoryPage(
            head=self.head, first_version=request.after_version + 1, events=tuple(events)
        )

    async def refresh(self) -> int:
        """Pull the parent's directory if it is newer; return the version held afterwards."""
        if self.parent is None:
            return self.state.version
        async with self._lock:
            first = await self._fetch_page(self.state.version)
            if first.head is None or first.head.version <= self.state.version:
                return self.state.version
            head = first.head
            verify_head(head, self.root_public_key, self.now_ms)
            events = list(first.events)[: head.version - self.state.version]
            while self.state.version + len(events) < head.version:
                # The log only grows: pages are read up to the first head even if the parent
                # gets a newer one meanwhile (the next refresh takes the rest).
                more = await self._fetch_page(self.state.version + len(events))
                if more.head is None or more.head.version < head.version or not more.events:
                    raise ProtocolError("the parent's directory shrank or ended while paging")
                events.extend(more.events[: head.version - self.state.version - len(events)])
            check_events(self.state, head, events)
            await self.store.append_directory(self.state.version + 1, events, head.to_json())
            self._apply(events)
            self.head = head
        log.info("directory of %s refreshed to version %d", self.code, head.version)
        self._announce_soon()
        return head.version

    async def _fetch_page(self, after: int) -> DirectoryPage:
        assert self.parent is not None
        codec = self.parts.codec
        reply = await self.client.call(
            GET_DIRECTORY, self.parent, codec.encode(DirectoryRequest(after_version=after))
        )
        return codec.decode(DirectoryPage, reply.payload)

    def announced(self, origin: str, version: int) -> None:
        """A heartbeat from ``origin`` says it holds directory ``version``: if that is the
        parent's and newer than this node's, pull it in the background."""
        if origin == self.parent and version > self.head.version:
            self.refresh_soon()

    def refresh_soon(self) -> None:
        """The parent announced a newer directory: pull it in the background."""
        if self._refreshing is None or self._refreshing.done():
            self._refreshing = self.background.spawn(self.refresh_logged())

    async def refresh_logged(self) -> None:
        """``refresh``, with a failure logged rather than raised (background work)."""
        try:
            await self.refresh()
        except NodeError as exc:
            log.warning("directory refresh of %s failed: %s", self.code, exc)

    async def _wrong_address(self, child: str, seen: str) -> None:
        """The child's certified address answered as another node: say so, in the log and
        the status (``address_problems``) every time, in the audit log once per address."""
        certs = self.state.current(child)
        address = certs[-1].address if certs else ""
        log.warning(
            "certificate of %s names %s, which answers as another node (%s): the child's "
            "operator must correct advertise in its node.toml (docs/operations.md)",
            child,
            address or "-",
            seen,
        )
        before = self.address_problems.get(child, "")
        self.address_problems[child] = f"{address}: {seen}"
        if not before.startswith(f"{address}: "):
            await self.parts.audit.append(
                node_actor(self.code, self.code),
                Act.CHILD_ADDRESS,
                child,
                {"address": address, "seen": seen[:200]},
            )

    def _announce_soon(self) -> None:
        self.background.spawn(self.announce())

    async def announce(self) -> None:
        """Tell each child with a current certificate the version this node now holds."""
        known = set(self.state.certificates) | set(self.known_nodes())
        children = sorted(code for code in known if parent_of(code) == self.code)
        if not children:
            return
        beat = self.parts.codec.encode(
            Heartbeat(change_head=0, directory_version=self.head.version)
        )

        async def tell(child: str) -> None:
            try:
                await asyncio.wait_for(self.client.call(HEARTBEAT, child, beat), ANNOUNCE_TIMEOUT_S)
            except (NodeError, TimeoutError) as exc:
                log.debug("could not announce directory to %s: %s", child, exc)
                if answers_as_another(exc):
                    await self._wrong_address(child, str(exc))
            else:
                self.address_problems.pop(child, None)

        await asyncio.gather(*(tell(child) for child in children))
