"""The error tree of archive-node.

Every error the node raises on purpose is a ``NodeError``; each transport maps the tree to
its own codes in exactly one place (``rpc/interceptors.py``, ``web/middleware.py``, the CLI
boundary). Messages say what was wrong and what to do about it.

    NodeError
    ├── ConfigError          bad or missing setting (names the key)
    ├── InvalidInput         the caller sent what we cannot accept  -> INVALID_ARGUMENT / 400
    │   ├── InvalidCode      not a division code
    │   ├── InvalidRecord    archival code, year, access level ... wrong
    │   └── InvalidQuery     search text or filters unusable
    ├── NotFound             no such record, node or file           -> NOT_FOUND / 404
    ├── AccessDenied         record exists but may not be released  -> PERMISSION_DENIED / 403
    ├── StorageError         the database or blob store failed      -> INTERNAL / 500
    ├── Unauthenticated      a person's login, session or token failed         -> 401
    │   └── LoginRequired    nobody is logged in (pages redirect to the login form)
    ├── RoleRequired         logged in, without the role this act needs        -> 403
    ├── TooManyAttempts      too many failed logins; ``retry_at`` says when    -> 429
    ├── NotReady             this node lacks what it gets from the network yet -> 503
    └── FederationError      talking to another node failed
        ├── AuthError        signature, chain, key, time or nonce   -> UNAUTHENTICATED / 401
        ├── Misaddressed     call not meant for this node           -> PERMISSION_DENIED / 403
        ├── ProtocolError    malformed or oversized message         -> INVALID_ARGUMENT / 400
        └── PeerUnavailable  the next hop could not be reached      -> UNAVAILABLE / 502
"""

from __future__ import annotations


class NodeError(Exception):
    """Base of every error archive-node raises on purpose."""

    from_peer: str | None = None  # set when the error is a neighbour's answer, passed on


class ConfigError(NodeError):
    """A setting is missing or wrong; ``path`` names it (e.g. ``grpc.port``)."""

    def __init__(self, message: str, path: str | None = None) -> None:
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)


class PortInUse(NodeError):
    """A listener's port is taken (by another daemon, most likely): this one does not start."""

    def __init__(self, what: str, address: str, option: str) -> None:
        self.address = address
        super().__init__(
            f"{what} 端口 {address} 已被占用（另一个守护进程还在运行？）："
            f"请用 {option} 换一个端口，或先停止占用它的进程"
        )


class InvalidInput(NodeError):
    """The caller sent something this node cannot accept."""


class InvalidCode(InvalidInput):
    """Not a valid administrative division code."""


class InvalidRecord(InvalidInput):
    """A record's fields (archival code, year, retention, access ...) are wrong."""


class InvalidQuery(InvalidInput):
    """Search text or filters cannot be used."""


class NotFound(NodeError):
    """No such record, node or file."""


class AccessDenied(NodeError):
    """The record exists but this requester may not have it (yet)."""


class StorageError(NodeError):
    """The database or the blob store failed."""


class Unauthenticated(NodeError):
    """A person's password, session or API token did not check out (not a node's signature:
    that is ``AuthError``)."""


class LoginRequired(Unauthenticated):
    """The act needs a logged-in account and none is: pages send the browser to log in."""


class RoleRequired(NodeError):
    """The account is logged in but lacks the role the act needs at this node."""


class TooManyAttempts(NodeError):
    """Logins are paused for an account or an address after too many failures."""

    def __init__(self, message: str, retry_at: float, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_at = retry_at  # unix time from which a login is tried again
        self.retry_after_s = retry_after_s  # seconds from now (the Retry-After header)


class NotReady(NodeError):
    """This node has not yet received something it needs from the network (the identity
    index key); the act works once it has. The message says so and what to do."""


class FederationError(NodeError):
    """Talking to another node failed."""


class AuthError(FederationError):
    """Signature, certificate chain, key id, timestamp or nonce did not verify."""


class Misaddressed(FederationError):
    """The call names a destination this node neither is nor may route to."""


class ProtocolError(FederationError):
    """A message could not be parsed or is over the size limit."""


class PeerUnavailable(FederationError):
    """The next hop toward the destination could not be reached."""


class Overloaded(FederationError):
    """A peer is over its per-origin limits; retry after a pause."""


class Forbidden(FederationError):
    """The caller is who it says, but may not do this (enrol here, revoke that node, ...)."""
