"""A broker shared by processes through Redis: ``make_sse(broker=RedisBroker(url))``.

Every event goes through one Redis Stream, in the order Redis accepts them; a reader
greenlet in each process delivers them to that process's subscribers, and a
``Last-Event-ID`` replay is an ``XRANGE`` from any process, also after every worker
restarted.  The stream is trimmed to ``history`` entries, kept or not; events that are
not kept go through the same stream, so order is kept, and are never replayed.

Generations.  Redis can lose writes: a restart without persistence empties it, and a
failover promotes a replica that may lack the last writes.  Ids that started again at 1
would then sit below every client's cursor and ``Last-Event-ID``, and clients would
silently get nothing.  So the stream lives in *generations*: a generation is made with an
epoch (Redis's clock, in milliseconds, above every epoch seen before) and stored beside the
stream with the Redis server that made it.  A new one starts when the stream or its
generation is gone, when another Redis server answers (a restart or a failover), or after
``10**6 - 1`` kept events.  The id a client sees is ``epoch * 10**6 + n`` for the n-th kept
event of its generation: ids increase across every reset, a reader's cursor is below
everything that comes after, and a ``Last-Event-ID`` of an earlier generation gets what
Redis still has after it, the whole current generation included.  The first entry of a
generation made after a reset says so, and each process logs a WARNING when it sees one.

When Redis is away, sending retries for ``retry_for`` seconds (long enough for a Sentinel
failover) and then raises :class:`BrokerUnavailable` (nothing is dropped silently); open
streams stay open; the reader reconnects with back-off and resumes after the last entry it
delivered.
"""
from __future__ import annotations

import logging
import time
import warnings
from typing import Any, Optional, Sequence, Tuple, Union

import gevent
import gevent.monkey
import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry
from redis.sentinel import Sentinel

from .broker import DEFAULT_HISTORY, BrokerUnavailable, Deliver, Encode

__all__ = ["RedisBroker", "ID_BASE"]

log = logging.getLogger("dispatch.sse.redis")

#: A kept event's id is ``epoch * ID_BASE + n``: ``n`` counts kept events in a generation.
ID_BASE = 10 ** 6
# Kept event n is stream entry <epoch>-<n * SLOT>; events not kept after it take the next
# sequence numbers (<epoch>-*), so they stay in order without using up kept ids.
SLOT = 1 << 20

# One atomic step: check the generation (new one if needed), then add the entry.
# Returns {entry id, epoch, n (-1: not kept), why a new generation started or ''}.
_PUBLISH = """
local BASE, SLOT = 1000000, 1048576  -- ID_BASE, SLOT
local kept, payload, maxlen, floor = ARGV[1] == '1', ARGV[2], ARGV[3], tonumber(ARGV[4])
local server = string.match(redis.call('INFO', 'server'), 'run_id:(%x+)')
local gen = redis.call('HMGET', KEYS[2], 'epoch', 'n', 'server')
local epoch, n = tonumber(gen[1]), tonumber(gen[2] or '0')
local stream = redis.call('EXISTS', KEYS[1]) == 1
local why = ''
if not epoch then
  if floor > 0 then why = 'lost' else why = 'new' end
elseif not stream then why = 'lost'
elseif gen[3] ~= server then why = 'server'
elseif kept and n >= BASE - 1 then why = 'full'
end

local function new_generation()
  local t = redis.call('TIME')
  local e = math.max(tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000),
                     floor + 1, (epoch or 0) + 1)
  if redis.call('EXISTS', KEYS[1]) == 1 then
    -- entries must increase: above the stream's last id too
    local info = redis.call('XINFO', 'STREAM', KEYS[1])
    for i = 1, #info, 2 do
      if info[i] == 'last-generated-id' then
        e = math.max(e, tonumber(string.match(info[i + 1], '^(%d+)')) + 1)
      end
    end
  end
  epoch, n = e, 0
  redis.call('HSET', KEYS[2], 'epoch', string.format('%.0f', epoch), 'n', 0,
             'server', server)
end

if why ~= '' then new_generation() end
local fields = {'k', kept and '1' or '0', 'p', payload}
if why ~= '' and why ~= 'new' and why ~= 'full' then
  table.insert(fields, 'g'); table.insert(fields, why)
end
local id
if kept then
  local entry = string.format('%.0f-%.0f', epoch, (n + 1) * SLOT)
  id = redis.pcall('XADD', KEYS[1], 'MAXLEN', maxlen, entry, unpack(fields))
  if type(id) == 'table' and id.err then
    -- more than SLOT events not kept since the last kept one: a new generation
    new_generation()
    entry = string.format('%.0f-%.0f', epoch, SLOT)
    id = redis.call('XADD', KEYS[1], 'MAXLEN', maxlen, entry, unpack(fields))
  end
  n = n + 1
  redis.call('HSET', KEYS[2], 'n', n)
else
  id = redis.call('XADD', KEYS[1], 'MAXLEN', maxlen,
                  string.format('%.0f-*', epoch), unpack(fields))
  n = -1
end
return {id, epoch, n, why}
"""

