"""One node's part in the trust tree (DESIGN section 5, "Trust down the tree").

As a parent it takes enrolment applications, signs its children's certificates once an
operator approves, renews them, and revokes its descendants. Every certificate and
revocation it makes is reported up to the root registry. At the province (the root
registry) reported events are appended to the directory log and a new head is signed.
Everywhere else the directory is pulled from the parent on a schedule, and at once when the
parent announces a newer version; whoever gets a newer directory announces it to its own
children, so a revocation crosses the tree in seconds, not in one interval per level.

The directory is kept in the node's database, so a node whose parent is down keeps
verifying from its copy.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from node import crypto
from node.certificates import Application, Certificate, issue
from node.config import DEFAULT_TRUST, TrustSettings
from node.errors import AuthError, Forbidden, InvalidInput, NodeError, NotFound, ProtocolError
from node.federation.client import FederationClient
from node.federation.enrolment import save_chain
from node.federation.messages import (
    GET_DIRECTORY,
    HEARTBEAT,
    RENEW,
    REPORT_TRUST,
    DirectoryPage,
    DirectoryRequest,
    EnrolApplication,
    EnrolStatus,
    Heartbeat,
    RenewReply,
    RenewRequest,
    TrustReport,
    TrustReportAck,
)
from node.federation.registry import (
    EMPTY_HEAD,
    Alias,
    DirectoryHead,
    Retirement,
    Revocation,
    TrustEvent,
    TrustState,
    check_events,
    decode_event,
    encode_event,
    may_report,
    next_hash,
    verify_head,
)
from node.identity import covers, parent_of, validate_code
from node.storage.trust import TrustStore

log = logging.getLogger(__name__)

PAGE_EVENTS = 1_000
MAX_PENDING_APPLICATIONS = 1_000
ANNOUNCE_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class KeyFiles:
    """Where the node's key and chain live, so renewal and rotation can replace them."""

    key: Path
    chain: Path


