"""The cost of a staff login: argon2id hash and verify at the chosen parameters, and a whole
password login through the accounts service (SQLite in a temporary folder).

    python bench/bench_login.py [rounds]

Baseline in the same process: one sha256 of a 32-byte token, which is what checking an API
token or a session id costs (``crypto.token_digest``) besides its database lookup. The login
figure includes the rate-limit lookups, the session insert and one fsync.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _common import summary

from node import crypto
from node.accounts import console_actor
from node.federation.services.accounts import Accounts
from node.storage.accounts import AccountStore
from node.storage.db import Database

PASSWORD = "correct horse battery"


def timed(fn, rounds: int) -> list[float]:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


async def logins(rounds: int) -> tuple[list[float], list[float]]:
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(Path(tmp) / "node.db")
        await db.open()
        accounts = Accounts("330106", AccountStore(db))
        await accounts.create(console_actor("330106"), "wang", PASSWORD, ["clerk"])
        token = (await accounts.create_token(console_actor("330106"), "wang")).token
        login, by_token = [], []
        for _ in range(rounds):
            start = time.perf_counter()
            await accounts.login("wang", PASSWORD, "127.0.0.1")
            login.append(time.perf_counter() - start)
            start = time.perf_counter()
            await accounts.token_actor(token)
            by_token.append(time.perf_counter() - start)
        await db.close()
        return login, by_token


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    token = crypto.random_token()
    baseline = timed(lambda: crypto.token_digest(token), rounds * 50)
    hashed = crypto.hash_password(PASSWORD)
    hashing = timed(lambda: crypto.hash_password(PASSWORD), rounds)
    verifying = timed(lambda: crypto.verify_password(hashed, PASSWORD), rounds)
    both = [h + v for h, v in zip(hashing, verifying, strict=True)]
    login, by_token = asyncio.run(logins(rounds))
    mib = crypto.PASSWORD_MEMLIMIT >> 20
    print(f"argon2id opslimit={crypto.PASSWORD_OPSLIMIT} memlimit={mib} MiB")
    print(f"{'baseline: sha256 of a token':<44} p50 {statistics.median(baseline) * 1e6:8.2f} us")
    print(summary("hash_password", hashing))
    print(summary("verify_password", verifying))
    print(summary("hash + verify", both))
    print(summary("login through the service (SQLite)", login))
    print(summary("API token check through the service", by_token))
    ratio = statistics.median(verifying) / statistics.median(baseline)
    print(f"verify / sha256 baseline: {ratio:,.0f}x")


if __name__ == "__main__":
    main()
