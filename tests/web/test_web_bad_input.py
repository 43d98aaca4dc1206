"""Any input to any route of the web app is answered 2xx, 3xx or 4xx, never 5xx (issue 9,
item 6), over the fake services: what is tested here is each route's own parsing.

The routes are read from the application's router, so a route added later is fuzzed too (and
``ROUTE_VALUES`` says which path parameters to try for it). Bodies are any JSON (nested,
huge integers, ``1e999``, lone surrogates), deep nesting, bytes that are not UTF-8, and forms.
The same inputs against real nodes are in ``tests/integration/test_bad_input_web.py``.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import FormData
from aiohttp.test_utils import TestClient, TestServer
from fake_accounts import staff_token
from fake_service import hosted, network
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from node.web import create_app

HOSTED = ("330106", "330106001001")  # the fake network's two nodes
SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def staff_headers(code: str) -> dict[str, str]:
    """The headers of a request made by staff with every role at ``code``.

    This is the one place that logs in (an API token of an account holding every role), so
    the fuzzing reaches each route's own parsing rather than stopping at a 401.
    """
    return {"Authorization": f"Bearer {staff_token(code)}"} if code else {}


@pytest_asyncio.fixture
async def app_client() -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(create_app(hosted(network())))) as client:
        yield client


def _routes() -> list[tuple[str, str]]:
    """(method, path template) of every route the app serves, static files aside."""
    app = create_app(hosted(network()))
    routes = []
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("formatter") or info.get("path")
        if path and not path.startswith("/static") and route.method != "HEAD":
            routes.append((route.method, path))
    return sorted(set(routes))


ROUTES = _routes()
WRITES = [r for r in ROUTES if r[0] in ("POST", "DELETE", "PUT", "PATCH")]
READS = [r for r in ROUTES if r[0] == "GET"]
SEGMENT = st.sampled_from(
    ["330106", "330106001001", "3301", "33", "0", "x", "9" * 12, "%00", "..", "ed25519:00"]
) | st.text(alphabet=st.characters(codec="utf-8", exclude_characters="/?#%"), max_size=20)
ROUTE_VALUES = {"code": st.sampled_from([*HOSTED, "3301", "x"])}

# the values that broke something once, drawn often: Hypothesis does not guess 1e999 by chance
EDGES = st.sampled_from(
    [float("inf"), float("-inf"), float("nan"), 2**63, 2**64 - 1, -(2**63) - 1, 10**400, 1.5,
     0, -1, True, "\ud800", "a\x00b", "", " ", "x" * 5000, [], {}]
)  # fmt: skip
JSON_SCALARS = (
    EDGES
    | st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
    | st.sampled_from(["330106", "open", "永久", "婚姻登记", "J001-HY·2015-Y-0001", "ed25519:x"])
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=20,
)
FIELD_NAMES = st.sampled_from(
    ["records", "code", "reason", "key_id", "old", "new", "note", "peer", "deep", "year",
     "version", "files", "title"]
) | st.text(max_size=10)  # fmt: skip
# what an HTTP client can put in a form's part headers (it refuses control characters itself)
FORM_NAMES = st.sampled_from(["code", "reason", "key_id", "old", "new", "note", "peer"]) | (
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_.-]{0,15}", fullmatch=True)
)
RECORD = {
    "record_id": "HY-2015-Y-0001", "archival_code": "J001-HY·2015-Y-0001", "fonds": "J001",
    "category": "婚姻登记", "year": 2015, "retention": "永久", "title": "王秀英结婚登记档案",
    "files": [{"name": "a.pdf", "sha256": "0" * 64, "size": 1}],
}  # fmt: skip
RECORD_FIELDS = st.sampled_from([*RECORD, "creator", "date", "access", "subjects",
                                 "subject_index", "version", "deleted", "holder"])  # fmt: skip
FILE_FIELDS = st.sampled_from(["name", "sha256", "size", "media_type"])
# a valid record with some fields (or its file's) replaced by anything: reaches the checks
# behind "is every required field there", where a 500 was (``year: 1e999``)
MUTATED_RECORDS = st.builds(
    lambda fields, file_fields: {
        **RECORD, **fields, "files": [{**RECORD["files"][0], **file_fields}]  # type: ignore[dict-item]
    },
    st.dictionaries(RECORD_FIELDS, EDGES | JSON_VALUES, max_size=3),
    st.dictionaries(FILE_FIELDS, EDGES | JSON_VALUES, max_size=2),
)  # fmt: skip
JSON_BODIES = (
    st.builds(lambda items: {"records": items}, st.lists(MUTATED_RECORDS, min_size=1, max_size=3))
    | st.dictionaries(FIELD_NAMES, JSON_VALUES, max_size=6)
    | st.builds(
        lambda items: {"records": items},
        st.lists(st.dictionaries(FIELD_NAMES, JSON_VALUES, max_size=8), max_size=3),
    )
    | JSON_VALUES
)  # fmt: skip
RAW_BODIES = st.sampled_from(
    [b"[" * 100_000 + b"]" * 100_000, b'{"records": ' + b"[" * 50_000, b"\xff\xfe\x00", b"",
     b'{"reason": "\\ud800"}', b'{"year": 1e999}', b"NaN", b'{"records": [{"year": Infinity}]}']
) | st.binary(max_size=200)  # fmt: skip


def _path(template: str, data: st.DataObject) -> str:
    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        return str(data.draw(ROUTE_VALUES.get(name, SEGMENT), label=name))

    return re.sub(r"\{(\w+)\}", fill, template)


def _dumps(body: Any) -> bytes:
    # what a careless client sends: NaN and Infinity as JavaScript spells them, surrogates kept
    return json.dumps(body, ensure_ascii=True, allow_nan=True).encode()


async def _send(client: TestClient, method: str, path: str, **kwargs: Any) -> int:
    code = path.split("/")[4] if path.startswith("/api/v1/nodes/") else ""
    headers = {**staff_headers(code), **kwargs.pop("headers", {})}
    async with client.request(method, path, headers=headers, allow_redirects=False, **kwargs) as r:
        await r.read()
        return r.status


@pytest.mark.asyncio
@SETTINGS
@given(route=st.sampled_from(WRITES), body=JSON_BODIES, data=st.data())
async def test_any_json_to_any_write_is_never_a_5xx(
    app_client: TestClient, route: tuple[str, str], body: Any, data: st.DataObject
) -> None:
    method, template = route
    path = _path(template, data)
    status = await _send(
        app_client, method, path, data=_dumps(body), headers={"Content-Type": "application/json"}
    )
    assert status < 500, (method, path, body)


@pytest.mark.asyncio
@settings(SETTINGS, max_examples=80)
@given(records=st.lists(MUTATED_RECORDS, min_size=1, max_size=3), code=st.sampled_from(HOSTED))
async def test_any_record_to_ingest_is_never_a_5xx(
    app_client: TestClient, records: list[Any], code: str
) -> None:
    path = f"/api/v1/nodes/{code}/records"
    status = await _send(
        app_client,
        "POST",
        path,
        data=_dumps({"records": records}),
        headers={"Content-Type": "application/json"},
    )
    assert status < 500, records


@pytest.mark.asyncio
@SETTINGS
@given(route=st.sampled_from(WRITES), raw=RAW_BODIES, data=st.data())
async def test_any_bytes_to_any_write_are_never_a_5xx(
    app_client: TestClient, route: tuple[str, str], raw: bytes, data: st.DataObject
) -> None:
    method, template = route
    path = _path(template, data)
    status = await _send(
        app_client, method, path, data=raw, headers={"Content-Type": "application/json"}
    )
    assert status < 500, (method, path, raw[:80])


@pytest.mark.asyncio
@SETTINGS
@given(
    route=st.sampled_from(WRITES),
    fields=st.dictionaries(FORM_NAMES, st.text(max_size=40) | st.binary(max_size=20), max_size=5),
    data=st.data(),
)
async def test_any_form_to_any_write_is_never_a_5xx(
    app_client: TestClient, route: tuple[str, str], fields: dict[str, Any], data: st.DataObject
) -> None:
    method, template = route
    form = FormData()
    for name, value in fields.items():
        if isinstance(value, bytes):  # a file upload where text is expected
            form.add_field(name, value, filename="x.bin")
        else:
            form.add_field(name, value)
    status = await _send(app_client, method, _path(template, data), data=form)
    assert status < 500, (method, template, fields)


@pytest.mark.asyncio
@SETTINGS
@given(
    route=st.sampled_from(READS),
    params=st.dictionaries(
        st.sampled_from(
            [
                "q",
                "scope",
                "category",
                "year_from",
                "year_to",
                "retention",
                "access",
                "limit",
                "offset",
                "cursor",
                "page",
                "status",
                "file",
                "download",
            ]
        )
        | st.text(max_size=8),
        st.text(max_size=40) | st.integers(-(2**70), 2**70).map(str),
        max_size=5,
    ),  # fmt: skip
    data=st.data(),
)
async def test_any_query_to_any_page_or_read_is_never_a_5xx(
    app_client: TestClient, route: tuple[str, str], params: dict[str, str], data: st.DataObject
) -> None:
    _, template = route
    # a lone surrogate cannot be put in a URL by an HTTP client; encode what can be sent
    query = {k: v for k, v in params.items() if _encodable(k) and _encodable(v)}
    status = await _send(app_client, "GET", _path(template, data), params=query)
    assert status < 500, (template, query)


def _encodable(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def test_every_route_is_fuzzed() -> None:
    # the lists above are the app's own: a route added to it is fuzzed without editing this
    assert ("POST", "/api/v1/nodes/{code}/records") in WRITES
    assert ("POST", "/api/v1/nodes/{code}/registry/bans") in WRITES
    assert ("DELETE", "/api/v1/nodes/{code}/registry/bans/{key_id}") in WRITES
    assert ("POST", "/n/{code}/status/retry") in WRITES
    assert ("GET", "/n/{code}/") in READS and len(WRITES) >= 14
