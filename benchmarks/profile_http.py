"""Where the time of one HTTP request goes: this project's seed page (sequencer -> filter ->
servlet) against the raw gevent peer with TCP_NODELAY, both under wrk.

    python -m benchmarks.profile_http [--seconds 5] [--connections 32] [--top 25]

First both servers run unprofiled, side by side, for their requests/s and the ratio; then
each runs under cProfile (recording only while wrk runs), and the report groups the
profile's own time by layer and lists the top functions.  cProfile slows everything down
and greenlet switches blur its call tree: read the shares, not the absolute times.
"""
from __future__ import annotations

import argparse
import os
import pstats
import signal
import sys
import tempfile
import time
from pathlib import Path

from . import loads
from .run import locate_tools
from .servers import OURS, REPO, SERVERS, Running, ServerSpec

#: (layer, substring of the file name), first match wins
LAYERS = [
    ("xexpr rendering (dispatch/http/xexpr_writer.py)", "dispatch/http/xexpr"),
    ("HTTP layer (dispatch/http: request, response)", "/dispatch/http/"),
    ("servlets (servlet, dispatch_rules, stateful)", "/servlets/"),
    ("dispatch (wsgi, sequencer, filter, server)", "/dispatch/"),
    ("benchmark app", "/benchmarks/"),
    ("werkzeug", "/werkzeug/"),
    ("header parsing (http.client, email)", "/email/"),
    ("header parsing (http.client, email)", "http/client.py"),
    ("gevent pywsgi", "gevent/pywsgi.py"),
    ("gevent-websocket handler", "geventwebsocket"),
    ("gevent sockets and hub", "/gevent/"),
    ("socket syscalls", "method 'send'"),
    ("socket syscalls", "method 'recv"),
]


def layer_of(func: tuple) -> str:
    filename, _, name = func
    where = f"{filename}:{name}"
    for layer, needle in LAYERS:
        if needle in where:
            return layer
    return "other (stdlib, builtins)"


def profiled_argv(spec: ServerSpec, out: Path):
    def argv(port: int, tools: Path) -> list[str]:
        inner = spec.argv(port, tools)[1:]  # drop the interpreter
        return [sys.executable, "-m", "benchmarks._profiled", str(out), *inner]
    return argv


def measure(spec: ServerSpec, tools: Path, log_dir: Path, conns: int, seconds: float) -> dict:
    with Running(spec, tools, log_dir) as server:
        return loads.run_wrk(server.url + "/", conns, seconds, warmup=1.0)


def profile(spec: ServerSpec, tools: Path, log_dir: Path, conns: int, seconds: float,
            out: Path) -> tuple[pstats.Stats, int]:
    wrapped = ServerSpec(spec.key, spec.label, profiled_argv(spec, out), spec.sections)
    with Running(wrapped, tools, log_dir) as server:
        loads.run_wrk(server.url + "/", conns, 1.0, warmup=0)
        os.kill(server.pid, signal.SIGUSR1)
        result = loads.run_wrk(server.url + "/", conns, seconds, warmup=0)
        os.kill(server.pid, signal.SIGUSR2)
        deadline = time.monotonic() + 10
        while not out.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
    requests = int(result["requests_per_s"] * seconds)
    return pstats.Stats(str(out)), requests


def report(label: str, stats: pstats.Stats, requests: int, top: int) -> None:
    total = sum(v[2] for v in stats.stats.values())  # own time
    layers: dict[str, float] = {}
    for func, (_, _, tottime, _, _) in stats.stats.items():
        layers[layer_of(func)] = layers.get(layer_of(func), 0.0) + tottime
    print(f"\n== {label}: {requests:,} requests profiled, "
          f"{total / max(requests, 1) * 1e6:.0f} µs of profiled time each")
    for layer, t in sorted(layers.items(), key=lambda kv: -kv[1]):
        print(f"  {t / total:6.1%}  {t / max(requests, 1) * 1e6:6.0f} µs  {layer}")
    print(f"  top {top} functions by own time:")
    rows = sorted(stats.stats.items(), key=lambda kv: -kv[1][2])[:top]
    for (filename, line, name), (_, calls, tottime, _, _) in rows:
        short = filename.replace(str(REPO) + "/", "").split("site-packages/")[-1]
        print(f"  {tottime / total:6.1%}  {calls / max(requests, 1):5.1f}/req  "
              f"{short}:{line}({name})")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.profile_http")
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--runs", type=int, default=3, help="unprofiled runs each, alternated")
    p.add_argument("--peer", default="gevent_raw_nodelay")
    p.add_argument("--no-profile", action="store_true", help="only the unprofiled runs")
    p.add_argument("--tools")
    args = p.parse_args(argv)
    tools = locate_tools(args.tools)
    peer = next(s for s in SERVERS if s.key == args.peer)
    with tempfile.TemporaryDirectory() as tmp:
        log_dir = Path(tmp)
        rates: dict[str, list[float]] = {OURS.key: [], peer.key: []}
        for i in range(args.runs):
            for spec in ([OURS, peer] if i % 2 == 0 else [peer, OURS]):
                r = measure(spec, tools, log_dir, args.connections, args.seconds)
                rates[spec.key].append(r["requests_per_s"])
                print(f"  {spec.label} #{i + 1}: {r['requests_per_s']:,.0f} req/s, "
                      f"p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms", flush=True)
        ours, theirs = (sorted(rates[k])[len(rates[k]) // 2] for k in (OURS.key, peer.key))
        print(f"\nmedian req/s, {args.connections} connections: {OURS.label} {ours:,.0f}, "
              f"{peer.label} {theirs:,.0f}, ratio {ours / theirs:.2f}")
        for spec in () if args.no_profile else (OURS, peer):
            out = log_dir / f"{spec.key}.prof"
            stats, requests = profile(spec, tools, log_dir, args.connections, args.seconds, out)
            report(spec.label, stats, requests, args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
