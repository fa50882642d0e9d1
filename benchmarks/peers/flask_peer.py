"""Benchmark peer: the harness's endpoints on Flask, for gunicorn's gevent worker, as its
users deploy it (the harness starts it; the module only defines ``app``)::

    gunicorn -k gevent -w 1 --chdir benchmarks/peers flask_peer:app

    GET  /              the constant 114 B page (text/html)
    GET  /sse           event stream; POST /publish?n=N broadcasts N events "<seq> <ms>"

No WebSocket endpoint: Flask has none of its own.  gunicorn patches the worker with
gevent's monkey before it imports this module, so the queues below are gevent's.
"""
from __future__ import annotations

import time

import gevent
from flask import Flask, Response, request
from gevent.queue import Queue

PAGE = ('<html><head><title>Events test</title></head><body><h1>Welcome</h1>'
        '<textarea readonly=""></textarea></body></html>')
streams: set = set()

app = Flask(__name__)


@app.get("/")
def page() -> Response:
    return Response(PAGE, mimetype="text/html")


@app.get("/sse")
def sse() -> Response:
    queue: Queue = Queue()

    def events():
        streams.add(queue)
        try:
            yield b": open\n\n"  # the headers leave with the first chunk
            while True:
                yield queue.get()
        finally:
            streams.discard(queue)

    return Response(events(), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache"})


@app.post("/publish")
def publish() -> Response:
    n = int(request.args.get("n", "1"))
    for i in range(n):
        event = f"data: {i} {int(time.time() * 1000)}\n\n".encode()
        for queue in list(streams):
            queue.put(event)
        if i % 10 == 9:  # let the streams write between batches, as every peer does
            gevent.sleep(0)
    return Response("ok", mimetype="text/plain")
