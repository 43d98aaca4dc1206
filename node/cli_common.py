"""What every ``archive-node`` command shares: the one-line error, ``--api``/``--timeout``,
the API client they pick, and Chinese-aware table output."""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Callable
from typing import IO, Any, TypeVar

import click

from node.apiclient import API_ENV, DEFAULT_API, DEFAULT_TIMEOUT, ApiClient, ApiError
from node.errors import NodeError

F = TypeVar("F", bound=Callable[..., Any])


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


def api_options(command: F) -> F:
    """``--api`` and ``--timeout`` on a command that talks to a daemon."""
    command = click.option(
        "--api",
        "api_url",
        metavar="URL",
        help=f"守护进程 API 地址（默认取 ${API_ENV}，否则 {DEFAULT_API}）",
    )(command)
    command = click.option(
        "--timeout",
        type=click.FloatRange(min=0.1),
        default=None,
        help=f"等待应答的秒数（默认 {DEFAULT_TIMEOUT:g}）",
    )(command)
    return command


def client_for(ctx: click.Context, api_url: str | None, timeout: float | None) -> ApiClient:
    """The API client for a command: its ``--api``, else the group's, else env, else default."""
    group: dict[str, Any] = ctx.find_root().obj or {}
    url = api_url or group.get("api_url") or os.environ.get(API_ENV) or DEFAULT_API
    return ApiClient(url, timeout or group.get("timeout") or DEFAULT_TIMEOUT)


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
