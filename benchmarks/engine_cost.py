"""The engine's own cost per request, compiled (mypyc) against pure Python, in process.

    python -m benchmarks.engine_cost [--requests 20000] [--rounds 5]

A constant WSGI application (a 114-byte page) is served by the engine's
:class:`~dispatch.engine.http_connection.HTTPConnection`, with no dispatchers, three ways:

- ``fake``: over a fake socket that hands over one keep-alive request per ``recv`` and
  swallows what is sent: parsing, the environ, the application, the head and the framing,
  no system call and no greenlet switch;
- ``socketpair``: over a real socket pair, a client greenlet sending each request once
  the previous answer is read (system calls and hub switches included);
- ``pieces``: the sans-I/O parts alone: ``RequestReader.feed``, ``environ_for``,
  ``ResponseWriter.whole``;
- ``wrk`` (not by default): the page served on a port, the server on CPU 0 and wrk on
  CPU 1: requests/s and the server's CPU time per request.

Each measurement runs in a child process (compiled and pure modules cannot share one),
alternating the modes round after round so that a noisy machine slows both alike; the
report gives each mode's median and the pure/compiled ratio.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PAGE = b"<!DOCTYPE html><html><head><title>Hello</title></head><body><p>Hello, world: " \
       b"a constant page.</p></body></html>\n"[:114].ljust(114, b" ")
REQUEST = (b"GET /hello?x=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"
           b"User-Agent: Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0\r\n"
           b"Accept: text/html,application/xhtml+xml\r\nAccept-Encoding: gzip, deflate\r\n"
           b"Accept-Language: en-GB,en;q=0.9\r\nCookie: session=abc123; theme=dark\r\n"
           b"Connection: keep-alive\r\n\r\n")


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                              ("Content-Length", str(len(PAGE)))])
    return [PAGE]


class FakeSocket:
    """One request per recv, then the end of the stream; sends are counted, not sent."""

    def __init__(self, requests: int) -> None:
        self.left = requests
        self.sent = 0

    def recv(self, size: int) -> bytes:
        if self.left == 0:
            return b""
        self.left -= 1
        return REQUEST

    def sendall(self, data) -> None:
        self.sent += len(data)

    def settimeout(self, seconds) -> None:
        pass

    def setsockopt(self, *args) -> None:
        pass

    def shutdown(self, how) -> None:
        pass

    def close(self) -> None:
        pass


def _server():
    from dispatch.engine.listener import DispatchServer

    return DispatchServer(("127.0.0.1", 0), app)  # not started: no socket is bound


def child_fake(requests: int) -> float:
    from dispatch.engine.http_connection import HTTPConnection

    server = _server()
    sock = FakeSocket(requests)
    started = time.perf_counter()
    HTTPConnection(server, sock, ("127.0.0.1", 1234)).run()
    elapsed = time.perf_counter() - started
    assert sock.sent > requests * len(PAGE), sock.sent
    return elapsed / requests


def child_socketpair(requests: int) -> float:
    import gevent
    from gevent import socket

    from dispatch.engine.http_connection import HTTPConnection

    server = _server()
    mine, theirs = socket.socketpair()
    conn = gevent.spawn(lambda: HTTPConnection(server, theirs, ("127.0.0.1", 1234)).run())
    gevent.sleep(0)
    started = time.perf_counter()
    for _ in range(requests):
        mine.sendall(REQUEST)
        answer = b""
        while not answer.endswith(PAGE):
            answer += mine.recv(65536)
    elapsed = time.perf_counter() - started
    mine.close()
    conn.join(5)
    return elapsed / requests


def child_pieces(requests: int) -> dict:
    from dispatch.http11.environ import environ_for
    from dispatch.http11.reader import RequestReader
    from dispatch.http11.writer import ResponseWriter

    base = _server().environ
    reader = RequestReader()
    queue = reader.queue
    started = time.perf_counter()
    for _ in range(requests):
        reader.feed(REQUEST)
        message = queue.popleft()  # (as the engine does: none accumulates)
    feed = (time.perf_counter() - started) / requests
    started = time.perf_counter()
    for _ in range(requests):
        environ_for(message, base)
    environ = (time.perf_counter() - started) / requests
    writer = ResponseWriter()
    headers = [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", "114")]
    started = time.perf_counter()
    for _ in range(requests):
        writer.reset("GET", False, True)
        writer.start("200 OK", headers)
        writer.whole(PAGE)
    whole = (time.perf_counter() - started) / requests
    return {"reader.feed": feed, "environ_for": environ, "writer.whole": whole}


def child_serve() -> None:
    """Serve the constant page on an ephemeral port (for wrk); print the port."""
    from gevent import monkey

    monkey.patch_all()
    import dispatch

    server = _server()
    server.start()
    print(json.dumps({"port": server.server_port, "compiled": list(dispatch._compiled)}),
          flush=True)
    server.serve_forever()


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_wrk(pure: bool, seconds: float, connections: int) -> dict:
    """The server on CPU 0, wrk on CPU 1: requests/s, and the server's CPU per request."""
    import re
    import shutil

    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is not installed (bash .ci/setup installs it)")
    server = subprocess.Popen(
        ["taskset", "-c", "0", sys.executable, "-m", "benchmarks.engine_cost",
         "--child", "serve"], stdout=subprocess.PIPE, text=True, cwd=REPO,
        env=_child_env(pure))
    try:
        serving = json.loads(server.stdout.readline())  # type: ignore[union-attr]
        url = f"http://127.0.0.1:{serving['port']}/"
        load = ["taskset", "-c", "1", wrk, "-t1", f"-c{connections}"]
        subprocess.run([*load, "-d1s", url], capture_output=True, check=True)  # warm-up
        cpu = _cpu_seconds(server.pid)
        out = subprocess.run([*load, f"-d{max(1, round(seconds))}s", url],
                             capture_output=True, text=True, check=True).stdout
        cpu = _cpu_seconds(server.pid) - cpu
    finally:
        server.kill()
        server.wait()
    done = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    return {"wrk req/s": rate, "wrk server CPU": cpu / done, "compiled": serving["compiled"]}


