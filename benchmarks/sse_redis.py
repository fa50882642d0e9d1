"""SSE fan-out through 2 gunicorn worker processes sharing Redis, against one process with
the in-memory broker, in the same run; and recovery after a Redis reset.

    python -m benchmarks.sse_redis [--clients 1000] [--events 100] [--repeat 3]
    python -m benchmarks.sse_redis --failover [--clients 20] [--rate 200] [--seconds 10]
    python -m benchmarks.sse_redis --restart  [--clients 20] [--rate 200] [--seconds 10]

Fan-out needs redis-server, gunicorn and node (the shared ssebench tools, via
benchmarks.loads).  Clients connect to one port; the kernel spreads them over the two
workers, and the publish lands on one of them: every event crosses Redis to reach the
other's clients.

``--failover`` (a master, a replica and a Sentinel) kills the master with SIGKILL half-way;
``--restart`` (one Redis without persistence) kills it and starts it again, empty.  Two
server processes share Redis; the clients are spread over both, events are sent at
``--rate`` through both.  Reported: events acknowledged, refused (503) and lost
(acknowledged but never received, per client), the send outage (kill to the first
acknowledged event that was sent after it) and the time to recover (kill to every client
having an event sent after the kill).  Needs only redis-server.
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
from typing import Optional

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
    parser.add_argument("--clients", type=int, default=None,
                        help="SSE clients (default 1000; 20 with --failover/--restart)")
    parser.add_argument("--events", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=None,
                        help="runs (default 3; 1 with --failover/--restart)")
    parser.add_argument("--tools", default=os.environ.get(
        "GEVENT_DISPATCH_BENCH_TOOLS", str(ROOT.parent / "shared" / "tools" / "bench")))
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--failover", action="store_true",
                      help="kill -9 the Redis master under load (Sentinel)")
    mode.add_argument("--restart", action="store_true",
                      help="restart Redis empty under load (no persistence)")
    parser.add_argument("--rate", type=float, default=200, help="events/s sent (recovery)")
    parser.add_argument("--seconds", type=float, default=10, help="run length (recovery)")
    args = parser.parse_args()
    recovery = args.failover or args.restart
    args.clients = args.clients or (20 if recovery else 1000)
    args.repeat = args.repeat or (1 if recovery else 3)
    if recovery:
        return run_recovery(args)
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


# -- recovery after a Redis reset (--failover, --restart) ----------------------------------
#
# The measuring side is this process, with gevent sockets (no monkey patching needed);
# the two servers are `python -c` processes that patch first and call serve_app below.

SERVER = ("from gevent import monkey; monkey.patch_all(); "
          "from benchmarks.sse_redis import serve_app; serve_app()")


def serve_app() -> None:
    """A server process: GET /sse streams, POST /publish?data=... sends a kept event and
    answers its id (503 when Redis cannot take it).  Configured by the environment:
    PORT, REDIS_URL or SENTINEL (host:port) and SERVICE."""
    import logging

    from dispatch import filter, sequencer
    from dispatch.server import read_line, serve
    from dispatch.sse import BrokerUnavailable, make_sse, sse_dispatcher, sse_send_event
    from dispatch.sse.redis_broker import RedisBroker
    from servlets import dispatch_servlet, response_full

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if os.environ.get("SENTINEL"):
        host, port = os.environ["SENTINEL"].rsplit(":", 1)
        broker = RedisBroker(sentinels=[(host, int(port))], service_name=os.environ["SERVICE"],
                             name="recovery", retry_for=10)
    else:
        broker = RedisBroker(os.environ["REDIS_URL"], name="recovery", retry_for=10)
    source = make_sse(broker, queue_limit=100_000)

    def publish(request):
        try:
            event_id = sse_send_event(source, data=request.args["data"], id=True)
        except BrokerUnavailable as exc:
            return response_full(503, None, None, "text/plain", [], [str(exc).encode()])
        return response_full(200, None, None, "text/plain", [], [str(event_id).encode()])

    stop = serve(sequencer.make(filter.make("^/sse", sse_dispatcher(source)),
                                filter.make("^/publish", dispatch_servlet(publish))),
                 port=int(os.environ["PORT"]), listen_ip="127.0.0.1")
    try:
        while read_line() is not None:  # until the benchmark closes our standard input
            pass
    finally:
        stop()


class _Redis:
    """A redis-server process on a free port, with no persistence."""

    def __init__(self, directory: str, *args: str, config: str = "") -> None:
        self.port = free_port()
        self.dir = directory
        os.makedirs(directory, exist_ok=True)
        self.argv = ["redis-server", *([config] if config else []), "--port", str(self.port),
                     "--bind", "127.0.0.1", "--dir", directory, *args]
        self.start()

    def start(self) -> None:
        from gevent import socket as gsocket

        self.proc = subprocess.Popen(self.argv, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)

        def listening() -> bool:  # without blocking the clients' greenlets
            try:
                gsocket.create_connection(("127.0.0.1", self.port), 1).close()
                return True
            except OSError:
                return False
        _until(listening, 30, f"redis-server on {self.port}")

    def command(self, *words: str) -> str:
        return subprocess.run(["redis-cli", "-p", str(self.port), *words], capture_output=True,
                              text=True, timeout=10).stdout

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


def _until(condition, timeout: float, what: str) -> None:
    import gevent

    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        gevent.sleep(0.05)


_NO_PERSISTENCE = ("--save", "", "--appendonly", "no", "--repl-diskless-sync-delay", "0")


def _topology(tmp: str, failover: bool):
    """(servers to stop, environment for the app servers, the kill, the master)."""
    master = _Redis(os.path.join(tmp, "master"), *_NO_PERSISTENCE)
    if not failover:
        def restart_empty():
            master.kill()
            master.start()
        return [master], {"REDIS_URL": f"redis://127.0.0.1:{master.port}/0"}, restart_empty
    replica = _Redis(os.path.join(tmp, "replica"), *_NO_PERSISTENCE, "--replicaof",
                     "127.0.0.1", str(master.port))
    _until(lambda: "master_link_status:up" in replica.command("INFO", "replication"), 30,
           "the replica to sync")
    conf = os.path.join(tmp, "sentinel.conf")
    with open(conf, "w") as f:
        f.write(f"sentinel monitor bench 127.0.0.1 {master.port} 1\n"
                "sentinel down-after-milliseconds bench 500\n"
                "sentinel failover-timeout bench 5000\n")
    sentinel = _Redis(os.path.join(tmp, "sentinel"), "--sentinel", config=conf)
    _until(lambda: str(replica.port) in sentinel.command("SENTINEL", "REPLICAS", "bench"), 30,
           "the Sentinel to see the replica")
    return ([master, replica, sentinel],
            {"SENTINEL": f"127.0.0.1:{sentinel.port}", "SERVICE": "bench"}, master.kill)


def _sse_client(port: int, received: dict, ready) -> None:
    """Read one stream; ``received[data] = time`` for each event."""
    from gevent import socket as gsocket

    sock = gsocket.create_connection(("127.0.0.1", port), timeout=60)
    sock.sendall(b"GET /sse HTTP/1.1\r\nHost: bench\r\n\r\n")
    raw, body, chunked = b"", b"", None
    while True:
        data = sock.recv(65536)
        if not data:
            return
        raw += data
        if chunked is None:
            if b"\r\n\r\n" not in raw:
                continue
            head, raw = raw.split(b"\r\n\r\n", 1)
            chunked = b"chunked" in head.lower()
            ready()
        if chunked:
            while True:  # whole chunks only
                size_end = raw.find(b"\r\n")
                if size_end < 0:
                    break
                size = int(raw[:size_end], 16)
                if len(raw) < size_end + 2 + size + 2:
                    break
                body += raw[size_end + 2:size_end + 2 + size]
                raw = raw[size_end + 4 + size:]
        else:
            body, raw = body + raw, b""
        *events, body = body.split(b"\n\n")
        now = time.monotonic()
        for event in events:
            for line in event.split(b"\n"):
                if line.startswith(b"data: "):
                    received[line[6:].decode()] = now


def _send(port: int, data: str) -> Optional[int]:
    """POST /publish; the event's id, or None if refused."""
    from gevent import socket as gsocket

    with gsocket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(f"POST /publish?data={data} HTTP/1.1\r\nHost: bench\r\n"
                     "Content-Length: 0\r\nConnection: close\r\n\r\n".encode())
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(body.strip()) if head.startswith(b"HTTP/1.1 200") else None


