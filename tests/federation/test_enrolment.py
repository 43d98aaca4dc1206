"""Enrolment that cannot be hijacked: the pinned key, the key id at approval, the rate limits.

A real province node (its SQLite file in tmp, its keeper) takes applications directly, as
its enrolment handler does once the server has checked the envelope's signature; the same
over real gRPC, with the peer address, is in ``tests/integration/test_replay.py``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from node.accounts import console_actor
from node.config import HostSettings, NodeSettings
from node.crypto import SigningKey
from node.errors import Forbidden, InvalidInput, Overloaded
from node.federation.messages import EnrolApplication
from node.federation.trust.grant import enrol_tree
from node.federation.trust.limits import WindowLimiter, address_of
from node.host import Host
from node.node import Node

PROVINCE = ("33", "浙江省档案馆", "127.0.0.1:1")
PEER = "ipv4:10.0.0.7:53412"


@pytest_asyncio.fixture
async def province(tmp_path: Path) -> AsyncIterator[Node]:
    root = SigningKey.generate()
    enrol_tree(root, [PROVINCE], tmp_path, now_ms=int(time.time() * 1000))
    settings = HostSettings(tmp_path, root.public_key, nodes=(NodeSettings("33", PROVINCE[1]),))
    node = Host(settings).nodes["33"]
    await node.open()
    yield node
    await node.close()


def _apply(key: SigningKey, code: str = "3301", name: str = "杭州市档案馆") -> EnrolApplication:
    return EnrolApplication(code, name, key.public_key, "")


@pytest.mark.asyncio
async def test_a_second_key_for_a_pending_code_is_refused(province: Node) -> None:
    enrolment = province.keeper.enrolment
    first, squatter = SigningKey.generate(), SigningKey.generate()
    assert (await enrolment.receive_application(_apply(first), PEER)).status == "pending"
    with pytest.raises(Forbidden, match=f"{first.key_id}.*pinned to key {first.key_id}"):
        await enrolment.receive_application(_apply(squatter, name="冒名"), "ipv4:10.6.6.6:1")
    (pending,) = await enrolment.applications("pending")
    assert pending.public_key == first.public_key and pending.name == "杭州市档案馆"
    # the first key repeating its application (asking how it went) is still answered
    assert (await enrolment.receive_application(_apply(first), PEER)).status == "pending"
    # the operator rejects it (after speaking with the applicant): the code is free again
    await enrolment.reject("3301", "密钥有误")
    assert (await enrolment.receive_application(_apply(squatter), PEER)).status == "pending"
    assert (await enrolment.applications("pending"))[0].public_key == squatter.public_key


@pytest.mark.asyncio
async def test_two_keys_racing_for_one_code_cannot_both_win(province: Node) -> None:
    enrolment = province.keeper.enrolment
    keys = [SigningKey.generate() for _ in range(6)]
    results = await asyncio.gather(
        *(
            enrolment.receive_application(_apply(k), f"ipv4:10.0.0.{i}:1")
            for i, k in enumerate(keys)
        ),
        return_exceptions=True,
    )
    won = [k for k, r in zip(keys, results, strict=True) if not isinstance(r, BaseException)]
    assert len(won) == 1 and all(
        isinstance(r, Forbidden) for r in results if isinstance(r, BaseException)
    )
    (pending,) = await enrolment.applications("pending")
    assert pending.public_key == won[0].public_key


@pytest.mark.asyncio
async def test_approval_names_the_key_id_the_operator_checked(province: Node) -> None:
    enrolment = province.keeper.enrolment
    key = SigningKey.generate()
    await enrolment.receive_application(_apply(key), PEER)
    other = SigningKey.generate().key_id
    with pytest.raises(InvalidInput, match="密钥已变更.*re-check the key id"):
        await province.services.trust.approve("3301", other, actor=console_actor("test"))
    with pytest.raises(InvalidInput, match="密钥已变更"):
        await province.services.trust.approve("3301", "", actor=console_actor("test"))
    assert await enrolment.applications("pending")  # nothing was decided
    assert not province.keeper.state.current("3301")  # nor certified
    chain = await province.services.trust.approve("3301", key.key_id, actor=console_actor("test"))
    assert chain[0].public_key == key.public_key
    assert province.keeper.state.current("3301") == [chain[0]]


@pytest.mark.asyncio
async def test_an_approval_does_not_land_on_an_application_that_changed_meanwhile(
    province: Node,
) -> None:
    enrolment = province.keeper.enrolment
    first, second = SigningKey.generate(), SigningKey.generate()
    await enrolment.receive_application(_apply(first), PEER)
    seen = await enrolment._pending("3301")  # what the operator's page showed
    await enrolment.reject("3301")
    await enrolment.receive_application(_apply(second), PEER)
    # the first application's decision, written late, must not approve the second key's
    assert not await enrolment.store.decide("3301", seen.public_key, "approved", "[]")
    assert (await enrolment.applications("pending"))[0].public_key == second.public_key


@pytest.mark.asyncio
async def test_an_enrolled_code_takes_a_new_key_only_once_its_certificate_is_revoked(
    province: Node,
) -> None:
    enrolment = province.keeper.enrolment
    key, thief = SigningKey.generate(), SigningKey.generate()
    await enrolment.receive_application(_apply(key), PEER)
    await enrolment.approve("3301", key.key_id)
    with pytest.raises(Forbidden, match="已以密钥.*registry rotate"):
        await enrolment.receive_application(_apply(thief), PEER)
    status = await enrolment.receive_application(_apply(key), PEER)
    assert status.status == "approved" and status.chain[0].public_key == key.public_key
    await province.keeper.revocation.revoke("3301", "密钥失窃")
    new_key = SigningKey.generate()
    assert (await enrolment.receive_application(_apply(new_key), PEER)).status == "pending"


@pytest.mark.asyncio
async def test_new_applications_are_limited_per_address(province: Node) -> None:
    enrolment = province.keeper.enrolment
    enrolment.new_applications = WindowLimiter(3, 3600.0)
    keys = [SigningKey.generate() for _ in range(5)]
    for index in range(3):
        await enrolment.receive_application(_apply(keys[index], f"330{index + 1}"), PEER)
    # a repeat (the applicant asking how it went) is not a new application
    await enrolment.receive_application(_apply(keys[0], "3301"), "ipv4:10.0.0.7:60000")
    with pytest.raises(Overloaded, match="新入网申请过多.*ipv4:10.0.0.7"):
        await enrolment.receive_application(_apply(keys[3], "3304"), "ipv4:10.0.0.7:60001")
    await enrolment.receive_application(_apply(keys[3], "3304"), "ipv4:10.0.0.8:1")
    assert len(await enrolment.applications("pending")) == 4


@pytest.mark.asyncio
async def test_every_enrolment_call_is_limited_per_address(province: Node) -> None:
    enrolment = province.keeper.enrolment
    enrolment.calls = WindowLimiter(4, 60.0)
    key = SigningKey.generate()
    for _ in range(4):
        await enrolment.receive_application(_apply(key), PEER)
    with pytest.raises(Overloaded, match="过于频繁"):
        await enrolment.receive_application(_apply(key), PEER)
    # in process there is no address: counted per applicant code
    for _ in range(4):
        await enrolment.receive_application(_apply(key))
    with pytest.raises(Overloaded):
        await enrolment.receive_application(_apply(key))


def test_the_limiter_slides_and_keeps_a_bounded_table() -> None:
    now = [0.0]
    limiter = WindowLimiter(2, 10.0, max_keys=3, clock=lambda: now[0])
    limiter.count("a", "x")
    now[0] = 5.0
    limiter.count("a", "x")
    with pytest.raises(Overloaded):
        limiter.count("a", "x")
    now[0] = 10.5  # the first event left the window
    limiter.count("a", "x")
    for key in "bcde":
        limiter.count(key, "x")
    assert len(limiter) == 3


def test_the_address_leaves_out_the_port() -> None:
    assert address_of("ipv4:10.0.0.7:53412") == "ipv4:10.0.0.7"
    assert address_of("ipv6:[::1]:53412") == "ipv6:[::1]"
    assert address_of("unix:/run/a.sock") == "unix:/run/a.sock"
    assert address_of("") == ""
