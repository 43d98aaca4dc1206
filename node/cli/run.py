"""``archive-node run --config FILE``: run a node (or a host of nodes) as a daemon."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.option(
    "--config",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="节点（或托管主机）的 TOML 配置文件",
)
def run(config: Path) -> None:
    """按配置文件运行节点守护进程。"""
    from node.daemon import run_config  # the daemon's imports (grpc, aiohttp) only when run

    run_config(config)
