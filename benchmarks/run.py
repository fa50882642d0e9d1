"""One command for the whole side-by-side benchmark.

    python -m benchmarks [--quick] [--repeat N] [--only http,ws,sse,memory,inproc] ...

Starts this project's benchmark app (benchmarks/app.py) and each peer (raw gevent with and
without TCP_NODELAY, aiohttp, Starlette on uvicorn, Flask on gunicorn's gevent worker,
Racket's web-server when ``racket`` is installed) as child processes on free 127.0.0.1
ports, drives them with wrk and Node.js clients, repeats each measurement (rotating the
servers' order per repetition), times the WSGI application in process
(benchmarks/inproc.py, with and without the compiled extensions), and writes
results/<timestamp>/{results.md,results.json,chart.png}.  ``--baseline CHECKOUT`` runs
another checkout's benchmark app beside this one's, so that a change is judged against
the code before it in the same run.
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

from . import inproc, loads, report
from .loads import LoadError, NodeTools
from .report import Row
from .servers import (
    CONSTANT_PAGE,
    OURS_CONST,
    REPO,
    SERVERS,
    Running,
    ServerSpec,
    available,
    baseline,
)

__all__ = ["main"]

SECTIONS = ("http", "ws", "sse", "memory", "inproc")
#: the sections that need the shared tools (peers, Node.js clients)
NEEDS_TOOLS = {"http", "ws", "sse", "memory"}
TOOLS_ENV = "GEVENT_DISPATCH_BENCH_TOOLS"
CACHE_ENV = "GEVENT_DISPATCH_BENCH_CACHE"

WRK_LOAD = "wrk (C, 1 thread, keep-alive)"
WS_LOAD = "Node.js + ws: wsbench.js (shared tools)"
SSE_LOAD = "Node.js: benchmarks/ssefan.js"
MEM_LOAD = "Node.js: benchmarks/idle.js holds the connections; VmRSS of the server"
INPROC_LOAD = ("none: the WSGI application called in process {count:,} times per round with "
               "a prepared environ, best of {rounds} rounds (benchmarks/inproc.py)")


def parse_args(argv: Optional[list[str]]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n")[0])
    p.add_argument("--only", default=",".join(SECTIONS),
                   help="comma-separated sections among %(default)s")
    p.add_argument("--repeat", type=int, help="runs per measurement (median, min–max); 3")
    p.add_argument("--duration", type=float,
                   help="seconds per HTTP/WS run (whole seconds for wrk); 5")
    p.add_argument("--warmup", type=float,
                   help="seconds of wrk warm-up per run (whole seconds, 0 for none); 1")
    p.add_argument("--sse-clients",
                   help="SSE fan-out client counts, each x --sse-events; 100,1000,5000,10000")
    p.add_argument("--sse-events", type=int, default=100)
    p.add_argument("--idle", type=int, help="idle connections for the memory rows; 10000")
    p.add_argument("--inproc-count", type=int, default=20_000,
                   help="calls per round in process; %(default)s")
    p.add_argument("--inproc-rounds", type=int, help="rounds in process, the best counts; 5")
    p.add_argument("--servers", default=",".join(s.key for s in SERVERS),
                   help="servers to run, among %(default)s")
    p.add_argument("--baseline", metavar="CHECKOUT",
                   help="also run this project as another checkout has it (a git worktree of "
                   "an earlier commit, say), side by side: ratios to it say what a change "
                   "did; HTTP rows for its seed page only")
    p.add_argument("--quick", action="store_true", help="defaults for a look in minutes: one "
                   "run each, 2 s runs, SSE 100 and 1,000 clients, 1,000 idle")
    p.add_argument("--tools", help=f"shared tools folder (default: ${TOOLS_ENV} or "
                   "<repo>/../shared/tools/bench)")
    p.add_argument("--out", help="results folder (default: results/<timestamp>)")
    args = p.parse_args(argv)
    defaults = (dict(repeat=1, duration=2.0, warmup=1.0, sse_clients="100,1000", idle=1000,
                     inproc_rounds=3)
                if args.quick else
                dict(repeat=3, duration=5.0, warmup=1.0, sse_clients="100,1000,5000,10000",
                     idle=10000, inproc_rounds=5))
    for name, value in defaults.items():  # options given explicitly win over --quick
        if getattr(args, name) is None:
            setattr(args, name, value)
    args.only = [s for s in args.only.split(",") if s]
    unknown = set(args.only) - set(SECTIONS)
    if unknown:
        p.error(f"unknown sections: {', '.join(sorted(unknown))}")
    args.sse_clients = [int(c) for c in args.sse_clients.split(",") if c]
    args.servers = [s for s in args.servers.split(",") if s]
    if args.baseline is not None and not (Path(args.baseline) / "benchmarks/app.py").is_file():
        p.error(f"--baseline: no benchmarks/app.py in {args.baseline}")
    if "ours" not in args.servers:
        args.servers.insert(0, "ours")
    if args.repeat < 1:
        p.error("--repeat must be at least 1")
    if args.inproc_count < 1 or args.inproc_rounds < 1:
        p.error("--inproc-count and --inproc-rounds must be at least 1")
    return args


def locate_tools(explicit: Optional[str], required: bool = True) -> Path:
    """The shared tools folder; when not ``required`` (sections that use none of it), the
    first candidate even if absent: the shared peers are then skipped as not found."""
    candidates = [explicit, os.environ.get(TOOLS_ENV), REPO.parent / "shared/tools/bench",
                  REPO.parent.parent / "shared/tools/bench"]
    for c in candidates:
        if c and (Path(c) / "wsbench.js").exists():
            return Path(c).resolve()
    tried = ", ".join(str(c) for c in candidates if c)
    if not required:
        return Path(next(c for c in candidates if c))
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
        extra = (baseline(Path(args.baseline)),) if args.baseline is not None else ()
        self.specs = [s for s in SERVERS if s.key in args.servers]
        self.specs[1:1] = extra  # its column right after this checkout's
        self.runs, self.why = available(tools, extra)
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


#: (row key suffix, unit, higher is better, run_wrk's result name)
HTTP_FIGURES = (("rps", "requests/s", True, "requests_per_s"), ("p50", "p50 ms", False, "p50_ms"),
                ("p99", "p99 ms", False, "p99_ms"), ("cpu", "server CPU µs/request", False,
                                                     "cpu_us"))


def _http_rows(prefix: str, page: str, conns: int) -> dict[str, Row]:
    title = f"HTTP {page}, {conns} keep-alive conn{'s' if conns > 1 else ''}"
    return {f"{prefix}{conns}_{k}": Row(f"{prefix}{conns}_{k}", "HTTP", title, unit, higher,
                                        WRK_LOAD, {"connections": conns, "page": prefix})
            for k, unit, higher, _ in HTTP_FIGURES}


def http_section(bench: Bench) -> list[Row]:
    """wrk on every server's ``/``, and on this project twice: the seed page (rows
    ``http*``) and the constant page through the same layout (rows ``const*``).  A peer
    whose ``/`` is the constant page is measured once; its figures go in both rows (the
    seed rows as before: the target there is the seed page against the peers' page)."""
    a = bench.args
    rows: dict[str, Row] = {}
    for conns in (1, 32):
        rows.update(_http_rows("const", "constant 114 B page", conns))
    for conns in (1, 32):
        rows.update(_http_rows("http", "seed page", conns))
    specs = bench.servers_for("http", list(rows.values()))
    for spec in specs:
        if spec.key not in CONSTANT_PAGE and spec.key != "ours":
            for key, row in rows.items():
                if key.startswith("const"):
                    row.skipped[spec.key] = "renders the seed page only"
    sizes: dict[str, float] = {}
    bodies: dict[str, int] = {}
    with ExitStack() as stack:
        # (label, server key, running server, row prefixes its figures go in)
        jobs: list[tuple[str, str, Running, tuple[str, ...]]] = []
        starts = [(s, ("const", "http") if s.key in CONSTANT_PAGE else ("http",))
                  for s in specs]
        if any(s.key == "ours" for s in specs):
            starts.insert(1, (OURS_CONST, ("const",)))
        for spec, prefixes in starts:
            try:
                server = stack.enter_context(bench.start(spec))
            except RuntimeError as exc:
                for key, row in rows.items():
                    if key.startswith(prefixes):
                        row.skipped[spec.key] = f"did not start: {str(exc).splitlines()[0]}"
                continue
            jobs.append((spec.label, spec.key, server, prefixes))
        for label, _key, server, _ in jobs:
            try:
                with urllib.request.urlopen(server.url + "/", timeout=10) as page:
                    bodies[label] = len(page.read())
            except OSError as exc:
                bench.say(f"  {label}: GET / failed: {exc}")
        for rep in range(a.repeat):
            for conns in (1, 32):
                for label, key, server, prefixes in bench.rotate(jobs, rep):
                    sub = {k: r for k, r in rows.items()
                           if k.startswith(tuple(f"{p}{conns}_" for p in prefixes))}
                    fields = {f"{p}{conns}_{k}": name for p in prefixes
                              for k, _, _, name in HTTP_FIGURES}
                    result = _measure(
                        bench, f"http {conns} conn(s) {label} #{rep + 1}", sub, key,
                        lambda server=server, conns=conns: loads.run_wrk(
                            server.url + "/", conns, a.duration, a.warmup, cpu=server.cpu),
                        fields,
                        "{requests_per_s:,.0f} req/s, p50 {p50_ms:.2f} ms, p99 {p99_ms:.2f} ms,"
                        " {cpu_us:.0f} µs CPU/request, {bytes_per_response:.0f} B/response,"
                        " {errors} errors")
                    if result:
                        sizes[label] = result["bytes_per_response"]
    if sizes:
        bench.extra_notes.append(
            "HTTP page sizes, body / whole response with headers (wrk): " + ", ".join(
                f"{label} {bodies.get(label, '?')} / {v:.0f} B" for label, v in sizes.items())
            + ". Seed-page rows: gevent-dispatch and Racket render the seed's page per "
            "request; the Python peers' figures there are their constant page (the same runs "
            "as in the constant-page rows). Constant-page rows: every server sends the same "
            "114 B page; gevent-dispatch through the seed page's layout (sequencer of 4 "
            "filters, servlet) answering with response_full.")
    return list(rows.values())


#: (key, short label, the environment variable's value: None unsets it)
INPROC_MODES = (("ext", "default", None), ("pure", "NO_EXTENSIONS=1", "1"))


def inproc_section(bench: Bench) -> list[Row]:
    """benchmarks/inproc.py in one child process per mode: with the compiled extensions
    allowed, and with them turned off by the environment variable."""
    a = bench.args
    rows: dict[str, Row] = {}
    for mode, label, _ in INPROC_MODES:
        for case, short, _ in inproc.CASES:
            unit = "µs/decline" if case == "decline" else "µs/request"
            rows[f"inproc_{mode}_{case}"] = Row(
                f"inproc_{mode}_{case}", "In process", f"In process ({label}): {short}", unit,
                False, INPROC_LOAD.format(count=a.inproc_count, rounds=a.inproc_rounds),
                {"mode": mode, "case": case})
    seen: dict[str, str] = {}
    timeout = 60 + (len(inproc.CASES) + 1) * (a.inproc_rounds + 1) * 2.0
    for rep in range(a.repeat):
        for mode, label, value in bench.rotate(list(INPROC_MODES), rep):
            env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep
                       + os.environ.get("PYTHONPATH", ""))
            env.pop(inproc.NO_EXTENSIONS_ENV, None)
            if value is not None:
                env[inproc.NO_EXTENSIONS_ENV] = value
            argv = [sys.executable, "-m", "benchmarks.inproc", "--json",
                    "--count", str(a.inproc_count), "--rounds", str(a.inproc_rounds)]
            mine = {k: r for k, r in rows.items() if k.startswith(f"inproc_{mode}_")}

            def run(argv=argv, env=env) -> dict:
                try:
                    done = subprocess.run(argv, cwd=REPO, env=env, capture_output=True,
                                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)
                except subprocess.TimeoutExpired as exc:
                    raise LoadError(f"benchmarks.inproc timed out after {timeout:.0f} s") \
                        from exc
                if done.returncode != 0:
                    raise LoadError(f"benchmarks.inproc exited {done.returncode}: "
                                    f"{done.stderr.strip()[-500:]}")
                result = loads._last_json(done.stdout)
                return {"compiled": result["compiled"], **result["us"]}

            result = _measure(bench, f"in process, {label} #{rep + 1}", mine, "ours", run,
                              {f"inproc_{mode}_{case}": case for case, _, _ in inproc.CASES},
                              "dispatch._compiled={compiled}, " + ", ".join(
                                  f"{case} {{{case}:.2f}} µs" for case, _, _ in inproc.CASES))
            if result:
                seen[mode] = result["compiled"]
    for mode, label, _ in INPROC_MODES:
        if mode in seen:
            for key, row in rows.items():
                if key.startswith(f"inproc_{mode}_"):
                    row.title = row.title.replace(
                        f"({label})", f"({label}, _compiled={seen[mode]})")
    if seen:
        bench.extra_notes.append(
            "In process: dispatch._compiled = " + "; ".join(
                f"{seen[m]} by default" if v is None else
                f"{seen[m]} with {inproc.NO_EXTENSIONS_ENV}={v}"
                for m, _, v in INPROC_MODES if m in seen)
            + (" (this checkout has no such attribute: both modes run the same Python code)"
               if set(seen.values()) == {"n/a"} else "")
            + ". Cases: " + "; ".join(f"{short}: {what}" for _, short, what in inproc.CASES)
            + ".")
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


