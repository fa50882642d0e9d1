"""The server's figures in Prometheus' text format, through ``prometheus_client``.

No Racket twin.  It plays the part of ``dispatch-stat`` (:mod:`dispatch.stat`), which
shows a process's memory on a page for people; this page is for a monitoring system to
scrape.  ``pip install 'gevent-dispatch[metrics]'``, then mount it beside the rest::

    sequencer.make(metrics.make(), app)          # GET /metrics

``make()`` installs an observer (:mod:`dispatch.instrument`) that the engine, SSE and
WebSocket code call; without it mounted they call nothing.  The figures:

=============================================  ==========================================
``dispatch_http_requests_total``               requests answered, by ``method`` and
                                               ``status`` (the code); the engine's own
                                               error answers (a request it could not
                                               read; 500 when the application failed
                                               before answering) have ``method=""``
``dispatch_http_request_duration_seconds``     histogram: from a request's head to the
                                               end of its answer
``dispatch_open_connections``                  gauge by ``kind``: ``http`` (keep-alive
                                               connections, idle or in a request),
                                               ``sse`` (event streams), ``websocket``
``dispatch_sse_events_sent_total``             events given to SSE clients (one event to
                                               N clients counts N; replays included)
``dispatch_sse_streams_dropped_total``         SSE clients dropped because they did not
                                               read (queue limit, send buffer, time-out)
``dispatch_websocket_messages_total``          messages by ``direction``: ``in``, ``out``
``dispatch_websocket_closes_total``            WebSockets ended, by close ``code``
=============================================  ==========================================

Requests are counted as the access log logs them: once answered (a WebSocket's at its
101, a detached event stream's when its head is sent), not when the client left before
the end of its answer, nor when the application failed after its answer had started
(the connection is cut; the failure is logged).  An SSE stream that cannot be
detached (TLS) stays an HTTP response in progress: it is counted under ``sse`` and under
``http``.  WebSocket clients made by :func:`~dispatch.websocket.ws_connect` in the same
process are not counted.

In one process the figures are plain numbers that become metrics when scraped (a
collector in ``registry``): a request costs about half a microsecond of bookkeeping.

Several processes (gunicorn workers): set ``PROMETHEUS_MULTIPROC_DIR`` to an empty
directory before the processes start (``prometheus_client`` reads it when first
imported); each process then writes its figures there as ``prometheus_client`` metrics
and any of them serves the sum (open connections: the sum over live processes).  Call
:func:`child_exit` from gunicorn's ``child_exit`` hook so that a dead worker's open
connections stop counting.
"""
from __future__ import annotations

import os
from bisect import bisect_left
from typing import Iterator, Optional

try:
    import prometheus_client
    from prometheus_client import values
    from prometheus_client.exposition import choose_encoder
    from prometheus_client.metrics_core import (
        CounterMetricFamily,
        GaugeMetricFamily,
        HistogramMetricFamily,
        Metric,
    )
    from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
    from prometheus_client.registry import CollectorRegistry
    from prometheus_client.utils import floatToGoString
except ImportError as exc:  # the optional extra
    raise ImportError("dispatch.metrics needs prometheus_client: "
                      "pip install 'gevent-dispatch[metrics]'") from exc
from werkzeug.wrappers import Response

from . import instrument
from .core import Dispatcher, next_dispatcher

__all__ = ["child_exit", "make"]

_BOUNDS = tuple(prometheus_client.Histogram.DEFAULT_BUCKETS)  # the last is +Inf
_KINDS = ("http", "sse", "websocket")
# (name, help, label names) of each figure: one list for both ways of keeping them.
_REQUESTS = ("dispatch_http_requests", "HTTP requests answered, by method and status code",
             ("method", "status"))
_DURATION = ("dispatch_http_request_duration_seconds",
             "Seconds from a request's head to the end of its answer", ())
_OPEN = ("dispatch_open_connections",
         "Open client connections by kind: http (keep-alive), sse, websocket", ("kind",))
_SSE_SENT = ("dispatch_sse_events_sent",
             "SSE events given to clients (an event to N clients counts N)", ())
_SSE_DROPPED = ("dispatch_sse_streams_dropped",
                "SSE clients dropped because they did not read", ())
_WS_MESSAGES = ("dispatch_websocket_messages", "WebSocket messages by direction (in, out)",
                ("direction",))
_WS_CLOSES = ("dispatch_websocket_closes", "WebSockets ended, by close code", ("code",))
# Distinct (method, status line) pairs kept apart; past this, new ones are keyed by the
# code alone (an application that makes up reason phrases without end).
_KEYS_LIMIT = 1024


