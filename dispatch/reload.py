"""Restart the server's process when a source file changes, while developing.

Racket has no twin: DrRacket's Run button restarts the program.  Flask's ``--reload``
and uvicorn's ``--reload`` are the models, and werkzeug's reloader finds and watches the
files here.  ``serve(..., reload=True)``, ``serve_forever(..., reload=True)``,
``serve_servlet(..., reload=True)`` and ``python -m servlets.insta app.py --reload``
use it:

* The program as started becomes a *supervisor*: it serves nothing, runs the same
  command again as a child process (the server) and waits.  When the child exits with
  status 3 (a file changed) it starts it again; with another status (Ctrl-C, SIGTERM,
  ``/quit``, enter) the supervisor exits with that status.  A server that fails after a
  change (an error being typed) is started again at the next change instead of ending
  the session.  ``port=0`` takes a free port once: every restart serves the same one.
* The child checks every second the files werkzeug's stat reloader finds: the files of
  imported modules and the ``.py`` files under ``sys.path`` outside the Python
  installation and virtualenvs (the program's directory, a checkout on ``PYTHONPATH``).
  On a change it stops the server gracefully (in-flight requests get
  :data:`STOP_TIMEOUT` seconds; SSE streams end and WebSockets close with 1001, so
  browsers reconnect to the new process) and exits with status 3, ``SystemExit`` raised
  in the main greenlet so that ``finally`` blocks run.

So the calling process never gets past the reloading call: with :func:`serve`, which
otherwise returns at once, the supervisor stays inside it and the child gets the
:class:`~dispatch.server.Stopper` and goes on.  What the program did before the call
(module imports, opened files) happens in both processes; start servers and background
work after it.  One reloading server per program.  Only the stat reloader is used:
watchdog's observer threads would be greenlets under gevent's monkey patching, and its
blocking reads would stop the server.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from typing import Any, Callable, Iterable, Optional

import gevent
from werkzeug import _reloader

__all__ = ["INTERVAL", "RESTART", "STOP_TIMEOUT", "run_number", "serve", "supervise", "watch"]

#: a child's exit status that asks for a restart (werkzeug's)
RESTART = 3
#: seconds a restart gives in-flight requests
STOP_TIMEOUT = 2.0
#: seconds between two checks of the files
INTERVAL = 1.0

# Set by the supervisor in the child's environment: which start this is (1, 2, ...) and
# the port that port=0 chose.
_RUN = "GEVENT_DISPATCH_RELOAD_RUN"
_PORT = "GEVENT_DISPATCH_RELOAD_PORT"


def _say(message: str) -> None:
    print(f" * {message}", file=sys.stderr, flush=True)


def run_number() -> int:
    """0 in a process that does not reload (or in the supervisor); in the server's
    process, 1 at the first start, 2 after the first restart, and so on."""
    try:
        return int(os.environ.get(_RUN, "0"))
    except ValueError:
        return 0


def supervise(port: int = 0, listen_ip: Optional[str] = None) -> int:
    """In the program as started: run it again as the server's process until it stops
    for another reason than a change, then exit with its status (never returns).  In
    the server's process: return the port to serve on (``port``, or for ``port=0``
    the free port the supervisor chose)."""
    if run_number():
        return int(os.environ.get(_PORT, "0")) if port == 0 else port
    if port == 0:
        with socket.socket(socket.AF_INET6 if listen_ip and ":" in listen_ip
                           else socket.AF_INET) as probe:
            probe.bind((listen_ip or "", 0))
            os.environ[_PORT] = str(probe.getsockname()[1])
    status = _Supervisor().run()
    sys.exit(128 - status if status < 0 else status)  # killed by a signal: 128 + signum


class _Supervisor:
    """Starts the server's process again while it exits with :data:`RESTART`."""

    def __init__(self) -> None:
        self.child: Optional[subprocess.Popen] = None
        self.stopping = False

    def run(self) -> int:
        args = _reloader._get_args_for_reloading()
        previous = {}
        try:
            for signum in (signal.SIGINT, signal.SIGTERM):
                previous[signum] = signal.signal(signum, self._on_signal)
        except ValueError:  # not the main thread: no handlers there
            pass
        try:
            run = 0
            while True:
                run += 1
                # The files' times as this server starts: a change saved while it starts
                # or fails (the fix of the error it fails on) is the one waited for.
                loop = _Loop()
                with loop:
                    self.child = subprocess.Popen(
                        args, env=dict(os.environ, **{_RUN: str(run)}))
                    status = self.child.wait()
                    self.child = None
                    if self.stopping or status == 0 or (status != RESTART and run == 1):
                        return status
                    if status != RESTART:
                        # It failed after a change (a typing error?): wait for the next.
                        _say(f"the server exited with status {status}; waiting for a "
                             f"change")
                        if not self._wait_for_change(loop):
                            return status
                _say("restarting")
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def _on_signal(self, signum: int, frame: Any) -> None:
        # No exception from here: under gevent this may run in the hub.
        self.stopping = True
        child = self.child
        if child is not None and child.poll() is None and not (
                signum == signal.SIGINT and _terminal_interrupted_us()):
            child.send_signal(signum)

    def _wait_for_change(self, loop: _Loop) -> bool:
        while not self.stopping:
            loop.run_step()
            if loop.changed:
                return True
            gevent.sleep(INTERVAL)  # gevent's or time's: the supervisor does no I/O
        return False


