"""Continuation managers (servlets.managers), unit by unit."""
from __future__ import annotations

import re

import gevent
import pytest

import servlets.managers.timeouts as timeouts
from servlets.managers import (
    NoContinuation,
    NoInstance,
    create_lru_manager,
    current_rss,
    make_none_manager,
    make_threshold_lru_manager,
    make_timeout_manager,
)


class K:
    """A stored continuation that records its release."""

    def __init__(self) -> None:
        self.released = 0

    def release(self) -> None:
        self.released += 1


def handler(request):
    return "expired"


@pytest.fixture
def lru():
    manager = make_threshold_lru_manager(handler, 1 << 40)
    yield manager
    manager.close()


def test_ids_are_128_random_bits(lru):
    ids = {lru.create_instance(lambda: None) for _ in range(100)}
    assert len(ids) == 100 and all(re.fullmatch(r"[A-Za-z0-9_-]{22}", i) for i in ids)
    instance = next(iter(ids))
    k_id, salt = lru.continuation_store(instance, K(), None)
    assert k_id == 1 and re.fullmatch(r"[A-Za-z0-9_-]{22}", salt)
    assert lru.continuation_store(instance, K(), None)[0] == 2


def test_store_lookup_peek_and_failures(lru):
    instance = lru.create_instance(lambda: None)
    k = K()
    own = lambda request: "mine"  # noqa: E731
    k_id, salt = lru.continuation_store(instance, k, own)
    assert lru.continuation_lookup(instance, k_id, salt) is k
    assert lru.continuation_peek(instance, k_id, salt) is k
    with pytest.raises(NoInstance) as e:
        lru.continuation_lookup("nope", k_id, salt)
    assert e.value.expiration_handler is handler
    with pytest.raises(NoContinuation) as e:
        lru.continuation_lookup(instance, k_id + 1, salt)
    assert e.value.expiration_handler is handler
    # a wrong salt names the continuation's own expiration handler, as in Racket
    with pytest.raises(NoContinuation) as e:
        lru.continuation_lookup(instance, k_id, "x" * 22)
    assert e.value.expiration_handler is own


def test_clear_continuations_releases_and_keeps_the_handler(lru):
    instance = lru.create_instance(lambda: None)
    ks = [K(), K()]
    stored = [lru.continuation_store(instance, k, None) for k in ks]
    lru.clear_continuations(instance)
    assert [k.released for k in ks] == [1, 1]
    for k_id, salt in stored:
        with pytest.raises(NoContinuation):
            lru.continuation_lookup(instance, k_id, salt)
    lru.clear_continuations(instance)  # twice: nothing released twice
    assert [k.released for k in ks] == [1, 1]


def test_lru_life_points():
    manager = create_lru_manager(handler, 3600, 3600, lambda: True, initial_count=2)
    expired = []
    instance = manager.create_instance(lambda: expired.append(True))
    k = K()
    k_id, salt = manager.continuation_store(instance, k, None)
    manager.continuation_lookup(instance, k_id, salt)   # a use: one more point (3)
    manager.continuation_peek(instance, k_id, salt)     # a peek: none
    for _ in range(3):
        manager.collect()
    assert manager.continuation_lookup(instance, k_id, salt) is k  # 3 - 3 + 1 = 1
    manager.collect()
    assert k.released == 0 and manager.instance_count() == 1
    manager.collect()   # no point left: dropped, and its instance, now empty, with it
    assert k.released == 1 and manager.instance_count() == 0 and expired == [True]
    with pytest.raises(NoInstance):
        manager.continuation_lookup(instance, k_id, salt)
    manager.close()


def test_lru_collector_runs_on_its_own():
    informed = gevent.event.Event()
    manager = create_lru_manager(handler, 0.01, 3600, lambda: True,
                                 inform=lambda removed: informed.set())
    manager.create_instance(lambda: None)   # no continuation: collected at once
    assert informed.wait(5)
    assert manager.instance_count() == 0
    manager.close()


def test_lru_max_instances_drops_the_least_recently_used():
    manager = make_threshold_lru_manager(handler, 1 << 40, max_instances=3)
    expired = []
    ids = [manager.create_instance(lambda n=n: expired.append(n)) for n in range(3)]
    stored = [manager.continuation_store(i, K(), None) for i in ids]
    manager.continuation_lookup(ids[0], *stored[0])    # 0 is now the most recent
    manager.create_instance(lambda: None)
    assert expired == [1] and manager.instance_count() == 3
    with pytest.raises(NoInstance):
        manager.continuation_lookup(ids[1], *stored[1])
    manager.close()
    assert sorted(expired) == [0, 1, 2]


def test_threshold_measures_rss():
    assert current_rss() > 1024 * 1024
    manager = make_threshold_lru_manager(handler, current_rss() * 100)
    assert not manager.should_collect()
    manager = make_threshold_lru_manager(handler, 1)
    assert manager.should_collect()


@pytest.fixture
def clock(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(timeouts, "_now", lambda: now[0])
    return now


def test_timeout_manager(clock):
    manager = make_timeout_manager(handler, 60, 10)
    expired = []
    instance = manager.create_instance(lambda: expired.append(True))
    k = K()
    k_id, salt = manager.continuation_store(instance, k, None)
    clock[0] += 9
    assert manager.continuation_lookup(instance, k_id, salt) is k   # renews both
    clock[0] += 9
    assert manager.continuation_peek(instance, k_id, salt) is k
    clock[0] += 2
    with pytest.raises(NoContinuation):
        manager.continuation_lookup(instance, k_id, salt)
    manager.sweep()
    assert k.released == 1 and not expired
    clock[0] += 61
    manager.sweep()
    assert expired == [True] and manager.instance_count() == 0
    manager.close()


def test_timeout_manager_adjust_and_lazy_expiry(clock):
    manager = make_timeout_manager(handler, 60, 60)
    instance = manager.create_instance(lambda: None)
    k_id, salt = manager.continuation_store(instance, K(), None)
    manager.adjust_timeout(instance, 5)
    clock[0] += 6
    with pytest.raises(NoInstance):   # expired even before a sweep
        manager.continuation_lookup(instance, k_id, salt)
    manager.close()


def test_none_manager():
    manager = make_none_manager(handler)
    instance = manager.create_instance(lambda: None)
    for call in (lambda: manager.continuation_store(instance, K(), None),
                 lambda: manager.continuation_lookup(instance, 1, "s"),
                 lambda: manager.clear_continuations(instance)):
        with pytest.raises(NoInstance) as e:
            call()
        assert e.value.expiration_handler is handler
