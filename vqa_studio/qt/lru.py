"""One bounded least-recently-used cache for the GUI's caches (decoded images, item details, queue pages).

``functools.lru_cache`` memoises a function; these caches are filled from outside (a decode or a read
that finished in a worker thread) and read by key, so they need an explicit ``put`` / ``get``.
Not thread-safe: each owner uses its cache from the GUI thread only.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Generic, Hashable, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LRU(Generic[K, V]):
    """At most ``capacity`` entries: ``get`` and ``put`` make an entry the most recent, and past the
    capacity the least recent one is dropped. ``peek`` reads without changing the order."""

    def __init__(self, capacity: int):
        if capacity < 1:
            raise ValueError(f"an LRU cache needs a capacity of at least 1, not {capacity}")
        self.capacity = capacity
        self._d: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K, default: V | None = None) -> V | None:
        if key not in self._d:
            return default
        self._d.move_to_end(key)
        return self._d[key]

    def peek(self, key: K, default: V | None = None) -> V | None:
        return self._d.get(key, default)

    def put(self, key: K, value: V) -> None:
        self._d[key] = value
        self._d.move_to_end(key)
        while len(self._d) > self.capacity:
            self._d.popitem(last=False)

    def pop(self, key: K, default: V | None = None) -> V | None:
        return self._d.pop(key, default)

    def clear(self) -> None:
        self._d.clear()

    def keys(self) -> list[K]:
        """The keys, least recent first."""
        return list(self._d)

    def __contains__(self, key: object) -> bool:
        return key in self._d

    def __len__(self) -> int:
        return len(self._d)
