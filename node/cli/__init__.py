"""``archive-node``: one command, nouns then verbs (docs/architecture.md, "What each package
is for").

One module per noun in this package, each defining its command or group; ``COMMANDS`` below
is the one list that puts them on the root group, so a new noun is a new module and one entry
here. Network commands talk to a running daemon's JSON API (``node.cli.apiclient``) acting as
one of the nodes it hosts (``--as CODE``); ``common.node_command`` gives them that option,
``--api``/``--timeout`` and the client. Offline steps that work on files are in ``setup``.

Exit 0 on success; on failure one line ``错误: …`` on stderr and a non-zero exit. Errors
become ``CliError`` in one place, ``common.RootGroup.invoke``.
"""

from __future__ import annotations

import click

from node.cli import (
    account,
    appraisal,
    audit,
    copy,
    demo,
    export,
    fetch,
    host,
    ingest,
    registry,
    request,
    run,
    search,
    setup,
    stats,
    sync,
    verify,
)
from node.cli.apiclient import API_ENV, TOKEN_ENV
from node.cli.common import RootGroup, api_option, timeout_option, token_option

COMMANDS: list[click.Command] = [
    search.search,
    fetch.fetch,
    ingest.ingest,
    export.export,
    stats.stats,
    sync.sync,
    registry.registry,
    audit.audit,
    request.request,
    copy.copy,
    account.account,
    appraisal.appraisal,
    setup.init,
    setup.enrol,
    host.host,
    run.run,
    demo.demo,
    verify.verify,
]


@click.group(
    "archive-node",
    cls=RootGroup,
    commands=COMMANDS,
    # Every command's --api/--timeout may also come before the command, for all of them.
    params=[
        api_option(f"守护进程 API 地址（或 ${API_ENV}）"),
        timeout_option("等待应答的秒数"),
        token_option(f"API 令牌（或 ${TOKEN_ENV}）"),
    ],
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.pass_context
def cli(ctx: click.Context, api_url: str | None, timeout: float | None, token: str | None) -> None:
    """档案共享网络节点 archive-node：检索、调阅、运行节点。"""
    ctx.obj = {"api_url": api_url, "timeout": timeout, "token": token}


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="archive-node")
