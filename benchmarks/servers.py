"""The servers under test, each run as a child process on a free 127.0.0.1 port.

``SERVERS`` lists what the harness knows; :func:`available` says which of them can run on
this machine, and why not for the others.
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

__all__ = ["SERVERS", "Running", "ServerSpec", "available", "cpu_seconds", "free_port",
           "rss_kib"]


@dataclass(frozen=True)
class ServerSpec:
    key: str
    label: str
    #: argv to serve on a port, given the shared tools folder
    argv: Callable[[int, Path], list[str]]
    #: the sections (http, ws, sse, memory) it can serve when it runs at all
    sections: frozenset
    #: why a section it could serve in principle is missing here, per section
    notes: dict = field(default_factory=dict)


def _python(*args: str) -> Callable[[int, Path], list[str]]:
    def argv(port: int, tools: Path) -> list[str]:
        return [sys.executable, *(a.format(port=port, tools=tools) for a in args)]
    return argv


OURS = ServerSpec("ours", "gevent-dispatch", _python("-m", "benchmarks.app", "{port}"),
                  frozenset({"http", "ws", "sse", "memory"}))
SERVERS = [
    OURS,
    ServerSpec("gevent_raw", "gevent raw", _python("{tools}/peers/gevent_raw.py", "{port}"),
               frozenset({"http", "ws", "sse", "memory"})),
    ServerSpec("gevent_raw_nodelay", "gevent raw NODELAY",
               _python("{tools}/peers/gevent_raw.py", "{port}", "--nodelay"),
               frozenset({"http", "ws", "sse"})),
    ServerSpec("aiohttp", "aiohttp", _python("{tools}/peers/aiohttp_peer.py", "{port}"),
               frozenset({"http", "ws", "sse", "memory"})),
    ServerSpec("racket", "Racket web-server",
               lambda port, tools: ["racket", str(HERE / "peers" / "racket_peer.rkt"), str(port)],
               frozenset({"http", "ws"})),
]


def _racket_has_rfc6455() -> bool:
    try:
        done = subprocess.run(["racket", "-e", "(require net/rfc6455)"], capture_output=True,
                              timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def available(tools: Path) -> tuple[dict[str, set], dict[str, str]]:
    """``({key: sections it runs here}, {key or key/section: why not})``."""
    from .app import features

    runs: dict[str, set] = {}
    why: dict[str, str] = {}
    for spec in SERVERS:
        runs[spec.key] = set(spec.sections)
    found = features()
    if found.sse_missing:
        runs["ours"] -= {"sse"}
        why["ours/sse"] = why["ours/memory-sse"] = found.sse_missing
    if found.ws_missing:
        runs["ours"] -= {"ws"}
        why["ours/ws"] = why["ours/memory-ws"] = found.ws_missing
    if not (tools / "peers" / "gevent_raw.py").exists():
        for key in ("gevent_raw", "gevent_raw_nodelay", "aiohttp"):
            runs[key] = set()
            why[key] = f"peers not found in {tools}"
    if importlib.util.find_spec("aiohttp") is None:
        runs["aiohttp"] = set()
        why["aiohttp"] = "aiohttp not installed (pip install -e '.[bench]')"
    if shutil.which("racket") is None:
        runs["racket"] = set()
        why["racket"] = "racket not installed (apt-get install racket)"
    elif not _racket_has_rfc6455():
        runs["racket"] -= {"ws"}
        why["racket/ws"] = "rfc6455 not installed (raco pkg install rfc6455)"
    why.setdefault("racket/sse", "the seed's SSE package for Racket is not packaged here")
    return runs, why


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time ``pid`` has used so far (its threads included)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def rss_kib(pid: int) -> int:
    """Resident set size of ``pid`` in KiB (VmRSS)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


class Running:
    """A server child process; a context manager that stops it on exit."""

    def __init__(self, spec: ServerSpec, tools: Path, log_dir: Path,
                 ready_timeout: float = 60.0) -> None:
        self.spec = spec
        self.port = free_port()
        self.log_path = log_dir / f"server-{spec.key}-{self.port}.log"
        self._log = open(self.log_path, "wb")
        env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        self.proc = subprocess.Popen(spec.argv(self.port, tools), cwd=REPO, env=env,
                                     stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self._wait_ready(ready_timeout)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.proc.pid

    def cpu(self) -> float:
        """CPU seconds used so far: per-request CPU cost is steadier than throughput on a
        machine shared with other work."""
        return cpu_seconds(self.pid)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        tail = self.log_path.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"{self.spec.label} did not start on port {self.port}:\n{tail}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self._log.close()

    def __enter__(self) -> Running:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

