"""One command for the whole side-by-side benchmark.

    python -m benchmarks [--quick] [--repeat N] [--only http,ws,sse,memory] ...

Starts this project's benchmark app (benchmarks/app.py) and each peer (raw gevent with and
without TCP_NODELAY, aiohttp, Racket's web-server when ``racket`` is installed) as child
processes on free 127.0.0.1 ports, drives them with wrk and Node.js clients, repeats each
measurement (rotating the servers' order per repetition), and writes
results/<timestamp>/{results.md,results.json,chart.png}.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import subprocess
import sys
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path
from typing import Callable, Optional

from . import loads, report
from .loads import LoadError, NodeTools
from .report import Row
from .servers import REPO, SERVERS, Running, ServerSpec, available, rss_kib

__all__ = ["main"]

SECTIONS = ("http", "ws", "sse", "memory")
TOOLS_ENV = "GEVENT_DISPATCH_BENCH_TOOLS"
CACHE_ENV = "GEVENT_DISPATCH_BENCH_CACHE"

WRK_LOAD = "wrk (C, 1 thread, keep-alive)"
WS_LOAD = "Node.js + ws: wsbench.js (shared tools)"
SSE_LOAD = "Node.js: benchmarks/ssefan.js"
MEM_LOAD = "Node.js: benchmarks/idle.js holds the connections; VmRSS of the server"


def parse_args(argv: Optional[list[str]]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n")[0])
    p.add_argument("--only", default=",".join(SECTIONS),
                   help="comma-separated sections among %(default)s")
    p.add_argument("--repeat", type=int, help="runs per measurement (median, min–max); 3")
    p.add_argument("--duration", type=float, help="seconds per HTTP/WS run; 5")
    p.add_argument("--warmup", type=float, help="seconds of wrk warm-up per run; 1")
    p.add_argument("--sse-clients",
                   help="SSE fan-out client counts, each x --sse-events; 100,1000,5000,10000")
    p.add_argument("--sse-events", type=int, default=100)
    p.add_argument("--idle", type=int, help="idle connections for the memory rows; 10000")
    p.add_argument("--servers", default=",".join(s.key for s in SERVERS),
                   help="servers to run, among %(default)s")
    p.add_argument("--quick", action="store_true", help="defaults for a look in minutes: one "
                   "run each, 2 s runs, SSE 100 and 1,000 clients, 1,000 idle")
    p.add_argument("--tools", help=f"shared tools folder (default: ${TOOLS_ENV} or "
                   "<repo>/../shared/tools/bench)")
    p.add_argument("--out", help="results folder (default: results/<timestamp>)")
    args = p.parse_args(argv)
    defaults = (dict(repeat=1, duration=2.0, warmup=0.5, sse_clients="100,1000", idle=1000)
                if args.quick else
                dict(repeat=3, duration=5.0, warmup=1.0, sse_clients="100,1000,5000,10000",
                     idle=10000))
    for name, value in defaults.items():  # options given explicitly win over --quick
        if getattr(args, name) is None:
            setattr(args, name, value)
    args.only = [s for s in args.only.split(",") if s]
    unknown = set(args.only) - set(SECTIONS)
    if unknown:
        p.error(f"unknown sections: {', '.join(sorted(unknown))}")
    args.sse_clients = [int(c) for c in args.sse_clients.split(",") if c]
    args.servers = [s for s in args.servers.split(",") if s]
    if "ours" not in args.servers:
        args.servers.insert(0, "ours")
    if args.repeat < 1:
        p.error("--repeat must be at least 1")
    return args


def locate_tools(explicit: Optional[str]) -> Path:
    candidates = [explicit, os.environ.get(TOOLS_ENV), REPO.parent / "shared/tools/bench",
                  REPO.parent.parent / "shared/tools/bench"]
    for c in candidates:
        if c and (Path(c) / "wsbench.js").exists():
            return Path(c).resolve()
    tried = ", ".join(str(c) for c in candidates if c)
    sys.exit(f"shared bench tools not found (tried {tried}); set ${TOOLS_ENV} or --tools")


def raise_nofile(needed: int) -> int:
    """Raise the open-file limit (inherited by the children) as far as allowed."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, needed)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class Bench:
    """What the sections share: options, servers that run here, the Node.js clients."""

    def __init__(self, args: argparse.Namespace, tools: Path, out_dir: Path) -> None:
        self.args = args
        self.tools = tools
        self.out_dir = out_dir
        self.log_dir = out_dir / "logs"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.runs, self.why = available(tools)
        self.specs = [s for s in SERVERS if s.key in args.servers]
        cache = Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache/gevent-dispatch-bench")
        self.node = NodeTools(tools, cache)
        self.node_error: Optional[str] = None
        if set(args.only) & {"ws", "sse", "memory"}:
            try:
                self.node.prepare()
            except LoadError as exc:
                self.node_error = str(exc)
        self.extra_notes: list[str] = []

    def say(self, text: str) -> None:
        print(text, flush=True)

    def servers_for(self, section: str, rows: list[Row], needs: tuple = ()) -> list[ServerSpec]:
        """The servers that run ``section`` (and the sections in ``needs``) here; the
        others that could are marked skipped in ``rows``, with the reason."""
        chosen = []
        for spec in self.specs:
            runs = self.runs[spec.key]
            if section in runs and all(n in runs for n in needs):
                chosen.append(spec)
                continue
            reasons = [self.why.get(f"{spec.key}/{s}") for s in (*needs, section)]
            why = next((r for r in reasons if r), None) or self.why.get(spec.key)
            if why:
                for row in rows:
                    row.skipped[spec.key] = why
                if spec.key == "ours":
                    self.say(f"  skipped: {why}")
        return chosen

    def rotate(self, specs: list[ServerSpec], rep: int) -> list[ServerSpec]:
        k = rep % len(specs) if specs else 0
        return specs[k:] + specs[:k]

    def start(self, spec: ServerSpec) -> Running:
        return Running(spec, self.tools, self.log_dir)


