"""Load generators: wrk for HTTP, Node.js clients for WebSocket and SSE.

Throughput figures come from compiled or Node.js clients, never from a Python client, so
that the client is not the bottleneck that hides a difference between servers.
"""
from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Callable, Optional

HERE = Path(__file__).resolve().parent

__all__ = ["LoadError", "MIN_CPU_TICKS", "NodeTools", "cpu_us_per", "describe_tools",
           "idle_connections", "run_ssefan", "run_wrk", "run_wsbench"]


class LoadError(RuntimeError):
    """A load client failed or timed out; the message says how."""


def _run(argv: list[str], timeout: float, env: Optional[dict] = None) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        raise LoadError(f"{Path(argv[0]).name} timed out after {timeout:.0f} s") from exc
    if done.returncode != 0 and not done.stdout.strip():
        raise LoadError(f"{' '.join(argv[:2])} exited {done.returncode}: {done.stderr[-500:]}")
    return done.stdout


def _last_json(output: str, prefix: str = "") -> dict:
    for line in reversed(output.splitlines()):
        line = line.strip()
        if line.startswith(prefix + "{"):
            return json.loads(line[len(prefix):])
    raise LoadError(f"no result in output: {output[-500:]!r}")


# -- HTTP: wrk ---------------------------------------------------------------------------

CPU = Optional[Callable[[], float]]

#: /proc counts a process's CPU time in clock ticks (10 ms at the usual 100 Hz). Below
#: this many, a tick more or less is most of the figure: such a run reports no CPU figure
#: rather than a false one (an SSE fan-out of 10,000 deliveries takes 1-2 ticks here).
MIN_CPU_TICKS = 5
_TICKS_PER_S = os.sysconf("SC_CLK_TCK")


def cpu_us_per(used: Optional[float], count: float) -> Optional[float]:
    """µs of server CPU per request, message or delivery, from ``used`` seconds over
    ``count`` of them; ``None`` when too few clock ticks were counted to mean anything."""
    if used is None or not count or used * _TICKS_PER_S < MIN_CPU_TICKS:
        return None
    return used / count * 1e6


def run_wrk(url: str, connections: int, seconds: float, warmup: float = 1.0,
            cpu: CPU = None) -> dict:
    """Requests/s, p50/p99 latency (ms), bytes per response and (given ``cpu``, the
    server's CPU-seconds counter) server CPU µs per request over keep-alive connections;
    one wrk thread (on two cores the other one is the server's).  wrk takes whole
    seconds: durations are rounded up, to one second at least."""
    base = ["wrk", "-t1", f"-c{connections}", "--timeout", "10s"]
    if warmup > 0:
        _wrk_ran(_run([*base, f"-d{_whole(warmup)}s", url], timeout=warmup + 30))
    cpu_before = cpu() if cpu else 0.0
    out = _run([*base, f"-d{_whole(seconds)}s", "-s", str(HERE / "wrk_report.lua"), url],
               timeout=seconds + 30)
    _wrk_ran(out)
    cpu_used = cpu() - cpu_before if cpu else None
    r = _last_json(out, "WRKJSON ")
    errors = sum(r["errors"].values())
    if r["requests"] == 0:
        raise LoadError(f"wrk: no request completed ({r['errors']})")
    return {
        "requests_per_s": r["requests"] / (r["duration_us"] / 1e6),
        "p50_ms": r["p50_us"] / 1000, "p99_ms": r["p99_us"] / 1000,
        "bytes_per_response": r["bytes"] / r["requests"], "errors": errors,
        "cpu_us": cpu_us_per(cpu_used, r["requests"]),
    }


def _whole(seconds: float) -> int:
    return max(1, math.ceil(seconds))


def _wrk_ran(output: str) -> None:
    # wrk answers options it cannot parse with its usage text and exit status 0
    if output.lstrip().startswith("Usage:"):
        raise LoadError(f"wrk did not run: {output.strip().splitlines()[0]}")


# -- Node.js clients ---------------------------------------------------------------------

class NodeTools:
    """The shared Node.js clients, copied with their ``node_modules`` into a cache
    folder outside the repository (npm installs there once)."""

    def __init__(self, tools: Path, cache: Path) -> None:
        self.tools = tools
        self.cache = cache

    def prepare(self) -> None:
        if shutil.which("node") is None:
            raise LoadError("node is not installed")
        self.cache.mkdir(parents=True, exist_ok=True)
        for name in ("package.json", "wsbench.js", "ssebench.js"):
            if (self.tools / name).exists():
                shutil.copy2(self.tools / name, self.cache / name)
        if not (self.cache / "node_modules" / "ws").is_dir():
            npm = shutil.which("npm")
            if npm is None:
                raise LoadError("npm is not installed")
            done = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--silent"],
                                  cwd=self.cache, capture_output=True, text=True, timeout=600)
            if done.returncode != 0:
                raise LoadError(f"npm install failed in {self.cache}: {done.stderr[-500:]}")

    @property
    def env(self) -> dict:
        return dict(os.environ, NODE_PATH=str(self.cache / "node_modules"))

    def node(self, script: Path, *args, timeout: float) -> dict:
        return _last_json(_run(["node", str(script), *map(str, args)], timeout, self.env))


