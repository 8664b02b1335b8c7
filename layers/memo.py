"""A thread-safe, bounded, single-flight memo: each missing key is built once."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

T = TypeVar("T")


class Memo:
    """A thread-safe LRU store that builds each missing key once (single flight).

    Sessions asking for a key being built wait for that build instead of repeating it: a
    council meeting opening the same page on twenty screens builds its map once.
    """

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._data: OrderedDict[Hashable, object] = OrderedDict()
        self._building: dict[Hashable, threading.Event] = {}
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable, build: Callable[[], T]) -> T:
        """The value kept under ``key``, built by ``build()`` the first time."""
        while True:
            with self._lock:
                if key in self._data:
                    self._data.move_to_end(key)
                    self.hits += 1
                    return self._data[key]  # type: ignore[return-value]
                pending = self._building.get(key)
                if pending is None:
                    done = self._building[key] = threading.Event()
                    self.misses += 1
                    break
            pending.wait(timeout=120)  # then look again (built, or the builder failed)
        try:
            value = build()
            with self._lock:
                self._data[key] = value
                self._data.move_to_end(key)
                while len(self._data) > self.max_entries:
                    self._data.popitem(last=False)
            return value
        finally:
            with self._lock:
                self._building.pop(key, None)
            done.set()

    def peek(self, key: Hashable) -> object | None:
        """The value kept under ``key`` (and now the most recent), or ``None``: never builds."""
        with self._lock:
            if key not in self._data:
                return None
            self._data.move_to_end(key)
            return self._data[key]

    def __len__(self) -> int:
        return len(self._data)
