"""The XML of OAI-PMH 2.0 responses and the ``oai_dc`` mapping of a catalogue entry.

Written with lxml (the one module that uses it), which escapes every text and attribute:
record text (titles, names) never becomes markup, and text XML cannot carry is refused.
Every value placed here was checked when its entry was built (``node/records.py``: no
control characters), so the document is well-formed XML 1.0. The mapping from the record
model to Dublin Core is documented in docs/operations.md ("Harvesting (OAI-PMH)"); the
tests validate every response against the OAI-PMH and oai_dc schemas.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from lxml import etree as ET

from node.records import CatalogueEntry

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC_NS = "http://purl.org/dc/elements/1.1/"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
XML_NS = "http://www.w3.org/XML/1998/namespace"
OAI_SCHEMA = "http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"
OAI_DC_SCHEMA = "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"
IDENTIFIER_PREFIX = "oai:archive-node:"  # + HOLDER/RECORD_ID, the same at every node

_ROOT_NS = {None: OAI_NS, "xsi": XSI_NS}  # the OAI namespace is the default one
_DC_NS = {"oai_dc": OAI_DC_NS, "dc": DC_NS}
_ZH = {f"{{{XML_NS}}}lang": "zh-CN"}


@functools.cache  # a few dozen names, built once instead of once per element
def _q(tag: str, ns: str = OAI_NS) -> str:
    return f"{{{ns}}}{tag}"


def datestamp(seconds: int | float) -> str:
    """UTC at seconds granularity, as OAI-PMH writes it: ``2026-12-04T03:46:00Z``."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(seconds)))


def identifier(entry: CatalogueEntry) -> str:
    return f"{IDENTIFIER_PREFIX}{entry.holder}/{entry.record_id}"


@dataclass(frozen=True)
class Header:
    """An item's header: its identifier, datestamp, sets, and whether it is deleted."""

    entry: CatalogueEntry
    stamp: int
    sets: tuple[str, ...]

    @property
    def deleted(self) -> bool:
        """Not open now: closed, controlled again, disposed of or deleted at its holder."""
        return self.entry.deleted or self.entry.access != "open"


def dublin_core(entry: CatalogueEntry, content_url: str) -> ET._Element:
    """``oai_dc:dc`` of an open entry; the table in docs/operations.md says field by field."""
    dc = ET.Element(_q("dc", OAI_DC_NS), nsmap=_DC_NS)
    dc.set(
        _q("schemaLocation", XSI_NS), f"{OAI_DC_NS} {OAI_DC_SCHEMA}"
    )  # where a harvester finds the format's schema

    def add(tag: str, value: str, lang: bool = False) -> None:
        if value:
            ET.SubElement(dc, _q(tag, DC_NS), _ZH if lang else None).text = value

    add("title", entry.title, lang=True)
    add("creator", entry.creator, lang=True)
    add("subject", entry.category, lang=True)
    for person in entry.subjects:
        add("subject", person, lang=True)
    add("date", str(entry.year))
    add("type", "Text")
    add("identifier", entry.archival_code)
    add("identifier", f"{entry.holder}/{entry.record_id}")
    if entry.content_sha256:
        add("identifier", content_url)
    add("publisher", entry.holder_name, lang=True)
    add("coverage", entry.holder)
    add("rights", f"{entry.access.zh}（保管期限：{entry.retention.value}）", lang=True)
    add("language", "zh")
    return dc


class Response:
    """One OAI-PMH response document being built: ``responseDate``, ``request``, a body."""

    def __init__(self, base_url: str, request: Mapping[str, str], now: float) -> None:
        self.root = ET.Element(_q("OAI-PMH"), nsmap=_ROOT_NS)
        self.root.set(_q("schemaLocation", XSI_NS), f"{OAI_NS} {OAI_SCHEMA}")
        ET.SubElement(self.root, _q("responseDate")).text = datestamp(now)
        echo = ET.SubElement(self.root, _q("request"), dict(request))
        echo.text = base_url

    def error(self, code: str, message: str) -> None:
        ET.SubElement(self.root, _q("error"), {"code": code}).text = message

    def verb(self, name: str) -> ET._Element:
        return ET.SubElement(self.root, _q(name))

    def to_bytes(self) -> bytes:
        return bytes(ET.tostring(self.root, encoding="utf-8", xml_declaration=True))


def add_text(parent: ET._Element, tag: str, value: str) -> ET._Element:
    element = ET.SubElement(parent, _q(tag))
    element.text = value
    return element


def add_header(parent: ET._Element, header: Header) -> None:
    element = ET.SubElement(parent, _q("header"))
    if header.deleted:
        element.set("status", "deleted")
    add_text(element, "identifier", identifier(header.entry))
    add_text(element, "datestamp", datestamp(header.stamp))
    for spec in header.sets:
        add_text(element, "setSpec", spec)


def add_record(parent: ET._Element, header: Header, content_url: str) -> None:
    record = ET.SubElement(parent, _q("record"))
    add_header(record, header)
    if not header.deleted:  # a deleted item has a header only
        ET.SubElement(record, _q("metadata")).append(dublin_core(header.entry, content_url))


def add_token(parent: ET._Element, token: str, cursor: int, size: int) -> None:
    """A resumption token; ``token`` "" on the last page of a list that needed several."""
    attrs = {"cursor": str(cursor)}
    if size > 0:  # completeListSize is a positiveInteger
        attrs["completeListSize"] = str(size)
    ET.SubElement(parent, _q("resumptionToken"), attrs).text = token or None


def add_metadata_format(parent: ET._Element) -> None:
    fmt = ET.SubElement(parent, _q("metadataFormat"))
    add_text(fmt, "metadataPrefix", "oai_dc")
    add_text(fmt, "schema", OAI_DC_SCHEMA)
    add_text(fmt, "metadataNamespace", OAI_DC_NS)


def add_sets(parent: ET._Element, sets: Iterable[tuple[str, str]]) -> None:
    for spec, name in sets:
        element = ET.SubElement(parent, _q("set"))
        add_text(element, "setSpec", spec)
        add_text(element, "setName", name)
