"""archive-node: one node of the five-tier federated archive network.

The packages and the layers they form, the wire, the flows and where a new feature goes are
described in ``docs/architecture.md``.
"""
