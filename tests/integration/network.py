"""Standing up real networks for integration tests: real gRPC on loopback, real SQLite files.

The builder and its helpers live in ``node.simulate`` (the demo and the benches use them
too); the tests import them from here so a test module names one harness.
"""

from __future__ import annotations

from node.simulate import (
    Network,
    converged,
    eventually,
    free_port,
    ingest,
    make_record,
    staff,
    tree,
)

__all__ = [
    "Network", "converged", "eventually", "free_port", "ingest", "make_record", "staff", "tree",
]  # fmt: skip
