"""Models load once per process and stay loaded: a keyed, lock-protected, load-once cache.

Loading a network takes seconds and much memory, so two threads asking for the same model at
once must not both load it: the first loads under the lock, the others wait and get its object.
Lookups of a loaded model take no lock.

    _networks = ModelCache()
    net = _networks.get("x4", lambda: load_network("x4"))

``keep_latest=True`` keeps only the newest key: for a model keyed by its file's version, a new
version replaces the old one instead of keeping both in memory.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class ModelCache(Generic[V]):
    def __init__(self, *, keep_latest: bool = False) -> None:
        self._lock = threading.Lock()
        self._items: dict[Hashable, V] = {}
        self._keep_latest = keep_latest

    def get(self, key: Hashable, load: Callable[[], V]) -> V:
        """The object cached under ``key``, loading it with ``load()`` the first time only."""
        try:
            return self._items[key]
        except KeyError:
            pass
        with self._lock:
            if key not in self._items:
                value = load()
                if self._keep_latest:
                    self._items.clear()
                self._items[key] = value
            return self._items[key]

    def peek(self, key: Hashable) -> V | None:
        """The object cached under ``key`` if it is loaded; never loads."""
        return self._items.get(key)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
