"""The committed generated code is what ``make proto`` would produce now."""

from __future__ import annotations

from pathlib import Path

from node.rpc.protogen import ROOT, generate


def test_regenerating_protobuf_code_changes_nothing(tmp_path: Path) -> None:
    committed = ROOT / "node" / "rpc" / "generated"
    fresh = generate(tmp_path / "generated")
    assert fresh, "protoc wrote nothing"
    names = {p.relative_to(tmp_path / "generated") for p in fresh}
    assert names == {
        p.relative_to(committed) for p in committed.rglob("*") if p.suffix in (".py", ".pyi")
    }
    for rel in names:
        assert (committed / rel).read_text() == (tmp_path / "generated" / rel).read_text(), (
            f"{rel} is stale: run `make proto` and commit"
        )
