"""A broker shared by processes through Redis: ``make_sse(broker=RedisBroker(url))``.

Every event goes through one Redis Stream, in the order Redis accepts them; a reader
greenlet in each process delivers them to that process's subscribers.  Kept events have
stream entry ids ``<id>-0`` with ``id`` from a Redis counter (``INCR``), so ids are global
and increase monotonically, and a ``Last-Event-ID`` replay is an ``XRANGE`` from any
process, also after every worker restarted.  Events that are not kept go through the same
stream (entry ``<last id>-<n>``, so order is kept) and are never replayed.  The stream is
trimmed to ``history`` entries, kept or not.

When Redis is away, sending raises :class:`BrokerUnavailable` (nothing is dropped
silently); open streams stay open; the reader reconnects with back-off and resumes after
the last entry it delivered, so nothing Redis accepted is missed.
"""
from __future__ import annotations

import logging
from typing import Optional

import gevent
import redis

from .broker import DEFAULT_HISTORY, BrokerUnavailable, Deliver, Encode

__all__ = ["RedisBroker"]

log = logging.getLogger("dispatch.sse.redis")

# INCR and XADD in one atomic step: the id and the stream position agree.
_PUBLISH = """
local id
if ARGV[1] == '1' then
  id = redis.call('INCR', KEYS[2])
  redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[3], id .. '-0', 'k', '1', 'p', ARGV[2])
else
  id = tonumber(redis.call('GET', KEYS[2]) or '0')
  redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[3], id .. '-*', 'k', '0', 'p', ARGV[2])
  id = -1
end
return id
"""

_ID_PLACEHOLDER = 0


def _without_id(payload: bytes) -> bytes:
    """The event as encoded with id 0, minus its ``id: 0`` line (Redis adds the real id)."""
    if payload.startswith(b"id: 0\n"):
        return payload[len(b"id: 0\n"):]
    return payload.replace(b"\nid: 0\n", b"\n", 1)


class RedisBroker:
    """The broker of a source shared by every process that uses the same ``url`` and
    ``name``."""

    def __init__(self, url: str = "redis://127.0.0.1:6379/0", name: str = "sse",
                 history: int = DEFAULT_HISTORY, *, block_ms: int = 1000,
                 max_backoff: float = 2.0) -> None:
        self.redis = redis.Redis.from_url(url, socket_timeout=(block_ms / 1000) + 5,
                                          socket_connect_timeout=5)
        self.stream_key = f"{name}:events"
        self.counter_key = f"{name}:last-id"
        self.history = history
        self.block_ms = block_ms
        self.max_backoff = max_backoff
        self._publish = self.redis.register_script(_PUBLISH)
        self._reader: Optional[gevent.Greenlet] = None
        self._position: Optional[str] = None

    def start(self, deliver: Deliver) -> None:
        self._deliver = deliver
        self._reader = gevent.spawn(self._read_forever)

    def close(self) -> None:
        if self._reader is not None:
            self._reader.kill()
        self.redis.close()

    def publish(self, encode: Encode, keep: bool) -> Optional[int]:
        body = _without_id(encode(_ID_PLACEHOLDER)) if keep else encode(None)
        try:
            event_id = int(self._publish(keys=[self.stream_key, self.counter_key],
                                         args=["1" if keep else "0", body, self.history]))
        except redis.RedisError as exc:
            raise BrokerUnavailable(f"Redis did not take the event: {exc}") from exc
        return event_id if keep else None

    def replay(self, after: Optional[int]) -> list:
        start = f"{after + 1}-0" if after is not None else "-"
        try:
            entries = self.redis.xrange(self.stream_key, min=start, max="+")
        except redis.RedisError as exc:
            log.warning("no replay, Redis is unavailable: %s", exc)
            return []
        return [(event_id, payload) for event_id, payload in map(_decode, entries)
                if event_id is not None]

    def restart(self) -> None:
        try:
            self.redis.delete(self.stream_key)
        except redis.RedisError as exc:
            raise BrokerUnavailable(f"Redis did not forget the events: {exc}") from exc

    def _read_forever(self) -> None:
        backoff = 0.05
        while True:
            try:
                if self._position is None:
                    last = self.redis.xrevrange(self.stream_key, count=1)
                    self._position = last[0][0].decode() if last else "0-0"
                answer = self.redis.xread({self.stream_key: self._position},
                                          block=self.block_ms, count=1000)
                backoff = 0.05
            except redis.RedisError as exc:
                log.warning("Redis unavailable, retrying in %.2f s: %s", backoff, exc)
                gevent.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff)
                continue
            for _, entries in answer or ():
                for entry in entries:
                    self._position = entry[0].decode()
                    event_id, payload = _decode(entry)
                    try:
                        self._deliver(event_id, payload)
                    except Exception:
                        log.exception("delivering an event failed")


def _decode(entry) -> tuple:
    entry_id, fields = entry
    payload = fields[b"p"]
    if fields.get(b"k") == b"1":
        event_id = int(entry_id.split(b"-", 1)[0])
        return event_id, b"id: %d\n" % event_id + payload
    return None, payload