def run_wsbench(node: NodeTools, url: str, connections: int, seconds: float,
                size: int, cpu: CPU = None) -> dict:
    """Echo messages/s, round-trip p50/p99 (ms) and server CPU µs per echoed message:
    the shared wsbench.js, which counts after a 1 s warm-up (so does the CPU here)."""
    sample: list[float] = []
    timer = threading.Timer(1.1, lambda: sample.append(cpu())) if cpu else None
    if timer:
        timer.start()
    try:
        r = node.node(node.cache / "wsbench.js", url, connections, seconds, size,
                      timeout=seconds + 60)
    finally:
        if timer:
            timer.cancel()
    cpu_us = None
    if cpu and sample and r.get("msgs_per_s"):
        # wsbench.js lingers 0.3 s after counting, while its connections close
        cpu_us = cpu_us_per(cpu() - sample[0], float(r["msgs_per_s"]) * seconds)
    if r.get("open") != connections:
        raise LoadError(f"wsbench: {r.get('open')} of {connections} connections opened")
    if r.get("p50_ms") in (None, "nan"):
        raise LoadError(f"wsbench: no echo came back ({r})")
    return {"messages_per_s": float(r["msgs_per_s"]), "p50_ms": float(r["p50_ms"]),
            "p99_ms": float(r["p99_ms"]), "errors": r.get("errors", 0), "cpu_us": cpu_us}


def run_ssefan(node: NodeTools, base: str, clients: int, events: int,
               timeout: float, cpu: CPU = None) -> dict:
    """Deliveries/s, delivery latency p50/p99 (ms) and server CPU µs per delivery of
    ``events`` broadcasts to ``clients`` streams (benchmarks/ssefan.js, which says
    "publishing" once every stream is open)."""
    argv = ["node", str(HERE / "ssefan.js"), f"{base}/sse", f"{base}/publish", str(clients),
            str(events), str(int(timeout))]
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=node.env)
    watchdog = threading.Timer(timeout + 30, proc.kill)
    watchdog.start()
    cpu_at_publish = None
    lines = []
    try:
        for line in proc.stdout:
            if line.startswith("publishing") and cpu:
                cpu_at_publish = cpu()
            lines.append(line)
        cpu_after = cpu() if cpu and cpu_at_publish is not None else None
        proc.wait(timeout=10)
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    r = _last_json("".join(lines))
    if r.get("received") != r.get("expected"):
        raise LoadError(f"ssefan: {r.get('received')} of {r.get('expected')} deliveries "
                        f"({r.get('opened')} of {clients} streams open, "
                        f"{'timed out' if r.get('timeout') else 'ended'})")
    cpu_us = None
    if cpu_after is not None:
        cpu_us = cpu_us_per(cpu_after - cpu_at_publish, r["received"])
    return {"deliveries_per_s": float(r["deliveries_per_s"]), "p50_ms": float(r["p50_ms"]),
            "p99_ms": float(r["p99_ms"]), "errors": r.get("errors", 0),
            "open_ms": r.get("open_ms"), "cpu_us": cpu_us}


class idle_connections:
    """Context manager: ``count`` idle SSE streams or WebSockets held by
    benchmarks/idle.js; ``opened`` says how many opened."""

    def __init__(self, node: NodeTools, kind: str, url: str, count: int,
                 timeout: float = 300) -> None:
        self.argv = ["node", str(HERE / "idle.js"), kind, url, str(count), str(int(timeout))]
        self.node = node
        self.timeout = timeout
        self.opened = 0

    def __enter__(self) -> idle_connections:
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True, env=self.node.env)
        line = self.proc.stdout.readline()  # idle.js prints once everything settled
        if not line:
            self.__exit__()
            raise LoadError("idle.js ended before opening its connections")
        report = json.loads(line)
        self.opened = report.get("open", 0)
        return self

    def __exit__(self, *exc) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


def describe_tools() -> dict:
    """Versions of the load generators, for the report."""
    def first_line(argv: list[str]) -> str:
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=10)
        except OSError:
            return "not installed"
        text = (done.stdout or done.stderr).strip()
        return text.splitlines()[0] if text else "?"
    return {"wrk": first_line(["wrk", "--version"]).split(" Copyright")[0],
            "node": first_line(["node", "--version"])}
