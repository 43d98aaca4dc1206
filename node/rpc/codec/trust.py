"""Converters for the trust family: heartbeat, directory, enrolment, renewal and reports."""

from __future__ import annotations

from node.federation.messages import (
    DirectoryPage,
    DirectoryRequest,
    EnrolApplication,
    EnrolStatus,
    Heartbeat,
    HeartbeatReply,
    RenewReply,
    RenewRequest,
    TrustReport,
    TrustReportAck,
)
from node.federation.trust.events import DirectoryHead
from node.rpc.codec.envelope import cert_from_pb, cert_to_pb
from node.rpc.codec.table import Converters
from node.rpc.generated.archive.v1 import trust_pb2 as pb


def _head_to_pb(head: DirectoryHead) -> pb.DirectoryHead:
    return pb.DirectoryHead(
        version=head.version,
        chain_hash=head.chain_hash,
        issued_at_ms=head.issued_at_ms,
        signature=head.signature,
        chain=[cert_to_pb(c) for c in head.chain],
    )


def _head_from_pb(msg: pb.DirectoryHead) -> DirectoryHead:
    return DirectoryHead(
        version=msg.version,
        chain_hash=msg.chain_hash,
        issued_at_ms=msg.issued_at_ms,
        signature=msg.signature,
        chain=tuple(cert_from_pb(c) for c in msg.chain),
    )


def _page_to_pb(page: DirectoryPage) -> pb.DirectoryPage:
    msg = pb.DirectoryPage(first_version=page.first_version, events=list(page.events))
    if page.head is not None:
        msg.head.CopyFrom(_head_to_pb(page.head))
    return msg


def _page_from_pb(msg: pb.DirectoryPage) -> DirectoryPage:
    return DirectoryPage(
        head=_head_from_pb(msg.head) if msg.HasField("head") else None,
        first_version=msg.first_version,
        events=tuple(msg.events),
    )


CONVERTERS: Converters = {
    Heartbeat: (
        pb.Heartbeat,
        lambda h: pb.Heartbeat(change_head=h.change_head, directory_version=h.directory_version),
        lambda m: Heartbeat(change_head=m.change_head, directory_version=m.directory_version),
    ),
    HeartbeatReply: (
        pb.HeartbeatReply,
        lambda h: pb.HeartbeatReply(cursor=h.cursor, directory_version=h.directory_version),
        lambda m: HeartbeatReply(cursor=m.cursor, directory_version=m.directory_version),
    ),
    DirectoryRequest: (
        pb.DirectoryRequest,
        lambda r: pb.DirectoryRequest(after_version=r.after_version, limit=r.limit),
        lambda m: DirectoryRequest(after_version=m.after_version, limit=m.limit),
    ),
    DirectoryPage: (pb.DirectoryPage, _page_to_pb, _page_from_pb),
    EnrolApplication: (
        pb.EnrolApplication,
        lambda a: pb.EnrolApplication(
            code=a.code, name=a.name, public_key=a.public_key, address=a.address
        ),
        lambda m: EnrolApplication(
            code=m.code, name=m.name, public_key=m.public_key, address=m.address
        ),
    ),
    EnrolStatus: (
        pb.EnrolStatus,
        lambda s: pb.EnrolStatus(
            status=s.status, message=s.message, chain=[cert_to_pb(c) for c in s.chain]
        ),
        lambda m: EnrolStatus(
            status=m.status, message=m.message, chain=tuple(cert_from_pb(c) for c in m.chain)
        ),
    ),
    RenewRequest: (
        pb.RenewRequest,
        lambda r: pb.RenewRequest(
            new_public_key=r.new_public_key, address=r.address, tls_sha256=r.tls_sha256
        ),
        lambda m: RenewRequest(
            new_public_key=m.new_public_key, address=m.address, tls_sha256=m.tls_sha256
        ),
    ),
    RenewReply: (
        pb.RenewReply,
        lambda r: pb.RenewReply(chain=[cert_to_pb(c) for c in r.chain]),
        lambda m: RenewReply(chain=tuple(cert_from_pb(c) for c in m.chain)),
    ),
    TrustReport: (
        pb.TrustReport,
        lambda r: pb.TrustReport(events=list(r.events)),
        lambda m: TrustReport(events=tuple(m.events)),
    ),
    TrustReportAck: (
        pb.TrustReportAck,
        lambda a: pb.TrustReportAck(directory_version=a.directory_version),
        lambda m: TrustReportAck(directory_version=m.directory_version),
    ),
}
