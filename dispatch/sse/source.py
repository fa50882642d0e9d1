"""An event source and its subscribers.  Racket: the ``sse`` struct of the SSE package."""
from __future__ import annotations

import logging
import re
import socket
from typing import Any, Optional

import gevent
from gevent.event import Event

from .. import instrument as _hooks  # monitoring hooks: None unless dispatch.metrics
from .broker import DEFAULT_HISTORY, MemoryBroker
from .encoder import encode_comment, encode_event

__all__ = ["SSE", "make_sse", "is_sse", "sse_send_event", "sse_restart_messages"]

DEFAULT_HEARTBEAT = 15.0
DEFAULT_QUEUE_LIMIT = 1000

_OPEN = encode_comment()
_HEARTBEAT = encode_comment()
_LAST_EVENT_ID = re.compile(r"[0-9]{1,19}")

log = logging.getLogger("dispatch.sse")


class Subscriber:
    """One client's bounded queue of encoded events."""

    __slots__ = ("queue", "wake", "limit", "closed", "replaying", "pending", "socket",
                 "last_id", "stream", "dirty", "source")

    def __init__(self, limit: int, sock) -> None:
        self.queue: list = []  # a list: an idle client's deque would cost ~600 bytes
        self.wake = Event()
        self.limit = limit
        self.closed = False
        # Live events that arrive while the replay is read wait here (see SSE.subscribe).
        self.replaying = True
        self.pending: list = []
        self.socket = sock
        # The last kept id queued: a shared broker's reader may deliver an event that the
        # replay already held, and it must not be sent twice.
        self.last_id = 0
        #: where events go when no greenlet waits for them (see SSE.attach)
        self.stream = None
        self.dirty = False  # queued events wait for the source's next flush
        self.source: Optional[SSE] = None

    def put(self, event_id: Optional[int], payload: bytes) -> None:
        if self.replaying:
            self.pending.append((event_id, payload))
            if len(self.pending) > self.limit:
                self.close(f"dropping an SSE client: {self.limit} events queued during "
                           f"its replay")
            return
        if event_id is not None:
            if event_id <= self.last_id:
                return
            self.last_id = event_id
        if len(self.queue) >= self.limit:
            # A client that stops reading is dropped, not waited for.
            self.close(f"dropping an SSE client: {self.limit} events queued, "
                       f"it does not read")
            return
        self.queue.append(payload)
        if self.stream is not None:
            if not self.dirty:
                self.dirty = True
                self.source._mark_dirty(self)
        elif not self.wake.is_set():
            self.wake.set()

    def end(self) -> None:
        """End this client's stream cleanly (on a graceful stop): what is queued is
        still sent, then the response ends and the client reconnects elsewhere."""
        self.closed = True
        self.wake.set()
        if self.stream is not None:
            if self.queue:
                self.stream.write(b"".join(self.queue))
                self.queue.clear()
            self.stream.close()

    def close(self, why: Optional[str] = None) -> None:
        """Drop this client (it reconnects with Last-Event-ID if it wants).  An expected
        drop is one INFO line, never a traceback: a client can provoke it at will."""
        if self.closed:
            return
        self.closed = True
        self.queue.clear()
        self.wake.set()
        if why:
            log.info("%s", why)
            if _hooks.observer is not None:  # (only the drops of slow clients say why)
                _hooks.observer.sse_dropped()
        if self.stream is not None:
            self.stream.abort()
        elif self.socket is not None:
            # A writer stuck in sendall on a full socket buffer only wakes up this way.
            # The OS socket is shut down, not gevent's wrapper: the wrapper would throw
            # "cancel_wait" into the writer (a 35-line traceback per dropped client);
            # this way the writer's send fails with an ordinary broken pipe.
            sock = getattr(self.socket, "_sock", self.socket)
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except (OSError, AttributeError):
                pass