def _measure(bench: Bench, label: str, rows: dict[str, Row], server: str,
             run: Callable[[], dict], fields: dict[str, str], show: str) -> Optional[dict]:
    try:
        result = run()
    except (LoadError, RuntimeError, OSError) as exc:
        for row in rows.values():
            row.fail(server, str(exc))
        bench.say(f"  {label}: failed: {exc}")
        return None
    for key, name in fields.items():
        if result.get(name) is not None:
            rows[key].add(server, result[name])
    shown = {k: float("nan") if v is None else v for k, v in result.items()}
    bench.say(f"  {label}: " + show.format(**shown))
    return result


def http_section(bench: Bench) -> list[Row]:
    a = bench.args
    rows: dict[str, Row] = {}
    for conns in (1, 32):
        title = f"HTTP seed page, {conns} keep-alive conn{'s' if conns > 1 else ''}"
        rows[f"http{conns}_rps"] = Row(f"http{conns}_rps", "HTTP", title, "requests/s", True,
                                       WRK_LOAD, {"connections": conns})
        for p in ("p50", "p99"):
            rows[f"http{conns}_{p}"] = Row(f"http{conns}_{p}", "HTTP", title, f"{p} ms", False,
                                           WRK_LOAD, {"connections": conns})
        rows[f"http{conns}_cpu"] = Row(f"http{conns}_cpu", "HTTP", title,
                                       "server CPU µs/request", False, WRK_LOAD,
                                       {"connections": conns})
    specs = bench.servers_for("http", list(rows.values()))
    sizes: dict[str, float] = {}
    bodies: dict[str, int] = {}
    with ExitStack() as stack:
        running = {}
        for spec in specs:
            try:
                running[spec.key] = stack.enter_context(bench.start(spec))
            except RuntimeError as exc:
                for row in rows.values():
                    row.skipped[spec.key] = f"did not start: {str(exc).splitlines()[0]}"
        specs = [s for s in specs if s.key in running]
        for spec in specs:
            try:
                with urllib.request.urlopen(running[spec.key].url + "/", timeout=10) as page:
                    bodies[spec.key] = len(page.read())
            except OSError as exc:
                bench.say(f"  {spec.label}: GET / failed: {exc}")
        for rep in range(a.repeat):
            for conns in (1, 32):
                for spec in bench.rotate(specs, rep):
                    server = running[spec.key]
                    sub = {k: r for k, r in rows.items() if k.startswith(f"http{conns}_")}
                    result = _measure(
                        bench, f"http {conns} conn(s) {spec.label} #{rep + 1}", sub, spec.key,
                        lambda server=server, conns=conns: loads.run_wrk(
                            server.url + "/", conns, a.duration, a.warmup, cpu=server.cpu),
                        {f"http{conns}_rps": "requests_per_s", f"http{conns}_p50": "p50_ms",
                         f"http{conns}_p99": "p99_ms", f"http{conns}_cpu": "cpu_us"},
                        "{requests_per_s:,.0f} req/s, p50 {p50_ms:.2f} ms, p99 {p99_ms:.2f} ms,"
                        " {cpu_us:.0f} µs CPU/request, {bytes_per_response:.0f} B/response,"
                        " {errors} errors")
                    if result:
                        sizes[spec.key] = result["bytes_per_response"]
    if sizes:
        labels = {s.key: s.label for s in SERVERS}
        bench.extra_notes.append(
            "HTTP page sizes, body / whole response with headers (wrk): " + ", ".join(
                f"{labels[k]} {bodies.get(k, '?')} / {v:.0f} B" for k, v in sizes.items())
            + ". gevent-dispatch and Racket render the seed's page per request; the Python "
            "peers send a smaller constant page.")
    return list(rows.values())


