"""Which ``Host`` (and ``Origin``) names the web listener answers to.

A page on another site can point its own name at 127.0.0.1 (DNS rebinding) and then call the
API as if it were this site: the browser sends that name as ``Host`` and as ``Origin``, so
comparing one with the other proves nothing. Both are compared with the names configured
here instead (``host.web_hosts``, by default the listener's own address and loopback names,
``config.web_host_names``).
"""

from __future__ import annotations

from collections.abc import Iterable

# Before a host knows its port (and for an app built without names: the tests), only loopback.
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "[::1]"})


class WebHosts:
    """The accepted names, ``name`` (any port) or ``name:port``; ``names`` may be replaced
    once the listener has bound its port."""

    def __init__(self, names: Iterable[str] = LOOPBACK_NAMES) -> None:
        self.names = frozenset(n.lower() for n in names)

    def allows(self, host: str) -> bool:
        """Whether ``host`` (a ``Host`` header, or an origin's ``host[:port]``) is ours."""
        host = host.strip().lower()
        if not host or len(host) > 300:
            return False
        if host in self.names:
            return True
        name, sep, port = host.rpartition(":")
        return bool(sep) and port.isdigit() and name in self.names
