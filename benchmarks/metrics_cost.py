"""What ``dispatch.metrics`` costs per request, in process (no load generator, no network).

    python -m benchmarks.metrics_cost [--requests 20000] [--rounds 5]

Two measurements, each without and with metrics mounted (``metrics.make()`` first in
the sequencer, in front of the seed's page servlet), as the median of ``--rounds``
rounds taken in turns:

* ``wsgi``: the WSGI application called on a prepared environ, plus what the engine
  does around it for the observer (two clock reads and ``observer.request``);
* ``engine``: keep-alive requests one after another through the real engine
  (:class:`~dispatch.server.HTTPConnection` on one end of a socket pair, a client in
  another greenlet on the other), connection hooks included.
"""
from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import gevent  # noqa: E402
from gevent import socket  # noqa: E402
from werkzeug.test import EnvironBuilder  # noqa: E402

from dispatch import instrument, metrics, sequencer, to_wsgi  # noqa: E402
from dispatch.server import DispatchServer, HTTPConnection  # noqa: E402
from servlets import dispatch_servlet, response_xexpr  # noqa: E402


def page(request):
    return response_xexpr(("html", ("body", ("h1", "Hello"), ("p", "a page"))))


def _start_response(status, headers, exc_info=None):
    return None


def wsgi_round(app, n: int) -> float:
    environ = EnvironBuilder(path="/page", method="GET").get_environ()
    hooks = instrument
    started_all = time.process_time()
    for _ in range(n):
        # What the engine's _serve does for the observer, around the application.
        started = time.monotonic() if hooks.observer is not None else 0.0
        for _chunk in app(dict(environ), _start_response):
            pass
        if started and hooks.observer is not None:
            hooks.observer.request("GET", "200 OK", time.monotonic() - started)
    return (time.process_time() - started_all) / n


def engine_round(app, n: int) -> float:
    server = DispatchServer(("127.0.0.1", 0), app)
    ours, theirs = socket.socketpair()
    if instrument.observer is not None:  # as the engine's accept does
        instrument.observer.connection_opened()
    conn = HTTPConnection(server, ours, ("127.0.0.1", 1))
    serving = gevent.spawn(conn.run)
    request = b"GET /page HTTP/1.1\r\nHost: x\r\n\r\n"
    theirs.sendall(request)
    first = theirs.recv(65536)
    size = len(first)  # every answer is as long (the Date header too)
    started = time.process_time()
    for _ in range(n):
        theirs.sendall(request)
        got = 0
        while got < size:
            got += len(theirs.recv(65536))
    elapsed = (time.process_time() - started) / n
    theirs.close()
    serving.join(5)
    return elapsed


def measure(n: int, rounds: int) -> dict:
    plain = to_wsgi(sequencer.make(dispatch_servlet(page)))
    mounted = to_wsgi(sequencer.make(metrics.make(), dispatch_servlet(page)))
    observer = instrument.install(None)
    results = {}
    for kind, run in (("wsgi", wsgi_round), ("engine", engine_round)):
        without, withm = [], []
        for _ in range(rounds):  # interleaved: the machine's drift falls on both
            without.append(run(plain, n))
            instrument.install(observer)
            withm.append(run(mounted, n))
            instrument.install(None)
        results[kind] = (statistics.median(without), statistics.median(withm))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    for kind, (without, withm) in measure(args.requests, args.rounds).items():
        print(f"{kind:6}  without metrics {without * 1e6:7.2f} us/request   with "
              f"{withm * 1e6:7.2f} us/request   cost {(withm - without) * 1e6:+6.2f} us "
              f"({(withm / without - 1) * 100:+.0f} %)")


if __name__ == "__main__":
    main()
