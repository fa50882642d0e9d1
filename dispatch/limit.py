"""At most N requests at once through a dispatcher.  Racket: ``web-server/dispatchers/limit``.

Over the limit, ``over_limit`` decides: ``"block"`` (wait for a slot, the default),
``"kill-new"`` (answer ``503`` at once) or ``"kill-old"`` (end the oldest request in
flight, whose connection closes, and take its slot).  A slot is held until the response
has been sent in full, streamed bodies included.
"""
from __future__ import annotations

from collections import OrderedDict

import gevent
from gevent.lock import Semaphore
from werkzeug.wrappers import Response

from .core import Dispatcher

__all__ = ["make"]


class _Slot:
    def __init__(self, limiter: _Limiter) -> None:
        self.limiter = limiter
        self.greenlet = gevent.getcurrent()
        self.released = False

    def release(self) -> None:
        if not self.released:
            self.released = True
            self.limiter.in_flight.pop(self, None)
            self.limiter.semaphore.release()


class _Limiter:
    def __init__(self, num: int) -> None:
        self.semaphore = Semaphore(num)
        self.in_flight: OrderedDict = OrderedDict()


def make(num: int, inner: Dispatcher, over_limit: str = "block") -> Dispatcher:
    if over_limit not in ("block", "kill-new", "kill-old"):
        raise ValueError("over_limit is 'block', 'kill-new' or 'kill-old'")
    if isinstance(num, bool) or not isinstance(num, int):
        raise TypeError(f"limit.make: num must be an int, not {num!r}")
    if not callable(inner):
        raise TypeError(f"limit.make: inner must be a dispatcher, not {inner!r}")
    if num < 1:
        raise ValueError("num must be >= 1")
    limiter = _Limiter(num)

    def limit(conn, request):
        if not limiter.semaphore.acquire(blocking=False):
            if over_limit == "kill-new":
                conn.respond(Response("Too many requests in progress\n", status=503,
                                      mimetype="text/plain", headers=[("Retry-After", "1")]))
                return
            if over_limit == "kill-old" and limiter.in_flight:
                oldest = next(iter(limiter.in_flight))
                oldest.release()
                oldest.greenlet.kill(block=False)
            limiter.semaphore.acquire()
        slot = _Slot(limiter)
        limiter.in_flight[slot] = None
        try:
            inner(conn, request)
        except BaseException:
            slot.release()
            raise
        if conn.response is None:
            slot.release()
            return
        app = conn.response

        def held(environ, start_response):
            try:
                body = app(environ, start_response)
            except BaseException:
                slot.release()
                raise
            return _Releasing(body, slot)

        conn.response = held

    return limit


class _Releasing:
    """A response body that gives the slot back once sent (or abandoned)."""

    def __init__(self, body, slot: _Slot) -> None:
        self.body, self.slot = body, slot

    def __iter__(self):
        return iter(self.body)

    def close(self) -> None:
        try:
            close = getattr(self.body, "close", None)
            if close is not None:
                close()
        finally:
            self.slot.release()
