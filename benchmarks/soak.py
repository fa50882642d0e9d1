"""Soak test: many connect/serve/disconnect cycles mixing HTTP, SSE and WebSocket, then
check that greenlets are back to their baseline and RSS grew less than 10%.

    python -m benchmarks.soak [--cycles 10000] [--seconds 600]

Bounded by count and time; everything on 127.0.0.1. Exit status 1 when a check fails.
"""
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import gc  # noqa: E402
import socket  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import gevent  # noqa: E402
from greenlet import greenlet  # noqa: E402

from dispatch import filter, sequencer  # noqa: E402
from dispatch.server import serve  # noqa: E402
from dispatch.sse import make_sse, sse_dispatcher, sse_send_event  # noqa: E402
from dispatch.websocket import (  # noqa: E402
    is_eof,
    make_service_mapper_dispatcher,
    ws_close,
    ws_connect,
    ws_recv,
    ws_send,
    ws_service_mapper,
)
from servlets import dispatch_servlet, response_xexpr  # noqa: E402


def rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def live_greenlets() -> int:
    return sum(1 for o in gc.get_objects() if isinstance(o, greenlet) and not o.dead)


def echo(c):
    while True:
        message = ws_recv(c)
        if is_eof(message):
            return
        ws_send(c, message)


def http_leg(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        while sock.recv(65536):
            pass


def sse_leg(port: int, source) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"GET /sse/ HTTP/1.1\r\nHost: x\r\n\r\n")
        received = b""
        while b"data: soak" not in received:
            if b"\r\n\r\n" in received and source.subscribers:
                sse_send_event(source, data="soak")
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("stream ended early")
            received += chunk


def ws_leg(port: int) -> None:
    c = ws_connect(f"ws://127.0.0.1:{port}/ws")
    ws_send(c, "soak")
    assert ws_recv(c) == "soak"
    ws_close(c)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=600)
    args = parser.parse_args()

    source = make_sse(heartbeat=0.5)
    app = sequencer.make(
        filter.make("^/sse/", sse_dispatcher(source)),
        filter.make("^/ws", make_service_mapper_dispatcher(ws_service_mapper(
            ("/ws", ([None], echo))))),
        dispatch_servlet(lambda r: response_xexpr(("p", "soak"))))
    stop = serve(app, port=0, listen_ip="127.0.0.1")
    legs = [lambda: http_leg(stop.port), lambda: sse_leg(stop.port, source),
            lambda: ws_leg(stop.port)]
    for leg in legs:  # warm up: imports, caches, first allocations
        leg()
    gevent.sleep(1)
    gc.collect()
    base_greenlets, base_rss = live_greenlets(), rss_kib()
    started, done, errors = time.monotonic(), 0, 0
    while done < args.cycles and time.monotonic() - started < args.seconds:
        try:
            legs[done % 3]()
        except Exception as exc:  # counted and reported; the soak goes on
            errors += 1
            if errors <= 5:
                print("cycle", done, "failed:", exc, file=sys.stderr)
        done += 1
    deadline = time.monotonic() + 10
    while (source.subscribers or live_greenlets() > base_greenlets) and \
            time.monotonic() < deadline:
        gevent.sleep(0.1)
        gc.collect()
    end_greenlets, end_rss = live_greenlets(), rss_kib()
    growth = (end_rss - base_rss) / base_rss * 100
    elapsed = time.monotonic() - started
    print(f"cycles: {done} in {elapsed:.1f} s ({done / elapsed:.0f}/s), errors: {errors}")
    print(f"greenlets: baseline {base_greenlets}, end {end_greenlets}")
    print(f"RSS: baseline {base_rss} KiB, end {end_rss} KiB, growth {growth:.1f}%")
    print(f"SSE subscribers left: {len(source.subscribers)}")
    stop()
    ok = end_greenlets <= base_greenlets and growth < 10 and errors == 0 \
        and not source.subscribers and done == args.cycles
    print("soak:", "passed" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
