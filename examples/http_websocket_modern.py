"""Port of the seed's third program: HTTP and a WebSocket (modern interface) on one port.

    python examples/http_websocket_modern.py [--port 8080] [--reload]
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
from dispatch.websocket import (  # noqa: E402  (Racket: net/rfc6455, .../service-mapper)
    make_service_mapper_dispatcher,
    ws_recv,
    ws_send,
    ws_service_mapper,
)
from servlets import dispatch_servlet, response_xexpr  # noqa: E402


def start_page(req):
    return response_xexpr(websocket_page())


a_service_mapper = ws_service_mapper(
    ("^/ws_test",
     ([None], lambda c: ws_send(c, ws_recv(c) + " world!\n"))),
)


def main(port: int, reload: bool = False) -> None:
    stop = serve(dispatch=sequencer.make(
                     filter.make(r"^/ws_test", make_service_mapper_dispatcher(a_service_mapper)),
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
