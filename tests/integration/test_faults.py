"""Faults with real processes: ``kill -9`` mid-push, a parent down for a while.

Each node runs as its own ``archive-node run`` daemon, set up through the CLI as an operator
does (``test_daemons.network``). After every fault the province's copy of the city's subtree
must equal the city's own catalogue row for row (no loss, no duplicates), the city's
anti-entropy must find the pair intact (equal range digests), and all of it must happen by
itself once the processes are back.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import signal
import sqlite3
import time
import urllib.parse
import urllib.request
from pathlib import Path

from node.accounts import console_actor
from node.config import load_settings
from node.host import Host
from node.records import Record
from node.storage.entries import ENTRY_COLUMNS

from .network import make_record
from .test_daemons import TOKENS, Daemon, enrol, network, ok  # noqa: F401  (``network``: the fixture)

CITY, COUNTY = "3301", "330106"
BULK, BATCH = 6_000, 500  # a dozen push batches, so a kill lands between or inside them


def catalogue(db: Path, scope: str = CITY) -> list[tuple[object, ...]]:
    """The catalogue rows under ``scope``, every shared column, by key (read-only, WAL)."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return conn.execute(
            f"SELECT {', '.join(ENTRY_COLUMNS)} FROM catalogue WHERE holder LIKE ? "
            "ORDER BY holder, record_id",
            (scope + "%",),
        ).fetchall()


