"""What every ``archive-node`` command shares: the one-line error, ``--api``/``--timeout``,
``@node_command`` (``--as CODE`` plus the API client a network command talks through), and
Chinese-aware table output."""

from __future__ import annotations

import functools
import os
import unicodedata
from collections.abc import Callable
from typing import IO, Any, Concatenate

import click

from node.cli.apiclient import (
    API_ENV,
    DEFAULT_API,
    DEFAULT_TIMEOUT,
    TOKEN_ENV,
    ApiClient,
    ApiError,
)
from node.errors import NodeError

# What @node_command decorates: called with the client, the --as code, then the command's own
# parameters by name.
NodeCommand = Callable[Concatenate[ApiClient, str, ...], None]


class CliError(click.ClickException):
    """A failure shown to the user as one line ``错误: <message>`` on stderr (exit 1)."""

    def show(self, file: IO[Any] | None = None) -> None:
        message = " ".join(self.format_message().split())
        click.echo(f"错误: {message}", file=file, err=file is None)


class RootGroup(click.Group):
    """The boundary: API, node and usage errors of subcommands become one-line ``CliError``s."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (ApiError, NodeError) as exc:
            raise CliError(str(exc) or type(exc).__name__) from exc
        except CliError:
            raise
        except click.UsageError as exc:  # a subcommand's options: one line too
            command = exc.ctx.command_path if exc.ctx else "archive-node"
            raise CliError(f"{exc.format_message()}（用法见 {command} --help）") from exc


def api_option(
    help_text: str = f"守护进程 API 地址（默认取 ${API_ENV}，否则 {DEFAULT_API}）",
) -> click.Option:
    """``--api URL``: which daemon to talk to (see ``client_for`` for the fallbacks)."""
    return click.Option(["--api", "api_url"], metavar="URL", help=help_text)


def timeout_option(help_text: str = f"等待应答的秒数（默认 {DEFAULT_TIMEOUT:g}）") -> click.Option:
    """``--timeout SECONDS`` for every call to the daemon."""
    return click.Option(["--timeout"], type=click.FloatRange(min=0.1), default=None, help=help_text)


def token_option(
    help_text: str = f"本节点账号的 API 令牌（默认取 ${TOKEN_ENV}）",
) -> click.Option:
    """``--token TOKEN``: who the command acts as at the node (see ``client_for``)."""
    return click.Option(["--token"], metavar="TOKEN", default=None, help=help_text)


def node_command(
    as_help: str, check: Callable[..., None] | None = None
) -> Callable[[NodeCommand], Callable[..., None]]:
    """A command run on a daemon as one of the nodes it hosts: ``--as CODE`` and the API options.

    Put it directly under ``@group.command()``, above the command's own options. ``--help``
    lists ``--as`` first and ``--timeout``, ``--api`` after the command's own options; the
    command is called with the API client and the ``--as`` code before its own parameters,
    ``def stats(api: ApiClient, as_code: str, as_json: bool)``.

    Args:
        as_help: ``--as``'s help text, saying in what role the node acts in this command.
        check: called with the command's own parameters (``as_code`` among them) before the
            client is made, so that a mistake in them is reported before a bad API address.
    """

    def decorate(command: NodeCommand) -> Callable[..., None]:
        @functools.wraps(command)
        def run(
            as_code: str,
            api_url: str | None,
            timeout: float | None,
            token: str | None,
            **params: Any,
        ) -> None:
            if check is not None:
                check(as_code=as_code, **params)
            api = client_for(click.get_current_context(), api_url, timeout, token)
            command(api, as_code, **params)

        # click collects decorator options bottom-up in __click_params__ and reverses them once.
        # This order is the order --help lists the options in; arguments keep theirs, and
        # options among them parse the same anywhere (by name).
        own = list(reversed(getattr(command, "__click_params__", [])))
        as_option = click.Option(["--as", "as_code"], required=True, metavar="CODE", help=as_help)
        params = [as_option, *own, timeout_option(), api_option(), token_option()]
        run.__click_params__ = list(reversed(params))  # type: ignore[attr-defined]
        return run

    return decorate


def client_for(
    ctx: click.Context, api_url: str | None, timeout: float | None, token: str | None = None
) -> ApiClient:
    """The API client for a command: its ``--api``, else the group's, else env, else default;
    its ``--token``, else the group's, else ``$ARCHIVE_NODE_TOKEN``, else none (public calls)."""
    group: dict[str, Any] = ctx.find_root().obj or {}
    url = api_url or group.get("api_url") or os.environ.get(API_ENV) or DEFAULT_API
    secret = token or group.get("token") or os.environ.get(TOKEN_ENV) or None
    return ApiClient(url, timeout or group.get("timeout") or DEFAULT_TIMEOUT, secret)


def table(header: list[str], rows: list[list[str]]) -> str:
    """Columns aligned by display width (a Chinese character takes two columns)."""
    widths = [max(_width(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = []
    for row in [header, *rows]:
        cells = [
            cell + " " * (width - _width(cell)) for cell, width in zip(row, widths, strict=True)
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
