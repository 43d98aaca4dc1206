"""The layers of docs/architecture.md, checked on every module's imports.

``cli -> node (wiring) -> web, rpc, jobs -> federation -> storage -> domain``: a module may
import its own layer and the layers below it, never one above. Besides that: web and rpc do
not import each other; web and rpc reach storage only through federation services; generated
protobuf code and grpc belong to ``node.rpc`` alone, aiohttp to ``node.web`` (and the wiring
that serves it), APScheduler to ``node.jobs``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "node"

# Lower numbers are lower layers. Top-level modules not listed are the domain.
LAYERS = {
    "domain": 0,
    "storage": 1,
    "federation": 2,
    "jobs": 3,
    "rpc": 3,
    "web": 3,
    "wiring": 4,
    "cli": 5,
}
WIRING = {"node.node", "node.host", "node.daemon", "node.demo", "node.simulate"}
# Layers of one rank that may still not import each other.
SIBLINGS_APART = {("web", "rpc"), ("rpc", "web"), ("web", "jobs"), ("rpc", "jobs")}
# Which layers a third-party (or generated) package may be imported from.
THIRD_PARTY = {
    "grpc": {"rpc", "wiring", "cli"},
    "grpc_health": {"rpc"},
    "grpc_reflection": {"rpc"},
    "grpc_tools": {"rpc"},
    "google.protobuf": {"rpc"},
    "node.rpc.generated": {"rpc"},
    "aiohttp": {"web", "wiring"},
    "aiohttp_jinja2": {"web"},  # the pages' templates are the web layer's own
    "jinja2": {"web"},
    "apscheduler": {"jobs"},
    "nacl": {"domain"},  # node.crypto is the only module that touches nacl (checked below)
    "cryptography": {"domain"},  # X.509 for the TLS listener: node/tlscert.py
    "sqlite_utils": {"storage"},
    "chinese_calendar": {"domain"},  # the holiday notices: node/workdays.py only (below)
    "base58": {"domain"},  # multibase text of keys and proofs: node/crypto.py (checked below)
    "rfc8785": {"domain"},  # JCS for Data Integrity proofs: node/dataintegrity.py (below)
    "fpdf": {"domain"},  # the printed copy: node/printout.py (below)
    "segno": {"domain"},
    "pypdf": {"domain"},
    "lxml": {"federation"},  # the OAI-PMH writer: node/federation/oai_xml.py (below)
    # format identification and readability, BagIt, the CLI's progress bar
    "puremagic": {"domain"},
    "PIL": {"domain"},
    "bagit": {"domain"},
    "tqdm": {"cli"},
}
# Libraries that one domain module alone wraps, so the rest of the node never meets them.
ONLY_IN: dict[str, str | tuple[str, ...]] = {
    "nacl": "node.crypto",
    "base58": "node.crypto",
    "rfc8785": "node.dataintegrity",
    "fpdf": "node.printout",
    "segno": "node.printout",
    "pypdf": ("node.printout", "node.formats"),
    "lxml": "node.federation.oai_xml",
    "chinese_calendar": "node.workdays",
    "puremagic": "node.formats",
    "PIL": "node.formats",
    "bagit": "node.transfer",
}


def layer_of(module: str) -> str:
    parts = module.split(".")
    if module in WIRING:
        return "wiring"
    if parts[:2] == ["node", "cli"]:
        return "cli"
    if len(parts) > 1 and parts[1] in ("storage", "federation", "rpc", "web"):
        return parts[1]
    if module == "node.jobs":
        return "jobs"
    return "domain"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """Absolute module names ``path`` imports (``from node import crypto`` is node.crypto)."""
    found: set[str] = set()
    for n in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(n, ast.Import):
            found.update(a.name for a in n.names)
        elif isinstance(n, ast.ImportFrom):
            # a relative import would slip past the check: the package uses absolute ones
            assert n.level == 0 and n.module, f"{path}: relative import"
            if n.module == "node":
                found.update(f"node.{a.name}" for a in n.names)
            else:
                found.add(n.module)
    return found


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "generated" not in p.parts)


def _violations(module: str, imported: set[str]) -> list[str]:
    layer = layer_of(module)
    wrong = []
    for target in sorted(imported):
        rule = next((lib for lib in THIRD_PARTY if target == lib or target.startswith(lib + ".")),
                    None)  # fmt: skip
        if rule is not None:
            if layer not in THIRD_PARTY[rule]:
                wrong.append(f"{module} ({layer}) imports {target}")
            continue
        if not target.startswith("node.") or target == "node":
            continue
        other = layer_of(target)
        if LAYERS[other] > LAYERS[layer] or (layer, other) in SIBLINGS_APART:
            wrong.append(f"{module} ({layer}) imports {target} ({other})")
        elif layer in ("web", "rpc") and other == "storage":
            wrong.append(f"{module} ({layer}) imports {target} (storage): go through a service")
    return wrong


def test_every_import_points_down() -> None:
    wrong = []
    for path in _modules():
        module = _module_name(path)
        wrong += _violations(module, imports_of(path))
    assert not wrong, "imports against the layers (docs/architecture.md):\n" + "\n".join(wrong)


@pytest.mark.parametrize(("library", "owners"), sorted(ONLY_IN.items()))
def test_a_wrapped_library_is_imported_by_its_own_modules(
    library: str, owners: str | tuple[str, ...]
) -> None:
    allowed = {owners} if isinstance(owners, str) else set(owners)
    users = {
        _module_name(p)
        for p in _modules()
        if any(i == library or i.startswith(library + ".") for i in imports_of(p))
    }
    assert users, f"nothing imports {library}: drop its rule"
    assert users <= allowed, f"{library} is imported by {sorted(users)}, only {sorted(allowed)} may"


@pytest.mark.parametrize(
    ("module", "imported"),
    [
        ("node.storage.records", {"node.federation.messages"}),
        ("node.federation.sync", {"grpc"}),
        ("node.federation.sync", {"node.rpc.codec"}),
        ("node.federation.server", {"aiohttp"}),
        ("node.web.pages", {"node.storage.trust"}),
        ("node.web.pages", {"node.rpc.generated.archive.v1"}),
        ("node.records", {"node.storage.db"}),
        ("node.config", {"node.federation.trust.keeper"}),
        ("node.web.api", {"node.rpc.peers"}),
    ],
)
def test_the_check_catches_an_arrow_against_the_layers(module: str, imported: set[str]) -> None:
    assert _violations(module, imported)
