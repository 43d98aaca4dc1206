"""Generate ``node/rpc/generated`` from ``proto/`` (``make proto``).

The output is committed; ``tests/rpc/test_generated.py`` regenerates into a temporary folder
and checks nothing changed. Every ``.proto`` under ``proto/`` is compiled in one protoc run, so
files of one package import each other (``import "archive/v1/envelope.proto"``). protoc writes
absolute imports (``from archive.v1 import ...``); they are rewritten to live under
``node.rpc.generated``. No gRPC stubs are generated: the server and the peer channels call
methods by name with raw bytes (``rpc/server.py``, ``rpc/peers.py``), so signatures are
checked over exactly what arrived, and reflection reads the service from the descriptors.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parents[2]
PROTO_ROOT = ROOT / "proto"
PACKAGE = "node.rpc.generated"


def generate(out_dir: Path) -> list[Path]:
    """Run protoc (+ mypy stubs) over every .proto into ``out_dir``; return the files written."""
    sources = sorted(PROTO_ROOT.rglob("*.proto"))
    protos = [str(p.relative_to(PROTO_ROOT)) for p in sources]
    include = Path(protoc.__file__).parent / "_proto"
    out_dir.mkdir(parents=True, exist_ok=True)
    args = [
        "protoc",
        f"-I{PROTO_ROOT}",
        f"-I{include}",
        f"--python_out={out_dir}",
        f"--plugin=protoc-gen-mypy={Path(sys.executable).parent / 'protoc-gen-mypy'}",
        f"--mypy_out={out_dir}",
        *protos,
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    written = []
    for path in sorted(out_dir.rglob("*")):
        if path.suffix in (".py", ".pyi"):
            text = path.read_text()
            text = re.sub(r"^from archive\.", f"from {PACKAGE}.archive.", text, flags=re.M)
            text = re.sub(r"^import archive\.", f"import {PACKAGE}.archive.", text, flags=re.M)
            path.write_text(text)
            written.append(path)
    packages = [p for p in out_dir.rglob("*") if p.is_dir() and p.name != "__pycache__"]
    for folder in [out_dir, *packages]:
        init = folder / "__init__.py"
        if not init.exists():
            init.write_text("")
            written.append(init)
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "node" / "rpc" / "generated"
    for written in generate(target):
        print(written)
