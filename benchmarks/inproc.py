"""In-process micro-benchmark: the WSGI application called directly, no sockets.

    python -m benchmarks.inproc [--count 20000] [--rounds 5] [--seconds 2] [--json]

Each case is a WSGI application called ``count`` times per round (or for ``seconds``,
whichever ends first) with a copy of one prepared environ (a GET of ``/`` as this
project's server builds it; the server copies its base environ per request too) and a
start_response that does nothing; the body is iterated and closed as a server would.
A round's figure is its median batch of 500 calls; the figure reported is the best
round's µs per call (the least disturbed by the rest of the machine); the cases take
turns within each round.  ``python -m benchmarks --only inproc`` runs this in one child process per
mode: extensions allowed, and ``GEVENT_DISPATCH_NO_EXTENSIONS=1`` (pure Python).
"""
from __future__ import annotations

import argparse
import gc
import io
import json
import os
import statistics
import sys
import time
from typing import Callable, Optional

#: Forces the pure-Python modules when set to 1 (as AIOHTTP_NO_EXTENSIONS does).
NO_EXTENSIONS_ENV = "GEVENT_DISPATCH_NO_EXTENSIONS"
#: declining filters in front of the servlet for the decline case
DECLINES = 8

#: (key, short title, what it measures), in report order
CASES = [
    ("bare", "bare WSGI app", "a bare WSGI app answering the 114 B page"),
    ("servlet", "servlet alone, response_full",
     "dispatch_servlet answering the 114 B page with response_full, no filters"),
    ("const", "4 filters, response_full (constant page)",
     "the constant page through benchmarks.app's layout: 3 declining filters, the 4th "
     "filter's servlet answering with response_full"),
    ("seed", "4 filters, response_xexpr (seed page)",
     "the seed page through benchmarks.app's layout: 3 declining filters, the 4th "
     "filter's servlet answering with response_xexpr"),
    ("decline", "one declined filter",
     f"({DECLINES} declining filters + servlet) minus the servlet alone, / {DECLINES}"),
]

__all__ = ["CASES", "NO_EXTENSIONS_ENV", "compiled", "environ", "main", "measure"]


def compiled() -> str:
    """``dispatch._compiled`` as text, or ``n/a`` where the attribute does not exist."""
    import dispatch

    return str(getattr(dispatch, "_compiled", "n/a"))


def environ(path: str = "/") -> dict:
    """A GET as this project's server hands it to the application (no body)."""
    from dispatch.safety_limits import make_safety_limits

    limits = make_safety_limits()
    return {
        "wsgi.version": (1, 0), "wsgi.errors": sys.stderr, "wsgi.url_scheme": "http",
        "wsgi.multithread": False, "wsgi.multiprocess": False, "wsgi.run_once": False,
        "wsgi.input_terminated": True, "wsgi.input": io.BytesIO(b""),
        "SCRIPT_NAME": "", "SERVER_SOFTWARE": "gevent-dispatch",
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8080",
        "REMOTE_ADDR": "127.0.0.1", "REMOTE_PORT": "50000",
        "gevent_dispatch.max_body": limits.max_request_body_length,
        "gevent_dispatch.safety_limits": limits,
        "REQUEST_METHOD": "GET", "SERVER_PROTOCOL": "HTTP/1.1",
        "RAW_URI": path, "REQUEST_URI": path, "PATH_INFO": path, "QUERY_STRING": "",
        "HTTP_HOST": "127.0.0.1:8080", "HTTP_USER_AGENT": "inproc",
        "HTTP_ACCEPT": "*/*",
    }


def _start_response(status, headers, exc_info=None):
    return None


def _call(app: Callable, env: dict) -> tuple[str, bytes]:
    """One call, keeping what was answered: a case must answer its page, not a 404."""
    seen: list[str] = []
    result = app(env.copy(), lambda status, headers, exc_info=None: seen.append(status))
    try:
        body = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return (seen[0] if seen else "no status"), body


