"""``archive-node demo``: the five-tier demo network (province to village) on this machine."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.option("--data", type=click.Path(file_okay=False, path_type=Path), help="演示数据目录")
@click.option("--grpc-port", type=click.IntRange(1, 65535), default=50051, show_default=True)
@click.option("--web-port", type=click.IntRange(1, 65535), default=8080, show_default=True)
def demo(data: Path | None, grpc_port: int, web_port: int) -> None:
    """在本机启动五级演示网络（省、市、县、乡镇、村）。"""
    from node.demo import run_demo  # the whole network's imports only when run

    run_demo(data, grpc_port, web_port)
