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
from typing import Callable, Optional

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

__all__ = ["CONSTANT_PAGE", "OURS_CONST", "PEER_MODULES", "SERVERS", "Running", "ServerSpec",
           "available", "baseline", "cpu_seconds", "free_port", "peer_missing", "process_tree",
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
#: This project again, ``/`` answering the constant page through the same layout: the
#: constant-page rows' figure for "ours" (the HTTP section starts both).
OURS_CONST = ServerSpec("ours", "gevent-dispatch (constant page)",
                        _python("-m", "benchmarks.app", "{port}", "--page", "const"),
                        frozenset({"http"}))


#: Runs a checkout's own benchmark app: ``sys.argv[1]`` is the checkout, put first on the
#: path so that its ``dispatch`` and ``servlets`` are the ones imported, not this one's.
_FROM_CHECKOUT = ("import runpy, sys; sys.path.insert(0, sys.argv[1]); "
                  "sys.argv = ['benchmarks.app', *sys.argv[2:]]; "
                  "runpy.run_module('benchmarks.app', run_name='__main__', alter_sys=True)")


def baseline(checkout: Path) -> ServerSpec:
    """This project as another checkout has it (``--baseline``), serving the same rows side
    by side with this one: whether a change made a figure better or worse is then read in
    one run, on one machine, instead of against a figure from another day.  Its HTTP rows
    are the seed page's (the constant page is this checkout's)."""
    checkout = checkout.resolve()
    try:
        rev = subprocess.run(["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        rev = ""
    return ServerSpec("baseline", f"gevent-dispatch @{rev or checkout.name}",
                      lambda port, tools: [sys.executable, "-c", _FROM_CHECKOUT, str(checkout),
                                           str(port)],
                      frozenset({"http", "ws", "sse", "memory"}))


def _gunicorn_flask(port: int, tools: Path) -> list[str]:
    # gunicorn as its docs deploy Flask on gevent: one worker; connections, backlog and
    # keep-alive as the other peers have them (idle keep-alive rows hold connections
    # longer than gunicorn's 2 s default, SSE rows hold 10,000 streams)
    return [sys.executable, "-m", "gunicorn", "-k", "gevent", "-w", "1",
            "-b", f"127.0.0.1:{port}", "--chdir", str(HERE / "peers"), "--backlog", "4096",
            "--worker-connections", "20000", "--keep-alive", "75", "--log-level", "warning",
            "flask_peer:app"]


SERVERS = [
    OURS,
    # Without TCP_NODELAY every pywsgi response waits for the delayed ACK: its HTTP rows
    # would measure Nagle's algorithm, not pywsgi, so it serves the other rows only.
    ServerSpec("gevent_raw", "gevent raw", _python("{tools}/peers/gevent_raw.py", "{port}"),
               frozenset({"ws", "sse", "memory"})),
    ServerSpec("gevent_raw_nodelay", "gevent raw NODELAY",
               _python("{tools}/peers/gevent_raw.py", "{port}", "--nodelay"),
               frozenset({"http", "ws", "sse"})),
    ServerSpec("aiohttp", "aiohttp", _python("{tools}/peers/aiohttp_peer.py", "{port}"),
               frozenset({"http", "ws", "sse", "memory"})),
    ServerSpec("starlette", "Starlette/uvicorn",
               _python(str(HERE / "peers" / "starlette_peer.py"), "{port}"),
               frozenset({"http", "ws", "sse", "memory"})),
    ServerSpec("flask", "Flask/gunicorn-gevent", _gunicorn_flask,
               frozenset({"http", "sse", "memory"})),
    ServerSpec("racket", "Racket web-server",
               lambda port, tools: ["racket", str(HERE / "peers" / "racket_peer.rkt"), str(port)],
               frozenset({"http", "ws"})),
]

#: The servers whose ``/`` is the constant 114 B page (the others render the seed page).
CONSTANT_PAGE = frozenset({"gevent_raw", "gevent_raw_nodelay", "aiohttp", "starlette",
                           "flask"})


#: The Python packages each peer needs (setup.cfg's ``bench`` extra installs them).
PEER_MODULES = {"aiohttp": ("aiohttp",), "starlette": ("starlette", "uvicorn", "httptools"),
                "flask": ("flask", "gunicorn")}


def peer_missing(key: str) -> Optional[str]:
    """Why the peer ``key`` cannot run for want of a package, or ``None``."""
    missing = [m for m in PEER_MODULES.get(key, ()) if importlib.util.find_spec(m) is None]
    if missing:
        return f"{', '.join(missing)} not installed (pip install -e '.[bench]')"
    return None


def _racket_has_rfc6455() -> bool:
    try:
        done = subprocess.run(["racket", "-e", "(require net/rfc6455)"], capture_output=True,
                              timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def available(tools: Path, extra: tuple[ServerSpec, ...] = ()
              ) -> tuple[dict[str, set], dict[str, str]]:
    """``({key: sections it runs here}, {key or key/section: why not})``, for ``SERVERS``
    and the ``extra`` ones (a baseline)."""
    from .app import features

    runs: dict[str, set] = {}
    why: dict[str, str] = {}
    for spec in (*SERVERS, *extra):
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
    why["gevent_raw/http"] = ("HTTP rows only with TCP_NODELAY (without it each response "
                              "waits for the delayed ACK): see gevent raw NODELAY")
    for key in PEER_MODULES:
        missing = peer_missing(key)
        if missing:
            runs[key] = set()
            why[key] = missing
    why.setdefault("flask/ws", "Flask has no WebSocket endpoint of its own")
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


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants: gunicorn serves from a worker under its arbiter, so a
    server's CPU time and memory are those of the whole tree."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        children.setdefault(ppid, []).append(int(entry))
    tree, todo = [], [pid]
    while todo:
        p = todo.pop()
        tree.append(p)
        todo.extend(children.get(p, ()))
    return tree


def _tree_sum(pid: int, measure: Callable[[int], float]) -> float:
    total = 0.0
    for p in process_tree(pid):
        try:
            total += measure(p)
        except (OSError, RuntimeError):
            if p == pid:
                raise
    return total


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
        """CPU seconds used so far by the server's processes: per-request CPU cost is
        steadier than throughput on a machine shared with other work."""
        return _tree_sum(self.pid, cpu_seconds)

    def rss(self) -> int:
        """Resident memory of the server's processes, KiB."""
        return int(_tree_sum(self.pid, rss_kib))

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

