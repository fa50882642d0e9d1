"""Report the server's memory use.  Racket: ``web-server/dispatchers/dispatch-stat``."""
from __future__ import annotations

import gc
import math
import resource
import sys
from typing import IO, Optional

import gevent
from greenlet import greenlet

from .core import Dispatcher
from .http.response import response_xexpr

__all__ = ["make", "statistics"]
__all__ += ["make_gc_thread"]


def statistics() -> dict:
    """Resident memory (current and peak, KiB), objects and live greenlets."""
    current = 0
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    current = int(line.split()[1])
    except OSError:
        pass
    objects = gc.get_objects()
    return {"rss_kib": current,
            "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            "objects": len(objects),
            "greenlets": sum(1 for o in objects if isinstance(o, greenlet) and not o.dead),
            "gc_counts": list(gc.get_count())}


def make() -> Dispatcher:
    """A page of :func:`statistics` (filter it to a private path)."""

    def stat(conn, request):
        stats = statistics()
        conn.respond(response_xexpr(
            ("html", ("head", ("title", "Server statistics")),
             ("body", ("h1", "Server statistics"),
              ("table", *[("tr", ("th", key), ("td", str(value)))
                          for key, value in stats.items()])))))

    return stat


def make_gc_thread(seconds: float, out: Optional[IO[str]] = None) -> gevent.Greenlet:
    """A greenlet that, every ``seconds``, writes ``.`` to ``out`` (standard output) and
    runs a full garbage collection, for ever.  Racket: ``make-gc-thread``.  Kill it
    (``.kill()``) to stop it."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise TypeError(f"make_gc_thread: seconds must be a number, given {seconds!r}")
    if not (seconds > 0 and math.isfinite(seconds)):
        raise ValueError(f"make_gc_thread: seconds must be a positive finite number, "
                         f"given {seconds!r}")

    def collect_for_ever() -> None:
        while True:
            gevent.sleep(seconds)
            stream = out if out is not None else sys.stdout
            stream.write(".")
            stream.flush()
            gc.collect()

    return gevent.spawn(collect_for_ever)