def child(kind: str, requests: int) -> None:
    import dispatch

    if kind == "serve":
        child_serve()
        return

    result: dict = {"compiled": list(dispatch._compiled)}
    if kind == "pieces":
        result.update(child_pieces(requests))
    else:
        result[kind] = (child_fake if kind == "fake" else child_socketpair)(requests)
    print(json.dumps(result))


def _child_env(pure: bool) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "GEVENT_DISPATCH_NO_EXTENSIONS"}
    if pure:
        env["GEVENT_DISPATCH_NO_EXTENSIONS"] = "1"
    env["PYTHONPATH"] = str(REPO)
    return env


def run_child(kind: str, pure: bool, requests: int) -> dict:
    out = subprocess.run([sys.executable, "-m", "benchmarks.engine_cost", "--child", kind,
                          "--requests", str(requests)], capture_output=True, text=True,
                         cwd=REPO, env=_child_env(pure), timeout=600, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--kinds", default="fake,socketpair,pieces",
                        help="of fake, socketpair, pieces, wrk (a served port under wrk)")
    parser.add_argument("--seconds", type=float, default=3, help="of each wrk run")
    parser.add_argument("--connections", type=int, default=32, help="wrk's")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.requests)
        return 0
    samples: dict = {}
    compiled_modules = None
    for _ in range(args.rounds):
        for kind in args.kinds.split(","):
            for mode in ("compiled", "pure"):
                if kind == "wrk":
                    result = run_wrk(mode == "pure", args.seconds, args.connections)
                    samples.setdefault("wrk 1/(req/s)", {}).setdefault(mode, []).append(
                        1 / result.pop("wrk req/s"))  # (as seconds a request: lower is better)
                else:
                    result = run_child(kind, mode == "pure", args.requests)
                if mode == "compiled":
                    compiled_modules = result["compiled"]
                elif result["compiled"]:
                    raise SystemExit(f"pure mode ran compiled modules: {result['compiled']}")
                for name, value in result.items():
                    if name != "compiled":
                        samples.setdefault(name, {}).setdefault(mode, []).append(value)
    if not compiled_modules:
        print("no compiled build here (pip install -e .): both columns are pure Python")
    print(f"compiled: {', '.join(compiled_modules or []) or 'nothing'}")
    # The best round is the one least disturbed by other processes: its ratio is the
    # steadier figure on a shared machine; the medians' ratio is given beside it.
    print(f"{args.rounds} rounds ({args.requests} requests in process, {args.seconds:g} s of "
          f"wrk); µs a request, best round (median)")
    print(f"{'':14} {'compiled':>16} {'pure Python':>16} {'pure/compiled':>20}")
    for name, modes in samples.items():
        cells = []
        for mode in ("compiled", "pure"):
            values = [v * 1e6 for v in modes[mode]]
            cells.append(f"{min(values):6.2f} ({statistics.median(values):6.2f})")
        best = min(modes["pure"]) / min(modes["compiled"])
        median = statistics.median(modes["pure"]) / statistics.median(modes["compiled"])
        print(f"{name:14} {cells[0]:>16} {cells[1]:>16} {best:10.2f}x ({median:.2f}x)")
    if "wrk 1/(req/s)" in samples:
        rates = {mode: [1 / v for v in values]
                 for mode, values in samples["wrk 1/(req/s)"].items()}
        print(f"wrk, {args.connections} connections: requests/s, best (median): " + ", ".join(
            f"{mode} {max(values):.0f} ({statistics.median(values):.0f})"
            for mode, values in rates.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
