"""One writer per folder: an ``flock`` that the system releases if its process dies."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from layers.solar.errors import SolarError


@contextmanager
def hold(lock_file: Path, busy: Callable[[str], str], wait: bool = False) -> Iterator[None]:
    """Hold ``lock_file`` (an ``flock``) while the block runs.

    The file records who holds it (host, process, since when), so that a second writer
    can be told.

    Parameters
    ----------
    lock_file
        The lock, inside the folder it protects (made if missing).
    busy
        The French message of a refusal, given who holds the lock.
    wait
        Wait for the lock instead of refusing.

    Raises
    ------
    SolarError
        Another process holds the lock (without ``wait``): ``busy(who)``.

    Yields
    ------
    None
        While the lock is held.
    """
    import fcntl

    lock_file.parent.mkdir(parents=True, exist_ok=True)
    handle = open(lock_file, "a+", encoding="utf-8")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as err:
            handle.seek(0)
            raise SolarError(busy(handle.read().strip() or "un autre processus")) from err
        handle.seek(0)
        handle.truncate()
        handle.write(
            f"{socket.gethostname()}:{os.getpid()} depuis {time.strftime('%d/%m/%Y %H:%M')}"
        )
        handle.flush()
        yield
    finally:
        handle.close()
