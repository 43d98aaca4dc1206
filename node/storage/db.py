"""One node's SQLite database, used from asyncio without ever blocking the event loop.

After datasette's ``Database``: every write is a plain ``fn(conn)`` sent through a queue to
ONE writer thread that runs it inside ``BEGIN IMMEDIATE`` ... ``COMMIT``, so writes are
serialised (which is what keeps the change log gap-free) and a failed write leaves nothing
behind. Reads run on a small pool of reader threads, each with its own connection, each
read in one snapshot. Results come back to the caller's loop via ``call_soon_threadsafe``.

A process may host dozens of nodes, each with its own ``Database``, so each one keeps only
1 writer + ``read_threads`` (default 2) threads, all stopped by ``close()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

from node.errors import InvalidInput, NodeError, StorageError
from node.storage.migrations import migrate

T = TypeVar("T")

BUSY_TIMEOUT_MS = 5000
CACHE_KIB = 16_000  # page cache per connection; searches at 1M entries want the index hot


class _Mode(Enum):
    READ = "read"  # inside BEGIN (a consistent snapshot) on a reader connection
    WRITE = "write"  # inside BEGIN IMMEDIATE on the writer connection
    RAW = "raw"  # the function manages transactions itself (migrations)
    STOP = "stop"  # close the connection and end the thread


@dataclass
class _Job:
    fn: Callable[[sqlite3.Connection], Any] | None
    mode: _Mode
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Any]


class Database:
    """The SQLite file of one node; open it, then ``await read(fn)`` / ``await write(fn)``."""

    def __init__(self, path: Path, *, read_threads: int = 2) -> None:
        self._path = Path(path)
        self._read_threads = max(1, read_threads)
        self._writes: queue.SimpleQueue[_Job] | None = None
        self._reads: queue.SimpleQueue[_Job] | None = None
        self._threads: list[threading.Thread] = []

    @property
    def path(self) -> Path:
        """The database file."""
        return self._path

    @property
    def is_open(self) -> bool:
        return self._writes is not None

    async def open(self) -> None:
        """Create the file if needed, start the threads and apply pending migrations."""
        if self.is_open:
            return
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._writes = queue.SimpleQueue()
        self._reads = queue.SimpleQueue()
        self._start(self._writes, f"sqlite-writer {self._path}", writer=True)
        try:
            await self._submit(self._writes, migrate, _Mode.RAW)
        except BaseException:
            await self.close()
            raise
        for i in range(self._read_threads):
            self._start(self._reads, f"sqlite-reader-{i} {self._path}", writer=False)

    async def close(self) -> None:
        """Finish queued work, close every connection and end the threads."""
        writes, reads = self._writes, self._reads
        if writes is None or reads is None:
            return
        self._writes = self._reads = None
        readers = sum(1 for t in self._threads if t.name.startswith("sqlite-reader"))
        stops = [self._submit(reads, None, _Mode.STOP) for _ in range(readers)]
        await asyncio.gather(*stops, return_exceptions=True)
        # The writer closes last, so it checkpoints the WAL into the database file.
        await asyncio.gather(self._submit(writes, None, _Mode.STOP), return_exceptions=True)
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = []

    async def read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn(conn)`` on a reader thread, in one read snapshot, and return its result."""
        if self._reads is None:
            raise StorageError(f"数据库未打开: {self._path}")
        result: T = await self._submit(self._reads, fn, _Mode.READ)
        return result

    async def write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn(conn)`` on the writer thread inside ``BEGIN IMMEDIATE`` ... ``COMMIT``.

        On any exception the transaction is rolled back. ``NodeError``s raised by ``fn``
        propagate unchanged; ``sqlite3`` errors become ``StorageError``. The write is
        committed once queued even if the awaiting task is cancelled.
        """
        if self._writes is None:
            raise StorageError(f"数据库未打开: {self._path}")
        result: T = await self._submit(self._writes, fn, _Mode.WRITE)
        return result

    # -- threads ----------------------------------------------------------------------------

    def _submit(
        self,
        jobs: queue.SimpleQueue[_Job],
        fn: Callable[[sqlite3.Connection], Any] | None,
        mode: _Mode,
    ) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        jobs.put(_Job(fn, mode, loop, future))
        return future

    def _start(self, jobs: queue.SimpleQueue[_Job], name: str, *, writer: bool) -> None:
        thread = threading.Thread(target=self._serve, args=(jobs, writer), name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _connect(self, writer: bool) -> sqlite3.Connection:
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, the sqlite3 module never does.
        conn = sqlite3.connect(self._path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        conn.execute("PRAGMA foreign_keys = ON")
        if writer:
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise StorageError(f"数据库不支持 WAL 日志模式: {self._path}")
            # FULL, not NORMAL: with WAL, NORMAL survives kill -9 but may lose the last
            # committed transactions on power loss, and an acknowledged ingest or batch must
            # never be lost. FULL costs one fsync per commit; batches make that cheap.
            conn.execute("PRAGMA synchronous = FULL")
        else:
            conn.execute("PRAGMA query_only = ON")
        return conn

    def _serve(self, jobs: queue.SimpleQueue[_Job], writer: bool) -> None:
        conn: sqlite3.Connection | None = None
        failure: BaseException | None = None
        try:
            conn = self._connect(writer)
        except (sqlite3.Error, NodeError, OSError) as exc:
            failure = exc
        while True:
            job = jobs.get()
            if job.mode is _Mode.STOP:
                if conn is not None:
                    conn.close()
                _deliver(job, None, None)
                return
            if conn is None:
                _deliver(job, None, self._wrap(failure or RuntimeError("no connection"), job))
                continue
            try:
                result = self._run(conn, job)
            except BaseException as exc:  # delivered to the caller, never lost in the thread
                _deliver(job, None, self._wrap(exc, job))
            else:
                _deliver(job, result, None)

    def _run(self, conn: sqlite3.Connection, job: _Job) -> Any:
        assert job.fn is not None
        if job.mode is _Mode.RAW:
            return job.fn(conn)
        conn.execute("BEGIN IMMEDIATE" if job.mode is _Mode.WRITE else "BEGIN")
        try:
            result = job.fn(conn)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):  # the original error matters more
                    conn.execute("ROLLBACK")
            raise
        return result

    def _wrap(self, exc: BaseException, job: _Job) -> BaseException:
        if isinstance(exc, UnicodeEncodeError):  # a lone surrogate cannot be bound as text
            wrapped: NodeError = InvalidInput(f"文本含有无效字符（不成对的代理码位）: {exc.reason}")
            wrapped.__cause__ = exc
            return wrapped
        if isinstance(exc, NodeError) or not isinstance(exc, sqlite3.Error | OSError):
            return exc
        action = "读取" if job.mode is _Mode.READ else "写入"
        wrapped = StorageError(f"数据库{action}失败（{self._path}）: {exc}")
        wrapped.__cause__ = exc
        return wrapped


def _deliver(job: _Job, result: Any, exc: BaseException | None) -> None:
    def settle() -> None:
        if job.future.done():  # the caller was cancelled
            return
        if exc is not None:
            job.future.set_exception(exc)
        else:
            job.future.set_result(result)

    with contextlib.suppress(RuntimeError):  # the caller's loop is closed: nobody waits
        job.loop.call_soon_threadsafe(settle)
