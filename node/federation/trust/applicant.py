"""A new node asking its parent to enrol it, before it has any certificate.

The application goes straight to the parent's address in an envelope signed by the key to be
certified, which proves the applicant holds it. The parent's answer is a normal signed reply,
checked against the pinned root key like any other; an approved chain is checked again
before it is saved, so a node never starts on a chain that does not reach the root.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from node.crypto import SigningKey
from node.errors import AuthError
from node.federation.codec import Codec
from node.federation.envelope import Clock, Signer
from node.federation.messages import (
    ENROL,
    REPLY_SUFFIX,
    EnrolApplication,
    EnrolStatus,
    Envelope,
)
from node.federation.trust.verify import ChainVerifier, Gatekeeper
from node.identity import parent_of, validate_code

Send = Callable[[bytes], Awaitable[bytes]]  # one Enrol call to the parent, raw bytes each way


async def apply_for_enrolment(
    key: SigningKey,
    application: EnrolApplication,
    root_public_key: bytes,
    codec: Codec,
    send: Send,
    clock: Clock = time.time,
) -> EnrolStatus:
    """Send (or repeat) ``application`` and return the parent's verified answer."""
    code = validate_code(application.code)
    parent = parent_of(code)
    if parent is None:
        raise AuthError("省级节点的证书由根密钥离线签发，不经入网申请（见 docs/operations.md）")
    envelope = Signer(code, key, (), clock).seal(ENROL, parent, codec.encode(application))
    reply = codec.decode(Envelope, await send(codec.encode(envelope)))
    gatekeeper = Gatekeeper(ChainVerifier(root_public_key), clock)
    gatekeeper.verify(reply, ENROL + REPLY_SUFFIX)
    if (reply.origin, reply.destination, reply.transaction_id) != (
        parent,
        code,
        envelope.transaction_id,
    ):
        raise AuthError("上级节点的应答与本次申请不符")
    status = codec.decode(EnrolStatus, reply.payload)
    if status.status == "approved":
        leaf = gatekeeper.chains.verify(status.chain, int(clock() * 1000))
        if leaf.node_id != code or leaf.public_key != key.public_key:
            raise AuthError("上级签回的证书不是本节点密钥的证书")
    return status
