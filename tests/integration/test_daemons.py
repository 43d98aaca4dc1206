"""One node per process, set up the way an operator does it (README, docs/operations.md).

``registry init-root``, ``init`` and ``registry issue`` enrol a province and a city; each
runs as its own ``archive-node run --config`` daemon with its own gRPC and web listener. The
city's records reach the province's catalogue over gRPC, the province fetches one back from
the city, and both daemons stop cleanly on SIGTERM.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from node import tlscert
from node.config import load_settings
from node.crypto import SigningKey
from node.errors import AuthError
from node.federation.envelope import Signer
from node.federation.messages import RENEW, Envelope, RenewReply, RenewRequest
from node.federation.trust.files import chain_path, key_path, load_chain
from node.host import Host
from node.records import Record
from node.rpc.codec import ProtobufCodec
from node.rpc.peers import call_address_tls
from node.rpc.tls import presented_certificate
from node.tlscert import der_fingerprint

from .network import free_port, ingest, make_record

CLI = [sys.executable, "-m", "node.cli"]


TOKENS: dict[str, str] = {}  # node code -> the API token of its staff account (``enrol``)


def cli(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """The CLI, as the staff account of the node after ``--as`` (its token in the env)."""
    env = dict(os.environ)
    env.pop("ARCHIVE_NODE_TOKEN", None)
    if "--as" in args and (code := args[args.index("--as") + 1]) in TOKENS:
        env["ARCHIVE_NODE_TOKEN"] = TOKENS[code]
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, cwd=cwd, timeout=60, check=False,
        input=stdin, env=env,
    )  # fmt: skip


def ok(*args: str, cwd: Path, stdin: str | None = None) -> str:
    done = cli(*args, cwd=cwd, stdin=stdin)
    assert done.returncode == 0, done.stderr
    return done.stdout


def staff_token(tmp: Path, code: str) -> str:
    """The first operator (and archivist) of ``code``, opened offline against its data folder
    as docs/operations.md says, and a new API token of it."""
    bootstrap = ["--data", code, "--node", code]
    out = ok("account", "create", *bootstrap, "--role", "operator", "--role", "archivist",
             "--password-stdin", "staff", cwd=tmp, stdin="correct horse battery\n")  # fmt: skip
    assert f"已在 {code} 开设账号 staff" in out and "operator" in out
    return ok("account", "token", *bootstrap, "staff", cwd=tmp).strip()


def enrol(tmp: Path, code: str, name: str, root_pk: str, parent: str = "") -> dict[str, str]:
    grpc_address, web_address = f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"
    args = ["--data", code, "--code", code, "--name", name, "--root-public-key", root_pk]
    args += ["--listen", grpc_address, "--advertise", grpc_address, "--web-listen", web_address]
    if parent:  # every node on loopback: one machine, said so
        args += ["--parent-address", parent, "--allow-local"]
    ok("init", *args, cwd=tmp)
    TOKENS[code] = staff_token(tmp, code)
    return {"grpc": grpc_address, "api": f"http://{web_address}", "config": f"{code}/node.toml"}


class Daemon:
    def __init__(self, tmp: Path, config: str, api: str) -> None:
        self.api = api
        self.log = (tmp / f"{config.split('/')[0]}.log").open("w")
        self.proc = subprocess.Popen(
            [*CLI, "run", "--config", config], cwd=tmp, stdout=self.log, stderr=subprocess.STDOUT
        )

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"daemon exited with {self.proc.returncode}"
            try:
                with urllib.request.urlopen(f"{self.api}/api/v1/nodes", timeout=2) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"daemon at {self.api} did not become ready")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=30)
        self.log.close()
        return code


@pytest.fixture
def network(tmp_path: Path) -> Iterator[tuple[Path, dict[str, dict[str, str]]]]:
    root_pk = ok("registry", "init-root", "--key", "root.key", cwd=tmp_path).strip()
    nodes = {"33": enrol(tmp_path, "33", "浙江省档案馆", root_pk)}
    nodes["3301"] = enrol(tmp_path, "3301", "杭州市档案馆", root_pk, parent=nodes["33"]["grpc"])
    issue = ["registry", "issue", "--key"]
    ok(*issue, "root.key", "--request", "33/33/enrol-request.json", "-o", "33/33/chain.json",
       cwd=tmp_path)  # fmt: skip
    ok(*issue, "33/33/node.key", "--chain", "33/33/chain.json",
       "--request", "3301/3301/enrol-request.json", "-o", "3301/3301/chain.json",
       cwd=tmp_path)  # fmt: skip
    yield tmp_path, nodes


async def _ingest_offline(config: Path, items: Sequence[tuple[Record, bytes]]) -> None:
    """Load records into a node's database while its daemon is not running."""
    node = Host(load_settings(config)).nodes["3301"]
    await node.open()
    try:
        await ingest(node.services, items)
    finally:
        await node.close()


