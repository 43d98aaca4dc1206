"""OAI-PMH 2.0: the six verbs over this node's catalogue (its own records and its subtree's).

Only entries that are open now are disseminated; an entry that was ever open here and is not
any more (closed, re-classified, disposed of, deleted) stays in the feed as a header with
``status="deleted"`` (``deletedRecord`` is ``persistent``), never ``idDoesNotExist``. A record
that was never open here is not in the feed at all. Datestamps are the UTC second this node
accepted the entry's current version, so every access change that reaches a catalogue
(``storage/oai.py``) bumps it there.

Resumption tokens are stateless: the request's window and the position after the last item
sent, signed by nothing (a forged token can only ask for a window anyone may ask for), so
they survive a restart. A list that needs several responses ends with an empty token, also
when its size is a multiple of the page size (one extra row is read to know).

The HTTP side is ``node/web/oai.py``; this module takes the request's arguments and answers
with the response document's bytes.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import json
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from node.config_sections import DEFAULT_OAI, OaiSettings
from node.divisions import division_name
from node.errors import InvalidCode
from node.federation import oai_xml
from node.identity import CODE_LENGTHS, covers, level_of, validate_code
from node.storage.oai import FeedItem, FeedWindow, OaiFeed

VERBS = {
    "Identify": (set(), set()),
    "ListMetadataFormats": (set(), {"identifier"}),
    "ListSets": (set(), {"resumptionToken"}),
    "GetRecord": ({"identifier", "metadataPrefix"}, set()),
    "ListIdentifiers": ({"metadataPrefix"}, {"from", "until", "set", "resumptionToken"}),
    "ListRecords": ({"metadataPrefix"}, {"from", "until", "set", "resumptionToken"}),
}  # verb: (required arguments, optional ones)
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_SECOND = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")
MAX_STAMP = 2**62
MAX_TOKEN_CHARS = 1_000
MAX_ARGUMENT_CHARS = 2_000
# What the schema allows a metadataPrefix to be, and what an identifier (anyURI) may hold.
_PREFIX = re.compile(r"[A-Za-z0-9\-_.!~*'()]+")
_URI = re.compile(r"[^\s<>\"{}|\\^`\x00-\x1f\x7f]+")
# Characters XML 1.0 cannot carry (an argument is echoed in the response's request element).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True)
class OaiReply:
    body: bytes
    content_type: str = "text/xml; charset=utf-8"


@runtime_checkable
class OaiService(Protocol):
    async def respond(self, arguments: Sequence[tuple[str, str]], base_url: str) -> OaiReply:
        """The response to one OAI-PMH request (its arguments as sent, repeats included);
        ``base_url`` is the feed's address as the harvester reached it. Never raises for
        anything a harvester sends: errors are OAI-PMH ``error`` elements."""
        ...


class OaiError(Exception):
    """An OAI-PMH error condition: ``code`` is the spec's, the message English."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _parse_time(value: str, name: str, *, end: bool) -> tuple[int, str]:
    """UTC seconds of a ``from``/``until`` value and its granularity (``day`` or
    ``second``); a day-granularity ``until`` covers its whole day."""
    if _SECOND.fullmatch(value):
        granularity, layout = "second", "%Y-%m-%dT%H:%M:%SZ"
    elif _DAY.fullmatch(value):
        granularity, layout = "day", "%Y-%m-%d"
    else:
        raise OaiError("badArgument", f"{name} must be YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ")
    try:
        seconds = calendar.timegm(time.strptime(value, layout))
    except ValueError:
        raise OaiError("badArgument", f"{name} is not a real date or time: {value}") from None
    if granularity == "day" and end:
        seconds += 86_399
    return seconds, granularity


def _encode_token(state: dict[str, Any]) -> str:
    raw = json.dumps(state, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_token(token: str, verb: str) -> dict[str, Any]:
    """The state a token of ``verb`` carries, each field type- and range-checked."""
    bad = OaiError("badResumptionToken", "the resumptionToken is not one this feed issued")
    if len(token) > MAX_TOKEN_CHARS or not re.fullmatch(r"[A-Za-z0-9_-]+", token):
        raise bad
    try:
        state = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, binascii.Error):
        raise bad from None
    ints = ("c", "n", "f", "u", "a", "i")
    if (
        not isinstance(state, dict)
        or state.get("v") != verb
        or set(state) != {"v", "s", *ints}
        or not isinstance(state["s"], str)
        or not all(type(state[k]) is int and 0 <= state[k] <= MAX_STAMP for k in ints)
    ):
        raise bad
    if state["s"]:
        try:
            validate_code(state["s"])
        except InvalidCode:
            raise bad from None
    return state