class TrustKeeper:
    """Enrolment, renewal, rotation, revocation and the directory for one node."""

    def __init__(
        self,
        client: FederationClient,
        store: TrustStore,
        state: TrustState,
        root_public_key: bytes,
        files: KeyFiles,
        settings: TrustSettings = DEFAULT_TRUST,
        known_nodes: Callable[[], Iterable[str]] = tuple,
        learn: Callable[[Iterable[Certificate]], None] = lambda certificates: None,
    ) -> None:
        self.client = client
        self.parts = client.parts
        self.store = store
        self.state = state
        self.root_public_key = root_public_key
        self.files = files
        self.settings = settings
        self.known_nodes = known_nodes  # codes whose address is known: where children are
        self.learn = learn  # told every certificate the directory brings (addresses)
        self.head: DirectoryHead = EMPTY_HEAD
        self.parent = parent_of(self.parts.code)
        self._refreshing: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()  # background work, cancelled by stop()
        self._lock = asyncio.Lock()  # one directory update at a time

    @property
    def code(self) -> str:
        return self.parts.code

    @property
    def is_registry(self) -> bool:
        return self.parent is None

    @property
    def now_ms(self) -> int:
        return int(self.parts.signer.clock() * 1000)

    async def open(self) -> None:
        """Rebuild the in-memory state from the stored directory and ban list."""
        events, head = await self.store.load_directory()
        self._apply(events)
        if head is not None:
            self.head = DirectoryHead.from_json(head)
            if (self.head.version, self.head.chain_hash) != (
                self.state.version,
                self.state.chain_hash,
            ):
                raise AuthError("the stored trust directory does not match its head")
        self.state.banned.update(await self.store.bans())

    # -- the directory --------------------------------------------------------------------

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
        await self.record([c for c in certificates if not self._already_logged(c)])

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

    async def start(self) -> None:
        """Once the node listens: the registry logs its own certificate; every node does its
        upkeep at once rather than one interval later."""
        if self.is_registry:
            await self.register(self.parts.signer.chain[:1])
        self._spawn(self.tick())

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def refresh_soon(self) -> None:
        """The parent announced a newer directory: pull it in the background."""
        if self._refreshing is None or self._refreshing.done():
            self._refreshing = self._spawn(self._refresh_logged())

    async def _refresh_logged(self) -> None:
        try:
            await self.refresh()
        except NodeError as exc:
            log.warning("directory refresh of %s failed: %s", self.code, exc)

    def _announce_soon(self) -> None:
        self._spawn(self.announce())

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

        await asyncio.gather(*(tell(child) for child in children))

    async def tick(self) -> None:
        """The scheduled job: refresh, report what is still unreported, renew if due."""
        for step in (self.refresh, self.flush_reports, self.renew_if_due):
            try:
                await step()
            except NodeError as exc:
                log.warning("trust upkeep of %s: %s failed: %s", self.code, step.__name__, exc)

    # -- reporting events to the registry -------------------------------------------------

    async def report(self, events: Sequence[TrustEvent]) -> None:
        """Send ``events`` to the registry; kept and retried until it acknowledges."""
        if self.is_registry:
            await self.record(events)
            return
        for event in events:
            await self.store.queue_report(encode_event(event))
        try:
            await self.flush_reports()
        except NodeError as exc:
            log.warning("report to the registry from %s deferred: %s", self.code, exc)

    async def flush_reports(self) -> None:
        while pending := await self.store.pending_reports():
            province = self.code[:2]
            payload = self.parts.codec.encode(TrustReport(events=tuple(b for _, b in pending)))
            reply = await self.client.call(REPORT_TRUST, province, payload)
            self.parts.codec.decode(TrustReportAck, reply.payload)
            await self.store.reported(pending[-1][0])

    async def receive_report(self, origin: Certificate, report: TrustReport) -> TrustReportAck:
        """Registry only: check and log the events a node reported."""
        if not self.is_registry:
            raise Forbidden(f"{self.code} is not the root registry")
        events = []
        for body in report.events:
            event = decode_event(body)
            why = may_report(origin.node_id, event)
            if (
                why is None
                and isinstance(event, Certificate)
                and not event.signed_by(origin.public_key)
            ):
                why = f"certificate of {event.node_id} is not signed by {origin.node_id}"
            if why is not None:
                raise Forbidden(f"trust report refused: {why}")
            if not self._already_logged(event):
                events.append(event)
        await self.record(events)
        return TrustReportAck(directory_version=self.state.version)

    def _already_logged(self, event: TrustEvent) -> bool:
        if isinstance(event, Certificate):
            return event in self.state.certificates.get(event.node_id, [])
        if isinstance(event, Revocation):
            return (event.node_id, event.serial) in self.state.revoked
        if isinstance(event, Retirement):
            return (event.node_id, event.serial) in self.state.retired
        return self.state.aliases.get(event.old) == event.new

    # -- enrolment, as the parent ---------------------------------------------------------

    async def receive_application(self, application: EnrolApplication) -> EnrolStatus:
        """A would-be child asked to join: record it (or answer how it was decided)."""
        code = validate_code(application.code)
        if parent_of(code) != self.code:
            raise Forbidden(
                f"{code} 不是 {self.code} 的直接下级，"
                f"应向其上级 {parent_of(code) or '根登记处'} 申请入网"
            )
        if len(application.public_key) != 32:
            raise InvalidInput("入网申请中的公钥应为 32 字节")
        if not application.name.strip():
            raise InvalidInput("入网申请须写明档案馆（室）名称")
        known = await self.store.application(code)
        if (
            known is None or known.public_key != application.public_key
        ) and await self.store.count_pending() >= MAX_PENDING_APPLICATIONS:
            raise Forbidden("待审批的入网申请过多，请联系上级节点运维人员")
        stored = await self.store.apply(
            code, application.name.strip(), application.public_key, application.address
        )
        if known is None or known.public_key != application.public_key:
            log.info("enrolment application from %s (%s) is pending", code, stored.name)
        return _status_of(stored)

    async def approve(self, code: str) -> tuple[Certificate, ...]:
        """The operator approved ``code``'s application: sign its certificate, report it."""
        application = await self._pending(code)
        chain = self._grant(code, application.name, application.public_key, application.address)
        await self.store.decide(code, "approved", _chain_json(chain))
        await self.report([chain[0]])
        log.info("enrolled %s (serial %d)", code, chain[0].serial)
        return chain

    async def reject(self, code: str, note: str = "") -> None:
        await self._pending(code)
        await self.store.decide(code, "rejected", note=note)
        log.info("enrolment of %s rejected: %s", code, note)

    async def applications(self, status: str | None = None) -> list[Application]:
        return await self.store.applications(status)

    async def unreported_events(self) -> int:
        """Trust events made here that the root registry has not acknowledged yet."""
        return len(await self.store.pending_reports())

    async def _pending(self, code: str) -> Application:
        application = await self.store.application(code)
        if application is None or application.status != "pending":
            raise NotFound(f"没有 {code} 的待审批入网申请")
        return application

    def _grant(
        self, code: str, name: str, public_key: bytes, address: str
    ) -> tuple[Certificate, ...]:
        """Sign a child's certificate: bounded lifetime, never past this node's own."""
        signer = self.parts.signer
        now = self.now_ms
        not_after = min(now + self.settings.cert_lifetime_ms, signer.chain[0].not_after_ms)
        cert = issue(
            signer.key,
            node_id=code,
            name=name,
            public_key=public_key,
            address=address,
            not_before_ms=now - 60_000,
            not_after_ms=not_after,
            serial=time.time_ns() // 1000,
        )
        return (cert, *signer.chain)

    async def grant_renewal(self, current: Certificate, request: RenewRequest) -> RenewReply:
        """A child renews its certificate (same key) or rotates to a new key."""
        if parent_of(current.node_id) != self.code:
            raise Forbidden(f"{current.node_id} is not a child of {self.code}")
        public_key = request.new_public_key or current.public_key
        if len(public_key) != 32:
            raise InvalidInput("new public key must be 32 bytes")
        chain = self._grant(
            current.node_id, current.name, public_key, request.address or current.address
        )
        await self.report([chain[0]])
        log.info(
            "%s %s (serial %d)",
            "rotated key of" if request.new_public_key else "renewed",
            current.node_id,
            chain[0].serial,
        )
        return RenewReply(chain=chain)

    # -- this node's own certificate ------------------------------------------------------

    async def renew_if_due(self) -> bool:
        leaf = self.parts.signer.chain[0]
        if leaf.not_after_ms - self.now_ms > self.settings.renew_before_ms:
            return False
        if self.is_registry:
            log.warning(
                "the province certificate expires at %d ms; sign a new one with the root key "
                "(docs/operations.md)",
                leaf.not_after_ms,
            )
            return False
        # A child's certificate ends with its parent's: until the parent has renewed, asking
        # again would only log another certificate with the same end.
        assert self.parent is not None
        parent_ends = max(
            [c.not_after_ms for c in self.state.current(self.parent)]
            + [self.parts.signer.chain[1].not_after_ms]
        )
        if parent_ends <= leaf.not_after_ms:
            log.warning(
                "certificate of %s ends with its parent's; waiting for the parent to renew",
                self.code,
            )
            return False
        await self.renew()
        return True

    async def renew(self, new_key: crypto.SigningKey | None = None) -> tuple[Certificate, ...]:
        """Ask the parent for a fresh certificate (for ``new_key`` when rotating)."""
        if self.parent is None:
            raise Forbidden("省级节点的证书须用根密钥离线签发（见 docs/operations.md）")
        signer = self.parts.signer
        request = RenewRequest(new_public_key=new_key.public_key if new_key else b"")
        reply = await self.client.call(RENEW, self.parent, self.parts.codec.encode(request))
        chain = self.parts.codec.decode(RenewReply, reply.payload).chain
        key = new_key or signer.key
        if not chain or chain[0].node_id != self.code or chain[0].public_key != key.public_key:
            raise AuthError("the parent answered with a certificate for another node or key")
        self.parts.gatekeeper.chains.verify(chain, self.now_ms)
        if new_key is None:
            save_chain(self.files.chain, chain)
            self.parts.signer = replace(signer, chain=chain)
        return chain

    async def rotate(self, publish_timeout_s: float = 30.0) -> tuple[str, str]:
        """Move to a new key: certified and published beside the old one, then switched to,
        then the old one retired. Returns (old key id, new key id)."""
        old = self.parts.signer
        new_key = crypto.SigningKey.generate()
        pending = self.files.key.with_name(self.files.key.name + ".next")
        new_key.save(pending)  # kept if we crash before switching; never lost
        chain = await self.renew(new_key)
        deadline = time.monotonic() + publish_timeout_s
        while chain[0] not in self.state.certificates.get(self.code, []):
            if time.monotonic() > deadline:
                log.warning("new key of %s not yet in the directory; switching anyway", self.code)
                break
            await asyncio.sleep(0.2)
            await self._refresh_logged()
        retired = self.files.key.with_name(f"{self.files.key.name}.{old.key.key_id}.retired")
        self.files.key.replace(retired)
        pending.replace(self.files.key)
        save_chain(self.files.chain, chain)
        self.parts.signer = replace(old, key=new_key, chain=chain)
        await self.report([Retirement(self.code, old.chain[0].serial, self.now_ms)])
        log.info("%s rotated its key %s -> %s", self.code, old.key.key_id, new_key.key_id)
        return old.key.key_id, new_key.key_id

    # -- revocation, bans, aliases --------------------------------------------------------

    async def revoke(self, code: str, reason: str) -> Revocation:
        """Revoke every certificate descendant ``code`` holds now; refused here at once,
        everywhere once the directory carrying it arrives."""
        code = validate_code(code)
        if code == self.code or not covers(self.code, code):
            raise Forbidden(f"{self.code} 只能吊销其下级节点的证书，不能吊销 {code}")
        revocation = Revocation(code, 0, self.code, self.now_ms, reason)
        self.state.revoked[(code, 0)] = revocation  # before the directory round trip
        await self.report([revocation])
        log.warning("revoked every certificate of %s: %s", code, reason)
        return revocation

    async def ban(self, key_id: str, reason: str) -> None:
        """Refuse ``key_id`` on this node at once, whatever its certificate says."""
        await self.store.ban(key_id, reason)
        self.state.banned[key_id] = reason
        log.warning("banned key %s on %s: %s", key_id, self.code, reason)

    async def unban(self, key_id: str) -> bool:
        self.state.banned.pop(key_id, None)
        return await self.store.unban(key_id)

    async def alias(self, old: str, new: str) -> None:
        """Registry only: record that division code ``old`` is now ``new``."""
        if not self.is_registry:
            raise Forbidden("区划代码变更只能由省级根登记处登记")
        old, new = validate_code(old), validate_code(new)
        if old == new or self.state.resolve(new) == old:
            raise InvalidInput(f"{old} -> {new} 会形成循环")
        await self.record([Alias(old, new, self.now_ms)])


def _status_of(application: Application) -> EnrolStatus:
    if application.status == "approved":
        return EnrolStatus("approved", "入网申请已批准", _chain_from_json(application.chain_json))
    if application.status == "rejected":
        return EnrolStatus("rejected", f"入网申请被拒绝：{application.note or '未说明原因'}")
    return EnrolStatus("pending", "入网申请已提交，等待上级节点运维人员审批")


def _chain_json(chain: Sequence[Certificate]) -> str:
    return json.dumps([c.to_json() for c in chain], ensure_ascii=False)


def _chain_from_json(text: str) -> tuple[Certificate, ...]:
    return tuple(Certificate.from_json(c) for c in json.loads(text))
