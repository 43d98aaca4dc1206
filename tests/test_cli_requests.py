"""``archive-node request`` and ``copy get`` against a real aiohttp server over the fakes:
the identity number comes from a hidden prompt or stdin, never an argument."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from test_cli import api, nodes  # noqa: F401  (fixtures)

from node.citizens import check_character
from node.cli import cli

BODY = "33011019660512002"
NUMBER = BODY + check_character(BODY)
CLERK = "fake-token-clerk-330106001001-0123456789"
ARCHIVIST = "fake-token-archivist-330106001001-0123456789"
SUBMIT = ["request", "submit", "--as", "330106001001", "--holder", "330110",
          "--record", "T-HY-1966-0001", "--name", "王秀英", "--purpose", "办理退休"]  # fmt: skip


def invoke(*args: str, stdin: str = "", token: str = CLERK) -> Result:
    return CliRunner().invoke(cli, [*args, "--token", token], input=stdin, catch_exceptions=False)


def test_submit_reads_the_number_from_stdin_and_never_prints_it(
    api: str,  # noqa: F811
    nodes: dict[str, Any],  # noqa: F811
) -> None:
    done = invoke(*SUBMIT, "--id-number", "-", "--json", stdin=NUMBER + "\n")
    assert done.exit_code == 0, done.stderr
    view = json.loads(done.stdout)
    assert view["state"] == "submitted" and NUMBER not in done.stdout
    (filed,) = nodes["330106001001"].requests.filed.values()
    assert filed.id_masked.endswith(NUMBER[-4:])
    listed = invoke("request", "list", "--as", "330106001001", "--json")
    assert json.loads(listed.stdout.splitlines()[0])["request_id"] == view["request_id"]
    shown = invoke("request", "show", "--as", "330106001001", view["request_id"])
    assert "待审核" in shown.stdout


def test_the_prompt_hides_the_number_and_an_argument_is_refused(api: str) -> None:  # noqa: F811
    prompted = invoke(*SUBMIT, stdin=NUMBER + "\n")
    assert prompted.exit_code == 0, prompted.stderr
    assert NUMBER not in prompted.stdout
    refused = invoke(*SUBMIT, "--id-number", NUMBER)
    assert refused.exit_code != 0 and "不能写在命令行上" in refused.stderr
    typo = invoke(*SUBMIT, "--id-number", "-", stdin=NUMBER[:-1] + "0\n")
    assert typo.exit_code != 0 and "校验位" in typo.stderr and NUMBER[:-1] not in typo.stderr


def test_the_archivist_approves_and_rejects(api: str, nodes: dict[str, Any]) -> None:  # noqa: F811
    fake = nodes["330106001001"].requests
    first = fake.add_incoming("330106001002", "T-HY-1966-0001", "未按规则批准")
    second = fake.add_incoming("330106001002", "T-HY-1966-0002", "未按规则批准")
    ok = invoke("request", "approve", "--as", "330106001001", first, "--json", token=ARCHIVIST)
    assert ok.exit_code == 0, ok.stderr and json.loads(ok.stdout)["state"] == "approved"
    no = invoke("request", "reject", "--as", "330106001001", second, token=ARCHIVIST)
    assert no.exit_code != 0  # --reason is required
    no = invoke("request", "reject", "--as", "330106001001", second, "--reason", "无法核实",
                token=ARCHIVIST)  # fmt: skip
    assert no.exit_code == 0 and "未予批准" in no.stdout
    queue = invoke("request", "list", "--as", "330106001001", "--incoming", token=ARCHIVIST)
    assert first in queue.stdout and "共 2 件" in queue.stdout


def test_copy_get_saves_the_delivered_content_once_checked(
    api: str,  # noqa: F811
    nodes: dict[str, Any],  # noqa: F811
    tmp_path: Path,
) -> None:
    invoke(*SUBMIT, "--id-number", "-", stdin=NUMBER + "\n")
    fake = nodes["330106001001"].requests
    (rid,) = fake.filed
    data = b"scan of the record"
    fake.deliver(rid, data)
    target = tmp_path / "copy.txt"
    got = invoke(
        "copy", "get", "--as", "330106001001", rid, "-o", str(target), "--json", "--content"
    )
    assert got.exit_code == 0, got.stderr
    assert target.read_bytes() == data and json.loads(got.stdout)["bytes"] == len(data)
    no_copy = invoke("copy", "get", "--as", "330106001001", rid, "-o", str(tmp_path / "c.pdf"))
    assert no_copy.exit_code != 0 and "档案证明" in no_copy.stderr
    fake.filed[rid] = replace(fake.filed[rid], copy_code="ABCD-EFGH-JKMN")
    pdf = invoke("copy", "get", "--as", "330106001001", rid, "-o", str(tmp_path / "c.pdf"))
    assert pdf.exit_code == 0 and (tmp_path / "c.pdf").read_bytes().startswith(b"%PDF")
    unknown = invoke("copy", "get", "--as", "330106001001", "330106001001-abcdefghij")
    assert unknown.exit_code != 0 and "没有编号为" in unknown.stderr


@pytest.fixture(autouse=True)
def _no_env_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ARCHIVE_NODE_TOKEN", raising=False)