class _Figures(instrument.Observer):
    """One process' figures as plain numbers, turned into metrics when scraped (a
    ``prometheus_client`` collector): a hook costs a few dictionary and integer
    operations, where a ``prometheus_client`` metric takes a lock per update (about
    4 us per request for a counter and a histogram, under gevent)."""

    def __init__(self) -> None:
        self.requests: dict = {}  # (method, status line or code) -> count
        self.buckets = [0] * len(_BOUNDS)  # per bucket, not cumulative
        self.duration_sum = 0.0
        self.http = self.sse = self.websocket = 0
        self.sse_sent_count = self.sse_dropped_count = 0
        self.received = self.sent = 0
        self.closes: dict = {}  # close code -> count

    def request(self, method: str, status: Optional[str], seconds: float) -> None:
        key = (method, status)
        requests = self.requests
        if key in requests:
            requests[key] += 1
        else:
            if len(requests) >= _KEYS_LIMIT:
                key = (method, status[:3] if status else "500")
            requests[key] = requests.get(key, 0) + 1
        self.buckets[bisect_left(_BOUNDS, seconds)] += 1
        self.duration_sum += seconds

    def refused(self, status: int) -> None:
        key = ("", str(status))
        self.requests[key] = self.requests.get(key, 0) + 1

    def connection_opened(self) -> None:
        self.http += 1

    def connection_upgraded(self) -> None:
        self.http -= 1

    def connection_closed(self, upgraded: bool) -> None:
        if not upgraded:
            self.http -= 1

    def sse_opened(self) -> None:
        self.sse += 1

    def sse_closed(self) -> None:
        self.sse -= 1

    def sse_sent(self, count: int) -> None:
        self.sse_sent_count += count

    def sse_dropped(self) -> None:
        self.sse_dropped_count += 1

    def websocket_opened(self) -> None:
        self.websocket += 1

    def websocket_closed(self, code: Optional[int]) -> None:
        self.websocket -= 1
        key = "" if code is None else str(code)
        self.closes[key] = self.closes.get(key, 0) + 1

    def websocket_received(self) -> None:
        self.received += 1

    def websocket_sent(self) -> None:
        self.sent += 1

    # -- the collector -------------------------------------------------------------------
    def collect(self) -> Iterator[Metric]:
        requests = CounterMetricFamily(*_REQUESTS[:2], labels=_REQUESTS[2])
        by_code: dict = {}
        for (method, status), count in self.requests.items():
            key = (method, status[:3] if status else "500")
            by_code[key] = by_code.get(key, 0) + count
        for labels, count in sorted(by_code.items()):
            requests.add_metric(labels, count)
        yield requests
        cumulative, buckets = 0, []
        for bound, count in zip(_BOUNDS, self.buckets):
            cumulative += count
            buckets.append((floatToGoString(bound), cumulative))
        yield HistogramMetricFamily(*_DURATION[:2], buckets=buckets,
                                    sum_value=self.duration_sum)
        connections = GaugeMetricFamily(*_OPEN[:2], labels=_OPEN[2])
        for kind in _KINDS:
            connections.add_metric([kind], getattr(self, kind))
        yield connections
        yield CounterMetricFamily(*_SSE_SENT[:2], value=self.sse_sent_count)
        yield CounterMetricFamily(*_SSE_DROPPED[:2], value=self.sse_dropped_count)
        messages = CounterMetricFamily(*_WS_MESSAGES[:2], labels=_WS_MESSAGES[2])
        messages.add_metric(["in"], self.received)
        messages.add_metric(["out"], self.sent)
        yield messages
        closes = CounterMetricFamily(*_WS_CLOSES[:2], labels=_WS_CLOSES[2])
        for code, count in sorted(self.closes.items()):
            closes.add_metric([code], count)
        yield closes

    describe = collect  # the names, for the registry's check of duplicates


