"""A server process for the multi-process tests: an SSE source on a Redis broker.

    python tests/redis_app.py --port 0 --redis-url redis://127.0.0.1:PORT/0
    python tests/redis_app.py --port 0 --sentinel 127.0.0.1:PORT --service mymaster

GET /sse/ streams; /chat is a WebSocket broadcast group; POST /send?data=...&keep=1
sends (answers the id, or 503 when the broker is unavailable). Also the WSGI ``app``
for gunicorn (REDIS_URL from the environment).  ``--ticker SECONDS``: every process runs
a ticker greenlet, and a Redis lock lets one of them send (the README's pattern).
"""
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402

import gevent  # noqa: E402
import redis  # noqa: E402

from dispatch import filter, sequencer, to_wsgi  # noqa: E402
from dispatch.broadcast import make_ws_group, ws_group_add, ws_group_send  # noqa: E402
from dispatch.server import read_line, serve  # noqa: E402
from dispatch.sse import BrokerUnavailable, make_sse, sse_dispatcher, sse_send_event  # noqa: E402
from dispatch.sse.redis_broker import RedisBroker  # noqa: E402
from dispatch.websocket import (  # noqa: E402
    is_eof,
    make_service_mapper_dispatcher,
    ws_recv,
    ws_service_mapper,
)
from servlets import dispatch_servlet, response_full, response_jsexpr  # noqa: E402


def ticker(source, client: redis.Redis, every: float) -> None:
    """Send a tick every ``every`` seconds from one process only: the one holding the
    lock.  The lock expires unless renewed, so another process takes over when this
    one dies."""
    lock = client.lock("test:ticker", timeout=max(3.0, 5 * every))
    while True:
        try:
            if lock.acquire(blocking=False):
                while True:
                    sse_send_event(source, data=f"tick {os.getpid()}", id=True)
                    gevent.sleep(every)
                    lock.extend(max(3.0, 5 * every), replace_ttl=True)  # LockError if lost
        except (redis.RedisError, BrokerUnavailable):
            pass  # lost the lock, or Redis is away: compete again
        gevent.sleep(every)


def make_dispatcher(redis_url=None, ticker_every=None, **options):
    """``options``: more RedisBroker arguments (``sentinels``, ``service_name``...)."""
    broker = RedisBroker(redis_url, name="test", history=500, **options)
    source = make_sse(broker, heartbeat=0.5)
    if ticker_every:
        gevent.spawn(ticker, source, broker.redis, ticker_every)

    def send(request):
        try:
            event_id = sse_send_event(source, data=request.args["data"],
                                      id=request.args.get("keep") == "1")
        except BrokerUnavailable as exc:
            return response_full(503, None, None, "text/plain", [], [str(exc).encode()])
        return response_jsexpr({"id": event_id, "pid": os.getpid()})

    group = make_ws_group(RedisBroker(redis_url, name="chat", **options))

    def chat(c):
        ws_group_add(group, c)
        while not is_eof(message := ws_recv(c)):
            ws_group_send(group, message)

    return sequencer.make(filter.make("^/sse/", sse_dispatcher(source)),
                          filter.make("^/send", dispatch_servlet(send)),
                          filter.make("^/chat", make_service_mapper_dispatcher(
                              ws_service_mapper(("/chat", ([None], chat))))))


app = to_wsgi(make_dispatcher(os.environ["REDIS_URL"])) if "REDIS_URL" in os.environ else None

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--redis-url")
    parser.add_argument("--sentinel", action="append", help="HOST:PORT, repeatable")
    parser.add_argument("--service", default="mymaster")
    parser.add_argument("--retry-for", type=float, default=5.0)
    parser.add_argument("--ticker", type=float, help="seconds between ticks")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    options = {"retry_for": args.retry_for}
    if args.sentinel:
        options.update(sentinels=[(host, int(port)) for host, port in
                                  (s.rsplit(":", 1) for s in args.sentinel)],
                       service_name=args.service)
    stop = serve(make_dispatcher(args.redis_url, args.ticker, **options), port=args.port,
                 listen_ip="127.0.0.1")
    print(f"Serving on http://localhost:{stop.port}/", flush=True)
    print("Press enter to terminate app", flush=True)
    read_line()
    stop()
