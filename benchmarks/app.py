"""This project's side of the benchmark: the seed's SSE example served the way its users
would write it, with the endpoints the peers in ``<shared>/tools/bench/peers`` serve.

    GET  /              the seed page: sequencer -> filter -> dispatch_servlet + response_xexpr
                        (with --page const: the peers' constant 114 B page through the same
                        layout, answered with response_full)
    GET  /ws            WebSocket echo (text stays text, binary stays binary)
    GET  /sse, /sse/    the event stream
    POST /publish?n=N   broadcasts N events whose data is "<seq> <milliseconds at send>"

usage: python -m benchmarks.app PORT [--page seed|const]

``dispatch.sse`` and ``dispatch.websocket`` are imported lazily: where one is missing, its
endpoint answers 501 and the harness skips its rows.  Everything that knows their API is in
the section marked ADAPTER below, so that a change of names is a change in one place.
"""
from __future__ import annotations

import argparse
import sys
import time
from typing import Callable, Optional

import gevent

import dispatch.filter
import dispatch.sequencer
from dispatch.core import Dispatcher
from servlets import dispatch_servlet, response_full, response_xexpr

__all__ = ["CONST_PAGE", "PAGES", "SEED_PAGE", "Features", "features", "make_app", "main"]

#: The page of the seed's "Http and Server-sent Events" example, exactly.
SEED_PAGE = (
    "html",
    ("head",
     ("meta", [("http-equiv", "content-type"), ("content", "text/html; charset=utf-8")]),
     ("meta", [("name", "viewport"), ("content", "width=device-width")]),
     ("title", "Events test")),
    ("body",
     ("h1", "Welcome to the Events test"),
     ("textarea", [("readonly", "")]),
     ("script", """
          var evtSource = new EventSource("/sse/");
          var textArea = document.getElementsByTagName("textarea")[0];

          evtSource.onmessage = function(e){
              textArea.value =  e.data + "\\n" + textArea.value ;
              console.log(e.data);
          }""")),
)


#: The page the Python peers send, byte for byte: the constant-page rows compare every
#: server on the same work.
CONST_PAGE = (b'<html><head><title>Events test</title></head><body><h1>Welcome</h1>'
              b'<textarea readonly=""></textarea></body></html>')


def start_page(request):
    return response_xexpr(SEED_PAGE)


def const_page(request):
    return response_full(200, "OK", None, "text/html; charset=utf-8", [], [CONST_PAGE])


#: What ``/`` answers with, by the name given to ``--page``.
PAGES = {"seed": start_page, "const": const_page}


# ---------------------------------------------------------------------------------------
# ADAPTER: the only code that knows the API of dispatch.sse and dispatch.websocket.

class Features:
    """What this checkout can serve: ``None`` where available, else why not."""

    def __init__(self, sse: Optional[str], ws: Optional[str]) -> None:
        self.sse_missing = sse
        self.ws_missing = ws


def _sse() -> tuple[Optional[Dispatcher], Optional[Callable[[str], None]], Optional[str]]:
    """(dispatcher serving the stream, send(data), None) or (None, None, why not)."""
    try:
        from dispatch.sse import make_sse, sse_dispatcher, sse_send_event
    except ImportError as exc:
        return None, None, f"dispatch.sse not available ({exc})"
    source = make_sse()

    def send(data: str) -> None:
        sse_send_event(source, data=data)

    return sse_dispatcher(source), send, None


def _ws() -> tuple[Optional[Dispatcher], Optional[str]]:
    """(dispatcher upgrading ^/ws$ to an echo, None) or (None, why not)."""
    try:
        from dispatch.websocket import (
            make_service_mapper_dispatcher,
            ws_recv,
            ws_send,
            ws_service_mapper,
        )
    except ImportError as exc:
        return None, f"dispatch.websocket not available ({exc})"

    def echo(c) -> None:
        while True:  # until the peer closes
            message = ws_recv(c)
            if not isinstance(message, (str, bytes, bytearray)):  # the EOF marker
                return
            binary = not isinstance(message, str)
            ws_send(c, message, payload_type="binary" if binary else "text")

    return make_service_mapper_dispatcher(ws_service_mapper({"^/ws$": {None: echo}})), None

# END OF ADAPTER
# ---------------------------------------------------------------------------------------


def features() -> Features:
    """Which endpoints this checkout serves, without starting anything."""
    import importlib.util

    def missing(name: str) -> Optional[str]:
        try:
            found = importlib.util.find_spec(name) is not None
        except ImportError:
            found = False
        return None if found else f"{name} not available"

    return Features(missing("dispatch.sse"), missing("dispatch.websocket"))


def _not_available(why: str) -> Dispatcher:
    body = why.encode() + b"\n"
    return dispatch_servlet(lambda request: response_full(
        501, None, None, "text/plain; charset=utf-8", None, [body]))


def _publisher(send: Callable[[str], None]) -> Callable:
    def publish(request):
        n = int(request.args.get("n", "1"))
        for i in range(n):
            send(f"{i} {int(time.time() * 1000)}")
            if i % 10 == 9:  # as the peers do: let the streams write between batches
                gevent.sleep(0)
        return response_full(200, None, None, "text/plain", None, [b"ok"])

    return publish


def make_app(page: str = "seed") -> tuple[Dispatcher, Features]:
    """The benchmark app's dispatcher, and what it could not serve.

    The composition is the same whatever is missing (a missing service answers 501 in its
    place), so the page always goes through the same chain of declines; ``page`` ("seed"
    or "const") only changes the servlet at the end of it.
    """
    if page not in PAGES:
        raise ValueError(f"make_app: page must be one of {', '.join(PAGES)}, given {page!r}")
    sse, send, sse_missing = _sse()
    ws, ws_missing = _ws()
    publish = dispatch_servlet(_publisher(send)) if send else _not_available(sse_missing)
    app = dispatch.sequencer.make(
        dispatch.filter.make("^/sse", sse or _not_available(sse_missing)),
        dispatch.filter.make("^/publish$", publish),
        dispatch.filter.make("^/ws$", ws or _not_available(ws_missing)),
        dispatch.filter.make("^/$", dispatch_servlet(PAGES[page])),
    )
    return app, Features(sse_missing, ws_missing)


def main(argv: Optional[list[str]] = None) -> None:
    from gevent import monkey

    monkey.patch_all()
    from dispatch.safety_limits import make_safety_limits
    from dispatch.server import serve

    parser = argparse.ArgumentParser(prog="python -m benchmarks.app")
    parser.add_argument("port", type=int, nargs="?", default=8080)
    parser.add_argument("--page", choices=sorted(PAGES), default="seed",
                        help="what / answers with (default: %(default)s)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    port = args.port
    app, found = make_app(args.page)
    # The peers listen with a backlog of 4096; so does this, for the 10,000-client rows.
    # The 10,000-client rows need more than the default 10,000 concurrent connections
    # (the publisher's request comes on top), and the peers' backlog of 4096.
    stop = serve(app, port=port, listen_ip="127.0.0.1", backlog=4096,
                 safety_limits=make_safety_limits(max_concurrent=20_000))
    print(f"serving on 127.0.0.1:{stop.port} page={args.page} sse={found.sse_missing or 'yes'} "
          f"ws={found.ws_missing or 'yes'}", flush=True)
    try:
        stop.server._stop_event.wait()
    except KeyboardInterrupt:
        pass
    finally:
        stop(timeout=1)


if __name__ == "__main__":
    main()
