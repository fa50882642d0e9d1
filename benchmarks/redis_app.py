"""The SSE fan-out endpoints (GET /sse, POST /publish?n=N) on a Redis broker, for
gunicorn: ``REDIS_URL=... gunicorn -k dispatch.gunicorn.Worker -w 2 benchmarks.redis_app:app``.
"""
import os

from benchmarks.app import _publisher
from dispatch import filter, sequencer, to_wsgi
from dispatch.sse import make_sse, sse_dispatcher, sse_send_event
from dispatch.sse.redis_broker import RedisBroker
from servlets import dispatch_servlet

source = make_sse(RedisBroker(os.environ["REDIS_URL"], name="bench", history=1000),
                  queue_limit=100_000)
app = to_wsgi(sequencer.make(
    filter.make("^/sse", sse_dispatcher(source)),
    filter.make("^/publish$", dispatch_servlet(_publisher(
        lambda data: sse_send_event(source, data=data))))))
