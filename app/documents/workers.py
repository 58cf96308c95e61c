"""Render worker processes for batches of letters: layout runs on every core.

WeasyPrint lays out about 20 ms a page in pure Python, so one process uses one core.
A pool keeps a few clean worker processes (render_worker.py, fed chunks over pipes)
alive between batches, because starting one costs half a second of imports; they end
after ``idle_seconds`` without work, when the pool is closed, or when this process dies
(their stdin closes). A worker that answers with an error, dies, or shows no progress
for ``timeout`` seconds fails the batch with a RenderError: never a hang. After a
failure the workers are replaced, because their state is unknown.
"""

from __future__ import annotations

import atexit
import json
import os
import queue

# Our own script with an argument list, never a shell.
import subprocess  # nosec B404
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from app.documents.pdf import Chunk

WORKER_SCRIPT = Path(__file__).with_name("render_worker.py")


class RenderError(RuntimeError):
    """A render worker failed, died or stopped answering; the message says which, and
    ``cause`` the system's reason when there is one ("No space left on device")."""

    def __init__(self, message: str, cause: str = "") -> None:
        super().__init__(message)
        self.cause = cause or message


@dataclass
class _Worker:
    process: subprocess.Popen[str]
    chunk: int | None = None  # the chunk it is rendering
    deadline: float = 0.0


@dataclass
class RenderPool:
    """Worker processes for one static folder; one batch at a time (others wait)."""

    static_root: Path
    size: int
    nice: int = 0
    idle_seconds: float = 120.0
    timeout: float = 120.0
    _workers: list[_Worker] = field(default_factory=list)
    _answers: queue.Queue[tuple[_Worker, dict[str, Any] | None]] = field(
        default_factory=queue.Queue
    )
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _uses: int = 0
    _timer: threading.Timer | None = None

    def _start(self) -> _Worker:
        process = subprocess.Popen(  # noqa: S603  # nosec B603
            [sys.executable, str(WORKER_SCRIPT), str(self.static_root), str(self.nice)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            close_fds=True,
        )
        worker = _Worker(process)
        # A thread per worker turns its answers into messages on one queue: a select on
        # buffered pipes can miss lines that are already read into the buffer.
        threading.Thread(
            target=_read_answers,
            args=(worker, process.stdout, self._answers),
            name=f"render-worker-{process.pid}",
            daemon=True,
        ).start()
        return worker

    def _ensure_workers(self) -> None:
        alive = [w for w in self._workers if w.process.poll() is None]
        if len(alive) != len(self._workers):
            self._stop_all()  # one died while idle: start clean
            alive = []
        while len(alive) < self.size:
            alive.append(self._start())
        self._workers = alive

    def _stop_all(self) -> None:
        for worker in self._workers:
            _stop(worker.process)
        self._workers = []
        self._answers = queue.Queue()  # answers of stopped workers never reach a new batch

    def close(self) -> None:
        """End the workers (they are started again by the next batch)."""
        with self._lock:
            self._cancel_timer()
            self._stop_all()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _close_if_unused(self, uses: int) -> None:
        with self._lock:
            if self._uses == uses:  # no batch came since the timer was set
                self._stop_all()

    def run(self, chunks: Iterator[Chunk], progress: Callable[[str], None]) -> int:
        """Render every chunk, calling ``progress`` with the path of each letter's file as
        it is written; returns the pages.

        Chunks are drawn from the iterator one ahead of the workers, so the caller
        prepares the next chunk's HTML while the workers lay out the previous ones.
        """
        with self._lock:
            self._cancel_timer()
            self._uses += 1
            try:
                pages = self._run(chunks, progress)
            except BaseException:
                self._stop_all()
                raise
            finally:
                self._timer = threading.Timer(
                    self.idle_seconds, self._close_if_unused, args=(self._uses,)
                )
                self._timer.daemon = True
                self._timer.start()
            return pages

    def _run(self, chunks: Iterator[Chunk], progress: Callable[[str], None]) -> int:
        self._ensure_workers()
        pages = 0
        busy = 0
        number = 0
        idle = list(self._workers)
        ready = next(chunks, None)
        while True:
            while idle and ready is not None:
                self._send(idle.pop(), ready, number)
                number += 1
                busy += 1
                # The next chunk's HTML is made while the workers lay out theirs.
                ready = next(chunks, None)
            if busy == 0:
                return pages
            worker, answer = self._next_answer()
            if answer is None:
                code = worker.process.wait()
                raise RenderError(f"a render worker ended unexpectedly (exit code {code})")
            if "error" in answer:
                raise RenderError(
                    f"a render worker failed: {answer['error']}", str(answer.get("cause", ""))
                )
            worker.deadline = time.monotonic() + self.timeout
            if "done" in answer:
                progress(str(answer["done"]))
            else:
                pages += int(answer["pages"])
                worker.chunk = None
                busy -= 1
                idle.append(worker)

    def _send(self, worker: _Worker, chunk: Chunk, number: int) -> None:
        stdin = worker.process.stdin
        if stdin is None:
            raise RenderError("a render worker has no input")
        worker.chunk = number
        worker.deadline = time.monotonic() + self.timeout
        try:
            stdin.write(json.dumps(asdict(chunk)) + "\n")
            stdin.flush()
        except (BrokenPipeError, ValueError) as error:
            raise RenderError("a render worker ended unexpectedly") from error

    def _next_answer(self) -> tuple[_Worker, dict[str, Any] | None]:
        while True:
            busy = [w for w in self._workers if w.chunk is not None]
            deadline = min(w.deadline for w in busy)
            wait = deadline - time.monotonic()
            if wait <= 0:
                raise RenderError(
                    f"a render worker showed no progress for {self.timeout:g} s and was stopped"
                )
            try:
                return self._answers.get(timeout=wait)
            except queue.Empty:
                continue


def _read_answers(
    worker: _Worker,
    stdout: IO[str] | None,
    answers: queue.Queue[tuple[_Worker, dict[str, Any] | None]],
) -> None:
    if stdout is None:
        return
    with stdout:  # closed here, by its only reader, once the worker has ended
        for line in stdout:
            try:
                answers.put((worker, json.loads(line)))
            except ValueError:
                answers.put((worker, {"error": f"unreadable answer {line[:80]!r}"}))
    answers.put((worker, None))


def _stop(process: subprocess.Popen[str]) -> None:
    """Close its input (a worker ends there), then insist; always reap it. Its output is
    closed by the thread reading it."""
    try:
        if process.stdin is not None:
            process.stdin.close()
    except OSError:
        pass  # the pipe is broken: the worker is gone already
    try:
        process.wait(timeout=2)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


_pools: dict[tuple[Path, int, int], RenderPool] = {}
_pools_pid = os.getpid()
_pools_lock = threading.Lock()


def pool_for(static_root: Path, size: int, nice: int, timeout: float) -> RenderPool:
    """This process's pool (after a fork, e.g. gunicorn's, never the parent's workers)."""
    global _pools_pid
    with _pools_lock:
        if _pools_pid != os.getpid():
            _pools.clear()
            _pools_pid = os.getpid()
        key = (static_root, size, nice)
        if key not in _pools:
            _pools[key] = RenderPool(static_root, size, nice)
        pool = _pools[key]
        pool.timeout = timeout
        return pool


@atexit.register
def close_pools() -> None:
    """End every pool's workers (at exit; benchmarks before measuring something else)."""
    if _pools_pid == os.getpid():
        for pool in list(_pools.values()):
            pool.close()