class _SharedFigures(instrument.Observer):
    """The figures as ``prometheus_client`` metrics, for multiprocess mode: each update
    goes to this process' file in ``PROMETHEUS_MULTIPROC_DIR`` at once, where any
    process' scrape reads it (a collector's numbers would stay in their process)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = prometheus_client.Counter(*_REQUESTS, registry=registry)
        self.duration = prometheus_client.Histogram(*_DURATION, registry=registry)
        connections = prometheus_client.Gauge(*_OPEN, registry=registry,
                                              multiprocess_mode="livesum")
        self._http, self._sse, self._websocket = (connections.labels(k) for k in _KINDS)
        self.sse_events = prometheus_client.Counter(*_SSE_SENT, registry=registry)
        self.sse_drops = prometheus_client.Counter(*_SSE_DROPPED, registry=registry)
        messages = prometheus_client.Counter(*_WS_MESSAGES, registry=registry)
        self._in, self._out = messages.labels("in"), messages.labels("out")
        self.websocket_closes = prometheus_client.Counter(*_WS_CLOSES, registry=registry)
        self._requests: dict = {}  # (method, status line) -> its counter

    def request(self, method: str, status: Optional[str], seconds: float) -> None:
        key = (method, status)
        counter = self._requests.get(key)
        if counter is None:
            counter = self.requests.labels(method, status[:3] if status else "500")
            if len(self._requests) < _KEYS_LIMIT:
                self._requests[key] = counter
        counter.inc()
        self.duration.observe(seconds)

    def refused(self, status: int) -> None:
        self.requests.labels("", str(status)).inc()

    def connection_opened(self) -> None:
        self._http.inc()

    def connection_upgraded(self) -> None:
        self._http.dec()

    def connection_closed(self, upgraded: bool) -> None:
        if not upgraded:
            self._http.dec()

    def sse_opened(self) -> None:
        self._sse.inc()

    def sse_closed(self) -> None:
        self._sse.dec()

    def sse_sent(self, count: int) -> None:
        if count:
            self.sse_events.inc(count)

    def sse_dropped(self) -> None:
        self.sse_drops.inc()

    def websocket_opened(self) -> None:
        self._websocket.inc()

    def websocket_closed(self, code: Optional[int]) -> None:
        self._websocket.dec()
        self.websocket_closes.labels("" if code is None else str(code)).inc()

    def websocket_received(self) -> None:
        self._in.inc()

    def websocket_sent(self) -> None:
        self._out.inc()


_observers: dict = {}  # registry -> its observer (metrics register once)


def _multiprocess_dir() -> Optional[str]:
    """The directory of multiprocess mode, or ``None``; a clear error when it is set but
    cannot work."""
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not path:
        return None
    if values.ValueClass is values.MutexValue:
        raise RuntimeError(
            "PROMETHEUS_MULTIPROC_DIR was set after prometheus_client was imported, so "
            "its figures stay in this process: set it before the processes start")
    if not os.path.isdir(path):
        raise ValueError(f"PROMETHEUS_MULTIPROC_DIR={path!r} is not a directory")
    return path


def make(path: str = "/metrics", *, registry: Optional[CollectorRegistry] = None
         ) -> Dispatcher:
    """Serve the figures at ``path`` (GET and HEAD; other requests are declined).

    The page has ``registry``'s metrics (``prometheus_client.REGISTRY`` by default, with
    the process' own CPU, memory and GC figures and any metrics of the application), in
    the format the scraper asks for in ``Accept`` (text or OpenMetrics).  Under
    ``PROMETHEUS_MULTIPROC_DIR`` it has every process' figures instead, summed.

    One observer serves a process: mounting again with the same registry shares it; with
    another registry, or over an observer installed by other code, is a ValueError.
    """
    if not isinstance(path, str):
        raise TypeError(f"metrics.make: path must be a str, not {path!r}")
    if not path.startswith("/"):
        raise ValueError(f"metrics.make: path must start with '/', not {path!r}")
    if registry is None:
        registry = prometheus_client.REGISTRY
    elif not isinstance(registry, CollectorRegistry):
        raise TypeError(f"metrics.make: registry must be a CollectorRegistry, not "
                        f"{registry!r}")
    directory = _multiprocess_dir()
    observer = _observers.get(registry)
    if instrument.observer is not None and instrument.observer is not observer:
        raise ValueError("metrics.make: another observer is installed (dispatch.metrics "
                         "mounted with another registry, or other code's): one a process")
    if observer is None:
        if directory is None:
            observer = _Figures()
            registry.register(observer)
        else:
            observer = _SharedFigures(registry)
        _observers[registry] = observer
    instrument.install(observer)
    served = registry
    # Compared with the environ's PATH_INFO (UTF-8 bytes read as Latin-1, as WSGI has
    # it): the request's decoded path costs more than the rest of declining.
    wsgi_path = path.encode("utf-8").decode("latin-1")

    def metrics(conn, request):
        environ = conn.environ
        if environ.get("PATH_INFO") != wsgi_path or \
                environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            next_dispatcher()
        encode, content_type = choose_encoder(environ.get("HTTP_ACCEPT", ""))
        source = served
        if directory is not None:
            # prometheus_client's way: a registry per scrape, reading every process' files
            source = CollectorRegistry()
            MultiProcessCollector(source, path=directory)
        conn.respond(Response(encode(source), headers=[("Content-Type", content_type)]))

    return metrics


def child_exit(server, worker) -> None:
    """gunicorn's ``child_exit`` hook: a dead worker's open connections stop counting.

    In ``gunicorn.conf.py``: ``from dispatch.metrics import child_exit``."""
    mark_process_dead(worker.pid)
