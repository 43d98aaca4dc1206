"""Converters for the requests family: a request on its way to the holder, and state changes.

Decoding builds the domain values (``node/requests.py``), whose own checks refuse a bad id,
code, state or an over-long text; a ``ValueError`` from an unknown relationship or state is
a ``ProtocolError`` at the codec's boundary, like every other malformed message.
"""

from __future__ import annotations

from node.federation.messages import RequestUpdate, RequestUpdateAck, SubmitAck, SubmitRequest
from node.requests import Relationship, State, StateChange, UtilisationRequest
from node.rpc.codec.table import Converters
from node.rpc.generated.archive.v1 import requests_pb2 as pb


def _request_to_pb(r: UtilisationRequest) -> pb.UtilisationRequest:
    return pb.UtilisationRequest(
        request_id=r.request_id,
        holder=r.holder,
        record_id=r.record_id,
        requesting_node=r.requesting_node,
        clerk=r.clerk,
        purpose=r.purpose,
        relationship=r.relationship.value,
        created_ms=r.created_ms,
    )


def _request_from_pb(m: pb.UtilisationRequest) -> UtilisationRequest:
    return UtilisationRequest(
        request_id=m.request_id,
        holder=m.holder,
        record_id=m.record_id,
        requesting_node=m.requesting_node,
        clerk=m.clerk,
        purpose=m.purpose,
        relationship=Relationship(m.relationship),
        created_ms=m.created_ms,
    )


def _change_to_pb(c: StateChange) -> pb.RequestStateChange:
    return pb.RequestStateChange(
        request_id=c.request_id,
        holder=c.holder,
        state=c.state.value,
        reason=c.reason,
        at_ms=c.at_ms,
        signer=c.signer,
        key_id=c.key_id,
        signature=c.signature,
    )


def _change_from_pb(m: pb.RequestStateChange) -> StateChange:
    return StateChange(
        m.request_id, m.holder, State(m.state), m.reason, m.at_ms, m.signer, m.key_id, m.signature
    )


def _submit_to_pb(s: SubmitRequest) -> pb.SubmitRequest:
    return pb.SubmitRequest(request=_request_to_pb(s.request), sealed_personal=s.sealed_personal)


def _submit_from_pb(m: pb.SubmitRequest) -> SubmitRequest:
    return SubmitRequest(_request_from_pb(m.request), m.sealed_personal)


def _ack_to_pb(a: SubmitAck) -> pb.SubmitAck:
    msg = pb.SubmitAck(request_id=a.request_id, holder_due_ms=a.holder_due_ms)
    if a.change is not None:
        msg.change.CopyFrom(_change_to_pb(a.change))
    return msg


def _ack_from_pb(m: pb.SubmitAck) -> SubmitAck:
    change = _change_from_pb(m.change) if m.HasField("change") else None
    return SubmitAck(m.request_id, change, m.holder_due_ms)


def _update_to_pb(u: RequestUpdate) -> pb.RequestUpdate:
    return pb.RequestUpdate(
        change=_change_to_pb(u.change), record_title=u.record_title, archival_code=u.archival_code
    )


def _update_from_pb(m: pb.RequestUpdate) -> RequestUpdate:
    return RequestUpdate(_change_from_pb(m.change), m.record_title[:600], m.archival_code[:40])


CONVERTERS: Converters = {
    SubmitRequest: (pb.SubmitRequest, _submit_to_pb, _submit_from_pb),
    SubmitAck: (pb.SubmitAck, _ack_to_pb, _ack_from_pb),
    RequestUpdate: (pb.RequestUpdate, _update_to_pb, _update_from_pb),
    RequestUpdateAck: (
        pb.RequestUpdateAck,
        lambda a: pb.RequestUpdateAck(request_id=a.request_id, state=a.state),
        lambda m: RequestUpdateAck(m.request_id, m.state),
    ),
}
