"""Ingest and preservation rates, each against a baseline measured in the same run.

    python bench/bench_ingest_packages.py [rows] [files] [file_mb] [repetitions]

1. Metadata only: a CSV of ``rows`` (default 100,000) DA/T 46 rows ingested as a package into a
   fresh node (every check of the four-property check, then one transaction with the
   catalogue, the change log and an audit entry per record), against plain ``sqlite3``
   ``executemany`` inserts of the same rows into a table of the same columns (one
   transaction, no checks, no index): records/s and the ratio.
2. With content: ``files`` (default 100) PDFs of ``file_mb`` MB (default 2) ingested as a
   package (hashed, identified, opened by pypdf, copied into the blob store), in MB/s, against
   ``sha256sum`` of the same files.
3. Fixity: one run over all that content (re-hash every blob), in MB/s, against
   ``sha256sum`` of the same blob files.
4. Export: the content records as a BagIt bag (copy, sha256 + sha512 manifests), in
   records/s and MB/s.

Medians over ``repetitions`` (default 3); each repetition uses a fresh node.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import pypdf

from node.accounts import console_actor
from node.federation.services.preservation import Preservation, Selection
from node.simulate import Network, tree

HEADER = ["档号", "题名", "责任者", "形成日期", "文种", "保管期限", "开放状态", "电子文件"]
CODE = "3301"


def csv_rows(count: int, category: str = "HY", files: bool = False) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for i in range(count):
        year, item = 1950 + i // 9999, i % 9999 + 1
        writer.writerow([
            f"J001-{category}·{year}-Y-{item:04d}", f"张三与李四结婚登记档案 {i}", "西湖区民政局",
            f"{year}0520", "证明", "永久", "开放", f"content/{i}.pdf" if files else "",
        ])  # fmt: skip
    return out.getvalue().encode()


def pdf_of(size: int, n: int) -> bytes:
    writer = pypdf.PdfWriter()
    writer.add_blank_page(width=200, height=200)
    # a metadata string pads the file to about ``size`` and makes each one distinct
    writer.add_metadata({"/Pad": (f"{n:08d}" * (size // 8 + 1))[: max(0, size - 600)]})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def sqlite_baseline(data: bytes, path: Path) -> float:
    rows = list(csv.reader(io.StringIO(data.decode())))[1:]
    conn = sqlite3.connect(path)
    conn.execute(f"CREATE TABLE records ({', '.join(f'c{i} TEXT' for i in range(len(HEADER)))})")
    start = time.perf_counter()
    with conn:
        conn.executemany(f"INSERT INTO records VALUES ({', '.join('?' * len(HEADER))})", rows)
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def sha256sum(paths: list[Path]) -> float:
    start = time.perf_counter()
    for chunk in range(0, len(paths), 200):
        subprocess.run(
            ["sha256sum", *map(str, paths[chunk : chunk + 200])], check=True, capture_output=True
        )
    return time.perf_counter() - start


async def one(root: Path, rows: int, files: int, file_mb: float) -> dict[str, float]:
    results: dict[str, float] = {}
    meta = root / "meta"
    meta.mkdir()
    data = csv_rows(rows)
    (meta / "metadata.csv").write_bytes(data)
    results["sqlite"] = sqlite_baseline(data, root / "baseline.db")
    content = root / "content-package"
    (content / "content").mkdir(parents=True)
    (content / "metadata.csv").write_bytes(csv_rows(files, "SB", files=True))
    size = int(file_mb * (1 << 20))
    paths = []
    manifest = []
    total = 0
    for i in range(files):
        path = content / "content" / f"{i}.pdf"
        blob = pdf_of(size, i)
        path.write_bytes(blob)
        total += len(blob)
        paths.append(path)
        manifest.append(f"{hashlib.sha256(blob).hexdigest()}  content/{i}.pdf\n")
    (content / "manifest-sha256.txt").write_text("".join(manifest))
    register = {"件数": files, "文件数": files, "总字节数": total}
    (content / "register.json").write_text(json.dumps(register))
    results["content_mb"] = total / (1 << 20)
    results["sha256sum_content"] = sha256sum(paths)
    net = await Network.start(root / "net", tree("33", CODE))
    try:
        service = net.service(CODE).preservation
        assert isinstance(service, Preservation)
        actor = console_actor(CODE)
        start = time.perf_counter()
        outcome = await service.ingest_package(meta, mode="all", actor=actor)
        results["metadata"] = time.perf_counter() - start
        assert outcome.stored == rows, outcome.report.findings[:3]
        start = time.perf_counter()
        outcome = await service.ingest_package(content, mode="all", actor=actor)
        results["content"] = time.perf_counter() - start
        assert outcome.stored == files, outcome.report.findings[:3]
        start = time.perf_counter()
        run = await service.fixity_run(files + 10, actor=actor)
        results["fixity"] = time.perf_counter() - start
        assert run.checked == files and not run.failed
        blobs = net.node(CODE).parts.blobs
        results["sha256sum_blobs"] = sha256sum(
            [blobs.path(f.sha256) for r in outcome_records(net, files) for f in r]
        )
        start = time.perf_counter()
        exported = await service.export(
            Selection(series="J001-SB·1950-Y", limit=files),
            root / "bag", actor=actor, as_zip=False,
        )  # fmt: skip
        results["export"] = time.perf_counter() - start
        assert exported.records == files
    finally:
        await net.stop()
    return results


def outcome_records(net: Network, files: int) -> list[list]:  # type: ignore[type-arg]
    db = sqlite3.connect(net.node(CODE).dir / "node.db")
    try:
        rows = db.execute("SELECT files FROM records WHERE archival_code LIKE 'J001-SB%'")
        return [[SimpleNamespace(**f) for f in json.loads(r[0])] for r in rows]
    finally:
        db.close()


def main() -> None:
    args = [float(a) for a in sys.argv[1:]]
    rows = int(args[0]) if args else 100_000
    files = int(args[1]) if len(args) > 1 else 100
    file_mb = args[2] if len(args) > 2 else 2.0
    reps = int(args[3]) if len(args) > 3 else 3
    runs = []
    for _ in range(reps):
        with tempfile.TemporaryDirectory() as temp:
            runs.append(asyncio.run(one(Path(temp), rows, files, file_mb)))
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    mb = med["content_mb"]
    print(f"rows {rows}, content {files} x {file_mb} MB, medians of {reps}")
    print(
        f"metadata ingest (every check)   {rows / med['metadata']:10.0f} records/s   "
        f"plain sqlite3 inserts {rows / med['sqlite']:10.0f} records/s   "
        f"ratio {med['metadata'] / med['sqlite']:6.1f}x"
    )
    print(
        f"ingest with content             {mb / med['content']:10.1f} MB/s        "
        f"sha256sum {mb / med['sha256sum_content']:10.1f} MB/s   "
        f"ratio {med['content'] / med['sha256sum_content']:6.1f}x"
    )
    print(
        f"fixity (re-hash every blob)     {mb / med['fixity']:10.1f} MB/s        "
        f"sha256sum {mb / med['sha256sum_blobs']:10.1f} MB/s   "
        f"ratio {med['fixity'] / med['sha256sum_blobs']:6.1f}x"
    )
    print(
        f"export as a BagIt bag           {files / med['export']:10.1f} records/s   "
        f"{mb / med['export']:10.1f} MB/s"
    )


if __name__ == "__main__":
    main()
