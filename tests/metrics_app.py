"""The app of test_metrics' gunicorn run: /metrics, /pid (the worker's pid, status 202:
a count of its own), /sse (two kept events) and /ws (an echo)."""
import os

import dispatch
from dispatch import filter, metrics, sequencer
from dispatch.sse import make_sse, sse_dispatcher, sse_send_event
from dispatch.websocket import make_general_websockets_dispatcher
from servlets import dispatch_servlet, response_full
from tests.test_metrics import echo

events = make_sse(heartbeat=None)
sse_send_event(events, data="kept 1", id=True)  # replayed to each client of this worker
sse_send_event(events, data="kept 2", id=True)
app = dispatch.to_wsgi(sequencer.make(
    metrics.make(),
    filter.make("^/sse$", sse_dispatcher(events)),
    filter.make("^/ws$", make_general_websockets_dispatcher(echo)),
    dispatch_servlet(lambda request: response_full(
        202, None, None, "text/plain", None, [str(os.getpid()).encode()]), regexp="^/pid$")))
