"""``archive-node verify FILE``: offline, against a root key file or a data folder's
node.toml; exit 0 valid, 1 invalid (with the zh-CN reasons), 2 when it cannot check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from copies_helpers import CONTENT, issued, tree

from node import printout
from node.cli import cli


@pytest.fixture()
def files(tmp_path: Path) -> dict[str, Path]:
    t = tree()
    copy = issued(t)
    paths = {
        "json": tmp_path / "copy.json",
        "pdf": tmp_path / "copy.pdf",
        "content": tmp_path / "content.bin",
        "root": tmp_path / "root.pub",
        "data": tmp_path / "data",
    }
    paths["json"].write_bytes(copy.document)
    paths["pdf"].write_bytes(printout.render(copy, CONTENT))
    paths["content"].write_bytes(CONTENT)
    paths["root"].write_text(t.root.public_key.hex() + "\n")
    paths["data"].mkdir()
    (paths["data"] / "node.toml").write_text(
        f'[host]\ndata_dir = "{paths["data"]}"\nroot_public_key = "{t.root.public_key.hex()}"\n'
        '[[node]]\ncode = "330110"\nname = "余杭区档案馆"\n'
    )
    return paths


def _run(*args: str | Path) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["verify", *map(str, args)])
    return result.exit_code, result.output


def test_a_printed_copy_verifies_offline_with_its_attached_content(files: dict[str, Path]) -> None:
    code, out = _run(files["pdf"], "--root-key", files["root"])
    assert code == 0, out
    assert "核验通过" in out and "J001-HY·1966-Y-0007" in out and "出证时有效" in out


def test_the_root_key_may_come_from_a_data_folder(files: dict[str, Path]) -> None:
    code, out = _run(files["json"], "--content", files["content"], "--data", files["data"])
    assert code == 0, out
    assert "未核对档案内容" not in out


def test_a_json_copy_without_content_says_the_content_was_not_checked(
    files: dict[str, Path],
) -> None:
    code, out = _run(files["json"], "--root-key", files["root"])
    assert code == 0 and "未核对档案内容" in out


def test_a_changed_byte_fails_with_exit_1_and_the_reason(files: dict[str, Path]) -> None:
    document = bytearray(files["json"].read_bytes())
    document[document.index(b"1966-Y-0007") + 10] = ord("8")  # item 0007 -> 0008
    files["json"].write_bytes(bytes(document))
    code, out = _run(files["json"], "--root-key", files["root"])
    assert code == 1 and "核验未通过" in out and "签名不符" in out


def test_changed_content_fails(files: dict[str, Path]) -> None:
    files["content"].write_bytes(CONTENT + b"x")
    code, out = _run(files["pdf"], "--content", files["content"], "--root-key", files["root"])
    assert code == 1 and "所附档案内容" in out


def test_another_root_fails(files: dict[str, Path]) -> None:
    files["root"].write_text(tree(seed=7).root.public_key.hex())
    code, out = _run(files["pdf"], "--root-key", files["root"], "--json")
    body = json.loads(out)
    assert code == 1 and body["valid"] is False and body["certificate_valid_at_issue"] is False
    assert any("根密钥" in r for r in body["reasons"])


@pytest.mark.parametrize(
    "args",
    [
        ("missing.pdf", "--root-key", "ROOT"),
        ("PDF",),
        ("PDF", "--root-key", "missing.pub"),
        ("PDF", "--root-key", "CONTENT"),
        ("PDF", "--data", "missing-dir"),
        ("CONTENT_PDF", "--root-key", "ROOT"),
    ],
)
def test_what_cannot_be_checked_is_exit_2_with_one_line(
    files: dict[str, Path], tmp_path: Path, args: tuple[str, ...]
) -> None:
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.7\n broken")
    names = {
        "ROOT": files["root"],
        "PDF": files["pdf"],
        "CONTENT": files["content"],
        "CONTENT_PDF": tmp_path / "broken.pdf",
    }
    code, out = _run(*(names.get(a, tmp_path / a if "missing" in a else a) for a in args))
    assert code == 2, out
    assert out.startswith("错误: ") and out.count("\n") == 1
