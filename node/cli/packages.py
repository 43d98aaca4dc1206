"""Sending a transfer package to a daemon and following its check, for ``archive-node ingest``.

A folder is zipped first (refused if it holds a symbolic link: what it points at is not the
package's to send); a zip, a bag, a CSV or a JSON-lines file is sent as it is. The daemon
checks and ingests it as a background job (``POST /api/v1/nodes/{code}/packages``); this
follows the job, with a progress bar and an ETA (tqdm) on a terminal, and a plain line per
thousand records otherwise, so a log of an unattended run stays readable.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

import click
from tqdm import tqdm

from node.cli.apiclient import ApiClient
from node.cli.common import CliError

POLL_S = 0.5


def zip_folder(folder: Path, target: Path) -> None:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        for directory, dirs, names in os.walk(folder):
            for name in [*dirs, *names]:
                if (Path(directory) / name).is_symlink():
                    raise CliError(f"{Path(directory) / name} 是符号链接：移交包内不得含链接")
            for name in sorted(names):
                path = Path(directory) / name
                archive.write(path, path.relative_to(folder).as_posix())


def send(api: ApiClient, as_code: str, source: Path, mode: str) -> dict[str, Any]:
    """Upload ``source`` and return the started job (``job_id``, ``status_url``)."""
    path = api.node_path(as_code, "packages")
    if source.is_dir():
        with tempfile.TemporaryDirectory(prefix="archive-cli-") as temp:
            packed = Path(temp) / f"{source.name or 'package'}.zip"
            zip_folder(source, packed)
            return _upload(api, path, packed, packed.name, mode)
    return _upload(api, path, source, source.name, mode)


def _upload(api: ApiClient, path: str, file: Path, name: str, mode: str) -> dict[str, Any]:
    with open(file, "rb") as body:
        return dict(api.upload(path, body, file.stat().st_size, name, {"mode": mode}))


def follow(api: ApiClient, status_url: str, label: str) -> dict[str, Any]:
    """Poll the job until it is done; show its progress while it runs."""
    terminal = sys.stderr.isatty()
    bar: tqdm[Any] | None = None
    reported = 0
    try:
        while True:
            job = dict(api.get_json(status_url))
            done, total = int(job.get("done", 0)), int(job.get("total", 0))
            if terminal and total:
                if bar is None:
                    bar = tqdm(total=total, desc=label, unit="项", file=sys.stderr)
                bar.total = total
                bar.update(done - bar.n)
            elif not terminal and done // 1000 > reported // 1000:
                click.echo(f"{label}: 已检测 {done}/{total}", err=True)
            reported = done
            if job["state"] in ("done", "failed"):
                return job
            time.sleep(POLL_S)
    finally:
        if bar is not None:
            bar.close()


def summary(outcome: dict[str, Any]) -> str:
    """The outcome for people: stored, unchanged, and every finding."""
    report = outcome["report"]
    properties = "，".join(
        f"{p}{'通过' if ok else '未通过'}" for p, ok in report["properties"].items()
    )
    lines = [
        f"四性检测：{properties}；导入 {outcome['stored']} 条，未变 {outcome['unchanged']} 条"
        f"（共 {report['rows']} 条、{report['files']} 个文件、{report['total_bytes']} 字节）"
    ]
    lines += [f"  [{f['property']}] {f['subject']}：{f['reason']}" for f in report["findings"]]
    return "\n".join(lines)
