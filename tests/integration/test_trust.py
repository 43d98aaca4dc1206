"""Trust you can operate, on a real network (one host and gRPC listener per node, loopback).

The root registry's directory reaching every node; revocation refused everywhere; key
rotation (new key published, old key dead for live calls but good for old evidence);
renewal; local bans; online enrolment approved by the parent's operator; code aliases.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import grpc
import pytest
import pytest_asyncio

from node.accounts import console_actor
from node.actors import Role
from node.crypto import SigningKey
from node.errors import AccessDenied, AuthError, Forbidden
from node.federation.messages import ENROL, FETCH, MANIFEST_SUFFIX, SEARCH, EnrolApplication
from node.federation.trust.applicant import apply_for_enrolment
from node.federation.trust.files import chain_path, key_path, save_chain
from node.host import Host
from node.records import SearchQuery
from node.rpc.codec import ProtobufCodec
from node.rpc.peers import call_address

from .network import Network, browser_login, eventually, ingest, make_record, staff, tree
from .raw import raw_call

NODES = tree("33", "3301", "330106", "330108", "330110", "330106001", "330106001001")
CODEC = ProtobufCodec()


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def net(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Network]:
    network = await Network.start(tmp_path_factory.mktemp("trust"), NODES)
    await ingest(network.service("330110"), [make_record("330110", 1, title="张三结婚登记档案")])
    yield network
    await network.stop()


pytestmark = pytest.mark.asyncio(loop_scope="module")


def _search_from(net: Network, origin: str, to: str) -> bytes:
    query = CODEC.encode(SearchQuery(text="结婚", scope=to, limit=5))
    return CODEC.encode(net.node(origin).parts.signer.seal(SEARCH, to, query))


async def _everyone_has(net: Network, version: int, but: str = "") -> bool:
    return all(net.node(code).keeper.head.version >= version for code, _ in NODES if code != but)


async def test_the_directory_reaches_every_node_with_the_same_hash(net: Network) -> None:
    registry = net.node("33").keeper
    assert registry.head.version >= len(NODES)  # every certificate of the tree
    await eventually(lambda: _everyone_has(net, registry.head.version))
    for code, _ in NODES:
        state = net.node(code).keeper.state
        assert state.chain_hash == registry.state.chain_hash
        assert set(state.certificates) == {c for c, _ in NODES}


async def test_a_node_restarted_keeps_its_copy_of_the_directory(net: Network) -> None:
    keeper = net.node("330106001").keeper
    await eventually(lambda: _everyone_has(net, net.node("33").keeper.head.version))
    events, head = await keeper.directory.store.load_directory()
    assert head is not None and len(events) == keeper.head.version


async def test_revocation_is_refused_everywhere_and_audited(net: Network) -> None:
    before = net.node("33").keeper.head.version
    # the city revokes one of its counties; the report travels up, the directory down
    await net.service("3301").trust.revoke("330108", "测试：密钥失窃", actor=console_actor("test"))
    status, _ = await raw_call(net, "3301", SEARCH, _search_from(net, "330108", "3301"))
    assert status == grpc.StatusCode.UNAUTHENTICATED  # at once where it was revoked
    await eventually(lambda: _everyone_has(net, before + 1, but="330108"))
    for code in ("33", "330106", "330110", "330106001001"):
        status, details = await raw_call(net, code, SEARCH, _search_from(net, "330108", code))
        assert status == grpc.StatusCode.UNAUTHENTICATED, code
        assert "revoked" in details
        audit = await net.service(code).refusals.recent(5)
        assert audit[0].origin == "330108" and audit[0].kind == "AuthError"


async def test_only_an_ancestor_may_revoke(net: Network) -> None:
    with pytest.raises(Forbidden):
        await net.service("330106").trust.revoke(
            "330110", "兄弟节点无权吊销", actor=console_actor("test")
        )
    with pytest.raises(Forbidden):
        await net.service("330106").trust.revoke(
            "330106", "不能吊销自己", actor=console_actor("test")
        )


async def test_a_ban_refuses_a_key_at_once_on_that_node_only(net: Network) -> None:
    county = net.node("330110").parts.signer.key.key_id
    await net.service("3301").trust.ban(county, "测试封禁", actor=console_actor("test"))
    try:
        status, details = await raw_call(net, "3301", SEARCH, _search_from(net, "330110", "3301"))
        assert status == grpc.StatusCode.UNAUTHENTICATED and "banned" in details
        status, _ = await raw_call(net, "33", SEARCH, _search_from(net, "330110", "33"))
        assert status == grpc.StatusCode.OK  # a ban is local
    finally:
        await net.service("3301").trust.unban(county, actor=console_actor("test"))
    status, _ = await raw_call(net, "3301", SEARCH, _search_from(net, "330110", "3301"))
    assert status == grpc.StatusCode.OK


async def test_rotation_publishes_the_new_key_then_retires_the_old(net: Network) -> None:
    node = net.node("330106001001")
    old_signer = node.parts.signer
    # evidence signed with the old key while it was valid
    old_evidence = old_signer.seal(FETCH + MANIFEST_SUFFIX, "33", b"manifest bytes")
    old_id, new_id = await node.keeper.credentials.rotate(publish_timeout_s=15)
    assert (old_id, new_id) == (old_signer.key.key_id, node.parts.signer.key.key_id)
    assert SigningKey.load(key_path(node.dir)).key_id == new_id  # the switch is on disk
    registry = net.node("33").keeper
    await eventually(lambda: _everyone_has(net, registry.head.version, but="330108"))
    assert any(c.key_id == new_id for c in registry.state.current("330106001001"))
    # the new key works across the tree; the old one is refused for live calls
    page = await net.service("330106001001").search.search(SearchQuery(text="张三", scope="33"))
    assert page.total == 1
    live_with_old = CODEC.encode(
        old_signer.seal(SEARCH, "33", CODEC.encode(SearchQuery(text="张三", scope="33")))
    )
    status, details = await raw_call(net, "33", SEARCH, live_with_old)
    assert status == grpc.StatusCode.UNAUTHENTICATED and "retired" in details
    # ...but what it signed before the rotation still verifies as evidence
    net.node("33").parts.gatekeeper.verify(old_evidence, FETCH + MANIFEST_SUFFIX, live=False)


async def test_renewal_gives_a_fresh_certificate_and_saves_it(net: Network) -> None:
    node = net.node("330106001")
    before = node.parts.signer.chain[0]
    chain = await node.services.trust.renew(actor=console_actor("test"))
    assert chain[0].serial != before.serial and chain[0].public_key == before.public_key
    assert chain[0].not_after_ms <= chain[1].not_after_ms  # never past the parent's
    assert node.parts.signer.chain == chain
    page = await node.services.search.search(SearchQuery(text="张三", scope="33"))
    assert page.total == 1  # calls signed under the renewed certificate are accepted


async def test_online_enrolment_needs_the_parents_approval(net: Network, tmp_path: Path) -> None:
    key = SigningKey.generate()
    application = EnrolApplication("330106002", "西溪街道档案室", key.public_key, "127.0.0.1:1")
    root = net.root.public_key
    county = net.node("330106")
    address = county.dir.parent  # noqa: F841 - the data dir, for clarity below
    grpc_address = f"127.0.0.1:{net.hosts['330106'].grpc.port}"

    async def send(request: bytes) -> bytes:
        return await call_address(grpc_address, ENROL, request, 5.0)

    status = await apply_for_enrolment(key, application, root, CODEC, send)
    assert status.status == "pending" and not status.chain
    pending = await county.services.trust.applications("pending")
    assert [a.code for a in pending] == ["330106002"]
    await county.services.trust.approve("330106002", key.key_id, actor=console_actor("test"))
    status = await apply_for_enrolment(key, application, root, CODEC, send)
    assert status.status == "approved"
    assert status.chain[0].public_key == key.public_key and status.chain[1].node_id == "330106"
    save_chain(chain_path(tmp_path), status.chain)  # what `archive-node enrol` does
    await eventually(
        lambda: _has_cert(net, "33", "330106002"), timeout=15
    )  # reported up to the registry


async def _has_cert(net: Network, at: str, code: str) -> bool:
    return bool(net.node(at).keeper.state.current(code))


async def test_an_application_to_the_wrong_parent_is_refused(net: Network) -> None:
    key = SigningKey.generate()
    application = EnrolApplication("330110002", "冒名街道", key.public_key, "")
    grpc_address = f"127.0.0.1:{net.hosts['330106'].grpc.port}"

    async def send(request: bytes) -> bytes:
        return await call_address(grpc_address, ENROL, request, 5.0)

    # sent to the wrong listener: no node there takes calls for the applicant's parent
    with pytest.raises(AccessDenied, match="330110"):
        await apply_for_enrolment(key, application, net.root.public_key, CODEC, send)
    # addressed to a node that is not the applicant's parent
    with pytest.raises(Forbidden, match="直接下级"):
        await net.node("330106").keeper.enrolment.receive_application(application)
    assert not [
        a for a in await net.service("330106").trust.applications() if a.code != "330106002"
    ]
    # an application signed by another key than the one it asks to certify
    other = SigningKey.generate()
    forged = EnrolApplication("330106003", "伪造", other.public_key, "")
    with pytest.raises(AuthError):
        await apply_for_enrolment(key, forged, net.root.public_key, CODEC, send)


async def test_an_alias_resolves_the_old_code(net: Network) -> None:
    # 330182 (建德, say it was renamed) now answers as 330110
    await net.service("33").trust.alias("330182", "330110", actor=console_actor("test"))
    await eventually(lambda: _alias_known(net, "330106001001"))
    village = net.service("330106001001")
    page = await village.search.search(SearchQuery(text="张三", scope="330182"))
    assert page.total == 1 and page.hits[0].holder == "330110"
    fetched = await village.retrieval.fetch("330182", page.hits[0].record_id)
    assert fetched.manifest.holder == "330110"
    with pytest.raises(Forbidden):
        await net.service("3301").trust.alias(
            "330183", "330110", actor=console_actor("test")
        )  # the registry's alone


async def _alias_known(net: Network, code: str) -> bool:
    return net.node(code).keeper.state.aliases.get("330182") == "330110"


async def test_renewal_is_automatic_when_due(net: Network) -> None:
    city, keeper = net.node("3301").keeper, net.node("330110").keeper
    day = 24 * 3600 * 1000
    city.credentials.settings = replace(city.credentials.settings, cert_lifetime_ms=day)  # short
    try:
        await keeper.credentials.renew()
        short = keeper.parts.signer.chain[0]
        assert short.not_after_ms - short.not_before_ms < 2 * day
        own = keeper.credentials
        own.settings = replace(own.settings, renew_before_ms=day // 24)
        assert not await own.renew_if_due()  # a day left: not due an hour ahead
        own.settings = replace(own.settings, renew_before_ms=2 * day)
        await keeper.tick()  # the scheduled job
        assert keeper.parts.signer.chain[0].serial != short.serial
    finally:
        city.credentials.settings = replace(city.credentials.settings, cert_lifetime_ms=365 * day)
        own = keeper.credentials
        own.settings = replace(own.settings, renew_before_ms=30 * day)


async def test_a_restarted_node_verifies_from_its_copy_while_its_parent_is_down(
    net: Network,
) -> None:
    await eventually(lambda: _revoked_at(net, "330106001", "330108"))
    await net.hosts["330106"].stop()  # the township's parent
    township = net.hosts["330106001"]
    await township.stop()
    restarted = Host(township.settings)
    await restarted.start()
    try:
        node = restarted.nodes["330106001"]
        assert node.keeper.head.version >= 1
        assert node.keeper.state.revocation_of(net.node("330108").parts.signer.chain[0])
        net.hosts["330106001"] = restarted
        status, details = await raw_call(
            net, "330106001", SEARCH, _search_from(net, "330108", "330106001")
        )
        assert status == grpc.StatusCode.UNAUTHENTICATED and "revoked" in details
    finally:
        net.hosts["330106001"] = restarted  # the fixture stops whatever is registered


async def _revoked_at(net: Network, at: str, code: str) -> bool:
    return (code, 0) in net.node(at).keeper.state.revoked


async def test_the_archivist_page_approves_and_refuses_cross_site_posts(net: Network) -> None:
    import aiohttp

    key = SigningKey.generate()
    await net.node("330110").keeper.enrolment.receive_application(
        EnrolApplication("330110005", "仓前街道档案室", key.public_key, "")
    )
    web = net.hosts["330110"].listening
    assert web is not None
    base = f"{web.web_url}/n/330110/registry"
    await staff(net.service("330110"), "ops", Role.OPERATOR, password="ops-password")
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        csrf = await browser_login(http, web.web_url, "330110", "ops", "ops-password")
        async with http.get(base) as page:
            text = await page.text()
        assert page.status == 200 and "仓前街道档案室" in text and "批准" in text
        assert key.key_id in text  # what the operator checks against the paper form
        # the form approves the key id it showed, carried as a hidden field
        assert f'<input type="hidden" name="key_id" value="{key.key_id}">' in text
        approve = f"{base}/applications/330110005/approve"
        form = {"key_id": key.key_id, "csrf": csrf}
        async with http.post(
            approve, data=form, headers={"Origin": "http://evil.example"}
        ) as refused:
            assert refused.status == 403
        async with http.post(approve, headers={"Origin": web.web_url}) as no_token:
            assert no_token.status == 403 and "CSRF" in await no_token.text()
        assert (await net.service("330110").trust.applications("pending"))[0].code == "330110005"
        # what another key's page would show
        other = {"key_id": SigningKey.generate().key_id, "csrf": csrf}
        async with http.post(approve, data=other, headers={"Origin": web.web_url}) as changed:
            assert changed.status == 400 and "密钥已变更" in await changed.text()
        assert await net.service("330110").trust.applications("pending")
        async with http.post(approve, data=form, headers={"Origin": web.web_url}) as done:
            assert done.status == 200 and "已批准" in await done.text()
    assert not await net.service("330110").trust.applications("pending")


async def test_no_renewal_while_the_certificate_already_ends_with_the_parents(
    net: Network,
) -> None:
    keeper = net.node("330106001001").keeper.credentials  # its chain ends with the township's
    keeper.settings = replace(keeper.settings, renew_before_ms=400 * 24 * 3600 * 1000)
    try:
        assert not await keeper.renew_if_due()  # would get the same end again
    finally:
        keeper.settings = replace(keeper.settings, renew_before_ms=30 * 24 * 3600 * 1000)
