"""The Autobahn|Testsuite echo endpoint: sequencer + filter + service mapper, as a user
would compose it, beside a servlet.

    python tests/conformance/echo_server.py [PORT]

It prints ``port N`` once it listens (``PORT`` 0 or none: a free port) and serves until
SIGTERM or SIGINT.
"""
import os
import sys

from gevent import monkey

monkey.patch_all()

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

import gevent.event  # noqa: E402

import dispatch.filter as filter  # noqa: E402, A004
import dispatch.sequencer as sequencer  # noqa: E402
from dispatch.server import serve, wait_then_stop  # noqa: E402
from dispatch.websocket import (  # noqa: E402
    WSOptions,
    is_eof,
    make_service_mapper_dispatcher,
    ws_recv,
    ws_send,
    ws_service_mapper,
)
from dispatch.websocket.deflate import DeflateOptions  # noqa: E402
from servlets import dispatch_servlet, response_xexpr  # noqa: E402


def echo(conn):
    while True:
        message = ws_recv(conn)
        if is_eof(message):
            return
        ws_send(conn, message, payload_type="binary" if isinstance(message, bytes) else "text")


# Autobahn sends messages of up to 16 MiB (cases 9.*): the limit is raised for them.
options = WSOptions(max_message_size=64 << 20, ping_interval=None)
# zlib's fastest level: the 12.* and 13.* cases echo 1,000 messages of up to 128 KiB
# each, compressed, and at the default level 6 compressing them is most of the server's
# time.  The level is not in the protocol: the same codec, negotiation and framing run.
deflate = DeflateOptions(level=1)
mapper = ws_service_mapper(("^/echo", ([None], echo)))
app = sequencer.make(
    filter.make("^/echo", make_service_mapper_dispatcher(mapper, options=options,
                                                         deflate=deflate)),
    dispatch_servlet(lambda request: response_xexpr(("p", "autobahn echo"))))

if __name__ == "__main__":
    stop = serve(app, port=int(sys.argv[1]) if len(sys.argv) > 1 else 0,
                 listen_ip="127.0.0.1")
    print(f"port {stop.port}", flush=True)
    wait_then_stop(stop, gevent.event.Event(), stop_timeout=5)