class OaiProvider:
    """``OaiService`` over one node's catalogue."""

    def __init__(
        self,
        code: str,
        name: str,
        feed: OaiFeed,
        settings: OaiSettings = DEFAULT_OAI,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.code = code
        self.name = name
        self.feed = feed
        self.settings = settings
        self.clock = clock

    async def respond(self, arguments: Sequence[tuple[str, str]], base_url: str) -> OaiReply:
        args: dict[str, str] = {}
        repeated = False
        for key, value in arguments:
            repeated = repeated or key in args
            args[key] = value
        verb = args.get("verb", "")
        known = isinstance(verb, str) and verb in VERBS
        # the request element echoes the arguments only when they were understood
        response = oai_xml.Response(base_url, {}, self.clock())
        try:
            if not known or [k for k, _ in arguments].count("verb") > 1:
                raise OaiError("badVerb", f"unknown, missing or repeated verb: {verb[:40]!r}")
            self._check_arguments(verb, args, repeated)
            response = oai_xml.Response(base_url, args, self.clock())
            await getattr(self, "_" + verb)(response, args, base_url)
        except OaiError as error:
            if error.code in ("badVerb", "badArgument"):
                response = oai_xml.Response(base_url, {}, self.clock())
            response.error(error.code, str(error))
        return OaiReply(response.to_bytes())

    @staticmethod
    def _check_arguments(verb: str, args: dict[str, str], repeated: bool) -> None:
        required, optional = VERBS[verb]
        given = set(args) - {"verb"}
        if repeated:
            raise OaiError("badArgument", "an argument is repeated")
        for key, value in args.items():
            if len(value) > MAX_ARGUMENT_CHARS or _NOT_XML.search(key + value):
                raise OaiError("badArgument", "an argument is too long or not text")
        if "metadataPrefix" in args and not _PREFIX.fullmatch(args["metadataPrefix"]):
            raise OaiError("badArgument", "metadataPrefix has characters it may not have")
        if "identifier" in args and not _URI.fullmatch(args["identifier"]):
            raise OaiError("badArgument", "identifier is not a URI")
        if given - required - optional:
            raise OaiError(
                "badArgument", f"illegal arguments: {sorted(given - required - optional)}"
            )
        if "resumptionToken" in given:
            if given != {"resumptionToken"}:
                raise OaiError("badArgument", "resumptionToken is an exclusive argument")
            return
        if required - given:
            raise OaiError("badArgument", f"missing arguments: {sorted(required - given)}")

    # -- the verbs -------------------------------------------------------------------------

    async def _Identify(self, response: oai_xml.Response, args: dict[str, str], base: str) -> None:
        body = response.verb("Identify")
        earliest = await self.feed.earliest()
        for tag, value in (
            ("repositoryName", f"{self.name}（{self.code}）开放档案目录"),
            ("baseURL", base),
            ("protocolVersion", "2.0"),
            ("adminEmail", self.settings.admin_email),
            ("earliestDatestamp", oai_xml.datestamp(earliest or self.clock())),
            ("deletedRecord", "persistent"),
            ("granularity", "YYYY-MM-DDThh:mm:ssZ"),
        ):
            oai_xml.add_text(body, tag, value)

    async def _ListMetadataFormats(
        self, response: oai_xml.Response, args: dict[str, str], base: str
    ) -> None:
        if "identifier" in args:
            await self._item(args["identifier"])  # idDoesNotExist if it is not in the feed
        oai_xml.add_metadata_format(response.verb("ListMetadataFormats"))

    async def _ListSets(self, response: oai_xml.Response, args: dict[str, str], base: str) -> None:
        if not self.settings.sets:
            raise OaiError("noSetHierarchy", "this feed has no sets")
        offset = 0
        if "resumptionToken" in args:
            offset = _decode_token(args["resumptionToken"], "ListSets")["c"]
        sets = await self._sets()
        if offset > len(sets):
            raise OaiError("badResumptionToken", "the resumptionToken is past the list")
        page = sets[offset : offset + self.settings.page_size]
        body = response.verb("ListSets")
        oai_xml.add_sets(body, page)
        end = offset + len(page)
        if offset or end < len(sets):
            token = (
                ""
                if end >= len(sets)
                else _encode_token(
                    {
                        "v": "ListSets",
                        "s": "",
                        "c": end,
                        "n": len(sets),
                        "f": 0,
                        "u": 0,
                        "a": 0,
                        "i": 0,
                    }
                )
            )
            oai_xml.add_token(body, token, offset, len(sets))

    async def _GetRecord(self, response: oai_xml.Response, args: dict[str, str], base: str) -> None:
        self._format(args["metadataPrefix"])
        item = await self._item(args["identifier"])
        oai_xml.add_record(
            response.verb("GetRecord"), self._header(item), self._content(base, item)
        )

    async def _ListIdentifiers(
        self, response: oai_xml.Response, args: dict[str, str], base: str
    ) -> None:
        await self._list(response, args, base, "ListIdentifiers")

    async def _ListRecords(
        self, response: oai_xml.Response, args: dict[str, str], base: str
    ) -> None:
        await self._list(response, args, base, "ListRecords")

    # -- helpers ---------------------------------------------------------------------------

    async def _list(
        self, response: oai_xml.Response, args: dict[str, str], base: str, verb: str
    ) -> None:
        if "resumptionToken" in args:
            state = _decode_token(args["resumptionToken"], verb)
        else:
            state = {"v": verb, **self._window(args), "c": 0, "a": 0, "i": 0}
        window = FeedWindow(state["s"], state["f"], state["u"])
        size = self.settings.page_size
        items = await self.feed.page(window, (state["a"], state["i"]), size + 1)
        if not items:  # (on resumption: what was left changed since, and is seen next time)
            raise OaiError("noRecordsMatch", "no records match the request")
        if "resumptionToken" not in args:
            state["n"] = await self.feed.count(window)
        more, items = len(items) > size, items[:size]
        body = response.verb(verb)
        for item in items:
            if verb == "ListRecords":
                oai_xml.add_record(body, self._header(item), self._content(base, item))
            else:
                oai_xml.add_header(body, self._header(item))
        cursor = state["c"]
        if more or cursor:
            token = ""
            if more:
                last = items[-1]
                following = {**state, "c": cursor + len(items), "a": last.stamp, "i": last.id}
                following["n"] = max(following["n"], following["c"] + 1)
                token = _encode_token(following)
            oai_xml.add_token(body, token, cursor, max(state["n"], cursor + len(items)))

    def _window(self, args: dict[str, str]) -> dict[str, Any]:
        """A new list request's window: set, from and until (until now if not given, so the
        list does not grow while it is harvested: what changes meanwhile is seen next time)."""
        self._format(args["metadataPrefix"])
        since, until = 0, int(self.clock())
        granularity = {}
        if "from" in args:
            since, granularity["from"] = _parse_time(args["from"], "from", end=False)
        if "until" in args:
            until, granularity["until"] = _parse_time(args["until"], "until", end=True)
        if len(set(granularity.values())) > 1:
            raise OaiError("badArgument", "from and until must have the same granularity")
        if "until" in args and since > until:
            raise OaiError("badArgument", "from must not be later than until")
        spec = args.get("set", "")
        if spec:
            if not self.settings.sets:
                raise OaiError("noSetHierarchy", "this feed has no sets")
            try:
                validate_code(spec)
            except InvalidCode:
                raise OaiError("badArgument", f"a set is a division code: {spec[:40]!r}") from None
        return {"s": spec, "f": since, "u": until, "n": 0}

    @staticmethod
    def _format(prefix: str) -> None:
        if prefix != "oai_dc":
            raise OaiError(
                "cannotDisseminateFormat", f"only oai_dc is offered, not {prefix[:40]!r}"
            )

    async def _item(self, identifier: str) -> FeedItem:
        missing = OaiError("idDoesNotExist", f"no such item in this feed: {identifier[:80]!r}")
        if not identifier.startswith(oai_xml.IDENTIFIER_PREFIX):
            raise missing
        holder, _, record_id = identifier[len(oai_xml.IDENTIFIER_PREFIX) :].partition("/")
        try:
            validate_code(holder)
        except InvalidCode:
            raise missing from None
        if not covers(self.code, holder) or not record_id or len(record_id) > 64:
            raise missing
        item = await self.feed.item(holder, record_id)
        if item is None:
            raise missing
        return item

    def _header(self, item: FeedItem) -> oai_xml.Header:
        """The sets of an item: each division from this node down to its holder."""
        holder = item.entry.holder
        specs = tuple(holder[:n] for n in CODE_LENGTHS if len(self.code) <= n <= len(holder))
        return oai_xml.Header(item.entry, item.stamp, specs if self.settings.sets else ())

    @staticmethod
    def _content(base: str, item: FeedItem) -> str:
        """Where the record's content is fetched on this node's web (public for open ones)."""
        root = base.rsplit("/oai", 1)[0]
        return f"{root}/records/{item.entry.holder}/{item.entry.record_id}/content"

    async def _sets(self) -> list[tuple[str, str]]:
        """This node's division and every division between it and a holder in the feed."""
        names: dict[str, str] = {self.code: self.name}
        for holder, name in await self.feed.holders():
            for n in CODE_LENGTHS:
                if len(self.code) < n <= len(holder):
                    names.setdefault(holder[:n], "")
            names[holder] = names[holder] or name
        return [(code, names[code] or _division_label(code)) for code in sorted(names)]


def _division_label(code: str) -> str:
    return division_name(code) or f"{level_of(code).zh} {code}"
