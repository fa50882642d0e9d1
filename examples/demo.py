"""All three on one port, as the seed's post says generalises: a page, server-sent events
and a WebSocket chat.

    python examples/demo.py [--port 8080] [--reload]

* ``/``: the page, with the event stream on the left and the chat on the right;
* ``/sse/``: a timestamped ``tick`` event every second, and every chat message (kept,
  so that a page opened later is replayed the recent ones);
* ``/ws_test``: a WebSocket whose messages are broadcast to every WebSocket client and
  also appear on the event stream.
"""
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import gevent  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import dispatch.filter as filter  # noqa: E402, A004
import dispatch.sequencer as sequencer  # noqa: E402
from dispatch.server import read_line, serve  # noqa: E402
from dispatch.sse import make_sse, sse_dispatcher, sse_send_event  # noqa: E402
from dispatch.websocket import (  # noqa: E402
    ConnectionClosed,
    is_eof,
    make_service_mapper_dispatcher,
    ws_recv,
    ws_send,
    ws_service_mapper,
)
from servlets import dispatch_servlet, response_xexpr  # noqa: E402

SCRIPT = """
var events = document.getElementById("events");
var chat = document.getElementById("chat");
var input = document.getElementById("message");

var evtSource = new EventSource("/sse/");
function show(e) { events.value = e.type + ": " + e.data + "\\n" + events.value; }
evtSource.addEventListener("tick", show);
evtSource.addEventListener("chat", show);

var socket = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://")
                           + location.host + "/ws_test");
socket.onopen = function () { socket.send("Hello world!"); };
socket.onmessage = function (e) { chat.value = e.data + "\\n" + chat.value; };
document.getElementById("send").onsubmit = function (e) {
    e.preventDefault();
    if (input.value) { socket.send(input.value); input.value = ""; }
};
"""


def start_page(req):
    return response_xexpr(
        ("html",
         ("head",
          ("meta", [("http-equiv", "content-type"), ("content", "text/html; charset=utf-8")]),
          ("meta", [("name", "viewport"), ("content", "width=device-width")]),
          ("title", "Page, events and WebSockets on one port")),
         ("body",
          ("h1", "Page, server-sent events and WebSockets on one port"),
          ("h2", "Events (/sse/)"),
          ("textarea", [("id", "events"), ("readonly", ""), ("rows", "10"), ("cols", "60")]),
          ("h2", "Chat (/ws_test)"),
          ("textarea", [("id", "chat"), ("readonly", ""), ("rows", "10"), ("cols", "60")]),
          ("form", [("id", "send")],
           ("input", [("id", "message"), ("autocomplete", "off")]),
           ("button", "Send")),
          ("script", SCRIPT))))


a_sse = make_sse()
chatters = set()


def broadcast(message: str) -> None:
    for c in list(chatters):
        try:
            ws_send(c, message)
        except ConnectionClosed:
            chatters.discard(c)
    # Kept (id=True): a page that connects later is replayed the recent chat.
    sse_send_event(a_sse, data=message, event="chat", id=True)


def chat(c):
    chatters.add(c)
    try:
        while True:
            message = ws_recv(c)
            if is_eof(message):
                return
            broadcast(message if isinstance(message, str) else message.decode("utf-8", "replace"))
    finally:
        chatters.discard(c)


a_service_mapper = ws_service_mapper(("^/ws_test", ([None], chat)))


def tick() -> None:
    while True:
        sse_send_event(a_sse, data=time.strftime("%Y-%m-%d %H:%M:%S"), event="tick")
        gevent.sleep(1)


def main(port: int, reload: bool = False) -> None:
    stop = serve(dispatch=sequencer.make(
                     filter.make(r"^/sse/", sse_dispatcher(a_sse)),
                     filter.make(r"^/ws_test", make_service_mapper_dispatcher(a_service_mapper)),
                     dispatch_servlet(start_page)),
                 port=port, reload=reload)
    ticker = gevent.spawn(tick)

    print(f"Serving on http://localhost:{stop.port}/", flush=True)
    print("Press enter to terminate app", flush=True)
    try:
        read_line()
    except KeyboardInterrupt:
        pass
    ticker.kill()
    stop(timeout=2)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--reload", action="store_true", help="restart when a source file changes")
    args = parser.parse_args()
    main(args.port, reload=args.reload)
