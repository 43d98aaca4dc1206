"""The setup commands of a real network (issue 14): ``init`` keeps the advertised address and
refuses a local one, the province's ``init`` needs no parent, ``enrol`` will not apply with a
local address, ``host add`` makes a hosted node, and ``ingest --content`` checks the files it
sends. Real files, no daemon (``enrol`` is refused before it dials anything)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from pathlib import Path

from test_cli import invoke, one_error_line

from node.config import is_local_address, load_settings
from node.federation.trust.events import decode_event
from node.federation.trust.files import load_chain
from node.node import offline_trust_store
from node.records import CATEGORIES

ROOT_DOCS = Path(__file__).resolve().parents[1] / "docs"


def _root(tmp: Path) -> str:
    return invoke("registry", "init-root", "--key", str(tmp / "root.key")).stdout.strip()


def _init(tmp: Path, code: str, *extra: str) -> object:
    root = _root(tmp) if not (tmp / "root.key").exists() else (tmp / "root.pk").read_text()
    (tmp / "root.pk").write_text(root)
    data = tmp / code
    return invoke("init", "--data", str(data), "--code", code, "--name", f"测试馆{code}",
                  "--root-public-key", root, *extra)  # fmt: skip


def test_local_addresses_are_recognised() -> None:
    for local in ("0.0.0.0:50051", "127.0.0.1:1", "[::]:50051", "[::1]:5", "localhost:50051"):
        assert is_local_address(local), local
    for remote in ("10.0.0.5:50051", "county.example:50051", "[2001:db8::1]:50051"):
        assert not is_local_address(remote), remote


def test_init_keeps_the_advertised_address_and_refuses_a_local_one(tmp_path: Path) -> None:
    line = one_error_line(_init(tmp_path, "3301", "--parent-address", "province.example:50051"))
    assert "--advertise" in line and "--allow-local" in line
    assert not (tmp_path / "3301/node.toml").exists()
    done = _init(tmp_path, "3301", "--parent-address", "p.example:50051",
                 "--advertise", "city.example:50051")  # fmt: skip
    assert done.exit_code == 0, done.stderr  # type: ignore[attr-defined]
    [node] = load_settings(tmp_path / "3301/node.toml").nodes
    assert node.advertise == "city.example:50051"
    request = json.loads((tmp_path / "3301/3301/enrol-request.json").read_text())
    assert request["address"] == "city.example:50051"


def test_the_province_needs_no_parent_address(tmp_path: Path) -> None:
    done = _init(tmp_path, "33")
    assert done.exit_code == 0, done.stderr  # type: ignore[attr-defined]
    assert load_settings(tmp_path / "33/node.toml").nodes[0].parent_address == ""
    line = one_error_line(_init(tmp_path / "again", "33", "--parent-address", "x.example:1"))
    assert "省级节点没有上级" in line


def test_enrol_refuses_a_local_address_before_dialling(tmp_path: Path) -> None:
    done = _init(tmp_path, "3301", "--parent-address", "127.0.0.1:9", "--advertise",
                 "127.0.0.1:50051", "--allow-local")  # fmt: skip
    assert done.exit_code == 0 and "--allow-local" in done.stdout  # type: ignore[attr-defined]
    line = one_error_line(invoke("enrol", "--config", str(tmp_path / "3301/node.toml")))
    assert "127.0.0.1:50051" in line and "--advertise" in line


def _enrolled_county(tmp: Path) -> Path:
    """A county's folder as ``init`` and an approval leave it (chain signed offline here)."""
    _init(tmp, "330110", "--parent-address", "city.example:50051", "--advertise",
          "county.example:50051")  # fmt: skip
    data = tmp / "330110"
    # the province and the city, offline: their keys and chains, then the county's certificate
    _init(tmp, "33")
    _init(tmp, "3301", "--parent-address", "p.example:1", "--advertise", "city.example:50051")
    issuer, chain = tmp / "root.key", []
    for code, folder in (
        ("33", tmp / "33/33"),
        ("3301", tmp / "3301/3301"),
        ("330110", data / "330110"),
    ):
        out = folder / "chain.json"
        done = invoke("registry", "issue", "--key", str(issuer), *chain, "--request",
                      str(folder / "enrol-request.json"), "-o", str(out))  # fmt: skip
        assert done.exit_code == 0, (code, done.stderr)
        issuer, chain = folder / "node.key", ["--chain", str(out)]
    return data


