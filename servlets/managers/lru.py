"""The LRU continuation manager.  Racket: ``web-server/managers/lru``.

Every continuation starts with ``initial_count`` life points and gains one on each use.
Every ``check_interval`` seconds, if ``collect()`` says memory is short, each
continuation loses a point, those at zero are dropped, and instances left without
continuations are dropped (their suspended greenlets are killed).  Every
``collect_interval`` seconds the same happens regardless.

``make_threshold_lru_manager(expiration_handler, memory_threshold)`` is Racket's
``make-threshold-LRU-manager``: checks every 5 s whether the process's resident memory
(RSS; Racket measures its own heap) is at least ``memory_threshold`` bytes, a point
every 10 minutes regardless, 24 points to start.  ``max_instances`` (not in Racket)
bounds the number of instances outright: creating one more drops the least recently used.
"""
from __future__ import annotations

import os
import time
import weakref
from typing import Callable, Optional

import gevent

from .manager import ExpirationHandler, TableManager, _Entry

__all__ = ["create_lru_manager", "make_threshold_lru_manager", "LRUManager", "current_rss"]

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def current_rss() -> int:
    """The resident memory of this process in bytes (peak RSS where /proc is absent)."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        import resource
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class LRUManager(TableManager):
    def __init__(self, instance_expiration_handler: ExpirationHandler,
                 check_interval: float, collect_interval: float,
                 collect: Callable[[], bool], initial_count: int = 1,
                 inform: Callable[[int], None] = lambda removed: None,
                 max_instances: Optional[int] = None) -> None:
        super().__init__(instance_expiration_handler)
        self.check_interval = check_interval
        self.collect_interval = collect_interval
        self.should_collect = collect
        self.initial_count = initial_count
        self.inform = inform
        self.max_instances = max_instances
        self._loop: Optional[gevent.Greenlet] = None

    def _new_entry(self, salt, k, eh) -> _Entry:
        return _Entry(salt, k, eh, count=self.initial_count)

    def _touch_entry(self, entry: _Entry) -> None:
        entry.count += 1

    def create_instance(self, expire_fn) -> str:
        if self._loop is None:
            self._loop = gevent.spawn(_collector, weakref.ref(self),
                                      self.check_interval, self.collect_interval)
        if self.max_instances is not None:
            while len(self.instances) >= max(self.max_instances, 1):
                self._drop_instance(next(iter(self.instances)))  # least recently used
        return super().create_instance(expire_fn)

    def collect(self, just_go: bool = False) -> int:
        """Take a life point from every continuation; drop the dead and the empty."""
        removed = 0
        for instance_id, instance in list(self.instances.items()):
            for k_id, entry in list(instance.k_table.items()):
                if entry.count <= 0:
                    self._drop_entry(instance, k_id)
                    removed += 1
                else:
                    entry.count -= 1
            if not instance.k_table:
                self._drop_instance(instance_id)
                removed += 1
        if just_go or removed:
            self.inform(removed)
        return removed

    def close(self) -> None:
        if self._loop is not None:
            self._loop.kill(block=False)
            self._loop = None
        super().close()


def _collector(ref: weakref.ref[LRUManager], check: float, every: float) -> None:
    # Holds the manager weakly: a manager nobody uses any more stops its collector.
    next_collect = time.monotonic() + every
    while True:
        gevent.sleep(min(check, max(next_collect - time.monotonic(), 0)))
        manager = ref()
        if manager is None:
            return
        if time.monotonic() >= next_collect:
            next_collect = time.monotonic() + every
            manager.collect(True)
        elif manager.should_collect():
            manager.collect(False)
        del manager


def create_lru_manager(instance_expiration_handler: ExpirationHandler,
                       check_interval: float, collect_interval: float,
                       collect: Callable[[], bool], *, initial_count: int = 1,
                       inform: Callable[[int], None] = lambda removed: None,
                       max_instances: Optional[int] = None) -> LRUManager:
    """Racket: ``create-LRU-manager`` (``#:inform-p`` is ``inform``)."""
    return LRUManager(instance_expiration_handler, check_interval, collect_interval,
                      collect, initial_count, inform, max_instances)


def make_threshold_lru_manager(instance_expiration_handler: ExpirationHandler,
                               memory_threshold: int, *,
                               max_instances: Optional[int] = None) -> LRUManager:
    """Racket: ``make-threshold-LRU-manager``, plus ``max_instances``."""
    return create_lru_manager(
        instance_expiration_handler, 5, 10 * 60,
        lambda: current_rss() >= memory_threshold,
        initial_count=24, max_instances=max_instances)

