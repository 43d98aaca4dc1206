"""Every setting is documented (as datasette's test_docs does)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from node.config import ENV_OVERRIDES, HostSettings, NodeSettings, SyncSettings

DOC = (Path(__file__).resolve().parents[1] / "docs" / "configuration.md").read_text()
SYNC_KEYS = {
    "interval_s": "interval",
    "call_timeout_s": "call_timeout",
    "fetch_timeout_s": "fetch_timeout",
}


def test_every_setting_is_documented() -> None:
    for f in dataclasses.fields(HostSettings):
        if f.name not in ("sync", "nodes"):
            assert f"`{f.name}`" in DOC, f"host.{f.name} is not in docs/configuration.md"
    for f in dataclasses.fields(SyncSettings):
        assert f"`{SYNC_KEYS[f.name]}`" in DOC
    for f in dataclasses.fields(NodeSettings):
        assert f"`{f.name}`" in DOC
    for env in ENV_OVERRIDES:
        assert f"`{env}`" in DOC


def test_readme_starts_with_the_two_commands() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    head = readme[:1500]
    assert "make run" in head and "make test" in head
