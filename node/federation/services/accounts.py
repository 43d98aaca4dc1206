"""Staff accounts of one node: logging in (password or API token), sessions, managing accounts.

What the web layer's login page, its authority checks (``web/auth.py``) and the
``archive-node account`` commands ask of a node. Policy lives here, storage in
``storage/accounts.py``:

- passwords are argon2id (``crypto.hash_password``), checked off the event loop, at most two
  at a time per process (each takes 64 MiB); an unknown account is checked against a dummy
  hash so a login takes as long whether or not the name exists;
- failed logins are counted per account and per client address; at the limit
  (``AccountSettings``) logins pause for ``lockout`` and the error says until when;
- a session is a random id (the cookie), stored as its digest, new at every login, ended by
  logout, by ``session_idle`` without use and ``session_lifetime`` after login, whichever
  comes first; an API token likewise, shown once when made;
- every change of an account names who made it (``by``) and must be an operator's at this node
  (the offline console, ``node.accounts.console_actor``, counts as one).

Each act is reported to ``on_event(actor, act, detail)`` if given: the audit log's hook.
``detail`` never holds a password, a token or a session id.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar, runtime_checkable

from node import accounts as values
from node import crypto
from node.accounts import Account
from node.actors import Actor, ActorKind, Role
from node.config_sections import DEFAULT_ACCOUNTS, AccountSettings
from node.errors import InvalidInput, RoleRequired, TooManyAttempts, Unauthenticated
from node.storage.accounts import AccountStore, Failures

log = logging.getLogger(__name__)
T = TypeVar("T")

AccountEvent = Callable[[Actor, str, Mapping[str, str]], Awaitable[None]]
"""``on_event(actor, act, detail)``: acts are ``login``, ``login_failed``, ``login_paused``,
``logout``, ``account_create``, ``account_disable``, ``account_enable``, ``role_grant``,
``role_revoke``, ``token_create``."""

_HASHING = threading.BoundedSemaphore(2)  # argon2id at 64 MiB each: bound the memory
_TOUCH_AFTER_S = 30.0  # a session's last-seen time is written at most this often
_BAD_LOGIN = "账号或密码错误。请核对后重试；忘记密码请联系本节点运维管理员。"
_BAD_TOKEN = (
    "API 令牌无效或所属账号已停用。请用 archive-node account token 重新生成，"
    "并通过 --token 或 ARCHIVE_NODE_TOKEN 传入。"
)


@dataclass(frozen=True)
class Session:
    """A logged-in browser: the secret id its cookie carries, who it is, its CSRF token."""

    id: str
    actor: Actor
    csrf: str
    created_at: float
    last_seen_at: float


@dataclass(frozen=True)
class IssuedToken:
    """A new API token: ``token`` is shown once and never stored (only its digest is)."""

    account: str
    token: str
    created_at: float


@runtime_checkable
class AccountsService(Protocol):
    async def login(self, name: str, password: str, address: str) -> Session:
        """A new session for ``name`` if ``password`` is its own.

        Raises ``Unauthenticated`` (wrong name or password, disabled) or ``TooManyAttempts``
        (logins from that account or ``address`` paused; it says until when).
        """
        ...

    async def session(self, session_id: str) -> Session | None:
        """The live session with that id, or ``None`` (unknown, logged out, timed out)."""
        ...

    async def logout(self, session_id: str) -> None:
        """End that session (nothing if there is none)."""
        ...

    async def token_actor(self, token: str) -> Actor:
        """Who an API token acts for; ``Unauthenticated`` if it is not a live token."""
        ...

    async def accounts(self) -> tuple[Account, ...]:
        """Every account of this node, by name."""
        ...

    async def create(
        self, by: Actor, name: str, password: str, roles: Sequence[str], display_name: str = ""
    ) -> Account:
        """A new account with ``roles`` (names: clerk, archivist, operator)."""
        ...

    async def disable(self, by: Actor, name: str) -> Account:
        """Disable ``name``: its sessions and tokens end at once."""
        ...

    async def enable(self, by: Actor, name: str) -> Account: ...

    async def grant(self, by: Actor, name: str, role: str) -> Account: ...

    async def revoke(self, by: Actor, name: str, role: str) -> Account: ...

    async def create_token(self, by: Actor, name: str, label: str = "") -> IssuedToken:
        """A new API token for ``name`` (an operator's act, or the account's own)."""
        ...


class Accounts:
    """``AccountsService`` over one node's ``AccountStore``."""

    def __init__(
        self,
        code: str,
        store: AccountStore,
        settings: AccountSettings = DEFAULT_ACCOUNTS,
        *,
        clock: Callable[[], float] = time.time,
        on_event: AccountEvent | None = None,
        password_cost: tuple[int, int] = (crypto.PASSWORD_OPSLIMIT, crypto.PASSWORD_MEMLIMIT),
    ) -> None:
        self.code = code
        self.store = store
        self.settings = settings
        self.clock = clock
        self.on_event = on_event
        self.password_cost = password_cost  # (opslimit, memlimit) for new hashes
        self._dummy_hash: str | None = None

    # -- logging in ------------------------------------------------------------------------

    async def login(self, name: str, password: str, address: str) -> Session:
        now = self.clock()
        try:
            name = values.account_name(name)
        except InvalidInput:
            name = ""
        keys = {f"address:{address}": self.settings.failures_per_address}
        if name:
            keys[f"account:{name}"] = self.settings.failures_per_account
        paused = [f for f in await self.store.failures(tuple(keys)) if _locked(f, now)]
        if paused:
            await self._event(
                _visitor(self.code), "login_paused", {"account": name, "address": address}
            )
            raise self._paused(max(f.locked_until or now for f in paused), now)
        stored = await self.store.password_hash(name) if name else None
        plausible = isinstance(password, str) and len(password) <= values.MAX_PASSWORD
        checked = await self._verify(stored[1] if stored else None, password if plausible else "")
        if not (stored and plausible and checked):
            await self._failed(keys, name, address, now)
        assert stored is not None
        account = stored[0]
        if account.disabled:
            await self._event(
                account.actor(self.code), "login_failed", {"address": address, "reason": "disabled"}
            )
            raise Unauthenticated(f"账号 {name} 已停用。如需恢复请联系本节点运维管理员。")
        await self.store.clear_failures(f"account:{name}")
        session_id, csrf = crypto.random_token(), crypto.random_token()
        await self.store.add_session(
            crypto.token_digest(session_id), name, csrf, now,
            stale_before=now - self.settings.session_idle_s,
        )  # fmt: skip
        actor = account.actor(self.code)
        log.info("login %s at %s from %s", name, self.code, address)
        await self._event(actor, "login", {"address": address})
        return Session(session_id, actor, csrf, now, now)

    async def _verify(self, stored: str | None, password: str) -> bool:
        if stored is None:  # as slow as a real check, so a name's existence does not show
            stored = await self._dummy()
        return await asyncio.to_thread(_bounded, crypto.verify_password, stored, password)

    async def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = await self._hash(crypto.random_token())
        return self._dummy_hash

    async def _hash(self, password: str) -> str:
        ops, mem = self.password_cost

        def run() -> str:
            return crypto.hash_password(password, opslimit=ops, memlimit=mem)

        return await asyncio.to_thread(_bounded, run)

    async def _failed(self, keys: dict[str, int], name: str, address: str, now: float) -> None:
        counted = await self.store.record_failure(keys, now, self.settings.lockout_s)
        await self._event(
            _visitor(self.code), "login_failed", {"account": name, "address": address}
        )
        log.info("failed login for %r at %s from %s", name, self.code, address)
        locked = [f.locked_until for f in counted if f.locked_until is not None]
        if locked:
            raise self._paused(max(locked), now, failed=True)
        left = min(keys[f.key] - f.failures for f in counted)
        minutes = round(self.settings.lockout_s / 60)
        warning = f"再失败 {left} 次将暂停登录 {minutes} 分钟。" if left <= 3 else ""
        raise Unauthenticated(_BAD_LOGIN + warning)

    def _paused(self, until: float, now: float, *, failed: bool = False) -> TooManyAttempts:
        wait = max(until - now, 1.0)
        clock = time.strftime("%H:%M", time.localtime(until))
        first = "账号或密码错误，且" if failed else ""
        return TooManyAttempts(
            f"{first}登录失败次数过多，已暂停登录。请于 {clock}（约 {max(1, round(wait / 60))} "
            "分钟后）再试，或请本节点运维管理员协助。",
            retry_at=until,
            retry_after_s=wait,
        )

    async def session(self, session_id: str) -> Session | None:
        if not isinstance(session_id, str) or not session_id or len(session_id) > 128:
            return None
        digest = crypto.token_digest(session_id)
        stored = await self.store.session(digest)
        if stored is None:
            return None
        now = self.clock()
        expired = (
            now - stored.created_at >= self.settings.session_lifetime_s
            or now - stored.last_seen_at >= self.settings.session_idle_s
        )
        if expired or stored.account.disabled:
            await self.store.delete_session(digest)
            return None
        last_seen = stored.last_seen_at
        if now - last_seen >= _TOUCH_AFTER_S:
            await self.store.touch_session(digest, now)
            last_seen = now
        actor = stored.account.actor(self.code)
        return Session(session_id, actor, stored.csrf, stored.created_at, last_seen)

    async def logout(self, session_id: str) -> None:
        current = await self.session(session_id)
        if current is None:
            return
        await self.store.delete_session(crypto.token_digest(session_id))
        await self._event(current.actor, "logout", {})

    async def token_actor(self, token: str) -> Actor:
        if not isinstance(token, str) or not 20 <= len(token) <= 128:
            raise Unauthenticated(_BAD_TOKEN)
        account = await self.store.token_account(crypto.token_digest(token), self.clock())
        if account is None:
            raise Unauthenticated(_BAD_TOKEN)
        return account.actor(self.code)

    # -- managing accounts -----------------------------------------------------------------

    async def accounts(self) -> tuple[Account, ...]:
        return await self.store.all()

    async def create(
        self, by: Actor, name: str, password: str, roles: Sequence[str], display_name: str = ""
    ) -> Account:
        self._operator(by)
        name = values.account_name(name)
        account = Account(
            name=name,
            display_name=values.display_name(display_name, name),
            roles=values.roles(roles),
            disabled=False,
            created_at=self.clock(),
        )
        if not account.roles:
            raise InvalidInput("请至少指定一个角色（clerk、archivist 或 operator）。")
        hashed = await self._hash(values.password(password))
        created = await self.store.create(account, hashed)
        await self._event(by, "account_create", _about(created))
        return created

    async def disable(self, by: Actor, name: str) -> Account:
        self._operator(by)
        account = await self.store.set_disabled(values.account_name(name), True)
        await self._event(by, "account_disable", _about(account))
        return account

    async def enable(self, by: Actor, name: str) -> Account:
        self._operator(by)
        account = await self.store.set_disabled(values.account_name(name), False)
        await self._event(by, "account_enable", _about(account))
        return account

    async def grant(self, by: Actor, name: str, role: str) -> Account:
        self._operator(by)
        account = await self.store.grant(values.account_name(name), values.role(role), self.clock())
        await self._event(by, "role_grant", {**_about(account), "role": str(values.role(role))})
        return account

    async def revoke(self, by: Actor, name: str, role: str) -> Account:
        self._operator(by)
        account = await self.store.revoke(values.account_name(name), values.role(role))
        await self._event(by, "role_revoke", {**_about(account), "role": str(values.role(role))})
        return account

    async def create_token(self, by: Actor, name: str, label: str = "") -> IssuedToken:
        name = values.account_name(name)
        if not (by.kind == ActorKind.ACCOUNT and by.node == self.code and by.name == name):
            self._operator(by)
        label = values.display_name(label, "")[:64]
        token, now = crypto.random_token(), self.clock()
        digest = crypto.token_digest(token)
        await self.store.add_token(digest, name, label, now)
        await self._event(by, "token_create", {"account": name, "token": digest[:12]})
        return IssuedToken(name, token, now)

    def _operator(self, by: Actor) -> None:
        if by.node != self.code or not by.has(Role.OPERATOR):
            raise RoleRequired(
                f"管理账号需要本节点（{self.code}）的{Role.OPERATOR.zh}（operator）角色。"
            )

    async def _event(self, actor: Actor, act: str, detail: Mapping[str, str]) -> None:
        if self.on_event is not None:
            await self.on_event(actor, act, detail)


def _visitor(code: str) -> Actor:
    """Who tried to log in and failed: nobody yet, at this node."""
    return Actor(ActorKind.ANONYMOUS, "", code)


def _locked(failures: Failures, now: float) -> bool:
    return failures.locked_until is not None and failures.locked_until > now


def _about(account: Account) -> dict[str, str]:
    return {"account": account.name, "roles": ",".join(account.roles)}


def _bounded(fn: Callable[..., T], *args: object) -> T:
    with _HASHING:
        return fn(*args)