def count(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            return int(
                conn.execute("SELECT count(*) FROM catalogue WHERE holder LIKE '3301%'").fetchone()[
                    0
                ]
            )
    except sqlite3.OperationalError:  # not created yet
        return 0


def wait_for(check, timeout: float = 30.0, step: float = 0.01):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(step)
    return result


def assert_converged(tmp: Path, nodes: dict[str, dict[str, str]], expected: int) -> None:
    """The province holds exactly the city's subtree catalogue, and the digests agree."""
    province_db, city_db = tmp / "33/33/node.db", tmp / "3301/3301/node.db"
    wait_for(lambda: count(province_db) >= expected, step=0.2)
    city = catalogue(city_db)
    assert len(city) == expected
    assert catalogue(province_db) == city
    out = ok("--api", nodes[CITY]["api"], "sync", "repair", "--as", CITY, "--json", cwd=tmp)
    report = json.loads(out)
    assert report["intact"] and report["sent"] == report["removals"] == 0, report


def kill9(daemon: Daemon) -> None:
    daemon.proc.kill()
    daemon.proc.wait()
    daemon.log.close()


def bulk(tmp: Path, nodes: dict[str, dict[str, str]]) -> None:
    """``BULK`` records (metadata only) stored in the city's database before it starts, sent
    in batches of ``BATCH`` so that a push takes a while."""
    with (tmp / nodes[CITY]["config"]).open("a", encoding="utf-8") as config:
        config.write(f"\n[sync]\nbatch_size = {BATCH}\n")

    async def load() -> None:
        node = Host(load_settings(tmp / nodes[CITY]["config"])).nodes[CITY]
        await node.open()
        try:
            await node.services.ingest.ingest(
                [record(i, "杭州知青档案") for i in range(1, BULK + 1)], actor=console_actor("test")
            )
        finally:
            await node.close()

    asyncio.run(load())


def record(n: int, title: str, holder: str = CITY) -> Record:
    found, _ = make_record(holder, n, title=f"{title}{n}", category="知青")
    return dataclasses.replace(found, files=())


def test_kill_9_of_the_child_in_the_middle_of_a_bulk_push(network) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    tmp, nodes = network
    bulk(tmp, nodes)
    province = Daemon(tmp, nodes["33"]["config"], nodes["33"]["api"])
    daemons = [province]
    try:
        province.wait_ready()
        city = Daemon(tmp, nodes[CITY]["config"], nodes[CITY]["api"])
        daemons.append(city)
        province_db = tmp / "33/33/node.db"
        got = wait_for(lambda: count(province_db))
        # freeze the province so the city's next batch is in flight, then kill the city
        province.proc.send_signal(signal.SIGSTOP)
        kill9(city)
        province.proc.send_signal(signal.SIGCONT)
        assert 0 < got < BULK, "the push was not interrupted: raise BULK"
        daemons[1] = Daemon(tmp, nodes[CITY]["config"], nodes[CITY]["api"])
        daemons[1].wait_ready()
        assert_converged(tmp, nodes, BULK)
    finally:
        codes = [daemon.stop() for daemon in daemons]
    assert codes[0] == 0


def test_kill_9_of_the_parent_while_it_applies_a_batch(network) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    tmp, nodes = network
    bulk(tmp, nodes)
    daemons = [Daemon(tmp, nodes["33"]["config"], nodes["33"]["api"])]
    province_db = tmp / "33/33/node.db"
    try:
        daemons[0].wait_ready()
        daemons.append(Daemon(tmp, nodes[CITY]["config"], nodes[CITY]["api"]))
        wait_for(lambda: count(province_db))  # the first batch is in
        # Hold the province's write lock: the batch the city sends next is received and its
        # transaction waits on the lock (the city keeps pushing, so one is always next).
        lock = sqlite3.connect(province_db, timeout=10, isolation_level=None)
        try:
            lock.execute("BEGIN IMMEDIATE")
            held = count(province_db)
            wait_for(lambda: _status(nodes[CITY]["api"])["links"][0]["state"] == "pushing")
            time.sleep(0.3)
            kill9(daemons[0])
        finally:
            lock.close()
        assert 0 < held == count(province_db) < BULK, "the push was not interrupted: raise BULK"
        time.sleep(1.0)  # the city's pushes fail meanwhile
        daemons[0] = Daemon(tmp, nodes["33"]["config"], nodes["33"]["api"])
        daemons[0].wait_ready()
        assert_converged(tmp, nodes, BULK)
    finally:
        codes = [daemon.stop() for daemon in daemons]
    assert codes == [0, 0]


def _status(api: str) -> dict[str, object]:
    request = urllib.request.Request(
        f"{api}/api/v1/nodes/{CITY}", headers={"Authorization": f"Bearer {TOKENS[CITY]}"}
    )
    with urllib.request.urlopen(request, timeout=5) as resp:
        return dict(json.load(resp))


def _jsonl(path: Path, holder: str, count: int, title: str) -> Path:
    """``count`` records of ``holder`` as an ``archive-node ingest`` file."""
    with path.open("w", encoding="utf-8") as out:
        for i in range(1, count + 1):
            r = record(i, title, holder)
            fields = {
                "record_id": r.record_id, "archival_code": r.archival_code, "fonds": r.fonds,
                "category": r.category, "year": r.year, "retention": str(r.retention),
                "title": r.title, "creator": r.creator, "date": r.date, "access": str(r.access),
            }  # fmt: skip
            out.write(json.dumps(fields, ensure_ascii=False) + "\n")
    return path


def _search_total(api: str, as_code: str, scope: str, text: str) -> int:
    query = urllib.parse.urlencode({"q": text, "scope": scope})
    with urllib.request.urlopen(f"{api}/api/v1/nodes/{as_code}/search?{query}", timeout=10) as r:
        return int(json.load(r)["total"])


def test_a_parent_down_for_a_while(network) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """With the province down, the city keeps ingesting, takes its county's pushes and
    answers for its whole subtree, queues for the province, and catches up by itself."""
    tmp, nodes = network
    nodes[COUNTY] = enrol(tmp, COUNTY, "西湖区档案馆", _root_public_key(tmp), nodes[CITY]["grpc"])
    ok("registry", "issue", "--key", "3301/3301/node.key", "--chain", "3301/3301/chain.json",
       "--request", "330106/330106/enrol-request.json", "-o", "330106/330106/chain.json",
       cwd=tmp)  # fmt: skip
    codes = ("33", CITY, COUNTY)
    daemons = [Daemon(tmp, nodes[code]["config"], nodes[code]["api"]) for code in codes]
    city_api = nodes[CITY]["api"]
    try:
        for daemon in daemons:
            daemon.wait_ready()
        kill9(daemons[0])
        city_file = _jsonl(tmp / "city.jsonl", CITY, 200, "陈静知青档案")
        county_file = _jsonl(tmp / "county.jsonl", COUNTY, 100, "陈静知青档案")
        assert "已导入 200 条" in ok("--api", city_api, "ingest", "--as", CITY, str(city_file),
                                    cwd=tmp)  # fmt: skip
        assert "已导入 100 条" in ok("--api", nodes[COUNTY]["api"], "ingest", "--as", COUNTY,
                                    str(county_file), cwd=tmp)  # fmt: skip
        # the city answers for its subtree: its own records and the county's, pushed to it
        wait_for(lambda: _search_total(city_api, CITY, CITY, "陈静知青档案") == 300, step=0.2)
        out = ok("--api", city_api, "search", "--as", CITY, "--scope", COUNTY, "--json",
                 "陈静知青档案", cwd=tmp)  # fmt: skip
        assert {json.loads(line)["holder"] for line in out.splitlines()} == {COUNTY}
        queued = wait_for(lambda: (s := _status(city_api))["links"] and s, step=0.2)
        link = queued["links"][0]  # type: ignore[index]
        assert link["peer"] == "33" and link["lag"] > 0
        assert wait_for(lambda: _status(city_api)["links"][0]["last_error"], step=0.2)
        daemons[0] = Daemon(tmp, nodes["33"]["config"], nodes["33"]["api"])
        daemons[0].wait_ready()
        assert_converged(tmp, nodes, 300)
        assert _search_total(nodes["33"]["api"], "33", CITY, "陈静知青档案") == 300
        out = ok("--api", nodes[COUNTY]["api"], "sync", "repair", "--as", COUNTY, "--json",
                 cwd=tmp)  # fmt: skip
        assert json.loads(out)["intact"]
    finally:
        exits = [daemon.stop() for daemon in daemons]
    assert exits == [0, 0, 0]


def _root_public_key(tmp: Path) -> str:
    settings = load_settings(tmp / "33" / "node.toml")
    return settings.root_public_key.hex()
