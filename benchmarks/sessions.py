"""Memory of stateful servlets: server RSS per suspended session, and for many.

    python -m benchmarks.sessions [--sessions 10000] [--dispatch] [--lru-threshold-mib N]

Each session is a browser's first visit to a servlet that suspends: Racket's add-two
servlet waiting in ``send_suspend`` (default), or a ``send_suspend_dispatch`` page with an
embedded handler (``--dispatch``).  Sessions arrive over separate connections, as from
distinct browsers; the client keeps only the continuation URLs.  With
``--lru-threshold-mib`` the LRU manager's threshold is that RSS and the run shows it
evicting instead of growing (Racket's ``make-threshold-LRU-manager``).
"""
from __future__ import annotations

import argparse
import gc
import html
import re
import sys
from typing import Callable, Optional

_LINK = re.compile(r'(?:href|action)="([^"]+)"')


def _page(xexpr):
    from servlets import response_xexpr

    return response_xexpr(("html", ("body", xexpr)))


def add_two(request):
    """Racket's documentation's add-two-numbers servlet (``send/suspend``)."""
    from servlets import send_suspend

    def number(label: str) -> int:
        answer = send_suspend(lambda k_url: _page(
            ("form", [("action", k_url), ("method", "post")], label,
             ("input", [("name", "n")]))))
        return int(answer.form["n"])

    total = number("First:") + number("Second:")
    return _page(("p", f"sum {total}"))


def counter(request):
    """A ``send_suspend_dispatch`` page whose link's handler counts clicks."""
    from servlets import send_suspend_dispatch

    state = {"clicks": 0}

    def show(embed_url):
        def click(req):
            state["clicks"] += 1
            return _page(("p", f"clicks {state['clicks']}"))
        return _page(("a", [("href", embed_url(click))], "click"))

    return send_suspend_dispatch(show)


def links(page: str) -> list:
    return [html.unescape(u) for u in _LINK.findall(page)]


def measure_sessions(n: int, manager=None, servlet: Callable = add_two) -> dict:
    """Open ``n`` sessions of ``servlet``; the server's RSS before and after (bytes), per
    session, how many instances the manager kept, and whether the first still resumes."""
    import requests

    from dispatch.server import serve
    from servlets.managers import current_rss, make_threshold_lru_manager
    from servlets.stateful import make

    manager = manager or make_threshold_lru_manager(None, 1 << 40)
    stop = serve(make(servlet, manager=manager), port=0, listen_ip="127.0.0.1")
    try:
        session = requests.Session()
        base = f"http://127.0.0.1:{stop.port}"
        links(session.get(base + "/").text)  # warm up
        gc.collect()
        rss0 = current_rss()
        urls = [links(session.get(base + "/", headers={"Connection": "close"}).text)[0]
                for _ in range(n)]
        gc.collect()
        rss1 = current_rss()
        kept = manager.instance_count()
        page = session.post(base + urls[-1], data={"n": "1"}).text
        return {"sessions": n, "rss_before": rss0, "rss_after": rss1,
                "bytes_per_session": (rss1 - rss0) / n, "instances_kept": kept,
                "resumable": "Second:" in page or "clicks 1" in page}
    finally:
        manager.close()
        stop(timeout=1)


def main(argv: Optional[list] = None) -> int:
    from gevent import monkey

    monkey.patch_all()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--dispatch", action="store_true",
                        help="send_suspend_dispatch pages instead of send_suspend")
    parser.add_argument("--lru-threshold-mib", type=float,
                        help="run the LRU manager with this memory threshold")
    args = parser.parse_args(argv)
    from servlets.managers import make_threshold_lru_manager

    threshold = (1 << 40 if args.lru_threshold_mib is None
                 else int(args.lru_threshold_mib * 2**20))
    servlet = counter if args.dispatch else add_two
    for n in (1, args.sessions):
        manager = make_threshold_lru_manager(None, threshold)
        r = measure_sessions(n, manager=manager, servlet=servlet)
        print(f"{servlet.__name__}, {n:,} suspended session(s): server RSS "
              f"{r['rss_before'] / 2**20:.1f} -> {r['rss_after'] / 2**20:.1f} MiB, "
              f"{r['bytes_per_session'] / 1024:.1f} KiB each, {r['instances_kept']:,} kept, "
              f"resumable: {r['resumable']}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
