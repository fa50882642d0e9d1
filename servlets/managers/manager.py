"""The continuation manager interface.  Racket: ``web-server/managers/manager``.

A manager keeps, for each servlet instance, a table of continuations.  The stateful
servlet runtime (:mod:`servlets.stateful`) calls:

* ``create_instance(expire_fn) -> instance_id``: a new instance; ``expire_fn()`` is
  called when the manager drops the instance (it kills the instance's greenlets);
* ``adjust_timeout(instance_id, seconds)``;
* ``clear_continuations(instance_id)``: every continuation of the instance expires;
* ``continuation_store(instance_id, k, expiration_handler) -> (k_id, salt)``;
* ``continuation_lookup(instance_id, k_id, salt) -> k`` (counts as a use) and
  ``continuation_peek`` (does not);
* ``forget_unused(instance_id)``: the instance's greenlets have all ended and it never
  stored a continuation.

Lookups that fail raise :class:`NoInstance` or :class:`NoContinuation`, carrying the
expiration handler that answers the request (Racket's
``exn:fail:servlet-manager:no-instance`` and ``...:no-continuation``).

Differences from Racket: instance ids and salts are random url-safe strings of 128 bits
(Racket: counters and a random number below 10^8), so a continuation URL cannot be
guessed; a stored ``k`` may have a ``release()`` method, which the manager calls when it
drops or clears the continuation, so that a suspended greenlet is freed at once.
"""
from __future__ import annotations

import secrets
from typing import Any, Callable, Optional

from dispatch.http.request import Request

__all__ = [
    "ExpirationHandler", "Manager", "ServletManagerError", "NoInstance", "NoContinuation",
    "new_id", "TableManager",
]
__all__ += ["exn_fail_servlet_manager_no_instance", "exn_fail_servlet_manager_no_continuation"]

#: ``(request) -> response`` or ``None`` (the manager's own handler then applies).
ExpirationHandler = Optional[Callable[[Request], Any]]


def new_id() -> str:
    """128 random bits, url-safe (22 characters)."""
    return secrets.token_urlsafe(16)


class ServletManagerError(Exception):
    """A continuation or instance that this manager does not have (any more)."""

    def __init__(self, message: str, expiration_handler: ExpirationHandler) -> None:
        super().__init__(message)
        self.expiration_handler = expiration_handler


class NoInstance(ServletManagerError):
    """Racket: ``exn:fail:servlet-manager:no-instance``."""


class NoContinuation(ServletManagerError):
    """Racket: ``exn:fail:servlet-manager:no-continuation``."""


#: Racket's spelling: the same class as :class:`NoInstance`.
exn_fail_servlet_manager_no_instance = NoInstance
#: Racket's spelling: the same class as :class:`NoContinuation`.
exn_fail_servlet_manager_no_continuation = NoContinuation


class Manager:
    """Racket's ``manager`` struct as a base class; see the module docstring."""

    #: the handler answering requests for expired instances or continuations
    instance_expiration_handler: ExpirationHandler = None

    def create_instance(self, expire_fn: Callable[[], None]) -> str:
        raise NotImplementedError

    def adjust_timeout(self, instance_id: str, seconds: float) -> None:
        """Only the timeout manager has timeouts to adjust."""

    def clear_continuations(self, instance_id: str) -> None:
        raise NotImplementedError

    def continuation_store(self, instance_id: str, k: Any,
                           expiration_handler: ExpirationHandler) -> tuple[int, str]:
        raise NotImplementedError

    def continuation_lookup(self, instance_id: str, k_id: int, salt: str) -> Any:
        raise NotImplementedError

    def continuation_peek(self, instance_id: str, k_id: int, salt: str) -> Any:
        raise NotImplementedError

    def instance_count(self) -> int:
        """How many instances the manager keeps now."""
        return 0

    def forget_unused(self, instance_id: str) -> None:
        """The instance's code has ended and it stored no continuation: drop it now.
        (Racket keeps it until the next collection; a servlet answering without
        suspending would otherwise leave one instance per request behind.)"""

    def close(self) -> None:
        """Stop the manager's background work and drop every instance."""


def _release(k: Any) -> None:
    release = getattr(k, "release", None)
    if release is not None:
        release()


class _Entry:
    __slots__ = ("salt", "k", "expiration_handler", "count", "deadline")

    def __init__(self, salt: str, k: Any, expiration_handler: ExpirationHandler,
                 count: int = 0, deadline: float = 0.0) -> None:
        self.salt = salt
        self.k = k
        self.expiration_handler = expiration_handler
        self.count = count          # LRU: life points
        self.deadline = deadline    # timeouts: when it expires