def test_province_and_city_as_separate_daemons(network) -> None:  # type: ignore[no-untyped-def]
    tmp, nodes = network
    items = [make_record("3301", i, title=f"张伟、陈静结婚登记档案{i}") for i in range(1, 6)]
    asyncio.run(_ingest_offline(tmp / nodes["3301"]["config"], items))
    daemons = [Daemon(tmp, nodes[code]["config"], nodes[code]["api"]) for code in ("33", "3301")]
    try:
        for daemon in daemons:
            daemon.wait_ready()
        # `init` wrote `tls = true`: each daemon presents the TLS certificate its chain pins
        for code in ("33", "3301"):
            leaf = load_chain(tmp / code / code / "chain.json")[0]
            der = asyncio.run(presented_certificate(code, nodes[code]["grpc"]))
            assert len(leaf.tls_sha256) == 32 and der_fingerprint(der) == leaf.tls_sha256
        api = ["--api", nodes["33"]["api"]]
        deadline = time.monotonic() + 30
        hits: list[dict[str, object]] = []
        while len(hits) < 5 and time.monotonic() < deadline:
            out = ok(*api, "search", "--as", "33", "--scope", "3301", "--json", "结婚登记", cwd=tmp)
            hits = [json.loads(line) for line in out.splitlines()]
            time.sleep(0.3)
        assert len(hits) == 5 and {h["holder"] for h in hits} == {"3301"}
        out = ok(
            *api, "fetch", "--as", "33", "--json", "-o", "copy.pdf", str(hits[0]["ref"]), cwd=tmp
        )
        fetched = json.loads(out)
        data = (tmp / "copy.pdf").read_bytes()
        assert hashlib.sha256(data).hexdigest() == fetched["sha256"] == hits[0]["content_sha256"]
    finally:
        codes = [daemon.stop() for daemon in daemons]
    assert codes == [0, 0], (tmp / "33.log").read_text() + (tmp / "3301.log").read_text()


def _registry_certificates(api: str) -> int:
    request = urllib.request.Request(
        f"{api}/api/v1/nodes/33/registry", headers={"Authorization": f"Bearer {TOKENS['33']}"}
    )
    with urllib.request.urlopen(request, timeout=10) as resp:
        return int(json.loads(resp.read())["certificates"])


def test_a_renewal_captured_on_the_wire_is_dead_after_the_parent_is_killed_and_restarted(
    network,  # type: ignore[no-untyped-def]
) -> None:
    """A replayed call changes nothing, also across a ``kill -9`` (docs/architecture.md,
    "Invariants")."""
    tmp, nodes = network
    city_dir = tmp / "3301" / "3301"
    signer = Signer("3301", SigningKey.load(key_path(city_dir)), load_chain(chain_path(city_dir)))
    codec = ProtobufCodec()
    captured = codec.encode(signer.seal(RENEW, "33", codec.encode(RenewRequest())))
    province = nodes["33"]

    def send() -> bytes:
        return asyncio.run(call_address_tls("33", province["grpc"], RENEW, captured, 10))[0]

    daemon = Daemon(tmp, province["config"], province["api"])
    try:
        daemon.wait_ready()
        reply = codec.decode(Envelope, send())
        granted = codec.decode(RenewReply, reply.payload).chain[0]
        assert granted.node_id == "3301"
        logged = _registry_certificates(province["api"])
        daemon.proc.kill()  # kill -9: nothing in memory survives
        daemon.stop()
        daemon = Daemon(tmp, province["config"], province["api"])
        daemon.wait_ready()
        with pytest.raises(AuthError, match="replayed nonce"):
            send()
        assert _registry_certificates(province["api"]) == logged  # nothing granted again
    finally:
        daemon.stop()


