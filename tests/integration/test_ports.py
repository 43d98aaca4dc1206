"""One daemon per port (issue 9, item 12).

gRPC binds with ``SO_REUSEPORT`` unless told otherwise, so a second daemon on a port in use
used to start silently and take half the calls. Now the second fails at start with one clear
line naming the port and what to do, leaves nothing listening, and the first keeps serving.
"""

from __future__ import annotations

import dataclasses
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from grpc import aio
from grpc_health.v1 import health_pb2

from node.errors import PortInUse
from node.host import Host
from node.records import SearchQuery
from node.simulate import plan

from .network import Network, free_port, ingest, make_record, tree


async def _hits(host: Host) -> int:
    return (await host.service("33").search.search(SearchQuery(text="结婚", scope="33"))).total


@pytest.mark.asyncio
async def test_a_second_host_on_a_taken_grpc_port_fails_and_the_first_serves(
    tmp_path: Path,
) -> None:
    net = await Network.start(tmp_path / "a", tree("33"))
    first = net.hosts["33"]
    await ingest(first.service("33"), [make_record("33", 1, title="张伟结婚登记")])
    # a second daemon of another network, told to listen on the first one's gRPC port
    other = plan(tmp_path / "b", tree("33")).hosts[0]
    assert first.listening is not None
    taken = dataclasses.replace(other, grpc_listen=f"127.0.0.1:{first.listening.grpc_port}")
    second = Host(taken)
    try:
        with pytest.raises(PortInUse) as caught:
            await second.start()
        assert str(first.listening.grpc_port) in str(caught.value)
        assert "--grpc-port" in str(caught.value)
        assert second.grpc._server is None  # nothing of it was left listening
        assert await _hits(first) == 1
        # the first still answers on its gRPC port (and alone: the second never bound)
        async with aio.insecure_channel(f"127.0.0.1:{first.listening.grpc_port}") as channel:
            reply = await channel.unary_unary(
                "/grpc.health.v1.Health/Check",
                request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
                response_deserializer=health_pb2.HealthCheckResponse.FromString,
            )(health_pb2.HealthCheckRequest(), timeout=5)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
    finally:
        await second.stop()
        await net.stop()


@pytest.mark.asyncio
async def test_a_second_host_on_a_taken_web_port_fails_cleanly(tmp_path: Path) -> None:
    net = await Network.start(tmp_path / "a", tree("33"))
    first = net.hosts["33"]
    assert first.listening is not None
    other = plan(tmp_path / "b", tree("33")).hosts[0]
    taken = dataclasses.replace(other, web_listen=f"127.0.0.1:{first.listening.web_port}")
    second = Host(taken)
    try:
        with pytest.raises(PortInUse, match="--web-port"):
            await second.start()
        assert second.grpc._server is None  # its gRPC listener was stopped again
        assert await _hits(first) == 0
    finally:
        await second.stop()
        await net.stop()


@pytest.mark.slow
@pytest.mark.parametrize("held", ["--grpc-port", "--web-port"])
def test_the_demo_on_a_taken_port_prints_one_line(tmp_path: Path, held: str) -> None:
    """Holding the web port is the case that used to end in gRPC's "Event loop is closed"
    traceback: the gRPC listener had started and was never stopped."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        ports = {"--grpc-port": free_port(), "--web-port": free_port(), held: port}
        done = subprocess.run(
            [sys.executable, "-m", "node.cli", "demo", "--data", str(tmp_path / "demo")]
            + [arg for option, value in ports.items() for arg in (option, str(value))],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.returncode == 1
    assert f"127.0.0.1:{port}" in done.stderr and held in done.stderr
    assert "Traceback" not in done.stderr and "Event loop is closed" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
