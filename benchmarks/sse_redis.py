"""SSE fan-out through 2 gunicorn worker processes sharing Redis, against one process with
the in-memory broker, in the same run.

    python -m benchmarks.sse_redis [--clients 1000] [--events 100] [--repeat 3]

Needs redis-server, gunicorn and node (the shared ssebench tools, via benchmarks.loads).
Clients connect to one port; the kernel spreads them over the two workers, and the
publish lands on one of them: every event crosses Redis to reach the other's clients.
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.loads import NodeTools, run_ssefan

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def start(argv, env=None) -> subprocess.Popen:
    return subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=dict(os.environ, PYTHONPATH=str(ROOT), **(env or {})))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--events", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tools", default=os.environ.get(
        "GEVENT_DISPATCH_BENCH_TOOLS", str(ROOT.parent / "shared" / "tools" / "bench")))
    args = parser.parse_args()
    node = NodeTools(Path(args.tools), Path.home() / ".cache" / "gevent-dispatch-bench")
    node.prepare()
    results: dict = {"1 process, in-memory broker": [], "2 gunicorn workers, Redis": []}
    with tempfile.TemporaryDirectory() as tmp:
        redis_port = free_port()
        redis = start(["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1",
                       "--dir", tmp, "--save", ""])
        try:
            wait_port(redis_port)
            for _ in range(args.repeat):
                for name in results:
                    port = free_port()
                    if name.startswith("1"):
                        server = start([sys.executable, "-m", "benchmarks.app", str(port)])
                    else:
                        server = start([sys.executable, "-m", "gunicorn", "-k",
                                        "dispatch.gunicorn.Worker", "-w", "2", "-b",
                                        f"127.0.0.1:{port}", "--backlog", "4096",
                                        "benchmarks.redis_app:app"],
                                       env={"REDIS_URL": f"redis://127.0.0.1:{redis_port}/0"})
                    try:
                        wait_port(port)
                        time.sleep(1)  # let gunicorn's second worker come up too
                        results[name].append(run_ssefan(
                            node, f"http://127.0.0.1:{port}", args.clients, args.events, 60))
                    finally:
                        server.terminate()
                        server.wait(30)
        finally:
            redis.terminate()
            redis.wait(10)
    print(f"SSE fan-out, {args.clients} clients x {args.events} events, "
          f"median of {args.repeat} (min-max), load: Node.js ssefan.js")
    for name, runs in results.items():
        rates = [r["deliveries_per_s"] for r in runs]
        p50 = [r["p50_ms"] for r in runs]
        p99 = [r["p99_ms"] for r in runs]
        print(f"  {name:30} {statistics.median(rates):>10,.0f} deliveries/s "
              f"({min(rates):,.0f}-{max(rates):,.0f}), p50 {statistics.median(p50):.0f} ms, "
              f"p99 {statistics.median(p99):.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
