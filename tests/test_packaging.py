"""A running node needs only its runtime dependencies (pyproject ``dependencies``).

The code generators (grpcio-tools, mypy-protobuf) are dev dependencies: ``make proto`` and
``tests/rpc/test_generated.py`` use them, a node never does. Checked by importing every module
of the package in a fresh interpreter in which those packages cannot be imported.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEV_ONLY = ("grpc_tools", "mypy_protobuf")
GENERATOR = "node.rpc.protogen"  # `make proto` itself

_IMPORT_ALL = f"""
import importlib, pkgutil, sys

class Refuse:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {DEV_ONLY!r}:
            raise ImportError(f"{{name}} is a dev dependency")
        return None

sys.meta_path.insert(0, Refuse())
import node
for info in pkgutil.walk_packages(node.__path__, "node."):
    if info.name != {GENERATOR!r}:
        importlib.import_module(info.name)
print("ok")
"""


def test_runtime_dependencies_leave_out_the_generators() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = " ".join(project["dependencies"])
    assert "grpcio-tools" not in runtime and "mypy-protobuf" not in runtime
    assert any(d.startswith("grpcio-tools") for d in project["optional-dependencies"]["dev"])


def test_every_module_imports_without_the_generators() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _IMPORT_ALL],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
