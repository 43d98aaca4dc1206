"""Synthetic identity numbers for the subjects of the demo's controlled records, and the one
demo citizen a README reader can look up by hers.

Every subject of a controlled sample record gets a number that passes the GB 11643 check
(``node.citizens``): the holder's county code, a birth date some twenty years before the
record, a sequence number (odd for men, even for women, as the standard has it, by the
subject's position: the 婚姻登记 generator names the groom first) and the check character.
Numbers are derived from the holder, the record id and the subject's position alone, so the
same record always gets the same numbers, whichever process makes them. They are fictitious
(演示数据), like every name and address of the sample records.

``DEMO_CITIZEN`` is the bride of the earliest controlled 婚姻登记 record held by the county
330110 (余杭区档案馆): a clerk at the village service point 330106001001 finds that record by
her number and by nothing else, since its title and her name never leave the holder.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import date

from node.citizens import IdNumber, check_character
from node.records import Access, Record
from node.sample_data.network import archive_name
from node.sample_data.plan import sample_records

DEMO_CITIZEN_HOLDER = "330110"


def subject_number(record: Record, position: int) -> IdNumber:
    """The demo identity number of ``record``'s subject at ``position`` (0 = first)."""
    seed = f"archive-node:id:{record.holder}/{record.record_id}/{position}"
    rng = random.Random(hashlib.sha256(seed.encode()).hexdigest())
    birth_year = max(1900, record.year - rng.randint(20, 30))
    day = date(birth_year, 1, 1).toordinal() + rng.randrange(365)
    born = date.fromordinal(day).strftime("%Y%m%d")
    sequence = rng.randrange(0, 500) * 2 + (1 if position == 0 else 2)  # odd: a man
    body = f"{record.holder[:6]}{born}{sequence % 1000:03d}"
    return IdNumber(body + check_character(body))


def sample_subject_ids(records: list[Record]) -> dict[str, tuple[IdNumber, ...]]:
    """Record id -> the identity numbers of its subjects, for the controlled ones."""
    return {
        r.record_id: tuple(subject_number(r, i) for i in range(len(r.subjects)))
        for r in records
        if r.access == Access.CONTROLLED and r.subjects
    }


@dataclass(frozen=True)
class DemoCitizen:
    """A citizen of the demo with a controlled record to find (her number shown only masked
    unless ``id_number.digits`` is asked for: the demo prints it, being fictitious)."""

    name: str
    id_number: IdNumber = field(repr=False)
    holder: str
    holder_name: str
    record_id: str
    category: str
    year: int

    @property
    def ref(self) -> str:
        return f"{self.holder}/{self.record_id}"


def _demo_citizen() -> DemoCitizen:
    holder_name = archive_name(DEMO_CITIZEN_HOLDER)
    records = [r for r, _ in sample_records(DEMO_CITIZEN_HOLDER, holder_name)]
    record = next(
        r
        for r in records
        if r.category == "婚姻登记" and r.access == Access.CONTROLLED and len(r.subjects) == 2
    )
    return DemoCitizen(
        name=record.subjects[1],
        id_number=subject_number(record, 1),
        holder=record.holder,
        holder_name=holder_name,
        record_id=record.record_id,
        category=record.category,
        year=record.year,
    )


DEMO_CITIZEN = _demo_citizen()
