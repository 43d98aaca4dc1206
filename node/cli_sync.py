"""``archive-node sync ...``: the catalogue link between a node and its parent.

Only the group lives here; its commands sit in their own modules (``cli_repair.py``) and are
added to it in ``cli.py``.
"""

from __future__ import annotations

import click


@click.group()
def sync() -> None:
    """与上级节点之间的目录同步。"""
