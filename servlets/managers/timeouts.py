"""The timeout continuation manager.  Racket: ``web-server/managers/timeouts``.

An instance expires ``instance_timeout`` seconds after its last use, a continuation
``continuation_timeout`` seconds after its last use.  ``adjust_timeout`` (from the
servlet: :func:`servlets.web.adjust_timeout`) sets the instance's remaining time.
Expired entries are swept by one background greenlet; a lookup also checks the clock, so
an expired continuation is never resumed even between sweeps.
"""
from __future__ import annotations

import time
import weakref
from typing import Optional

import gevent

from .manager import ExpirationHandler, TableManager, _Entry, _Instance

__all__ = ["create_timeout_manager", "make_timeout_manager", "TimeoutManager"]


def _now() -> float:
    return time.monotonic()


class TimeoutManager(TableManager):
    def __init__(self, instance_expiration_handler: ExpirationHandler,
                 instance_timeout: float, continuation_timeout: float) -> None:
        super().__init__(instance_expiration_handler)
        self.instance_timeout = instance_timeout
        self.continuation_timeout = continuation_timeout
        self._sweeper: Optional[gevent.Greenlet] = None

    def create_instance(self, expire_fn) -> str:
        if self._sweeper is None:
            period = min(max(min(self.instance_timeout, self.continuation_timeout) / 4, 0.01), 5.0)
            self._sweeper = gevent.spawn(_sweep, weakref.ref(self), period)
        instance_id = super().create_instance(expire_fn)
        self.instances[instance_id].deadline = _now() + self.instance_timeout
        return instance_id

    def adjust_timeout(self, instance_id: str, seconds: float) -> None:
        self._lookup(instance_id, peek=True).deadline = _now() + seconds

    def _lookup(self, instance_id: str, peek: bool = False) -> _Instance:
        instance = self.instances.get(instance_id)
        if instance is not None and instance.deadline <= _now():
            self._drop_instance(instance_id)
        return super()._lookup(instance_id, peek)

    def _touch_instance(self, instance: _Instance, peek: bool) -> None:
        if not peek:
            instance.deadline = max(instance.deadline, _now() + self.instance_timeout)

    def _new_entry(self, salt, k, eh) -> _Entry:
        return _Entry(salt, k, eh, deadline=_now() + self.continuation_timeout)

    def _touch_entry(self, entry: _Entry) -> None:
        if self._entry_alive(entry):
            entry.deadline = _now() + self.continuation_timeout

    def _entry_alive(self, entry: _Entry) -> bool:
        return entry.deadline > _now()

    def sweep(self) -> None:
        """Drop expired instances; expire (forget the state of) expired continuations."""
        now = _now()
        for instance_id, instance in list(self.instances.items()):
            if instance.deadline <= now:
                self._drop_instance(instance_id)
                continue
            for entry in instance.k_table.values():
                if entry.k is not None and entry.deadline <= now:
                    k, entry.k = entry.k, None
                    release = getattr(k, "release", None)
                    if release is not None:
                        release()

    def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.kill(block=False)
            self._sweeper = None
        super().close()


def _sweep(ref: weakref.ref[TimeoutManager], period: float) -> None:
    while True:
        gevent.sleep(period)
        manager = ref()
        if manager is None:
            return
        manager.sweep()
        del manager


def create_timeout_manager(instance_expiration_handler: ExpirationHandler,
                           instance_timeout: float,
                           continuation_timeout: float) -> TimeoutManager:
    """Racket: ``create-timeout-manager``."""
    return TimeoutManager(instance_expiration_handler, instance_timeout, continuation_timeout)


#: The name the issue uses.
make_timeout_manager = create_timeout_manager