def test_a_daemon_with_someone_elses_certificate_will_not_start(network) -> None:  # type: ignore[no-untyped-def]
    tmp, nodes = network
    (tmp / "3301/3301/chain.json").write_bytes((tmp / "33/33/chain.json").read_bytes())
    done = cli("run", "--config", nodes["3301"]["config"], cwd=tmp)
    assert done.returncode != 0
    assert "chain.json" in done.stderr and "Traceback" not in done.stderr


def _until(check, timeout: float = 30):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.3)


def test_online_enrolment_revocation_and_audit_through_the_cli(tmp_path: Path) -> None:
    """The operator's path: apply, approve, fetch the chain, run; then revoke and see refusals."""
    root_pk = ok("registry", "init-root", "--key", "root.key", cwd=tmp_path).strip()
    province = enrol(tmp_path, "33", "浙江省档案馆", root_pk)
    ok("registry", "issue", "--key", "root.key", "--request", "33/33/enrol-request.json",
       "-o", "33/33/chain.json", cwd=tmp_path)  # fmt: skip
    city = enrol(tmp_path, "3301", "杭州市档案馆", root_pk, parent=province["grpc"])
    api = ["--api", province["api"]]
    city_api = ["--api", city["api"]]
    daemons = [Daemon(tmp_path, province["config"], province["api"])]
    try:
        daemons[0].wait_ready()
        out = ok("enrol", "--config", city["config"], "--allow-local", cwd=tmp_path)
        assert "等待" in out and not (tmp_path / "3301/3301/chain.json").exists()
        key_id = out.split("密钥标识 ", 1)[1].split("）", 1)[0]  # what the applicant reports
        listed = ok(*api, "registry", "enrol", "list", "--as", "33", cwd=tmp_path)
        assert "3301" in listed and key_id in listed
        approve = [*api, "registry", "enrol", "approve", "3301", "--as", "33"]
        refused = cli(*approve, "--key-id", "ed25519:0000000000000000", cwd=tmp_path)
        assert refused.returncode != 0 and "密钥已变更" in refused.stderr, refused.stderr
        assert "已批准" in ok(*approve, "--key-id", key_id, cwd=tmp_path)
        out = ok("enrol", "--config", city["config"], "--allow-local", cwd=tmp_path)
        assert "已批准" in out and (tmp_path / "3301/3301/chain.json").exists()
        daemons.append(Daemon(tmp_path, city["config"], city["api"]))
        daemons[1].wait_ready()

        def city_has_the_directory() -> bool:
            out = ok(*city_api, "registry", "status", "--as", "3301", cwd=tmp_path)
            return json.loads(out)["certificates"] >= 2  # the province's and its own

        assert _until(city_has_the_directory)

        def city_certificate_pins_its_tls() -> bool:
            # enrolled online (the application carries no pin): its first upkeep renewed it
            leaf = load_chain(tmp_path / "3301/3301/chain.json")[0]
            served = (tmp_path / "3301/3301/tls.crt").read_bytes()
            return bool(leaf.tls_sha256) and leaf.tls_sha256 == tlscert.fingerprint(served)

        assert _until(city_certificate_pins_its_tls)
        ok(*api, "registry", "revoke", "3301", "--as", "33", "--reason", "测试吊销", cwd=tmp_path)
        # the city keeps calling (here: asking for the directory); the province refuses it

        def refused_by_the_province() -> bool:
            refused = cli(*city_api, "registry", "refresh", "--as", "3301", cwd=tmp_path)
            assert refused.returncode != 0 and "revoked" in refused.stderr, refused.stderr
            out = ok(*api, "registry", "audit", "--as", "33", "--json", cwd=tmp_path)
            return any(r["origin"] == "3301" for r in json.loads(out)["refusals"])

        assert _until(refused_by_the_province)
        out = ok(*api, "registry", "audit", "--as", "33", cwd=tmp_path)
        assert "revoked" in out and "AuthError" in out
    finally:
        codes = [daemon.stop() for daemon in daemons]
    assert codes == [0] * len(daemons)