def run_recovery(args) -> int:
    import gevent

    kind = "failover (kill -9 of the master, Sentinel)" if args.failover else \
        "restart (Redis without persistence, restarted empty)"
    runs = []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            stoppable, env, reset = _topology(tmp, args.failover)
            ports = [free_port(), free_port()]
            apps = [subprocess.Popen([sys.executable, "-c", SERVER], cwd=ROOT,
                                     stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(tmp, f"app{n}.log"), "w"),
                                     env=dict(os.environ, PYTHONPATH=str(ROOT),
                                              PORT=str(port), **env))
                    for n, port in enumerate(ports)]
            try:
                for port in ports:
                    wait_port(port)
                runs.append(_measure(args, ports, reset))
                warnings = sum(open(os.path.join(tmp, f"app{n}.log")).read().count(
                    "new generation") for n in range(2))
                runs[-1]["warnings"] = warnings
            finally:
                for app in apps:
                    app.stdin.close()
                    try:
                        app.wait(10)
                    except subprocess.TimeoutExpired:
                        app.kill()
                        app.wait()
                for server in stoppable:
                    server.stop()
        gevent.sleep(0)
    print(f"Redis {kind}: {args.clients} clients on 2 processes, {args.rate:g} events/s "
          f"for {args.seconds:g} s")
    for run in runs:
        print(f"  acknowledged {run['acked']}, refused (503) {run['refused']}, lost per "
              f"client: max {run['lost_max']}, mean {run['lost_mean']:.1f} "
              f"(of them sent after the kill: {run['lost_after']}); send outage "
              f"{run['outage']:.2f} s; recovered (every client has a later event) in "
              f"{run['recover']:.2f} s; 'new generation' warnings {run['warnings']}")
    return 0