def _settled_rss(server: Running, limit_s: float = 10.0) -> int:
    """VmRSS once it stops growing (two reads 0.5 s apart within 1%), at most ``limit_s``."""
    last = server.rss()
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = server.rss()
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
                        before = _settled_rss(server)
                        with loads.idle_connections(bench.node, kind, url, n) as idle:
                            if idle.opened < n * 0.99:
                                raise LoadError(f"only {idle.opened} of {n} connections opened")
                            after = _settled_rss(server)
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
        "aiohttp": version("aiohttp"), "starlette": version("starlette"),
        "uvicorn": version("uvicorn"), "uvloop": version("uvloop"),
        "httptools": version("httptools"), "flask": version("flask"),
        "gunicorn": version("gunicorn"),
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
    tools = locate_tools(args.tools, required=bool(NEEDS_TOOLS & set(args.only)))
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    out_dir = Path(args.out) if args.out else REPO / "results" / stamp
    bench = Bench(args, tools, out_dir)
    env = environment(args, tools, bench.node)
    print(f"results go to {out_dir}", flush=True)
    sections = {"http": http_section, "ws": ws_section, "sse": sse_section,
                "memory": memory_section, "inproc": inproc_section}
    rows: list[Row] = []
    for name in SECTIONS:
        if name in args.only:
            print(f"[{name}]", flush=True)
            rows += sections[name](bench)
    # a column per server that appears in some row (--only inproc: this project alone)
    servers = [(s.key, s.label) for s in bench.specs
               if s.key == "ours" or any(s.key in r.samples or s.key in r.skipped
                                         or s.key in r.errors for r in rows)]
    header = [
        f"{env['when']}, {env['machine']}, commit {env['commit']}",
        f"Python {env['python']}, gevent {env['gevent']}, werkzeug {env['werkzeug']}, "
        f"httptools {env['httptools']}; aiohttp {env['aiohttp']}; Starlette "
        f"{env['starlette']} on uvicorn {env['uvicorn']} (httptools, uvloop "
        f"{env['uvloop']}); Flask {env['flask']} on gunicorn {env['gunicorn']} (gevent "
        f"worker); {env['racket']}",
        f"Load generated by: {env['wrk']} for HTTP; Node.js {env['node']} with ws "
        f"{env['ws']} for WebSocket, SSE and idle connections; clients and servers share "
        "the machine, everything on 127.0.0.1",
        f"{args.repeat} run(s) per figure, {args.duration:g} s each for HTTP and WS "
        f"(wrk warm-up {args.warmup:g} s), "
        "servers' order rotated per run; server CPU per request/message/delivery (from "
        "/proc/<pid>/stat) is steadier than throughput when the machine is shared, and "
        f"n/a where a run used fewer than {loads.MIN_CPU_TICKS} of its clock ticks",
    ]
    extra = list(bench.extra_notes)
    text = report.write_all(out_dir, rows, servers, header, extra, env)
    print()
    print(text)
    print(f"wrote {out_dir / 'results.md'}, {out_dir / 'results.json'}, {out_dir / 'chart.png'}")
    return 0
