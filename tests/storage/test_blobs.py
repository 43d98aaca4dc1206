"""BlobStore: content addressing, no path tricks, crash-safe writes, corruption detected."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import pytest

from node.errors import InvalidInput, NotFound, StorageError
from node.storage.blobs import BlobStore

DATA = "演示数据：王秀英结婚登记审查处理表\n".encode() * 1000
SHA = hashlib.sha256(DATA).hexdigest()


@pytest.mark.parametrize(
    "name",
    [
        "../../etc/passwd",
        "/etc/passwd",
        SHA.upper(),
        SHA[:63],
        SHA + "0",
        SHA + "\n",
        SHA[:62] + "/.",
        "..",
        "",
        "ab/" + SHA[3:],
        None,
        12,
    ],
)
def test_only_sha256_names_are_accepted(tmp_path: Path, name: object) -> None:
    blobs = BlobStore(tmp_path)
    with pytest.raises(InvalidInput):
        blobs.path(name)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        blobs.has(name)  # type: ignore[arg-type]


def test_put_bytes_round_trip(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path / "blobs")
    assert blobs.put_bytes(DATA) == (SHA, len(DATA))
    assert blobs.put_bytes(DATA) == (SHA, len(DATA))  # idempotent
    assert blobs.path(SHA) == tmp_path / "blobs" / SHA[:2] / SHA
    assert blobs.has(SHA) and blobs.size(SHA) == len(DATA)
    with blobs.open(SHA) as file:
        assert file.read() == DATA
    assert blobs.verify(SHA)
    assert sorted(p.name for p in (tmp_path / "blobs").rglob("*")) == sorted([SHA[:2], SHA])


def test_put_file(tmp_path: Path) -> None:
    src = tmp_path / "scan.pdf"
    src.write_bytes(DATA)
    blobs = BlobStore(tmp_path / "blobs")
    assert blobs.put_file(src) == (SHA, len(DATA))
    assert blobs.put_file(src) == (SHA, len(DATA))
    assert blobs.verify(SHA)
    assert not list((tmp_path / "blobs").glob(".tmp-*"))
    with pytest.raises(StorageError):
        blobs.put_file(tmp_path / "missing.pdf")


def test_missing_content(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path)
    assert not blobs.has(SHA)
    assert not blobs.verify(SHA)
    with pytest.raises(NotFound):
        blobs.open(SHA)


@pytest.mark.asyncio
async def test_async_put_sizes_and_put_many_run_off_the_event_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blobs = BlobStore(tmp_path)
    threads: set[threading.Thread] = set()
    put_bytes, has, path = blobs.put_bytes, blobs.has, blobs.path

    def seen(fn):  # type: ignore[no-untyped-def]
        def wrapper(*args):  # type: ignore[no-untyped-def]
            threads.add(threading.current_thread())
            return fn(*args)

        return wrapper

    monkeypatch.setattr(blobs, "put_bytes", seen(put_bytes))
    monkeypatch.setattr(blobs, "has", seen(has))
    monkeypatch.setattr(blobs, "path", seen(path))
    other = hashlib.sha256(b"other").hexdigest()
    assert await blobs.sizes([SHA, other]) == {}
    assert await blobs.put(DATA) == (SHA, len(DATA))
    assert await blobs.sizes([SHA, other]) == {SHA: len(DATA)}
    assert await blobs.sizes([]) == {}
    await blobs.put_many({other: b"other"})
    assert await blobs.sizes([other]) == {other: 5}
    assert threads and threading.current_thread() not in threads
    with pytest.raises(InvalidInput):
        await blobs.sizes(["../x"])


@pytest.mark.asyncio
async def test_read_chunks(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path)
    blobs.put_bytes(DATA)
    chunks = [chunk async for chunk in blobs.read_chunks(SHA, 4096)]
    assert b"".join(chunks) == DATA
    assert all(len(c) == 4096 for c in chunks[:-1])
    with pytest.raises(NotFound):
        [c async for c in blobs.read_chunks("0" * 64, 4096)]
    with pytest.raises(InvalidInput):
        [c async for c in blobs.read_chunks("../x", 4096)]


@pytest.mark.asyncio
async def test_corruption_is_detected(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path)
    blobs.put_bytes(DATA)
    path = blobs.path(SHA)
    damaged = bytearray(path.read_bytes())
    damaged[100] ^= 1
    path.write_bytes(bytes(damaged))
    assert not blobs.verify(SHA)
    with pytest.raises(StorageError, match="损坏"):
        [c async for c in blobs.read_chunks(SHA, 4096)]
    assert len(b"".join([c async for c in blobs.read_chunks(SHA, 4096, verify=False)])) == len(DATA)


def test_leftover_temp_files_are_never_content(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path)
    blobs.put_bytes(DATA)
    (tmp_path / SHA[:2] / ".tmp-deadbeef").write_bytes(DATA[:10])  # a crash mid-write
    (tmp_path / ".tmp-cafe").write_bytes(b"x")
    assert blobs.verify(SHA)
    assert blobs.remove_temp_files() == 2
    assert blobs.has(SHA)
