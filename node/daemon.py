"""``archive-node run --config FILE``: a real node (or a host of several) until signalled."""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path

from node.config import load_settings
from node.host import Host

log = logging.getLogger(__name__)


async def serve(config: Path) -> None:
    settings = load_settings(config)
    logging.getLogger().setLevel(settings.log_level)
    host = Host(settings)
    listening = await host.start()
    log.info("ready: gRPC port %d, web %s", listening.grpc_port, listening.web_url)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("stopping")
    await host.stop()


def run_config(config: Path) -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # it logs every job run at INFO
    asyncio.run(serve(config))
