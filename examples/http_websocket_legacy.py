"""Port of the seed's second program: HTTP and a WebSocket (legacy interface) on one port.

    python examples/http_websocket_legacy.py [--port 8080] [--reload]
"""
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from seed_pages import websocket_page  # noqa: E402

import dispatch.filter as filter  # noqa: E402, A004  (Racket: prefix-in filter:)
import dispatch.sequencer as sequencer  # noqa: E402  (Racket: prefix-in sequencer:)
from dispatch.server import read_line, serve  # noqa: E402
from dispatch.websocket import (  # noqa: E402  (Racket: net/rfc6455, net/rfc6455/dispatcher)
    make_general_websockets_dispatcher,
    ws_recv,
    ws_send,
)
from servlets import dispatch_servlet, response_xexpr  # noqa: E402


def start_page(req):
    return response_xexpr(websocket_page())


def a_conn_dispatch(c, s):
    message = ws_recv(c)
    ws_send(c, message + " world!\n")


def main(port: int, reload: bool = False) -> None:
    stop = serve(dispatch=sequencer.make(
                     filter.make(r"^/ws_test", make_general_websockets_dispatcher(a_conn_dispatch)),
                     dispatch_servlet(start_page)),
                 port=port, reload=reload)

    print(f"Serving on http://localhost:{stop.port}/", flush=True)
    print("Press enter to terminate app", flush=True)
    try:
        read_line()
    except KeyboardInterrupt:
        pass
    stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--reload", action="store_true", help="restart when a source file changes")
    args = parser.parse_args()
    main(args.port, reload=args.reload)