def _per_call_us(app: Callable, env: dict, count: int, seconds: float) -> float:
    """One round: ``count`` calls (fewer if ``seconds`` ran out), timed in batches of
    500; the median batch's µs per call, which a short busy moment of the machine does
    not move."""
    copy = env.copy
    start_response = _start_response
    perf_counter = time.perf_counter
    done = 0
    batches: list[float] = []
    deadline = perf_counter() + seconds
    while done < count:
        batch = min(500, count - done)
        started = perf_counter()
        for _ in range(batch):
            result = app(copy(), start_response)
            for _chunk in result:
                pass
            close = getattr(result, "close", None)
            if close is not None:
                close()
        ended = perf_counter()
        batches.append((ended - started) / batch * 1e6)
        done += batch
        if ended > deadline:
            break
    return statistics.median(batches)


def _best(apps: dict[str, Callable], env: dict, count: int, rounds: int,
          seconds: float) -> dict[str, float]:
    """The best round of each app; the cases take turns within a round, so that a busy
    moment of the machine does not fall on one case only (the decline is a difference)."""
    for app in apps.values():
        _per_call_us(app, env, min(count, 1000), seconds)  # warm-up: caches, lazy imports
    best = dict.fromkeys(apps, float("inf"))
    for _ in range(rounds):
        for name, app in apps.items():
            gc.collect()
            best[name] = min(best[name], _per_call_us(app, env, count, seconds))
    return best


def applications() -> dict[str, Callable]:
    """The WSGI application of each case (``decline`` has two: with and without)."""
    import dispatch.filter
    import dispatch.sequencer
    from dispatch.wsgi import to_wsgi
    from servlets import dispatch_servlet

    from .app import CONST_PAGE, const_page, make_app

    length = str(len(CONST_PAGE))

    def bare(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                                  ("Content-Length", length)])
        return [CONST_PAGE]

    servlet = dispatch_servlet(const_page)
    declining = [dispatch.filter.make(f"^/elsewhere{i}$", servlet) for i in range(DECLINES)]
    return {
        "bare": bare,
        "servlet": to_wsgi(servlet),
        "const": to_wsgi(make_app("const")[0]),
        "seed": to_wsgi(make_app("seed")[0]),
        "declining": to_wsgi(dispatch.sequencer.make(*declining, servlet)),
    }


def measure(count: int = 20_000, rounds: int = 5, seconds: float = 2.0) -> dict:
    """``{"compiled": ..., "us": {case: µs per request}, ...}`` for every case in CASES."""
    if count < 1 or rounds < 1 or seconds <= 0:
        raise ValueError(f"measure: count, rounds and seconds must be positive, given "
                         f"{count}, {rounds}, {seconds}")
    from .app import CONST_PAGE

    env = environ("/")
    apps = applications()
    for name, app in apps.items():
        status, body = _call(app, env)
        if not status.startswith("200") or (name != "seed" and body != CONST_PAGE):
            raise RuntimeError(f"inproc case {name!r} answered {status} {body[:80]!r}")
    us = _best(apps, env, count, rounds, seconds)
    us["decline"] = (us.pop("declining") - us["servlet"]) / DECLINES
    return {"compiled": compiled(), "no_extensions": os.environ.get(NO_EXTENSIONS_ENV, ""),
            "python": sys.version.split()[0], "count": count, "rounds": rounds, "us": us}


def main(argv: Optional[list[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.inproc",
                                description=__doc__.split("\n")[0])
    p.add_argument("--count", type=int, default=20_000, help="calls per round; %(default)s")
    p.add_argument("--rounds", type=int, default=5, help="rounds, the best counts; %(default)s")
    p.add_argument("--seconds", type=float, default=2.0,
                   help="at most this long per round; %(default)s")
    p.add_argument("--json", action="store_true", help="one JSON line (for the harness)")
    args = p.parse_args(argv)
    result = measure(args.count, args.rounds, args.seconds)
    if args.json:
        print(json.dumps(result), flush=True)
        return 0
    print(f"dispatch._compiled: {result['compiled']}, {NO_EXTENSIONS_ENV}="
          f"{result['no_extensions'] or '(unset)'}, Python {result['python']}")
    for key, _, what in CASES:
        print(f"{result['us'][key]:8.2f} µs  {what}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
