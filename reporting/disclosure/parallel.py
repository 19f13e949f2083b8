"""Optional second process over independent blocks (the release tables split into blocks).

Blocks share no cell and no relation, so choosing secondary cells and auditing can run block by
block in separate processes with the same results as in one (the audit of a union of blocks is
exact for it, see :func:`.audit.audit_system`). The work is split in two shares of about equal
size: the first runs in this process, the others in children forked from it, which inherit the
compiled system and return only their results through a pipe.

``fork`` is used (no new interpreter, nothing to pickle on the way in); where it is unavailable,
or a child cannot be started or fails, its share simply runs here, so the outcome never depends
on the processes. Children are daemonic and never touch files, sockets or the database.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")

# Below this many hideable cells a fork costs more than it saves.
MIN_CELLS = 4000


def worker_count(requested: int | None, blocks: int, cells: int) -> int:
    """Processes to use: as requested, else 2 for a big release on a machine with 2+ cores."""
    if requested is not None:
        return max(1, min(int(requested), blocks))
    if blocks < 2 or cells < MIN_CELLS or not _can_fork():
        return 1
    return min(2, os.cpu_count() or 1, blocks)


def shares(sizes: Sequence[int], count: int) -> list[list[int]]:
    """Block indices split into ``count`` shares of about equal total size (largest first)."""
    loads = [0] * count
    split: list[list[int]] = [[] for _ in range(count)]
    for b in np.argsort(-np.asarray(sizes), kind="stable").tolist():
        least = loads.index(min(loads))
        split[least].append(b)
        loads[least] += sizes[b]
    return [sorted(share) for share in split if share]


def run_split(tasks: Sequence[Callable[[], T]]) -> list[T]:
    """Run the first task here and the others in forked children; results in task order."""
    if len(tasks) <= 1 or not _can_fork():
        return [task() for task in tasks]
    context = multiprocessing.get_context("fork")
    children: list[tuple[Any, Any] | None] = []
    for task in tasks[1:]:
        receive, send = context.Pipe(duplex=False)
        try:
            process = context.Process(target=_child, args=(task, send), daemon=True)
            process.start()
        except (AssertionError, OSError):
            # E.g. a daemonic parent may not have children: this share runs here instead.
            receive.close()
            send.close()
            children.append(None)
            continue
        send.close()
        children.append((process, receive))
    results = [tasks[0]()]
    for task, child in zip(tasks[1:], children, strict=True):
        results.append(_collect(task, child))
    return results


def _collect(task: Callable[[], T], child: tuple[Any, Any] | None) -> T:
    if child is None:
        return task()
    process, receive = child
    try:
        ok, value = receive.recv()
    except (EOFError, OSError):
        ok, value = False, None
    finally:
        receive.close()
        process.join()
    # A child that failed in any way: its share is done again here, so nothing is lost.
    return value if ok else task()


def _child(task: Callable[[], Any], send: Any) -> None:
    try:
        send.send((True, task()))
    except BaseException:
        send.send((False, None))
    finally:
        send.close()


def _can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()