def ws_section(bench: Bench) -> list[Row]:
    a = bench.args
    rows = {
        "ws32_mps": Row("ws32_mps", "WebSocket", "WS echo 32 conns x 32 B", "messages/s", True,
                        WS_LOAD),
        "ws32_p50": Row("ws32_p50", "WebSocket", "WS echo 32 conns x 32 B", "p50 ms", False,
                        WS_LOAD),
        "ws32_p99": Row("ws32_p99", "WebSocket", "WS echo 32 conns x 32 B", "p99 ms", False,
                        WS_LOAD),
        "ws32_cpu": Row("ws32_cpu", "WebSocket", "WS echo 32 conns x 32 B",
                        "server CPU µs/message", False, WS_LOAD),
        "ws1mib_p50": Row("ws1mib_p50", "WebSocket", "WS echo 1 conn x 1 MiB", "p50 ms", False,
                          WS_LOAD),
    }
    if bench.node_error:
        bench.say(f"  skipped: {bench.node_error}")
        for row in rows.values():
            for spec in bench.specs:
                row.skipped[spec.key] = bench.node_error
        return list(rows.values())
    specs = bench.servers_for("ws", list(rows.values()))
    with ExitStack() as stack:
        running = {}
        for spec in specs:
            try:
                running[spec.key] = stack.enter_context(bench.start(spec))
            except RuntimeError as exc:
                for row in rows.values():
                    row.skipped[spec.key] = f"did not start: {str(exc).splitlines()[0]}"
        specs = [s for s in specs if s.key in running]
        for rep in range(a.repeat):
            for spec in bench.rotate(specs, rep):
                server = running[spec.key]
                url = f"ws://127.0.0.1:{server.port}/ws"
                _measure(bench, f"ws 32 x 32 B {spec.label} #{rep + 1}",
                         {k: rows[k] for k in ("ws32_mps", "ws32_p50", "ws32_p99", "ws32_cpu")},
                         spec.key,
                         lambda url=url, server=server: loads.run_wsbench(
                             bench.node, url, 32, a.duration, 32, cpu=server.cpu),
                         {"ws32_mps": "messages_per_s", "ws32_p50": "p50_ms",
                          "ws32_p99": "p99_ms", "ws32_cpu": "cpu_us"},
                         "{messages_per_s:,.0f} msg/s, p50 {p50_ms:.2f} ms, p99 {p99_ms:.2f} ms,"
                         " {cpu_us:.0f} µs CPU/message")
            for spec in bench.rotate(specs, rep):
                url = f"ws://127.0.0.1:{running[spec.key].port}/ws"
                _measure(bench, f"ws 1 x 1 MiB {spec.label} #{rep + 1}",
                         {"ws1mib_p50": rows["ws1mib_p50"]}, spec.key,
                         lambda url=url: loads.run_wsbench(bench.node, url, 1, a.duration,
                                                           1 << 20),
                         {"ws1mib_p50": "p50_ms"},
                         "{messages_per_s:,.0f} msg/s, p50 {p50_ms:.2f} ms")
    return list(rows.values())


