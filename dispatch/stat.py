"""Report the server's memory use.  Racket: ``web-server/dispatchers/dispatch-stat``."""
from __future__ import annotations

import gc
import resource

from greenlet import greenlet

from .core import Dispatcher
from .http.response import response_xexpr

__all__ = ["make", "statistics"]


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
