"""Every setting is documented (as datasette's test_docs does)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from node.config import (
    ENV_OVERRIDES,
    AuditSettings,
    HostSettings,
    NodeSettings,
    SyncSettings,
    TrustSettings,
)
from node.config_sections import (
    AccountSettings,
    AppraisalSettings,
    OaiSettings,
    PreservationSettings,
    RequestSettings,
)
from node.records import Access
from node.sample_data import DEMO_NETWORK, sample_records

DOC = (Path(__file__).resolve().parents[1] / "docs" / "configuration.md").read_text()
SYNC_KEYS = {
    "interval_s": "interval",
    "call_timeout_s": "call_timeout",
    "fetch_timeout_s": "fetch_timeout",
    "batch_size": "batch_size",
    "debounce_s": "debounce",
    "backoff_start_s": "backoff_start",
    "backoff_cap_s": "backoff_cap",
    "anti_entropy_interval_s": "anti_entropy_interval",
}
TRUST_KEYS = {
    "refresh_interval_s": "refresh_interval",
    "cert_lifetime_ms": "cert_lifetime",
    "renew_before_ms": "renew_before",
    "enrol_applications_per_hour": "enrol_applications_per_hour",
    "enrol_calls_per_minute": "enrol_calls_per_minute",
    "index_key_rotation_ms": "index_key_rotation",
    "index_key_settle_ms": "index_key_settle",
}

AUDIT_KEYS = {"checkpoint_interval_s": "checkpoint_interval"}


def test_every_setting_is_documented() -> None:
    for f in dataclasses.fields(HostSettings):
        if f.name not in (
            "sync",
            "trust",
            "nodes",
            "audit",
            "accounts",
            "oai",
            "appraisal",
            "requests",
            "preservation",
        ):
            assert f"`{f.name}`" in DOC, f"host.{f.name} is not in docs/configuration.md"
    for f in dataclasses.fields(SyncSettings):
        assert f"`{SYNC_KEYS[f.name]}`" in DOC
    for f in dataclasses.fields(TrustSettings):
        assert f"`{TRUST_KEYS[f.name]}`" in DOC
    assert "## `[audit]`" in DOC
    for f in dataclasses.fields(AuditSettings):
        assert f"`{AUDIT_KEYS[f.name]}`" in DOC
    for f in dataclasses.fields(AccountSettings):
        assert f"`{f.metadata['key']}`" in DOC, f"accounts.{f.metadata['key']} is not documented"
    for section, cls in (("oai", OaiSettings), ("appraisal", AppraisalSettings)):
        assert f"## `[{section}]`" in DOC
        for f in dataclasses.fields(cls):
            assert f"`{f.metadata['key']}`" in DOC, f"{section}.{f.metadata['key']} is undocumented"
    assert "## `[requests]`" in DOC
    for f in dataclasses.fields(RequestSettings):
        assert f"`{f.metadata['key']}`" in DOC, f"requests.{f.metadata['key']} is not documented"
    assert "## `[preservation]`" in DOC
    for f in dataclasses.fields(PreservationSettings):
        assert f"`{f.metadata['key']}`" in DOC, (
            f"preservation.{f.metadata['key']} is not documented"
        )
    for f in dataclasses.fields(NodeSettings):
        assert f"`{f.name}`" in DOC
    for env in ENV_OVERRIDES:
        assert f"`{env}`" in DOC


def test_readme_starts_with_the_two_commands() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    head = readme[:1500]
    assert "make run" in head and "make test" in head


def test_the_readme_fetches_an_open_sample_record() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    # the demo's part; "Running a real network" fetches what its own ingest loaded, and
    # tests/integration/test_real_network.py runs those commands
    readme = readme.split("## Running a real network")[0]
    refs = re.findall(r"archive-node fetch .* (\d+)/([A-Z]+-\d{4}-\w+-\d{4})", readme)
    assert refs
    for holder, record_id in refs:
        records = {r.record_id: r for r, _ in sample_records(holder, dict(DEMO_NETWORK)[holder])}
        assert records[record_id].access == Access.OPEN


ARCHITECTURE = Path(__file__).resolve().parents[1] / "docs" / "architecture.md"
# Where a file named in docs/architecture.md may sit (it names them as a reader meets them).
_PLACES = (
    "", "node", "node/federation", "node/federation/trust", "node/federation/services",
    "node/rpc", "node/rpc/codec", "node/web", "node/web/templates", "node/storage", "node/cli",
    "node/sample_data", "proto/archive/v1",
)  # fmt: skip


def test_the_architecture_names_only_files_that_exist() -> None:
    root = ARCHITECTURE.parents[1]
    named = set(re.findall(r"`([\w./]+\.(?:py|proto|html)|[\w./]+/)`", ARCHITECTURE.read_text()))
    missing = sorted(n for n in named if not any((root / p / n).exists() for p in _PLACES))
    assert named and not missing, f"docs/architecture.md names files that do not exist: {missing}"
