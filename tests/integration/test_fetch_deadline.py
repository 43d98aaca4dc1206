"""A fetch through a hop that takes the connection but never answers gives up with the unary
calls' deadline (``sync.call_timeout``), not the whole stream's (``sync.fetch_timeout``), and
says so in zh-CN without gRPC's own words (issue 14, item 7).

The city's port is taken over by a gRPC server that takes every call and never answers:
what a relay looks like to the county when the hop after it went silent (a link cut under an
open connection, found dead only by keepalive).
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc import aio

from node.config import SyncSettings
from node.errors import PeerUnavailable

from .network import Network, eventually, tree

SYNC = SyncSettings(call_timeout_s=1.0, fetch_timeout_s=600.0, backoff_start_s=0.2)


@pytest.mark.asyncio
async def test_a_fetch_through_a_silent_hop_gives_up_like_a_search(tmp_path: Path) -> None:
    net = await Network.start(tmp_path, tree("33", "3301", "330106"), sync=SYNC)
    city_port = net.hosts["3301"].listening.grpc_port  # type: ignore[union-attr]
    silent = aio.server()
    silent.add_generic_rpc_handlers([_Silent()])
    try:

        async def county_knows_the_province() -> bool:
            await net.node("330106").keeper.directory.refresh_logged()
            return "33" in net.node("330106").keeper.state.certificates

        await eventually(county_knows_the_province)
        await net.hosts["3301"].stop()
        silent.add_insecure_port(f"127.0.0.1:{city_port}")
        await silent.start()
        county = net.service("330106")
        # 600 s of fetch_timeout: only the manifest's own deadline ends this within 60 s
        with pytest.raises(PeerUnavailable) as failed:
            await asyncio.wait_for(county.retrieval.fetch("33", "HY-2015-Y-0001"), 60)
        assert re.search(r"[\u3400-\u9fff]", str(failed.value)), str(failed.value)
        assert "recvmsg" not in str(failed.value) and "Deadline" not in str(failed.value)
    finally:
        await silent.stop(0)
        await net.stop()


class _Silent(grpc.GenericRpcHandler):
    """Takes any call and never answers."""

    def service(self, handler_call_details: Any) -> grpc.RpcMethodHandler:
        async def unary(request: bytes, context: Any) -> bytes:
            await asyncio.sleep(3600)
            return b""

        async def stream(request: bytes, context: Any) -> Any:
            await asyncio.sleep(3600)
            yield b""

        if handler_call_details.method.endswith("/Fetch"):
            return grpc.unary_stream_rpc_method_handler(stream)
        return grpc.unary_unary_rpc_method_handler(unary)


@pytest.mark.asyncio
async def test_a_relay_does_not_log_a_failure_further_down_as_refused(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The province fetches from the county through the city while the county is down: the
    city passes the failure back and logs it as a failure further down, not a refusal."""
    net = await Network.start(tmp_path, tree("33", "3301", "330106"), sync=SYNC)
    try:

        async def province_knows_the_county() -> bool:
            await net.node("33").keeper.directory.refresh_logged()
            return "330106" in net.node("33").keeper.state.certificates

        await eventually(province_knows_the_county)
        await net.hosts["330106"].stop()
        caplog.set_level("INFO", logger="node.rpc.interceptors")
        with pytest.raises(PeerUnavailable) as failed:
            await net.service("33").retrieval.fetch("330106", "HY-2015-Y-0001")
        assert "330106" in str(failed.value) and re.search(r"[\u3400-\u9fff]", str(failed.value))
        relayed = [r.getMessage() for r in caplog.records if "Fetch" in r.getMessage()]
        assert relayed and all("refused" not in m for m in relayed), relayed
        assert any("failed further down, via 330106" in m for m in relayed), relayed
    finally:
        await net.stop()
