"""Trust: who may call this node, and this node's part in the trust tree (docs/architecture.md,
"The wire").

Deciding whether to believe a signed call:

- ``verify.py``: ``ChainVerifier`` and ``Gatekeeper``, run on every envelope received;
- ``events.py``: the registry's directory log (trust events, the signed head) and
  ``TrustState``, what it says now.

Keeping trust, one node's roles, composed by ``keeper.TrustKeeper`` (what ``node.node``
builds): ``directory.py``, ``enrolment.py`` (as the parent), ``credentials.py`` (renewal and
rotation), ``revocation.py`` (revocations, bans, aliases) and ``reports.py`` (events on their
way to the registry).

Certificates and key files: ``grant.py`` is the one place a certificate is granted (online,
by ``registry issue`` offline, or for a whole test or demo tree); ``files.py`` reads and
writes a node's key and chain; ``applicant.py`` is the child's side of enrolment.

Nothing is imported here, so that ``messages.py`` can import ``events.py`` without pulling
in the keeper (which imports the messages).
"""