def test_host_add_makes_a_hosted_node_signed_by_its_hosted_parent(tmp_path: Path) -> None:
    data = _enrolled_county(tmp_path)
    config = str(data / "node.toml")
    done = invoke(
        "host", "add", "--config", config, "--code", "330110001", "--name", "仓前街道档案室"
    )
    assert done.exit_code == 0, done.stderr
    done = invoke("host", "add", "--config", config, "--code", "330110001001", "--name", "仓前社区")
    assert done.exit_code == 0, done.stderr
    nodes = {n.code: n for n in load_settings(data / "node.toml").nodes}
    assert set(nodes) == {"330110", "330110001", "330110001001"}
    assert nodes["330110001001"].parent_address == ""
    assert nodes["330110001"].name == "仓前街道档案室"
    chain = load_chain(data / "330110001001/chain.json")
    assert [c.node_id for c in chain] == ["330110001001", "330110001", "330110", "3301", "33"]
    assert chain[0].address == "county.example:50051" and chain[0].tls_sha256
    chain[0].signed_by(chain[1].public_key)

    async def queued(code: str) -> list[str]:
        async with offline_trust_store(data, code) as store:
            return [decode_event(b).node_id for _, b in await store.pending_reports()]  # type: ignore[union-attr]

    # each certificate waits in its issuer's trust outbox for the registry
    assert asyncio.run(queued("330110")) == ["330110001"]
    assert asyncio.run(queued("330110001")) == ["330110001001"]


def test_host_add_refuses_what_it_cannot_host(tmp_path: Path) -> None:
    data = _enrolled_county(tmp_path)
    config = str(data / "node.toml")
    before = (data / "node.toml").read_text()
    line = one_error_line(invoke("host", "add", "--config", config, "--code", "330106001",
                                 "--name", "别县街道"))  # fmt: skip
    assert "不由本配置托管" in line
    line = one_error_line(invoke("host", "add", "--config", config, "--code", "330110",
                                 "--name", "重复"))  # fmt: skip
    assert "已有节点" in line
    assert (data / "node.toml").read_text() == before


def test_ingest_content_is_checked_before_anything_is_sent(tmp_path: Path) -> None:
    scans = tmp_path / "scans"
    scans.mkdir()
    (scans / "a.pdf").write_bytes(b"%PDF real bytes")
    line = {"record_id": "HY-2015-Y-0001", "files": [
        {"name": "a.pdf", "sha256": hashlib.sha256(b"other").hexdigest(), "size": 15}]}  # fmt: skip
    records = tmp_path / "r.jsonl"
    records.write_text(json.dumps(line) + "\n")
    args = ["--api", "http://127.0.0.1:9", "ingest", "--as", "330106", "--content", str(scans)]
    error = one_error_line(invoke(*args, str(records)))
    assert "第 1 行" in error and hashlib.sha256(b"%PDF real bytes").hexdigest() in error
    line["files"][0]["name"] = "missing.pdf"  # type: ignore[index]
    records.write_text(json.dumps(line) + "\n")
    assert "missing.pdf" in one_error_line(invoke(*args, str(records)))


def test_the_docs_list_every_category_code() -> None:
    text = (ROOT_DOCS / "operations.md").read_text(encoding="utf-8")
    listed = dict(re.findall(r"\| (\S+) \| `([A-Z]{2})` \|", text))
    listed.update(re.findall(r"\| \| (\S+) \| `([A-Z]{2})` \|", text))
    assert listed == CATEGORIES
