"""An in-memory ``AccountsService`` for the web tests: one account per role at each fake node.

``clerk``, ``archivist`` and ``operator`` log in with the password ``PASSWORDS[role]`` and
call the API with ``token(code, role)``. The real service (argon2id, SQLite, timeouts, rate
limits) is tested in ``tests/federation/test_accounts.py`` and the integration tests.
``log_in`` and ``post_form`` are how a page test logs in through the form and posts one
(our ``Origin``, the session's CSRF token).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp.test_utils import TestClient

from node.accounts import Account
from node.actors import Actor, Role
from node.errors import InvalidInput, NotFound, RoleRequired, Unauthenticated
from node.federation.services import IssuedToken, Session

PASSWORDS = {role: f"password-{role.value}" for role in Role}


def token(code: str, role: Role) -> str:
    """The API token of the ``role`` account at fake node ``code``."""
    return f"fake-token-{role.value}-{code}-0123456789"


STAFF = "staff"  # one more account, holding every role (the fuzzing tests reach every route)


def staff_token(code: str) -> str:
    return f"fake-token-{STAFF}-{code}-0123456789"


def bearer(code: str, role: Role) -> dict[str, str]:
    """Request headers that authenticate as the ``role`` account at ``code``."""
    return {"Authorization": f"Bearer {token(code, role)}"}


CSRF = re.compile(r'name="csrf" value="([^"]*)"')


def origin(client: TestClient) -> str:
    """The ``Origin`` a browser on the test server's pages sends."""
    return str(client.make_url("")).rstrip("/")


async def log_in(client: TestClient, who: str | Role, code: str = "330106") -> str:
    """Log in through the form as the fake account ``who`` (a role's name, or the role) at
    ``code``; returns the session's CSRF token."""
    role = Role(who)
    form = await client.get(f"/n/{code}/login")
    tokens = CSRF.findall(await form.text())  # the login form's is the last one
    assert tokens
    fields = {"name": role.value, "password": PASSWORDS[role], "csrf": tokens[-1]}
    done = await client.post(
        f"/n/{code}/login", data=fields, headers={"Origin": origin(client)}, allow_redirects=False
    )
    assert done.status == 303, await done.text()
    page = await client.get(f"/n/{code}/")
    found = CSRF.search(await page.text())
    assert found
    return found.group(1)


async def post_form(client: TestClient, path: str, data: Any) -> Any:
    """POST a form from our own origin, not following the redirect."""
    return await client.post(
        path, data=data, headers={"Origin": origin(client)}, allow_redirects=False
    )


@dataclass
class FakeAccounts:
    code: str
    accounts_by_name: dict[str, Account] = field(default_factory=dict)
    passwords: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)  # token -> account name
    sessions: dict[str, Session] = field(default_factory=dict)
    logins: list[str] = field(default_factory=list)  # names that logged in, in order

    def __post_init__(self) -> None:
        for role in Role:
            self.accounts_by_name[role.value] = Account(role.value, role.zh, (role,), False, 0.0)
            self.passwords[role.value] = PASSWORDS[role]
            self.tokens[token(self.code, role)] = role.value
        self.accounts_by_name[STAFF] = Account(STAFF, "全部角色", tuple(Role), False, 0.0)
        self.tokens[staff_token(self.code)] = STAFF

    async def login(self, name: str, password: str, address: str) -> Session:
        account = self.accounts_by_name.get(name)
        if account is None or self.passwords.get(name) != password or account.disabled:
            raise Unauthenticated("账号或密码错误。")
        self.logins.append(name)
        session = Session(secrets.token_urlsafe(16), account.actor(self.code),
                          secrets.token_urlsafe(16), 0.0, 0.0)  # fmt: skip
        self.sessions[session.id] = session
        return session

    async def session(self, session_id: str) -> Session | None:
        return self.sessions.get(session_id)

    async def logout(self, session_id: str) -> None:
        self.sessions.pop(session_id, None)

    async def token_actor(self, token: str) -> Actor:
        name = self.tokens.get(token)
        if name is None:
            raise Unauthenticated("API 令牌无效。")
        return self.accounts_by_name[name].actor(self.code)

    async def accounts(self) -> tuple[Account, ...]:
        return tuple(self.accounts_by_name[n] for n in sorted(self.accounts_by_name))

    def _operator(self, by: Actor) -> None:
        if not by.has(Role.OPERATOR):
            raise RoleRequired("需要 operator 角色。")

    def _get(self, name: str) -> Account:
        if name not in self.accounts_by_name:
            raise NotFound(f"本节点没有账号 {name}。")
        return self.accounts_by_name[name]

    async def create(
        self, by: Actor, name: str, password: str, roles: Sequence[str], display_name: str = ""
    ) -> Account:
        self._operator(by)
        if name in self.accounts_by_name:
            raise InvalidInput(f"账号 {name} 已存在。")
        account = Account(name, display_name or name, tuple(Role(r) for r in roles), False, 0.0)
        self.accounts_by_name[name], self.passwords[name] = account, password
        return account

    async def disable(self, by: Actor, name: str) -> Account:
        self._operator(by)
        account = self._get(name)
        self.accounts_by_name[name] = Account(
            name, account.display_name, account.roles, True, account.created_at
        )
        return self.accounts_by_name[name]

    async def enable(self, by: Actor, name: str) -> Account:
        self._operator(by)
        account = self._get(name)
        self.accounts_by_name[name] = Account(
            name, account.display_name, account.roles, False, account.created_at
        )
        return self.accounts_by_name[name]

    async def grant(self, by: Actor, name: str, role: str) -> Account:
        self._operator(by)
        account = self._get(name)
        roles = tuple(r for r in Role if r in account.roles or r.value == role)
        self.accounts_by_name[name] = Account(
            name, account.display_name, roles, account.disabled, account.created_at
        )
        return self.accounts_by_name[name]

    async def revoke(self, by: Actor, name: str, role: str) -> Account:
        self._operator(by)
        account = self._get(name)
        roles = tuple(r for r in account.roles if r.value != role)
        self.accounts_by_name[name] = Account(
            name, account.display_name, roles, account.disabled, account.created_at
        )
        return self.accounts_by_name[name]

    async def create_token(self, by: Actor, name: str, label: str = "") -> IssuedToken:
        if by.name != name:
            self._operator(by)
        self._get(name)
        issued = secrets.token_urlsafe(32)
        self.tokens[issued] = name
        return IssuedToken(name, issued, 0.0)