def sse_section(bench: Bench) -> list[Row]:
    a = bench.args
    rows: dict[str, Row] = {}
    for c in a.sse_clients:
        title = f"SSE fan-out {c:,} clients x {a.sse_events}"
        rows[f"sse{c}_dps"] = Row(f"sse{c}_dps", "SSE", title, "deliveries/s", True, SSE_LOAD,
                                  {"clients": c})
        for p in ("p50", "p99"):
            rows[f"sse{c}_{p}"] = Row(f"sse{c}_{p}", "SSE", title, f"{p} ms", False, SSE_LOAD,
                                      {"clients": c})
        rows[f"sse{c}_cpu"] = Row(f"sse{c}_cpu", "SSE", title, "server CPU µs/delivery", False,
                                  SSE_LOAD, {"clients": c})
    if bench.node_error:
        for row in rows.values():
            for spec in bench.specs:
                row.skipped[spec.key] = bench.node_error
        return list(rows.values())
    specs = bench.servers_for("sse", list(rows.values()))
    for rep in range(a.repeat):
        for c in a.sse_clients:
            timeout = 60 + c * a.sse_events / 4000
            for spec in bench.rotate(specs, rep):
                sub = {k: r for k, r in rows.items() if k.startswith(f"sse{c}_")}

                def run(spec=spec, c=c, timeout=timeout) -> dict:
                    with bench.start(spec) as server:  # a fresh server: no stale streams
                        return loads.run_ssefan(bench.node, server.url, c, a.sse_events,
                                                timeout, cpu=server.cpu)
                _measure(bench, f"sse {c:,} x {a.sse_events} {spec.label} #{rep + 1}", sub,
                         spec.key, run,
                         {f"sse{c}_dps": "deliveries_per_s", f"sse{c}_p50": "p50_ms",
                          f"sse{c}_p99": "p99_ms", f"sse{c}_cpu": "cpu_us"},
                         "{deliveries_per_s:,.0f} deliveries/s, p50 {p50_ms:.0f} ms, "
                         "p99 {p99_ms:.0f} ms, {cpu_us:.1f} µs CPU/delivery "
                         "(streams opened in {open_ms} ms)")
    return list(rows.values())


def _settled_rss(pid: int, limit_s: float = 10.0) -> int:
    """VmRSS once it stops growing (two reads 0.5 s apart within 1%), at most ``limit_s``."""
    last = rss_kib(pid)
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = rss_kib(pid)
        if abs(now - last) <= last / 100:
            return now
        last = now
    return last


