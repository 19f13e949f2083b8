"""Processes sharing the blocks: chunks, taking the next chunk when free, and failures."""

import multiprocessing
import os
import resource
import time

from reporting.disclosure import parallel
from reporting.disclosure.parallel import chunks, run_shared, run_split


def _pid() -> int:
    return os.getpid()


def test_every_task_runs_in_a_child_of_its_own_while_the_build_waits() -> None:
    # The build's own process keeps its priority, so it does none of the work itself.
    first, second = run_split([_pid, _pid])
    assert os.getpid() not in (first, second)
    assert first != second


def _niceness() -> int:
    return os.nice(0)


def test_children_run_at_a_lower_priority_than_the_build() -> None:
    # A child protecting part of a release must give way to the web workers on a small box.
    here = os.nice(0)
    first, second = run_split([_niceness, _niceness])
    assert first == second == min(19, here + parallel.CHILD_NICENESS) > here
    assert os.nice(0) == here


def _pids_in(queue) -> None:
    queue.put((os.getpid(), run_split([_pid, _pid])))


def test_a_daemonic_process_such_as_a_celery_pool_worker_has_a_child_too() -> None:
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    worker = context.Process(target=_pids_in, args=(queue,), daemon=True)
    worker.start()
    parent, (first, second) = queue.get(timeout=60)
    worker.join()
    assert len({parent, first, second, os.getpid()}) == 4


def test_a_task_whose_process_fails_is_done_again_here() -> None:
    parent = os.getpid()

    def only_here() -> tuple[str, int]:
        if os.getpid() != parent:
            raise RuntimeError("the child's task fails")
        return ("done", os.getpid())

    child, done = run_split([_pid, only_here])
    assert child != parent
    assert done == ("done", parent)


def _slow(item: int) -> tuple[int, int]:
    time.sleep(0.02)
    return item, os.getpid()


def test_every_item_is_done_once_in_order_by_whichever_process_is_free() -> None:
    done = run_shared(range(40), _slow, 2)
    assert [item for item, _ in done] == list(range(40))
    # Both children took items; the build's own process took none.
    pids = {pid for _, pid in done}
    assert len(pids) == 2
    assert os.getpid() not in pids


def test_the_items_of_a_failed_child_are_done_here() -> None:
    parent = os.getpid()

    def work(item: int) -> tuple[int, int]:
        if os.getpid() != parent:
            os._exit(1)  # the child dies with the item it took
        return item, os.getpid()

    assert run_shared(range(10), work, 2) == [(item, parent) for item in range(10)]


def test_a_child_killed_while_holding_the_counter_does_not_stop_the_build(monkeypatch) -> None:
    parent = os.getpid()
    take_next = parallel._next
    died = multiprocessing.get_context("fork").Value("b", 0)

    def dies_holding_the_lock(taken):
        if os.getpid() != parent:
            with died.get_lock():
                first, died.value = not died.value, 1
            if first:
                # The first child to come takes the counter's lock and dies holding it, as if
                # killed from outside between taking the lock and letting it go.
                taken.get_lock().acquire()
                os._exit(1)
        return take_next(taken)

    monkeypatch.setattr(parallel, "_next", dies_holding_the_lock)
    monkeypatch.setattr(parallel, "LOCK_WAIT_SECONDS", 0.5)
    # Without a limit on the wait the other child would wait for the dead one's lock for ever,
    # and this process for it.
    done = run_shared(range(20), _slow, 2)
    assert [item for item, _ in done] == list(range(20))
    # The other child may have taken an item before the lock was lost; this process did the rest.
    assert sum(pid == parent for _, pid in done) >= 18


def test_chunks_hold_every_block_once_biggest_first() -> None:
    sizes = [346, 3333, 421, 416, 352, 351, 350, 349, 348, 347, 6, 6]
    split = chunks(sizes, 2, per_process=4)
    assert sorted(b for chunk in split for b in chunk) == list(range(len(sizes)))
    loads = [sum(sizes[b] for b in chunk) for chunk in split]
    assert loads == sorted(loads, reverse=True)
    # The big block is a chunk on its own; the small ones are put together, none left alone.
    assert split[0] == [1]
    assert all(len(chunk) > 1 for chunk in split[1:-1])
    target = sum(sizes) / 8
    assert all(load < 2 * target for load in loads[1:])


def test_the_peak_memory_told_includes_the_childrens() -> None:
    # The benchmarks' peak: with the protecting in children, this process's alone would hide it.
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    grow = int(own + 200) * 1024 * 1024

    def big() -> int:
        return len(b"x" * grow)

    assert run_split([big, big]) == [grow, grow]
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 < own + 200
    assert parallel.peak_rss_mb() >= own + 200
