"""Run a generator in a child process and relay what it yields, so reading a file overlaps
storing it.

Parsing a large replay file (gunzip, numpy over each block) and storing it are both CPU,
and in one process they share one GIL: the thread storing rows gives the GIL up for every
statement and waits to get it back while the parser holds it. A forked child parses
block k+1 while this process stores block k; the pipe between them holds one block, so
the child is never more than one block ahead. Where fork does not exist, it runs here.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from typing import TypeVar

T = TypeVar("T")
ITEM, DONE, FAILED = "item", "done", "failed"


def read_ahead(produce: Callable[[], Iterator[T]]) -> Iterator[T]:
    """What ``produce()`` yields, in order, made in a forked child; its exception is raised here."""
    try:
        context = multiprocessing.get_context("fork")
    except ValueError:
        yield from produce()
        return
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_relay, args=(produce, sender), name="meters-read-ahead", daemon=True)
    child.start()
    sender.close()
    try:
        while True:
            kind, value = receiver.recv()
            if kind == DONE:
                return
            if kind == FAILED:
                raise value
            yield value
    finally:
        receiver.close()
        if child.is_alive():
            child.terminate()
        child.join()


def _relay(produce: Callable[[], Iterator[object]], sender: Connection) -> None:
    try:
        for value in produce():
            sender.send((ITEM, value))
        sender.send((DONE, None))
    except BaseException as exc:  # the reader's failure is the import's, raised in the parent
        try:
            sender.send((FAILED, exc))
        except Exception:  # an exception that cannot be pickled: its words at least
            sender.send((FAILED, RuntimeError(repr(exc))))
