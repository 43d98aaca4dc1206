"""TLS for the gRPC listener and its clients, pinned by the node certificate.

The server side: ``server_credentials`` gives a listener every hosted node's key and
self-signed certificate (``node/tlscert.py``); gRPC picks the one whose name the client asks
for by SNI, so one listener can host several nodes, each with its own pinned certificate.

The client side: grpcio's Python API verifies a server only against root certificates and a
host name, with no callback, and the pin is a SHA-256 in the signed directory rather than a
certificate. ``pinned_certificate`` bridges the two: one handshake with the standard
library's ``ssl`` (no verification: nothing is sent over it) fetches the certificate the
server presents for the neighbour's name, and it is used only if its SHA-256 equals the pin.
The gRPC channel then trusts that certificate alone as its root (``peers.py``), so every
handshake gRPC makes after proves the server holds its private key.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Sequence

import grpc

from node.errors import PeerUnavailable
from node.tlscert import TlsIdentity, der_fingerprint, server_name

log = logging.getLogger(__name__)

HANDSHAKE_TIMEOUT_S = 5.0


def server_credentials(identities: Sequence[TlsIdentity]) -> grpc.ServerCredentials:
    """A listener presenting each identity's certificate to clients asking for its name."""
    return grpc.ssl_server_credentials([(i.key_pem, i.cert_pem) for i in identities])


def _host_port(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host.strip("[]") or "127.0.0.1", int(port)


async def presented_certificate(code: str, address: str) -> bytes:
    """The DER certificate the server at ``address`` presents for node ``code``'s name."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False  # the pin, checked by the caller, is the verification
    context.verify_mode = ssl.CERT_NONE
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_alpn_protocols(["h2"])  # gRPC servers expect HTTP/2
    host, port = _host_port(address)
    try:
        _, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, ssl=context, server_hostname=server_name(code)),
            HANDSHAKE_TIMEOUT_S,
        )
    except (OSError, TimeoutError, ssl.SSLError) as exc:
        raise PeerUnavailable(
            f"TLS handshake with node {code} at {address} failed: {exc or type(exc).__name__} "
            "(does it serve TLS? see docs/operations.md)"
        ) from None
    try:
        der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
    finally:
        writer.transport.abort()  # nothing was sent: no TLS close_notify to wait for
    if not der:
        raise PeerUnavailable(f"node {code} at {address} presented no TLS certificate")
    return bytes(der)


async def pinned_certificate(code: str, address: str, pin: bytes) -> bytes:
    """The PEM certificate node ``code`` presents at ``address``, if its SHA-256 is ``pin``.

    Anything else is refused: a listener that is not the node the directory names (another
    machine at that address, a stale daemon, a man in the middle) gets no call.
    """
    der = await presented_certificate(code, address)
    if der_fingerprint(der) != pin:
        log.warning(
            "refusing %s at %s: its TLS certificate %s is not the one its node certificate "
            "pins (%s)",
            code,
            address,
            der_fingerprint(der).hex()[:16],
            pin.hex()[:16],
        )
        raise PeerUnavailable(
            f"the TLS certificate at {address} is not the one node {code}'s certificate pins; "
            "refusing to talk to it"
        )
    return ssl.DER_cert_to_PEM_cert(der).encode("ascii")