def _measure(args, ports: list, reset) -> dict:
    import gevent
    from gevent.event import Event

    received = [dict() for _ in range(args.clients)]
    ready = [Event() for _ in range(args.clients)]
    readers = [gevent.spawn(_sse_client, ports[n % 2], received[n], ready[n].set)
               for n in range(args.clients)]
    for event in ready:
        event.wait(30)
    acked: dict = {}  # data -> time acknowledged
    sent: dict = {}  # data -> time sent
    refused = []
    killed: list = []
    total = int(args.rate * args.seconds)

    def sender(n: int) -> None:
        start = time.monotonic()
        for i in range(n, total, 2):  # each process gets every other event, paced
            delay = start + i / args.rate - time.monotonic()
            if delay > 0:
                gevent.sleep(delay)
            data = f"d{i}"
            sent[data] = time.monotonic()
            try:
                event_id = _send(ports[n], data)
            except OSError:
                event_id = None
            if event_id is None:
                refused.append(data)
            else:
                acked[data] = time.monotonic()

    senders = [gevent.spawn(sender, n) for n in (0, 1)]
    gevent.sleep(args.seconds / 2)
    killed.append(time.monotonic())
    reset()
    gevent.joinall(senders, timeout=args.seconds + 60)
    last = max(acked, key=acked.get)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not all(last in r for r in received):
        gevent.sleep(0.05)
    gevent.killall(readers)
    kill = killed[0]
    lost = [[d for d in acked if d not in r] for r in received]
    after_kill = [d for d in acked if sent[d] > kill]  # Redis was down when they left
    first_after = min((acked[d] for d in after_kill), default=float("nan"))
    recover = max(min((t for d, t in r.items() if d in after_kill), default=float("nan"))
                  for r in received) - kill
    return {"acked": len(acked), "refused": len(refused),
            "lost_max": max(len(x) for x in lost),
            "lost_mean": statistics.mean(len(x) for x in lost),
            "lost_after": sum(1 for x in lost for d in x if sent[d] > kill),
            "outage": first_after - kill, "recover": recover}


if __name__ == "__main__":
    sys.exit(main())