def memory_section(bench: Bench) -> list[Row]:
    a = bench.args
    n = a.idle
    rows = {
        "mem_sse_kib": Row("mem_sse_kib", "Memory", f"RSS per idle SSE stream, {n:,} open",
                           "KiB", False, MEM_LOAD, {"kind": "sse"}),
        "mem_ws_kib": Row("mem_ws_kib", "Memory", f"RSS per idle WebSocket, {n:,} open", "KiB",
                          False, MEM_LOAD, {"kind": "ws"}),
        "mem_http_kib": Row("mem_http_kib", "Memory",
                            f"RSS per idle keep-alive connection, {n:,} open", "KiB",
                            False, MEM_LOAD, {"kind": "http"}),
    }
    if bench.node_error:
        for row in rows.values():
            for spec in bench.specs:
                row.skipped[spec.key] = bench.node_error
        return list(rows.values())
    for kind, key, path in (("sse", "mem_sse_kib", "/sse"), ("ws", "mem_ws_kib", "/ws"),
                            ("http", "mem_http_kib", "/")):
        specs = bench.servers_for("memory", [rows[key]],
                                  needs=(kind,) if kind != "http" else ())
        for rep in range(a.repeat):
            for spec in bench.rotate(specs, rep):
                def run(spec=spec, kind=kind, path=path) -> dict:
                    with bench.start(spec) as server:
                        scheme = "ws" if kind == "ws" else "http"
                        url = f"{scheme}://127.0.0.1:{server.port}{path}"
                        before = _settled_rss(server.pid)
                        with loads.idle_connections(bench.node, kind, url, n) as idle:
                            if idle.opened < n * 0.99:
                                raise LoadError(f"only {idle.opened} of {n} connections opened")
                            after = _settled_rss(server.pid)
                        return {"kib": (after - before) / idle.opened, "before": before,
                                "after": after, "opened": idle.opened}
                _measure(bench, f"memory {kind} x {n:,} {spec.label} #{rep + 1}",
                         {key: rows[key]}, spec.key, run, {key: "kib"},
                         "{kib:.1f} KiB each ({before:,} -> {after:,} KiB, {opened:,} open)")
    return list(rows.values())


def environment(args: argparse.Namespace, tools: Path, node: NodeTools) -> dict:
    def version(module: str) -> str:
        try:
            from importlib.metadata import version as v
            return v(module)
        except Exception:
            return "not installed"

    def output(argv: list[str]) -> str:
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
            return (done.stdout or done.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return "not installed"

    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ws_version = "?"
    try:
        package = node.cache / "node_modules/ws/package.json"
        ws_version = json.loads(package.read_text())["version"]
    except (OSError, ValueError, KeyError):
        pass
    return {
        "when": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "machine": f"{os.cpu_count()} CPU ({cpu}), {platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "gevent": version("gevent"), "werkzeug": version("werkzeug"),
        "aiohttp": version("aiohttp"),
        "racket": output(["racket", "--version"]),
        "wrk": loads.describe_tools()["wrk"], "node": loads.describe_tools()["node"],
        "ws": ws_version,
        "commit": output(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"]),
        "repeat": args.repeat, "duration_s": args.duration, "tools": str(tools),
    }


def main(argv: Optional[list[str]] = None) -> int:
    args = parse_args(argv)
    nofile = raise_nofile(args.idle * 2 + 1000)
    if "memory" in args.only and nofile < args.idle + 500:
        args.idle = max(100, nofile - 500)
        print(f"open-file limit {nofile}: memory rows use {args.idle} connections", flush=True)
    tools = locate_tools(args.tools)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    out_dir = Path(args.out) if args.out else REPO / "results" / stamp
    bench = Bench(args, tools, out_dir)
    env = environment(args, tools, bench.node)
    print(f"results go to {out_dir}", flush=True)
    sections = {"http": http_section, "ws": ws_section, "sse": sse_section,
                "memory": memory_section}
    rows: list[Row] = []
    for name in SECTIONS:
        if name in args.only:
            print(f"[{name}]", flush=True)
            rows += sections[name](bench)
    servers = [(s.key, s.label) for s in bench.specs]
    header = [
        f"{env['when']}, {env['machine']}, commit {env['commit']}",
        f"Python {env['python']}, gevent {env['gevent']}, werkzeug {env['werkzeug']}, "
        f"aiohttp {env['aiohttp']}; {env['racket']}",
        f"Load generated by: {env['wrk']} for HTTP; Node.js {env['node']} with ws "
        f"{env['ws']} for WebSocket, SSE and idle connections; clients and servers share "
        "the machine, everything on 127.0.0.1",
        f"{args.repeat} run(s) per figure, {args.duration:g} s each for HTTP and WS, "
        "servers' order rotated per run; server CPU per request/message/delivery (from "
        "/proc/<pid>/stat) is steadier than throughput when the machine is shared",
    ]
    extra = list(bench.extra_notes)
    text = report.write_all(out_dir, rows, servers, header, extra, env)
    print()
    print(text)
    print(f"wrote {out_dir / 'results.md'}, {out_dir / 'results.json'}, {out_dir / 'chart.png'}")
    return 0
