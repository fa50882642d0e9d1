"""Port of the seed's first program: HTTP and server-sent events on the same port.

    python examples/http_sse.py [--port 8080] [--reload]
"""
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from seed_pages import events_page  # noqa: E402

import dispatch.filter as filter  # noqa: E402, A004  (Racket: prefix-in filter:)
import dispatch.sequencer as sequencer  # noqa: E402  (Racket: prefix-in sequencer:)
from dispatch.server import read_line, serve  # noqa: E402
from dispatch.sse import make_sse, sse_dispatcher, sse_send_event  # noqa: E402
from servlets import dispatch_servlet, response_xexpr  # noqa: E402


def start_page(req):
    return response_xexpr(events_page())


def main(port: int, reload: bool = False) -> None:
    a_sse = make_sse()

    stop = serve(dispatch=sequencer.make(
                     filter.make(r"^/sse/", sse_dispatcher(a_sse)),
                     dispatch_servlet(start_page)),
                 port=port, reload=reload)

    # Send message
    sse_send_event(a_sse, data="Hello world", id=True)

    # Don't close the program

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
