"""Optional second process over independent blocks (the release tables split into blocks).

Blocks share no cell and no relation, so choosing secondary cells and auditing can run block by
block in separate processes with the same results as in one (the audit of a union of blocks is
exact for it, see :func:`.audit.audit_system`). The blocks are put in chunks, and each process
(children forked from this one, which inherit the compiled system) takes the next chunk
whenever it is free (:func:`run_shared`): the work per cell differs between blocks, so shares
fixed in advance leave one process waiting for the other. Children return only their results,
through a pipe; the build's own process only waits for them.

``fork`` is used (no new interpreter, nothing to pickle on the way in), directly, so that a
Celery pool worker (a daemonic process) may have children too; where it is unavailable, or a
child cannot be started or fails, its chunks simply run here, so the outcome never depends on
the processes. Children never touch files, sockets or the database, and leave with
``os._exit`` once their result is sent. They run at a lower CPU priority (:data:`CHILD_NICENESS`):
on a small box a release rebuilt during the survey must not take the web workers' cores.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import resource
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")

# Below this many hideable cells a fork costs more than it saves.
MIN_CELLS = 4000
# Chunks of blocks per process when processes share the blocks as they go (see :func:`chunks`).
CHUNKS_PER_PROCESS = 8
# The shared counter's lock is held for one increment. A process that waits this long for it
# takes it that its holder died there (killed from outside) and stops taking items; the items
# nobody finished are then done in this process (see :func:`run_shared`).
LOCK_WAIT_SECONDS = 30.0
# Added to a child's niceness, so that it gives way to the web workers. With the web server
# on the same 2-core box (deadline day at twice the real pace), children at the same priority
# took the web's core for the seconds a rebuild's protection lasts: page views' p99 891 ms,
# against 199 ms with this. On an idle machine it changes nothing. So that all of the
# protecting gives way, every task runs in a child and the build's own process only waits:
# that process cannot lower its own priority for a while (raising it again needs privileges).
CHILD_NICENESS = 10


def worker_count(requested: int | None, blocks: int, cells: int) -> int:
    """Processes to use: as requested, else 2 for a big release on a machine with 2+ cores."""
    if requested is not None:
        return max(1, min(int(requested), blocks))
    if blocks < 2 or cells < MIN_CELLS or not _can_fork():
        return 1
    return min(2, os.cpu_count() or 1, blocks)


def chunks(
    sizes: Sequence[int], processes: int, per_process: int = CHUNKS_PER_PROCESS
) -> list[list[int]]:
    """Block indices in chunks of about ``1 / (processes * per_process)`` of all the cells.

    A block at least that big is a chunk of its own; smaller blocks are put together, the
    biggest first. Chunks come biggest first, the order in which processes should take them:
    the last ones taken are small, so the processes finish at about the same time however the
    work per cell differs between blocks.
    """
    order = np.argsort(-np.asarray(sizes), kind="stable").tolist()
    target = sum(sizes) / max(1, processes * per_process)
    found: list[list[int]] = []
    current: list[int] = []
    load = 0
    for b in order:
        if sizes[b] >= target:
            found.append([b])
            continue
        current.append(b)
        load += sizes[b]
        if load >= target:
            found.append(current)
            current, load = [], 0
    if current:
        found.append(current)
    found.sort(key=lambda chunk: -sum(sizes[b] for b in chunk))
    return [sorted(chunk) for chunk in found]


def run_shared(items: Sequence[Any], work: Callable[[Any], T], processes: int) -> list[T]:
    """``work(item)`` for every item, in ``processes`` forked children taking the next item
    whenever they are free; results in item order.

    The items a child took are done again here when it fails, so nothing is lost or done
    twice in the results; and a child killed while it holds the shared counter's lock stops
    the others taking items, not the build.
    """
    if processes <= 1 or len(items) <= 1 or not _can_fork():
        return [work(item) for item in items]
    context = multiprocessing.get_context("fork")
    taken = context.Value("l", 0)

    def take() -> list[tuple[int, T]]:
        done = []
        while True:
            index = _next(taken)
            if index is None or index >= len(items):
                return done
            done.append((index, work(items[index])))

    found: dict[int, T] = {}
    for part in run_split([take] * processes, fallback=list):
        found.update(part)
    for index, item in enumerate(items):
        if index not in found:
            found[index] = work(item)
    return [found[index] for index in range(len(items))]


def _next(taken: Any) -> int | None:
    """The shared counter's value, counted up; None when its lock cannot be had."""
    lock = taken.get_lock()
    if not lock.acquire(timeout=LOCK_WAIT_SECONDS):
        return None
    try:
        index = int(taken.value)
        taken.value = index + 1
    finally:
        lock.release()
    return index


def run_split(tasks: Sequence[Callable[[], T]], fallback: Callable[[], T] | None = None) -> list[T]:
    """Run each task in a forked child, this process only waiting; results in task order.

    A child that fails has its task run again here, or ``fallback`` in its place when given.
    """
    if len(tasks) <= 1 or not _can_fork():
        return [task() for task in tasks]
    children = [_fork(task) for task in tasks]
    return [
        _collect(task if fallback is None else fallback, child)
        for task, child in zip(tasks, children, strict=True)
    ]


def _fork(task: Callable[[], Any]) -> tuple[int, Any] | None:
    """A child running ``task`` (its pid and the end of the pipe its result comes through).

    ``os.fork`` rather than ``multiprocessing.Process``: a Celery pool worker, where releases
    are built, is a daemonic process, which ``multiprocessing`` forbids to have children. The
    child leaves with ``os._exit``, so it never runs the parent's exit handlers nor closes its
    connections. None when no child can be started (its task then runs here).
    """
    try:
        receive, send = multiprocessing.Pipe(duplex=False)
    except OSError:
        return None
    try:
        pid = os.fork()
    except OSError:
        receive.close()
        send.close()
        return None
    if pid == 0:
        code = 1
        try:
            receive.close()
            with contextlib.suppress(OSError):
                os.nice(CHILD_NICENESS)
            _child(task, send)
            code = 0
        finally:
            os._exit(code)
    send.close()
    return pid, receive


def _collect(task: Callable[[], T], child: tuple[int, Any] | None) -> T:
    if child is None:
        return task()
    pid, receive = child
    try:
        ok, value = receive.recv()
    except (EOFError, OSError):
        ok, value = False, None
    finally:
        receive.close()
        _reap(pid)
    # A child that failed in any way: its share is done again here, so nothing is lost.
    return value if ok else task()


def _reap(pid: int) -> None:
    # Already reaped when a SIGCHLD handler got there first.
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


def _child(task: Callable[[], Any], send: Any) -> None:
    try:
        send.send((True, task()))
    except BaseException:
        send.send((False, None))
    finally:
        send.close()


def _can_fork() -> bool:
    return hasattr(os, "fork")


def peak_rss_mb() -> float:
    """The biggest peak resident memory, in MB, of this process and of the children it has
    waited for: with every task in a child, the protecting's peak is a child's."""
    who = (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    return max(resource.getrusage(one).ru_maxrss for one in who) / 1024