# Forget the kept events: replays start after the stream's last entry from now on.  The
# entries stay until trimmed, so readers that have not delivered them yet still do.
_FORGET = """
local info = redis.pcall('XINFO', 'STREAM', KEYS[1])
if type(info) ~= 'table' or info.err then return 0 end
for i = 1, #info, 2 do
  if info[i] == 'last-generated-id' then
    redis.call('HSET', KEYS[2], 'forgotten', info[i + 1])
  end
end
return 1
"""

# After a reset a reader whose cursor is not below the new generation starts again
# just before it.
_MAX_SEQ = 2 ** 64 - 1

_ID_PLACEHOLDER = 0
_monkey_warned = False

_REASONS = {
    b"lost": "Redis lost the stream (a restart without persistence, a flush, or a "
             "failover to an empty replica)",
    b"server": "another Redis server answers (a restart or a failover)",
}


def _without_id(payload: bytes) -> bytes:
    """The event as encoded with id 0, minus its ``id: 0`` line (Redis adds the real id)."""
    if payload.startswith(b"id: 0\n"):
        return payload[len(b"id: 0\n"):]
    return payload.replace(b"\nid: 0\n", b"\n", 1)


def _entry_id(raw) -> Tuple[int, int]:
    ms, _, seq = (raw.decode() if isinstance(raw, bytes) else raw).partition("-")
    return int(ms), int(seq or 0)


def _warn_if_not_monkey_patched() -> None:
    global _monkey_warned
    if _monkey_warned or gevent.monkey.is_module_patched("socket"):
        return
    _monkey_warned = True
    message = ("RedisBroker: gevent's monkey patching is not in effect; call "
               "gevent.monkey.patch_all() before anything else, or every Redis call blocks "
               "the whole server (the reader's XREAD blocks it for ever)")
    log.warning(message)
    warnings.warn(message, RuntimeWarning, stacklevel=3)


