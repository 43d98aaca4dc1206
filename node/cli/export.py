"""``archive-node export --as CODE``: records as a BagIt bag (RFC 8493), to keep or to move.

Choose records by ``--record ID`` (repeatable), a 档号 series (``--series J001-HY·2015-Y``)
or a search (``--query 张三``); the daemon writes the bag (``BagIt-Version: 1.0``, sha256 and
sha512 manifests, metadata as JSON lines and DA/T 46-style XML) and sends it as a zip. An
``--out`` ending ``.zip`` keeps the zip; otherwise it is unpacked into that new folder, after
the same safety checks and the full BagIt validation a package gets on ingest.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import zipfile
from pathlib import Path

import click

from node.cli.apiclient import ApiClient, ApiError
from node.cli.common import CliError, node_command
from node.errors import InvalidInput
from node.transfer import open_package


@click.command()
@node_command("从哪个托管节点导出（只导出本节点保管的档案）")
@click.option("--record", "records", multiple=True, help="档案标识（可重复）")
@click.option("--series", default="", help="档号系列，即不含件号的档号，如 J001-HY·2015-Y")
@click.option("--query", "text", default="", help="检索词：导出本节点保管的命中档案")
@click.option(
    "--out", required=True, type=click.Path(path_type=Path), help="保存为 .zip，或解包到新文件夹"
)
@click.option("--json", "as_json", is_flag=True, help="输出一行 JSON")
def export(
    api: ApiClient,
    as_code: str,
    records: tuple[str, ...],
    series: str,
    text: str,
    out: Path,
    as_json: bool,
) -> None:
    """把档案导出为 BagIt 包（含电子文件、JSON 与 DA/T 46 样式 XML 元数据）。"""
    if not (records or series or text):
        raise CliError("请用 --record、--series 或 --query 选择要导出的档案")
    if out.exists():
        raise CliError(f"{out} 已存在：请换一个新的文件名或文件夹名")
    params = {"record": list(records) or None, "series": series or None, "q": text or None}
    query = {k: v for k, v in params.items() if v}
    with tempfile.TemporaryDirectory(prefix="archive-export-") as temp:
        packed = Path(temp) / "bag.zip"
        try:
            with open(packed, "wb") as target:
                size = api.download(api.node_path(as_code, "export"), query, target)
        except ApiError as exc:
            raise CliError(f"导出失败：{exc}") from exc
        if out.suffix.lower() == ".zip":
            shutil.move(packed, out)
            count = _count(out)
        else:
            try:
                with open_package(packed) as package:
                    if package.bag_problems:
                        raise CliError(f"导出包校验未通过：{package.bag_problems[0].reason}")
                    shutil.copytree(package.root, out)
            except InvalidInput as exc:
                raise CliError(f"导出包无法解开：{exc}") from exc
            count = _count(out)
    if as_json:
        click.echo(json.dumps({"out": str(out), "bytes": size, "records": count}))
    else:
        click.echo(f"已导出 {count} 条档案到 {out}（{size} 字节的 BagIt 包）")


def _count(out: Path) -> int:
    """How many records the bag at ``out`` (a folder or a zip) holds."""
    if out.is_dir():
        lines = (out / "data/metadata.jsonl").read_text("utf-8").splitlines()
        return sum(1 for line in lines if line)
    with zipfile.ZipFile(out) as archive:
        name = next(n for n in archive.namelist() if n.endswith("data/metadata.jsonl"))
        return sum(1 for line in archive.read(name).decode("utf-8").splitlines() if line)
