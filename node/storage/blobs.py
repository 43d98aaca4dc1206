"""Content-addressed storage of record files: ``root/ab/abcdef…`` named by their sha256.

Crash safety: content is written to a temporary file, fsynced, then renamed over the final
name (and the directory fsynced), so a file under its final name is always complete. The
name is the hash, so storing the same content twice is a no-op and corruption is detectable
(``verify``, and ``read_chunks`` checks the hash as it streams). Only 64 lowercase hex
digits are accepted as a name: no path tricks.

The plain methods block (offline tools and tests call them); coroutines use the async ones
(``put``, ``missing``, ``read_chunks``), which run the file work on a worker thread as the
database stores do, so one node's disk never holds up the others a host runs.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import secrets
from collections.abc import AsyncIterator, Iterable, Mapping
from pathlib import Path
from typing import BinaryIO

from node.errors import InvalidInput, NotFound, StorageError

_SHA256 = re.compile(r"[0-9a-f]{64}")
COPY_CHUNK = 1 << 20
TEMP_PREFIX = ".tmp-"


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class BlobStore:
    """Files named by the sha256 of their content, under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        """Where the content with this hash lives; ``InvalidInput`` unless 64 lowercase hex."""
        if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
            raise InvalidInput(f"内容摘要应为 64 位小写十六进制 sha256: {sha256!r:.80}")
        return self.root / sha256[:2] / sha256

    def has(self, sha256: str) -> bool:
        """True if the content is stored."""
        return self.path(sha256).is_file()

    def put_bytes(self, data: bytes) -> tuple[str, int]:
        """Store ``data``; return ``(sha256, size)``. Blocks for one fsync."""
        sha = hashlib.sha256(data).hexdigest()
        if not self.has(sha):
            self._write(sha, [data])
        return sha, len(data)

    async def put(self, data: bytes) -> tuple[str, int]:
        """``put_bytes`` off the event loop (hashing, writing and the fsync)."""
        return await asyncio.to_thread(self.put_bytes, data)

    async def put_many(self, contents: Mapping[str, bytes]) -> None:
        """Store each of ``contents`` (sha256 -> bytes) not yet stored, in one trip off the
        event loop. The caller has checked every key is its bytes' sha256 (ingest does, before
        it validates anything else), so nothing is hashed twice."""

        def write() -> None:
            for sha, data in contents.items():
                if not self.has(sha):
                    self._write(sha, [data])

        if contents:
            await asyncio.to_thread(write)

    async def sizes(self, sha256s: Iterable[str]) -> dict[str, int]:
        """The size in bytes of each of ``sha256s`` that is stored (absent ones left out),
        looked up off the event loop in one go. ``InvalidInput`` if one is not 64 hex."""
        wanted = list(sha256s)

        def stat() -> dict[str, int]:
            found = {}
            for sha in wanted:
                path = self.path(sha)
                if path.is_file():
                    found[sha] = path.stat().st_size
            return found

        return await asyncio.to_thread(stat) if wanted else {}

    def put_file(self, src: Path) -> tuple[str, int]:
        """Copy the file ``src`` in (streaming, hashing as it goes); return ``(sha256, size)``.

        Blocking: from async code use ``await asyncio.to_thread(blobs.put_file, src)``.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        temp = self.root / f"{TEMP_PREFIX}{secrets.token_hex(8)}"
        digest = hashlib.sha256()
        size = 0
        try:
            with open(src, "rb") as source, open(temp, "xb") as out:
                while chunk := source.read(COPY_CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            sha = digest.hexdigest()
            final = self.path(sha)
            if final.is_file():
                temp.unlink()
            else:
                final.parent.mkdir(exist_ok=True)
                os.replace(temp, final)
                _fsync_dir(final.parent)
        except OSError as exc:
            temp.unlink(missing_ok=True)
            raise StorageError(f"无法存入文件 {src}: {exc}") from exc
        return sha, size

    def _write(self, sha: str, chunks: list[bytes]) -> None:
        final = self.path(sha)
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            temp = final.parent / f"{TEMP_PREFIX}{secrets.token_hex(8)}"
            try:
                with open(temp, "xb") as out:
                    for chunk in chunks:
                        out.write(chunk)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(temp, final)
            finally:
                temp.unlink(missing_ok=True)
            _fsync_dir(final.parent)
        except OSError as exc:
            raise StorageError(f"无法写入内容 {sha}: {exc}") from exc

    def open(self, sha256: str) -> BinaryIO:
        """Open the stored content for reading; ``NotFound`` if absent."""
        try:
            return open(self.path(sha256), "rb")
        except FileNotFoundError:
            raise NotFound(f"没有摘要为 {sha256} 的内容") from None

    def size(self, sha256: str) -> int:
        """Size in bytes of the stored content; ``NotFound`` if absent."""
        try:
            return self.path(sha256).stat().st_size
        except FileNotFoundError:
            raise NotFound(f"没有摘要为 {sha256} 的内容") from None

    async def read_chunks(
        self, sha256: str, chunk_size: int, *, verify: bool = True
    ) -> AsyncIterator[bytes]:
        """Yield the content in chunks, reading off the event loop.

        With ``verify`` (the default) the content is hashed as it streams and
        ``StorageError`` is raised after the last chunk if it does not match its name, so
        a corrupted file is never passed on as good.
        """
        if chunk_size < 1:
            raise InvalidInput(f"chunk_size 必须为正数: {chunk_size}")
        file = await asyncio.to_thread(self.open, sha256)
        digest = hashlib.sha256()

        def read() -> bytes:  # on the worker thread: the hashing too stays off the loop
            chunk = file.read(chunk_size)
            if verify:
                digest.update(chunk)
            return chunk

        try:
            while chunk := await asyncio.to_thread(read):
                yield chunk
        finally:
            file.close()
        if verify and digest.hexdigest() != sha256:
            raise StorageError(f"内容 {sha256} 已损坏（摘要不符），请从备份或上级恢复")

    def verify(self, sha256: str) -> bool:
        """True if the stored content hashes to its name; False if corrupt or missing.

        Blocking: from async code use ``await asyncio.to_thread(blobs.verify, sha)``.
        """
        digest = hashlib.sha256()
        try:
            with self.open(sha256) as file:
                while chunk := file.read(COPY_CHUNK):
                    digest.update(chunk)
        except NotFound:
            return False
        return digest.hexdigest() == sha256

    def remove_temp_files(self) -> int:
        """Delete temporary files left by a crash mid-write; return how many."""
        removed = 0
        if not self.root.is_dir():
            return 0
        for temp in [*self.root.glob(f"{TEMP_PREFIX}*"), *self.root.glob(f"??/{TEMP_PREFIX}*")]:
            temp.unlink(missing_ok=True)
            removed += 1
        return removed