class RedisBroker:
    """The broker of a source shared by every process that uses the same Redis and
    ``name``.

    Redis is given as one of:

    * a URL: ``RedisBroker("redis://127.0.0.1:6379/0")``;
    * a redis-py client: ``RedisBroker(redis.Redis(...))``, left open by :meth:`close`
      (a socket time-out shorter than ``block_ms`` shortens the reader's waits);
    * Sentinel: ``RedisBroker(sentinels=[("10.0.0.1", 26379), ...],
      service_name="mymaster")``; every new connection asks the Sentinels where the
      master is, so the broker follows a failover.

    ``history``: kept events remembered for replay (the stream's length);
    ``retry_for``: seconds a send (or a replay) keeps retrying while Redis is away
    before :class:`BrokerUnavailable`; ``block_ms``: how long one read waits on Redis;
    ``max_backoff``: the longest wait between the reader's reconnection attempts;
    ``sentinel_kwargs``: connection options for the Sentinels themselves;
    ``replicas``: acknowledge a send only once this many replicas have the event (Redis's
    ``WAIT``), so that a failover to one of them keeps it; fewer within
    ``replica_timeout`` seconds is :class:`BrokerUnavailable` (the event is on the
    master and may still be delivered, but a failover could lose it: resend if it
    matters, knowing clients may then see it twice).  0, the default, acknowledges what
    the master took, as Redis does;
    ``redis_kwargs``: more options for the connections to Redis (``password``, ``ssl``...).
    """

    def __init__(self, url: Union[str, redis.Redis, None] = None, name: str = "sse",
                 history: int = DEFAULT_HISTORY, *,
                 sentinels: Optional[Sequence[Tuple[str, int]]] = None,
                 service_name: Optional[str] = None, sentinel_kwargs: Optional[dict] = None,
                 retry_for: float = 5.0, block_ms: int = 1000, max_backoff: float = 2.0,
                 replicas: int = 0, replica_timeout: float = 1.0, **redis_kwargs) -> None:
        if type(replicas) is not int or replicas < 0:
            raise ValueError(f"replicas must be a whole number >= 0, not {replicas!r}")
        if not replica_timeout > 0:
            raise ValueError(f"replica_timeout must be > 0 seconds, not {replica_timeout!r}")
        _warn_if_not_monkey_patched()
        timeouts = {"socket_timeout": block_ms / 1000 + 5, "socket_connect_timeout": 2}
        # One quick retry (a pooled connection to a server that went away); the rest of
        # the waiting is retry_for's, bounded in time whatever redis-py nests.
        options: dict[str, Any] = dict(
            timeouts, retry=Retry(ExponentialBackoff(cap=0.1, base=0.05), 1))
        options.update(redis_kwargs)
        self._owned = True
        if sentinels is not None:
            if url is not None:
                raise ValueError("give either url or sentinels, not both")
            if not service_name:
                raise ValueError("sentinels need a service_name (the master's name)")
            self.sentinel = Sentinel(list(sentinels), sentinel_kwargs=sentinel_kwargs or {
                "socket_timeout": 1, "socket_connect_timeout": 1})
            self.redis = self.sentinel.master_for(service_name, **options)
        elif isinstance(url, redis.Redis):
            self.redis = url
            self._owned = False
        else:
            self.redis = redis.Redis.from_url(url or "redis://127.0.0.1:6379/0", **options)
        timeout = self.redis.connection_pool.connection_kwargs.get("socket_timeout")
        if timeout is not None and timeout * 1000 <= block_ms:
            block_ms = max(1, int(timeout * 1000 / 2))  # a read must not time out idle
        self.stream_key = f"{name}:events"
        self.generation_key = f"{name}:generation"
        self.history = history
        self.retry_for = retry_for
        self.block_ms = block_ms
        self.max_backoff = max_backoff
        self.replicas = replicas
        self.replica_timeout = replica_timeout
        self._publish = self.redis.register_script(_PUBLISH)
        self._forget = self.redis.register_script(_FORGET)
        self._reader: Optional[gevent.Greenlet] = None
        self._position: Optional[str] = None
        # The highest epoch this process has seen: a new generation starts above it,
        # whatever Redis's clock says.
        self._floor = 0
        self._lost_below: Optional[str] = None

    # -- the broker interface (see dispatch/sse/broker.py) -------------------------------

    def start(self, deliver: Deliver) -> None:
        self._deliver = deliver
        self._reader = gevent.spawn(self._read_forever)

    def close(self) -> None:
        if self._reader is not None:
            self._reader.kill()
        if self._owned:
            self.redis.close()

    def publish(self, encode: Encode, keep: bool) -> Optional[int]:
        body = _without_id(encode(_ID_PLACEHOLDER)) if keep else encode(None)
        args = ["1" if keep else "0", body, self.history, self._floor]
        try:
            (_, epoch, n, _), replicated = self._retrying(lambda: self._add(args))
        except redis.RedisError as exc:
            raise BrokerUnavailable(f"Redis did not take the event: {exc}") from exc
        self._floor = max(self._floor, int(epoch))
        if replicated < self.replicas:
            raise BrokerUnavailable(
                f"{replicated} of the {self.replicas} replicas asked for took the event "
                f"within {self.replica_timeout} s: the master has it, a failover could "
                f"lose it")
        return int(epoch) * ID_BASE + int(n) if keep else None

    def _add(self, args: list) -> tuple:
        """The publish script's answer, and how many replicas acknowledged it."""
        keys = [self.stream_key, self.generation_key]
        if not self.replicas:
            return self._publish(keys=keys, args=args), 0
        try:
            return self._add_waiting(keys, args)
        except redis.exceptions.NoScriptError:
            self.redis.script_load(_PUBLISH)  # a Redis restarted, or failed over
            return self._add_waiting(keys, args)

    def _add_waiting(self, keys: list, args: list) -> tuple:
        # WAIT counts this connection's writes: one pipeline, so one connection.  EVALSHA
        # by hand: a pipeline given the Script asks SCRIPT EXISTS first, a round trip more
        # on every send.
        pipe = self.redis.pipeline(transaction=False)
        pipe.evalsha(self._publish.sha, len(keys), *keys, *args)
        pipe.execute_command("WAIT", self.replicas, max(1, int(self.replica_timeout * 1000)))
        answer, replicated = pipe.execute()
        return answer, int(replicated)

    def replay(self, after: Optional[int]) -> list:
        try:
            current_epoch, current_n, forgotten = self._retrying(lambda: self.redis.hmget(
                self.generation_key, "epoch", "n", "forgotten"))
            start = (0, 0)
            if after is not None:
                epoch, n = divmod(after, ID_BASE)
                start = (epoch, n * SLOT + 1)
                if current_epoch is not None and epoch > int(current_epoch):
                    # A generation this Redis never had (it lost it, and its clock is
                    # behind): the client gets the whole window rather than nothing.
                    log.warning("Last-Event-ID %d is from a generation Redis no longer has; "
                                "replaying the whole window", after)
                    start = (0, 0)
                elif current_epoch is not None and epoch == int(current_epoch) and \
                        n > int(current_n):
                    log.warning("Last-Event-ID %d is past what Redis has (%d): Redis lost "
                                "the events in between", after,
                                epoch * ID_BASE + int(current_n))
            low = f"{start[0]}-{start[1]}"
            if forgotten is not None and _entry_id(forgotten) >= start:
                low = "(" + forgotten.decode()  # after sse_restart_messages: not before it
            entries = self._retrying(lambda: self.redis.xrange(self.stream_key, min=low))
        except redis.RedisError as exc:
            log.warning("no replay, Redis is unavailable: %s", exc)
            return []
        return self._kept(entries)

    def restart(self) -> None:
        # Replays start after the stream's current end; the entries themselves stay (until
        # trimmed) for the readers that have not delivered them yet, and ids go on.
        try:
            self._retrying(lambda: self._forget(keys=[self.stream_key, self.generation_key]))
        except redis.RedisError as exc:
            raise BrokerUnavailable(f"Redis did not forget the events: {exc}") from exc

    # -- internals --------------------------------------------------------------------

    def _retrying(self, call):
        """``call()``, again while Redis is unreachable, for up to ``retry_for`` seconds."""
        deadline = time.monotonic() + self.retry_for
        backoff = 0.05
        while True:
            try:
                return call()
            except (redis.ConnectionError, redis.TimeoutError):
                if time.monotonic() + backoff > deadline:
                    raise
                gevent.sleep(backoff)
                backoff = min(backoff * 2, 0.5)

    def _kept(self, entries) -> list:
        return [(event_id, payload) for event_id, payload in map(self._decode, entries)
                if event_id is not None]

    def _decode(self, entry) -> tuple:
        entry_id, fields = entry
        payload = fields[b"p"]
        if fields.get(b"k") == b"1":
            epoch, seq = _entry_id(entry_id)
            event_id = epoch * ID_BASE + seq // SLOT
            return event_id, b"id: %d\n" % event_id + payload
        return None, payload

    def _read_forever(self) -> None:
        backoff = 0.05
        suspect = False  # after a lost connection: Redis may have changed under us
        while True:
            try:
                if self._position is None:
                    self._position = self._stream_end() or "0-0"
                    self._floor = max(self._floor, _entry_id(self._position)[0])
                elif suspect:
                    self._check_reset()
                suspect = False
                answer = self.redis.xread({self.stream_key: self._position},
                                          block=self.block_ms, count=1000)
                if not answer:
                    self._check_reset()  # idle: cheap, and a reset shows up here
                backoff = 0.05
            except redis.RedisError as exc:
                log.warning("Redis unavailable, retrying in %.2f s: %s", backoff, exc)
                suspect = True
                gevent.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff)
                continue
            for _, entries in answer or ():
                for entry in entries:
                    self._position = entry[0].decode()
                    self._floor = max(self._floor, _entry_id(self._position)[0])
                    why = entry[1].get(b"g")
                    if why is not None:
                        log.warning("%s: new generation %s, its ids above every earlier "
                                    "one; events Redis lost in the switch, if any, are gone",
                                    _REASONS.get(why, why.decode()),
                                    self._position.split("-")[0])
                    event_id, payload = self._decode(entry)
                    try:
                        self._deliver(event_id, payload)
                    except Exception:
                        log.exception("delivering an event failed")

    def _stream_end(self) -> Optional[str]:
        """The stream's last entry id (also when trimmed empty), or None if it is gone."""
        try:
            info = self.redis.xinfo_stream(self.stream_key)
        except redis.ResponseError:
            return None  # no such key
        last = info["last-generated-id"]
        return last.decode() if isinstance(last, bytes) else last

    def _check_reset(self) -> None:
        """Notice a reset that the stream itself does not show: the stream gone, or it
        ends below this reader's cursor (Redis lost entries this process delivered)."""
        position = self._position
        if position is None or position == "0-0":
            return
        end = self._stream_end()
        if end is None:
            log.warning("the Redis stream %s is gone (Redis restarted empty, was flushed, "
                        "or failed over to an empty replica): reading the next one from "
                        "its beginning", self.stream_key)
            self._position = "0-0"
            return
        if _entry_id(end) >= _entry_id(position):
            return
        epoch = self.redis.hget(self.generation_key, "epoch")
        if epoch is not None and int(epoch) < _entry_id(position)[0]:
            # The current generation lies below our cursor: read it from its start.
            self._position = f"{int(epoch) - 1}-{_MAX_SEQ}"
        elif self._lost_below == position:
            return  # said already; the next event starts a generation above the cursor
        self._lost_below = position
        log.warning("the Redis stream %s ends at %s, below %s that this process delivered: "
                    "Redis lost entries (a failover or a restart)", self.stream_key, end,
                    position)
