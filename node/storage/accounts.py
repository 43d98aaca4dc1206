"""Staff accounts of one node: accounts, roles, API tokens, sessions and failed-login counters.

Accounts live in the node's own database (``0007_accounts``), like everything else the node
keeps: a node's data folder carries its staff with it when it moves to its own machine, and
a person who works at several nodes of one host has an account at each (docs/architecture.md,
"People and authority": roles are per node). Tokens and session ids are stored as sha256 digests
(``crypto.token_digest``), so a copy of the database lets nobody in; passwords as argon2id
hashes. Nothing here decides policy (timeouts, limits): ``federation/services/accounts.py``
does, and passes the numbers in.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from node.accounts import Account
from node.actors import Role
from node.errors import InvalidInput, NotFound
from node.storage.db import Database


@dataclass(frozen=True)
class StoredSession:
    account: Account
    csrf: str
    created_at: float
    last_seen_at: float


@dataclass(frozen=True)
class Failures:
    """Failed logins counted for one key (``account:NAME`` or ``address:IP``)."""

    key: str
    failures: int
    first_at: float
    locked_until: float | None


def _account_txn(conn: sqlite3.Connection, name: str) -> Account | None:
    row = conn.execute(
        "SELECT name, display_name, disabled, created_at FROM accounts WHERE name = ?", (name,)
    ).fetchone()
    if row is None:
        return None
    held = {r[0] for r in conn.execute("SELECT role FROM account_roles WHERE account = ?", (name,))}
    roles = tuple(r for r in Role if r.value in held)
    return Account(row[0], row[1], roles, bool(row[2]), row[3])


def _existing_txn(conn: sqlite3.Connection, name: str) -> Account:
    account = _account_txn(conn, name)
    if account is None:
        raise NotFound(f"本节点没有账号 {name}。可用 archive-node account list 查看现有账号。")
    return account


def _keep_an_operator_txn(conn: sqlite3.Connection, name: str) -> None:
    """Refuse to leave the node without an enabled operator (nobody could manage accounts)."""
    others = conn.execute(
        "SELECT COUNT(*) FROM account_roles r JOIN accounts a ON a.name = r.account "
        "WHERE r.role = ? AND a.disabled = 0 AND a.name != ?",
        (Role.OPERATOR.value, name),
    ).fetchone()[0]
    if not others:
        raise InvalidInput(
            f"{name} 是本节点唯一可用的运维管理员账号，不能停用或撤销其运维角色。"
            "请先为另一个账号授予 operator 角色。"
        )


class AccountStore:
    """The ``accounts``, ``account_roles``, ``api_tokens``, ``sessions`` and
    ``login_failures`` tables of one node."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- accounts and roles ----------------------------------------------------------------

    async def create(self, account: Account, password_hash: str) -> Account:
        """Store a new account with its roles.

        Raises:
            InvalidInput: an account of that name exists.
        """

        def txn(conn: sqlite3.Connection) -> Account:
            if _account_txn(conn, account.name) is not None:
                raise InvalidInput(f"账号 {account.name} 已存在。如需增加角色请用 grant。")
            conn.execute(
                "INSERT INTO accounts(name, display_name, password_hash, disabled, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (account.name, account.display_name, password_hash, int(account.disabled),
                 account.created_at),
            )  # fmt: skip
            conn.executemany(
                "INSERT INTO account_roles(account, role, granted_at) VALUES (?, ?, ?)",
                [(account.name, r.value, account.created_at) for r in account.roles],
            )
            return _existing_txn(conn, account.name)

        return await self.db.write(txn)

    async def get(self, name: str) -> Account | None:
        return await self.db.read(lambda conn: _account_txn(conn, name))

    async def all(self) -> tuple[Account, ...]:
        def txn(conn: sqlite3.Connection) -> tuple[Account, ...]:
            names = [r[0] for r in conn.execute("SELECT name FROM accounts ORDER BY name")]
            return tuple(_existing_txn(conn, name) for name in names)

        return await self.db.read(txn)

    async def password_hash(self, name: str) -> tuple[Account, str] | None:
        """The account and its password hash, for checking a login; ``None`` if none."""

        def txn(conn: sqlite3.Connection) -> tuple[Account, str] | None:
            account = _account_txn(conn, name)
            if account is None:
                return None
            row = conn.execute("SELECT password_hash FROM accounts WHERE name = ?", (name,))
            return account, str(row.fetchone()[0])

        return await self.db.read(txn)

    async def set_disabled(self, name: str, disabled: bool) -> Account:
        """Disable (ending its sessions and tokens at once) or enable an account.

        Raises:
            NotFound: no such account.
            InvalidInput: it is the last enabled operator.
        """

        def txn(conn: sqlite3.Connection) -> Account:
            account = _existing_txn(conn, name)
            if disabled and Role.OPERATOR in account.roles and not account.disabled:
                _keep_an_operator_txn(conn, name)
            conn.execute("UPDATE accounts SET disabled = ? WHERE name = ?", (int(disabled), name))
            if disabled:
                conn.execute("DELETE FROM sessions WHERE account = ?", (name,))
                conn.execute("DELETE FROM api_tokens WHERE account = ?", (name,))
            return _existing_txn(conn, name)

        return await self.db.write(txn)

    async def grant(self, name: str, role: Role, now: float) -> Account:
        def txn(conn: sqlite3.Connection) -> Account:
            _existing_txn(conn, name)
            conn.execute(
                "INSERT OR IGNORE INTO account_roles(account, role, granted_at) VALUES (?, ?, ?)",
                (name, role.value, now),
            )
            return _existing_txn(conn, name)

        return await self.db.write(txn)

    async def revoke(self, name: str, role: Role) -> Account:
        """Take ``role`` from ``name`` (its sessions then act without it at once)."""

        def txn(conn: sqlite3.Connection) -> Account:
            account = _existing_txn(conn, name)
            if role is Role.OPERATOR and role in account.roles and not account.disabled:
                _keep_an_operator_txn(conn, name)
            conn.execute(
                "DELETE FROM account_roles WHERE account = ? AND role = ?", (name, role.value)
            )
            return _existing_txn(conn, name)

        return await self.db.write(txn)

    # -- API tokens --------------------------------------------------------------------------

    async def add_token(self, digest: str, name: str, label: str, now: float) -> None:
        def txn(conn: sqlite3.Connection) -> None:
            if _existing_txn(conn, name).disabled:
                raise InvalidInput(f"账号 {name} 已停用，不能为其创建 API 令牌。")
            conn.execute(
                "INSERT INTO api_tokens(digest, account, label, created_at) VALUES (?, ?, ?, ?)",
                (digest, name, label, now),
            )

        await self.db.write(txn)

    async def token_account(self, digest: str, now: float) -> Account | None:
        """The enabled account a token digest belongs to (noting when it was used)."""

        def txn(conn: sqlite3.Connection) -> Account | None:
            row = conn.execute(
                "SELECT account, last_used_at FROM api_tokens WHERE digest = ?", (digest,)
            ).fetchone()
            if row is None:
                return None
            account = _account_txn(conn, row[0])
            if account is None or account.disabled:
                return None
            if row[1] is None or now - row[1] > 60:  # a write a minute, not one per call
                conn.execute(
                    "UPDATE api_tokens SET last_used_at = ? WHERE digest = ?", (now, digest)
                )
            return account

        return await self.db.write(txn)

    # -- sessions ----------------------------------------------------------------------------

    async def add_session(
        self, digest: str, name: str, csrf: str, now: float, *, stale_before: float
    ) -> None:
        """Store a new session; sessions last seen before ``stale_before`` are dropped."""

        def txn(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM sessions WHERE last_seen_at < ?", (stale_before,))
            conn.execute(
                "INSERT INTO sessions(digest, account, csrf, created_at, last_seen_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (digest, name, csrf, now, now),
            )

        await self.db.write(txn)

    async def session(self, digest: str) -> StoredSession | None:
        def txn(conn: sqlite3.Connection) -> StoredSession | None:
            row = conn.execute(
                "SELECT account, csrf, created_at, last_seen_at FROM sessions WHERE digest = ?",
                (digest,),
            ).fetchone()
            if row is None:
                return None
            account = _account_txn(conn, row[0])
            if account is None:
                return None
            return StoredSession(account, row[1], row[2], row[3])

        return await self.db.read(txn)

    async def touch_session(self, digest: str, now: float) -> None:
        await self.db.write(
            lambda conn: conn.execute(
                "UPDATE sessions SET last_seen_at = ? WHERE digest = ?", (now, digest)
            )
        )

    async def delete_session(self, digest: str) -> None:
        await self.db.write(
            lambda conn: conn.execute("DELETE FROM sessions WHERE digest = ?", (digest,))
        )

    # -- failed logins -----------------------------------------------------------------------

    async def failures(self, keys: tuple[str, ...]) -> tuple[Failures, ...]:
        def txn(conn: sqlite3.Connection) -> tuple[Failures, ...]:
            marks = ", ".join("?" * len(keys))
            rows = conn.execute(
                "SELECT key, failures, first_at, locked_until FROM login_failures "
                f"WHERE key IN ({marks})",
                keys,
            )
            return tuple(Failures(*row) for row in rows)

        return await self.db.read(txn)

    async def record_failure(
        self, limits: dict[str, int], now: float, window_s: float
    ) -> tuple[Failures, ...]:
        """Count one failed login against each key; a key reaching its limit is locked for
        ``window_s``. Failures older than the window start the count again."""

        def txn(conn: sqlite3.Connection) -> tuple[Failures, ...]:
            counted = []
            for key, limit in limits.items():
                row = conn.execute(
                    "SELECT failures, first_at FROM login_failures WHERE key = ?", (key,)
                ).fetchone()
                failures, first_at = (row[0] + 1, row[1]) if row else (1, now)
                if now - first_at >= window_s:
                    failures, first_at = 1, now
                locked = now + window_s if failures >= limit else None
                conn.execute(
                    "INSERT OR REPLACE INTO login_failures(key, failures, first_at, locked_until) "
                    "VALUES (?, ?, ?, ?)",
                    (key, failures, first_at, locked),
                )
                counted.append(Failures(key, failures, first_at, locked))
            return tuple(counted)

        return await self.db.write(txn)

    async def clear_failures(self, key: str) -> None:
        await self.db.write(
            lambda conn: conn.execute("DELETE FROM login_failures WHERE key = ?", (key,))
        )
