"""The one bounded LRU cache behind the image, details and queue-page caches."""
from __future__ import annotations

import pytest

from vqa_studio.qt.lru import LRU


def test_least_recent_goes_first_and_get_refreshes():
    c = LRU(2)
    c.put("a", 1)
    c.put("b", 2)
    assert c.get("a") == 1          # "a" is now the most recent
    c.put("c", 3)                   # so "b" goes
    assert "b" not in c and c.keys() == ["a", "c"] and len(c) == 2
    assert c.get("b") is None and c.get("b", 0) == 0


def test_peek_does_not_change_the_order_and_put_replaces():
    c = LRU(2)
    c.put("a", 1)
    c.put("b", 2)
    assert c.peek("a") == 1
    c.put("c", 3)                   # "a" was only peeked at: it goes
    assert c.keys() == ["b", "c"]
    c.put("b", 20)                  # replacing makes it the most recent
    assert c.keys() == ["c", "b"] and c.get("b") == 20


def test_pop_clear_and_falsy_values():
    c = LRU(3)
    c.put(1, [])
    c.put(2, 0)
    assert c.get(1) == [] and c.get(2) == 0 and 1 in c
    assert c.pop(1) == [] and c.pop(1) is None and 1 not in c
    c.clear()
    assert len(c) == 0 and c.keys() == []


def test_capacity_must_be_positive():
    with pytest.raises(ValueError):
        LRU(0)