def _terminal_interrupted_us() -> bool:
    """Whether this process group is the terminal's foreground one: then Ctrl-C's
    SIGINT reached the child too, and a second one would cut its graceful stop short."""
    for fd in (0, 1, 2):
        try:
            if os.isatty(fd) and os.tcgetpgrp(fd) == os.getpgrp():
                return True
        except (OSError, AttributeError):
            pass
    return False


class _Loop(_reloader.StatReloaderLoop):
    """werkzeug's stat reloader, which notes the first change instead of exiting."""

    changed: Optional[str] = None

    def trigger_reload(self, filename: str) -> None:
        if self.changed is None:
            self.changed = filename


_watching: list = []


def watch(stopper: Optional[Callable[..., None]] = None,
          extra_files: Iterable[str] = ()) -> None:
    """In the server's process (a no-op elsewhere, and after the first call): note the
    source files' times now, then check them every :data:`INTERVAL` seconds in the
    background; on a change, call ``stopper(timeout=STOP_TIMEOUT)`` and exit with
    :data:`RESTART`.  It also exits when the supervisor is gone (killed)."""
    if not run_number() or _watching:
        return
    loop = _Loop(extra_files=extra_files)
    loop.__enter__()  # the first scan: the times the next ones compare with
    _reloader.ensure_echo_on()
    supervisor = os.getppid()
    main = gevent.get_hub().parent  # the program's main greenlet
    threadpool = gevent.get_hub().threadpool

    def check() -> None:
        while loop.changed is None and os.getppid() == supervisor:
            gevent.sleep(INTERVAL)
            # In a thread: scanning a large tree must not hold up the server.
            threadpool.apply(loop.run_step)
        if loop.changed is not None:
            _say(f"{loop.changed} changed: restarting")
        try:
            if stopper is not None:
                stopper(timeout=STOP_TIMEOUT)
        finally:
            main.throw(SystemExit(RESTART if loop.changed is not None else 0))

    _watching.append(gevent.spawn(check))


def serve(serve_function: Callable[..., Any], dispatch: Any, port: int,
          listen_ip: Optional[str], **options: Any) -> Any:
    """``serve_function(dispatch, port=..., listen_ip=..., **options)`` with reload:
    what :func:`dispatch.server.serve` does when given ``reload=True``."""
    port = supervise(port, listen_ip)
    stopper = serve_function(dispatch, port=port, listen_ip=listen_ip, **options)
    watch(stopper)
    return stopper