class SSE:
    """An event source: what :func:`make_sse` returns.  Racket: ``sse?`` values."""

    def __init__(self, broker=None, *, history: int = DEFAULT_HISTORY,
                 heartbeat: Optional[float] = DEFAULT_HEARTBEAT,
                 queue_limit: int = DEFAULT_QUEUE_LIMIT) -> None:
        if queue_limit < 1:
            raise ValueError("queue_limit must be >= 1")
        self.broker = broker if broker is not None else MemoryBroker(history)
        self.heartbeat = heartbeat
        self.queue_limit = queue_limit
        self.subscribers: set = set()
        self._dirty: list = []  # attached subscribers with events to write
        self._heartbeat_timer: Any = None  # a gevent loop timer while streams are attached
        self.broker.start(self._deliver)

    def _deliver(self, event_id: Optional[int], payload: bytes) -> None:
        for subscriber in tuple(self.subscribers):
            subscriber.put(event_id, payload)
        if _hooks.observer is not None:  # the clients still there after their put
            _hooks.observer.sse_sent(len(self.subscribers))

    def subscribe(self, last_event_id: Optional[int], sock=None) -> Subscriber:
        """A new subscriber whose queue starts with the kept events after
        ``last_event_id``, then every live event, with no gap and no duplicate."""
        subscriber = Subscriber(self.queue_limit, sock)
        # Subscribe first and read the replay second: an event sent in between (a
        # broker's replay may wait on I/O) is then in both, and its id tells which.
        self.subscribers.add(subscriber)
        try:
            replayed = self.broker.replay(last_event_id)
        except BaseException:
            self.subscribers.discard(subscriber)
            raise
        last = last_event_id or 0
        for event_id, payload in replayed:
            subscriber.queue.append(payload)
            last = event_id
        subscriber.last_id = last
        if _hooks.observer is not None and replayed:
            _hooks.observer.sse_sent(len(replayed))
        pending, subscriber.pending = subscriber.pending, []
        subscriber.replaying = False
        for event_id, payload in pending:
            subscriber.put(event_id, payload)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.discard(subscriber)

    # -- detached streams: subscribers written to without a greenlet each -------------
    def attach(self, subscriber: Subscriber, stream) -> None:
        """Write ``subscriber``'s events to ``stream`` (a
        :class:`~dispatch.detached.DetachedStream`) from now on: no greenlet waits for
        this client.  Events sent in one go are written in one go."""
        subscriber.stream = stream
        subscriber.source = self
        stream.max_pieces = self.queue_limit
        stream.label = "an SSE client"
        first = b"".join(subscriber.queue) + _OPEN
        subscriber.queue.clear()
        stream.write(first)
        if self.heartbeat is not None and self._heartbeat_timer is None:
            self._heartbeat_timer = gevent.get_hub().loop.timer(self.heartbeat, self.heartbeat)
            self._heartbeat_timer.start(self._beat)

    def _mark_dirty(self, subscriber: Subscriber) -> None:
        if not self._dirty:
            gevent.get_hub().loop.run_callback(self._flush_dirty)
        self._dirty.append(subscriber)

    def _flush_dirty(self) -> None:
        dirty, self._dirty = self._dirty, []
        for subscriber in dirty:
            subscriber.dirty = False
            queue = subscriber.queue
            if queue and not subscriber.closed:
                data = queue[0] if len(queue) == 1 else b"".join(queue)
                queue.clear()
                subscriber.stream.write(data)

    def _beat(self) -> None:
        attached = [s for s in self.subscribers if s.stream is not None]
        if not attached:
            self._heartbeat_timer.stop()
            self._heartbeat_timer.close()
            self._heartbeat_timer = None
            return
        for subscriber in attached:
            if not subscriber.queue:
                subscriber.stream.write(_HEARTBEAT)

    def stream(self, subscriber: Subscriber):
        """The response body for ``subscriber``: its events as they come."""
        queue, wake, heartbeat = subscriber.queue, subscriber.wake, self.heartbeat
        try:
            # Something at once, so that the headers leave and EventSource opens.
            yield b"".join(queue) + _OPEN if queue else _OPEN
            queue.clear()
            while True:
                if not queue:
                    if subscriber.closed:
                        break
                    wake.clear()
                    if not wake.wait(heartbeat):
                        yield _HEARTBEAT
                        continue
                    if not queue:
                        continue
                # Everything waiting leaves in one write.
                chunk = queue[0] if len(queue) == 1 else b"".join(queue)
                queue.clear()
                yield chunk
        finally:
            self.unsubscribe(subscriber)

    def send(self, data: Optional[str] = None, event: Optional[str] = None,
             id: bool = False, retry: Optional[int] = None) -> Optional[int]:  # noqa: A002
        # Encoding once here checks every field before the broker assigns an id.
        encode_event(data=data, event=event, retry=retry, id=0 if id else None)
        return self.broker.publish(
            lambda event_id: encode_event(data=data, event=event, id=event_id, retry=retry),
            keep=bool(id))


def make_sse(broker=None, *, history: int = DEFAULT_HISTORY,
             heartbeat: Optional[float] = DEFAULT_HEARTBEAT,
             queue_limit: int = DEFAULT_QUEUE_LIMIT) -> SSE:
    """A new event source.  Racket: ``make-sse``.

    ``history``: kept events remembered for replay (the in-memory broker's window);
    ``heartbeat``: seconds between comment lines on idle streams (``None``: never);
    ``queue_limit``: events waiting for one client before it is disconnected;
    ``broker``: where events go between processes (default: this process only).
    """
    return SSE(broker, history=history, heartbeat=heartbeat, queue_limit=queue_limit)


def is_sse(value) -> bool:
    """Racket: ``sse?``."""
    return isinstance(value, SSE)


def sse_send_event(sse: SSE, data: Optional[str] = None, event: Optional[str] = None,
                   id: bool = False, retry: Optional[int] = None) -> Optional[int]:  # noqa: A002
    """Send an event to the clients connected now.  Racket: ``sse-send-event``.

    With ``id=True`` the event gets the next integer id, is kept, and is replayed to new
    connections; the id is returned.  Never blocks on a slow client.
    """
    return sse.send(data=data, event=event, id=id, retry=retry)


def sse_restart_messages(sse: SSE) -> None:
    """Forget the kept events.  Racket: ``sse-restart-messages``."""
    sse.broker.restart()


def parse_last_event_id(value: Optional[str]) -> Optional[int]:
    """The id a reconnecting client last saw; ``None`` when absent or malformed (ids
    here are decimal integers, so a malformed one was not ours: the client is treated as
    new and gets every kept event)."""
    if value is None:
        return None
    value = value.strip()
    return int(value) if _LAST_EVENT_ID.fullmatch(value) else None
