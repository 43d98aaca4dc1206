"""Deterministic sample archive records for the demo network and for tests.

``DEMO_NETWORK`` (``network.py``) is the one table of the demo network's codes and names.
``sample_records(code, name)`` (``plan.py``) makes the records one node holds: 300 at a
county, 40 at a township, 12 at a village, none at the city or the province (their catalogues
are the aggregate of their subtree). Every county holds records of every category in
``node.records.CATEGORIES``; each category family has its own generator module (``civil``,
``estate``, ``schooling``, ``welfare``) over the shared ``people`` and ``places``. Generation
is seeded with ``"archive-node:" + code``, so the same node always gets the same records,
byte for byte. All persons, addresses and numbers are fictitious; every content file says so
(演示数据). The subjects of controlled records get synthetic identity numbers
(``citizens.py``, ``sample_subject_ids``), indexed blind at ingest; ``DEMO_CITIZEN`` is the one
citizen the README tells a visitor to look up.
"""

from __future__ import annotations

from node.sample_data.citizens import DEMO_CITIZEN, DemoCitizen, sample_subject_ids
from node.sample_data.network import DEMO_NETWORK, DEMO_VILLAGE, archive_name
from node.sample_data.plan import RECORDS_PER_LEVEL, demo_records, sample_records

__all__ = [
    "DEMO_CITIZEN",
    "DEMO_NETWORK",
    "DEMO_VILLAGE",
    "DemoCitizen",
    "RECORDS_PER_LEVEL",
    "archive_name",
    "demo_records",
    "sample_records",
    "sample_subject_ids",
]
