"""The accounts service over a real SQLite file: logins, rate limits, sessions, tokens, roles.

The clock is injected (nothing sleeps); argon2id runs at libsodium's minimum cost here, except
in the one test that checks the real parameters are used by default.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

import pytest
import pytest_asyncio

from node import crypto
from node.accounts import console_actor
from node.actors import Actor, ActorKind, Role
from node.config_sections import AccountSettings
from node.errors import InvalidInput, RoleRequired, TooManyAttempts, Unauthenticated
from node.federation.services.accounts import Accounts
from node.storage.accounts import AccountStore
from node.storage.db import Database

CODE = "330106"
CHEAP = (1, 8192)  # argon2id's minimum: these tests are about policy, not cost
PASSWORD = "correct horse battery"
SETTINGS = AccountSettings(
    session_idle_s=600, session_lifetime_s=3600, failures_per_account=3,
    failures_per_address=5, lockout_s=900,
)  # fmt: skip


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest_asyncio.fixture
async def accounts(tmp_path: Path, clock: Clock) -> AsyncIterator[Accounts]:
    db = Database(tmp_path / "node.db")
    await db.open()
    events: list[tuple[Actor, str, Mapping[str, str]]] = []

    async def record(actor: Actor, act: str, detail: Mapping[str, str]) -> None:
        events.append((actor, act, detail))

    service = Accounts(
        CODE, AccountStore(db), SETTINGS, clock=clock, on_event=record, password_cost=CHEAP
    )
    service.events = events  # type: ignore[attr-defined]
    await service.create(console_actor(CODE), "wang", PASSWORD, ["operator", "archivist"], "王芳")
    yield service
    await db.close()


@pytest.mark.asyncio
async def test_a_login_makes_a_new_session_each_time(accounts: Accounts) -> None:
    first = await accounts.login("wang", PASSWORD, "10.0.0.1")
    second = await accounts.login("wang", PASSWORD, "10.0.0.1")
    assert first.id != second.id and first.csrf != second.csrf
    assert first.actor == Actor(ActorKind.ACCOUNT, "wang", CODE,
                                frozenset({Role.OPERATOR, Role.ARCHIVIST}))  # fmt: skip
    assert (await accounts.session(first.id)) is not None
    assert (await accounts.session("not-a-session")) is None


@pytest.mark.asyncio
async def test_a_wrong_password_or_unknown_name_is_refused_alike(accounts: Accounts) -> None:
    with pytest.raises(Unauthenticated) as wrong:
        await accounts.login("wang", "not the password", "10.0.0.1")
    with pytest.raises(Unauthenticated) as unknown:
        await accounts.login("li", PASSWORD, "10.0.0.2")
    assert "账号或密码错误" in str(wrong.value) and "账号或密码错误" in str(unknown.value)


@pytest.mark.asyncio
async def test_failed_logins_pause_the_account_and_say_until_when(
    accounts: Accounts, clock: Clock
) -> None:
    for address in ("10.0.0.1", "10.0.0.2"):
        with pytest.raises(Unauthenticated) as failed:
            await accounts.login("wang", "guess", address)
    assert "再失败 1 次" in str(failed.value)
    with pytest.raises(TooManyAttempts) as paused:
        await accounts.login("wang", "guess", "10.0.0.3")  # the third: the limit
    assert "请于" in str(paused.value) and "15 分钟后" in str(paused.value)
    assert paused.value.retry_at == clock.now + 900
    clock.now += 60
    with pytest.raises(TooManyAttempts):  # the right password too, while paused
        await accounts.login("wang", PASSWORD, "10.0.0.9")
    clock.now += 900
    assert (await accounts.login("wang", PASSWORD, "10.0.0.9")).actor.name == "wang"


@pytest.mark.asyncio
async def test_failed_logins_pause_an_address_whatever_the_names(accounts: Accounts) -> None:
    for n in range(4):
        with pytest.raises(Unauthenticated):
            await accounts.login(f"user{n}", "guess", "10.9.9.9")
    with pytest.raises(TooManyAttempts):
        await accounts.login("user9", "guess", "10.9.9.9")
    with pytest.raises(TooManyAttempts):  # a real account from that address waits too
        await accounts.login("wang", PASSWORD, "10.9.9.9")
    assert (await accounts.login("wang", PASSWORD, "10.0.0.1")).actor.name == "wang"


@pytest.mark.asyncio
async def test_a_success_clears_the_accounts_failures(accounts: Accounts) -> None:
    for _ in range(2):
        with pytest.raises(Unauthenticated):
            await accounts.login("wang", "guess", "10.0.0.1")
    await accounts.login("wang", PASSWORD, "10.0.0.1")
    with pytest.raises(Unauthenticated) as failed:  # counted from zero again
        await accounts.login("wang", "guess", "10.0.0.1")
    assert "再失败 2 次" in str(failed.value)


@pytest.mark.asyncio
async def test_logout_ends_the_session(accounts: Accounts) -> None:
    session = await accounts.login("wang", PASSWORD, "10.0.0.1")
    await accounts.logout(session.id)
    assert await accounts.session(session.id) is None


@pytest.mark.asyncio
async def test_a_session_ends_when_idle(accounts: Accounts, clock: Clock) -> None:
    session = await accounts.login("wang", PASSWORD, "10.0.0.1")
    clock.now += 599
    assert await accounts.session(session.id) is not None  # use renews it
    clock.now += 599
    assert await accounts.session(session.id) is not None
    clock.now += 600
    assert await accounts.session(session.id) is None


@pytest.mark.asyncio
async def test_a_session_ends_at_its_lifetime_however_busy(
    accounts: Accounts, clock: Clock
) -> None:
    session = await accounts.login("wang", PASSWORD, "10.0.0.1")
    for _ in range(7):
        clock.now += 500
        assert await accounts.session(session.id) is not None
    clock.now += 100  # 3,600 s after login
    assert await accounts.session(session.id) is None


@pytest.mark.asyncio
async def test_tokens_authenticate_and_die_with_a_disabled_account(accounts: Accounts) -> None:
    console = console_actor(CODE)
    await accounts.create(console, "zhao", PASSWORD, ["clerk"])
    issued = await accounts.create_token(console, "zhao", "脚本")
    actor = await accounts.token_actor(issued.token)
    assert actor.name == "zhao" and actor.roles == frozenset({Role.CLERK})
    session = await accounts.login("zhao", PASSWORD, "10.0.0.1")
    await accounts.disable(console, "zhao")
    with pytest.raises(Unauthenticated, match="archive-node account token"):
        await accounts.token_actor(issued.token)
    assert await accounts.session(session.id) is None
    with pytest.raises(Unauthenticated, match="已停用"):
        await accounts.login("zhao", PASSWORD, "10.0.0.1")
    with pytest.raises(Unauthenticated):
        await accounts.token_actor("x" * 43)


@pytest.mark.asyncio
async def test_only_an_operator_of_this_node_manages_accounts(accounts: Accounts) -> None:
    console = console_actor(CODE)
    await accounts.create(console, "zhao", PASSWORD, ["clerk"])
    clerk = await accounts.token_actor((await accounts.create_token(console, "zhao")).token)
    elsewhere = Actor(ActorKind.ACCOUNT, "wang", "330110", frozenset({Role.OPERATOR}))
    for by in (clerk, elsewhere):
        with pytest.raises(RoleRequired, match="operator"):
            await accounts.grant(by, "zhao", "operator")
    assert (await accounts.create_token(clerk, "zhao")).account == "zhao"  # its own: fine
    with pytest.raises(RoleRequired):
        await accounts.create_token(clerk, "wang")


@pytest.mark.asyncio
async def test_grant_revoke_and_the_last_operator(accounts: Accounts) -> None:
    console = console_actor(CODE)
    with pytest.raises(InvalidInput, match="唯一"):
        await accounts.revoke(console, "wang", "operator")
    with pytest.raises(InvalidInput, match="唯一"):
        await accounts.disable(console, "wang")
    await accounts.create(console, "zhao", PASSWORD, ["clerk"])
    granted = await accounts.grant(console, "zhao", "运维管理员")
    assert granted.roles == (Role.CLERK, Role.OPERATOR)
    assert (await accounts.revoke(console, "wang", "operator")).roles == (Role.ARCHIVIST,)
    session = await accounts.login("wang", PASSWORD, "10.0.0.1")
    assert not session.actor.has(Role.OPERATOR)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("name", "password", "roles", "words"),
    [
        ("Wang Li", PASSWORD, ["clerk"], "账号名无效"),
        ("li", "short", ["clerk"], "密码应为"),
        ("li", PASSWORD, ["boss"], "角色未知"),
        ("li", PASSWORD, [], "至少指定一个角色"),
        ("wang", PASSWORD, ["clerk"], "已存在"),
    ],
)
async def test_bad_account_values_are_refused_in_chinese(
    accounts: Accounts, name: str, password: str, roles: list[str], words: str
) -> None:
    with pytest.raises(InvalidInput, match=words):
        await accounts.create(console_actor(CODE), name, password, roles)


@pytest.mark.asyncio
async def test_passwords_and_tokens_never_reach_the_log_or_the_events(
    accounts: Accounts, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        with pytest.raises(Unauthenticated):
            await accounts.login("wang", "wrong-but-secret", "10.0.0.1")
        session = await accounts.login("wang", PASSWORD, "10.0.0.1")
        issued = await accounts.create_token(console_actor(CODE), "wang")
        await accounts.token_actor(issued.token)
    secrets = (PASSWORD, "wrong-but-secret", issued.token, session.id, session.csrf)
    text = caplog.text + repr(accounts.events)  # type: ignore[attr-defined]
    assert "login" in text and "wang" in text
    assert not [s for s in secrets if s in text]
    acts = [act for _, act, _ in accounts.events]  # type: ignore[attr-defined]
    assert acts == ["account_create", "login_failed", "login", "token_create"]


@pytest.mark.asyncio
async def test_stored_credentials_are_digests_and_hashes(accounts: Accounts) -> None:
    session = await accounts.login("wang", PASSWORD, "10.0.0.1")
    issued = await accounts.create_token(console_actor(CODE), "wang")
    folder = accounts.store.db.path.parent
    dump = b"".join(p.read_bytes() for p in folder.iterdir() if p.name.startswith("node.db"))
    for secret in (PASSWORD, session.id, issued.token):
        assert secret.encode() not in dump
    assert crypto.token_digest(issued.token).encode() in dump  # what is kept instead
    stored = await accounts.store.password_hash("wang")
    assert stored is not None and stored[1].startswith("$argon2id$")


def test_the_default_password_hash_is_argon2id_interactive() -> None:
    hashed = crypto.hash_password(PASSWORD)
    assert hashed.startswith("$argon2id$v=19$m=65536,t=2,p=1$")
    assert crypto.verify_password(hashed, PASSWORD)
    assert not crypto.verify_password(hashed, PASSWORD + "!")
    assert not crypto.verify_password("not a hash", PASSWORD)
