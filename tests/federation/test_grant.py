"""Every path that grants a certificate gives the same serial and validity (``trust/grant.py``).

The offline paths (``enrol_tree`` for a test or demo tree, ``issue_for_request`` for
``registry issue``) and a running node approving or renewing a child all go through
``grant``; a running node takes the time from its injected clock, never the machine's.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from node.config import DEFAULT_TRUST, HostSettings, NodeSettings
from node.crypto import SigningKey
from node.federation.messages import EnrolApplication, RenewRequest
from node.federation.trust.files import key_path
from node.federation.trust.grant import (
    NOT_BEFORE_SLACK_MS,
    YEAR_MS,
    enrol_tree,
    enrolment_request,
    grant,
    issue_for_request,
    serial_for,
)
from node.host import Host

NOW_S = 1_800_000_000.0  # far from the machine's clock, so a path that ignores it shows
NOW = int(NOW_S * 1000)
DAY = 24 * 3600 * 1000
PROVINCE = ("33", "浙江省档案馆", "127.0.0.1:1")


def test_serials_grow_with_time_and_never_repeat() -> None:
    assert serial_for(NOW) == NOW * 1000
    assert serial_for(NOW, after=NOW * 1000) == NOW * 1000 + 1  # same millisecond
    assert serial_for(NOW - 1, after=NOW * 1000) == NOW * 1000 + 1  # the clock stepped back
    assert serial_for(NOW + 1, after=NOW * 1000) == (NOW + 1) * 1000


def test_a_certificate_never_outlives_its_issuers() -> None:
    root, key = SigningKey.generate(), SigningKey.generate()
    (province,) = grant(
        root,
        (),
        code="33",
        name="省",
        public_key=key.public_key,
        address="",
        now_ms=NOW,
        lifetime_ms=DAY,
    )
    child = grant(
        key,
        (province,),
        code="3301",
        name="市",
        public_key=SigningKey.generate().public_key,
        address="",
        now_ms=NOW,
        lifetime_ms=YEAR_MS,
    )
    assert child[1:] == (province,)
    assert child[0].not_after_ms == province.not_after_ms == NOW + DAY
    assert child[0].not_before_ms == NOW - NOT_BEFORE_SLACK_MS


def test_the_offline_paths_grant_the_same_certificate(tmp_path: Path) -> None:
    root, key = SigningKey.generate(), SigningKey.generate()
    key.save(key_path(tmp_path / "33"))  # enrol_tree keeps a key that is there
    code, name, address = PROVINCE
    tree = enrol_tree(root, [PROVINCE], tmp_path, now_ms=NOW)
    offline = issue_for_request(enrolment_request(code, name, key, address), root, (), now_ms=NOW)
    direct = grant(
        root,
        (),
        code=code,
        name=name,
        public_key=key.public_key,
        address=address,
        now_ms=NOW,
        lifetime_ms=YEAR_MS,
    )
    assert tree[code].chain == offline == direct  # Ed25519 signatures are deterministic
    leaf = offline[0]
    assert (leaf.serial, leaf.not_before_ms, leaf.not_after_ms) == (
        NOW * 1000,
        NOW - NOT_BEFORE_SLACK_MS,
        NOW + YEAR_MS,
    )


def test_a_batch_of_certificates_has_serials_that_follow_each_other(tmp_path: Path) -> None:
    nodes = [PROVINCE, ("3301", "杭州市档案馆", ""), ("330106", "西湖区档案馆", "")]
    tree = enrol_tree(SigningKey.generate(), nodes, tmp_path, now_ms=NOW)
    assert [tree[c].chain[0].serial for c, _, _ in nodes] == [NOW * 1000 + i for i in range(3)]


@pytest.mark.asyncio
async def test_a_running_node_grants_at_its_injected_clock_like_the_offline_paths(
    tmp_path: Path,
) -> None:
    root = SigningKey.generate()
    # the province was certified a day before the node's clock: its certificate bounds the child's
    province = enrol_tree(root, [PROVINCE], tmp_path, now_ms=NOW - DAY)["33"]
    settings = HostSettings(tmp_path, root.public_key, nodes=(NodeSettings("33", PROVINCE[1]),))
    host = Host(settings, clock=lambda: NOW_S)
    node = host.nodes["33"]
    await node.open()
    try:
        key = SigningKey.generate()
        application = EnrolApplication("3301", "杭州市档案馆", key.public_key, "")
        await node.keeper.enrolment.receive_application(application)
        chain = await node.keeper.enrolment.approve("3301", key.key_id)
        offline = issue_for_request(
            enrolment_request("3301", "杭州市档案馆", key, ""),
            province.key,
            province.chain,
            now_ms=NOW,
            lifetime_ms=DEFAULT_TRUST.cert_lifetime_ms,
        )
        assert chain == offline
        assert chain[0].serial == NOW * 1000 and chain[0].not_before_ms == NOW - 60_000
        assert chain[0].not_after_ms == province.chain[0].not_after_ms  # not past the issuer's
        # a renewal at the same instant follows the certificate it replaces
        renewed = await node.keeper.credentials.grant_renewal(chain[0], RenewRequest())
        assert renewed.chain[0].serial == chain[0].serial + 1
        assert renewed.chain[0].not_before_ms == NOW - 60_000
    finally:
        await node.close()
        await host.transport.close()