class _Instance:
    __slots__ = ("k_table", "next_k_id", "expire_fn", "deadline", "timeout", "last_use")

    def __init__(self, expire_fn: Callable[[], None]) -> None:
        self.k_table: dict[int, _Entry] = {}
        self.next_k_id = 0
        self.expire_fn = expire_fn
        self.deadline = 0.0
        self.timeout = 0.0
        self.last_use = 0


class TableManager(Manager):
    """What the LRU and timeout managers share: instances, each with its k-table.

    gevent is cooperative and nothing here yields, so no lock is needed (Racket's LRU
    manager takes a semaphore around each operation).
    """

    def __init__(self, instance_expiration_handler: ExpirationHandler) -> None:
        self.instance_expiration_handler = instance_expiration_handler
        # insertion order = least recently used first (moved to the end on each use)
        self.instances: dict[str, _Instance] = {}

    # -- hooks for subclasses
    def _touch_instance(self, instance: _Instance, peek: bool) -> None:
        pass

    def _new_entry(self, salt: str, k: Any, eh: ExpirationHandler) -> _Entry:
        return _Entry(salt, k, eh)

    def _touch_entry(self, entry: _Entry) -> None:
        pass

    def _entry_alive(self, entry: _Entry) -> bool:
        return True

    # -- the interface
    def instance_count(self) -> int:
        return len(self.instances)

    def forget_unused(self, instance_id: str) -> None:
        instance = self.instances.get(instance_id)
        if instance is not None and not instance.k_table:
            del self.instances[instance_id]

    def create_instance(self, expire_fn: Callable[[], None]) -> str:
        instance_id = new_id()
        self.instances[instance_id] = _Instance(expire_fn)
        return instance_id

    def _lookup(self, instance_id: str, peek: bool = False) -> _Instance:
        instance = self.instances.get(instance_id)
        if instance is None:
            raise NoInstance(f"No instance for id: {instance_id}",
                             self.instance_expiration_handler)
        if not peek:
            # most recently used last: the LRU eviction takes from the front
            del self.instances[instance_id]
            self.instances[instance_id] = instance
        self._touch_instance(instance, peek)
        return instance

    def clear_continuations(self, instance_id: str) -> None:
        for entry in self._lookup(instance_id).k_table.values():
            k, entry.k = entry.k, None
            if k is not None:
                _release(k)

    def continuation_store(self, instance_id: str, k: Any,
                           expiration_handler: ExpirationHandler) -> tuple[int, str]:
        instance = self._lookup(instance_id, peek=True)
        instance.next_k_id += 1
        k_id = instance.next_k_id
        salt = new_id()
        instance.k_table[k_id] = self._new_entry(salt, k, expiration_handler)
        return k_id, salt

    def _continuation_lookup(self, instance_id: str, k_id: int, salt: str, peek: bool) -> Any:
        instance = self._lookup(instance_id, peek)
        entry = instance.k_table.get(k_id)
        if entry is None:
            raise NoContinuation(f"No continuation for id: {k_id}",
                                 self.instance_expiration_handler)
        if not peek:
            self._touch_entry(entry)
        if (not secrets.compare_digest(entry.salt, salt) or entry.k is None
                or not self._entry_alive(entry)):
            raise NoContinuation(f"No continuation for id: {k_id}",
                                 entry.expiration_handler or self.instance_expiration_handler)
        return entry.k

    def continuation_lookup(self, instance_id: str, k_id: int, salt: str) -> Any:
        return self._continuation_lookup(instance_id, k_id, salt, False)

    def continuation_peek(self, instance_id: str, k_id: int, salt: str) -> Any:
        return self._continuation_lookup(instance_id, k_id, salt, True)

    # -- removal
    def _drop_entry(self, instance: _Instance, k_id: int) -> None:
        entry = instance.k_table.pop(k_id)
        if entry.k is not None:
            k, entry.k = entry.k, None
            _release(k)

    def _drop_instance(self, instance_id: str) -> None:
        instance = self.instances.pop(instance_id, None)
        if instance is None:
            return
        for k_id in list(instance.k_table):
            self._drop_entry(instance, k_id)
        instance.expire_fn()

    def close(self) -> None:
        for instance_id in list(self.instances):
            self._drop_instance(instance_id)
