"""dispatch.metrics over real sockets: a page, an SSE source and a WebSocket echo served
beside /metrics, driven by real clients while Prometheus' text is scraped and parsed;
the hooks when nothing is mounted; several gunicorn workers summed in multiprocess mode."""
import os
import shutil
import socket
import subprocess
import sys
import time

import gevent
import pytest
import requests

prometheus_client = pytest.importorskip("prometheus_client")
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402
from prometheus_client.registry import CollectorRegistry  # noqa: E402

from dispatch import filter, instrument, metrics, sequencer  # noqa: E402
from dispatch.server import serve  # noqa: E402
from dispatch.sse import make_sse, sse_dispatcher, sse_send_event  # noqa: E402
from dispatch.testing import declines  # noqa: E402
from dispatch.websocket import (  # noqa: E402
    is_eof,
    make_general_websockets_dispatcher,
    ws_close,
    ws_connect,
    ws_recv,
    ws_send,
)
from servlets import dispatch_servlet, response_full, response_xexpr  # noqa: E402
from tests.sse_client import RawSSE  # noqa: E402
from tests.support import ROOT, wait_until  # noqa: E402

#: seconds a polled condition is given to hold (scrapes and closes go over the network)
WAIT = 10.0


def echo(conn, state=None):
    while not is_eof(message := ws_recv(conn)):
        ws_send(conn, message)


def page(request):
    if request.path == "/slow":
        gevent.sleep(0.5)  # a request that takes a known time (not a synchronisation)
    if request.path == "/boom":
        raise RuntimeError("a failing servlet")  # to_wsgi answers 500
    return response_xexpr(("p", "page at " + request.path))


def broken_body(conn, request):
    """A response whose body fails: before its first byte (/broken: the engine answers
    500), or after it (/cut: the client gets a cut 200)."""
    def body():
        if request.path == "/cut":
            yield b"a start"
        raise RuntimeError("no body after all")

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return body()

    conn.respond(app)


class Scraper:
    """Scrapes /metrics over one keep-alive connection (so it is always one ``http``
    connection) and counts its own scrapes, which are GET 200 requests too."""

    def __init__(self, base: str) -> None:
        self.url = base + "/metrics"
        self.session = requests.Session()
        self.done = 0

    def __call__(self) -> dict:
        answer = self.session.get(self.url, timeout=10)
        assert answer.status_code == 200
        assert answer.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        self.done += 1
        self.text = answer.text
        samples = {}
        for family in text_string_to_metric_families(answer.text):
            for sample in family.samples:
                samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
        return samples

    def value(self, name: str, **labels) -> float:
        return self().get((name, tuple(sorted(labels.items()))), 0.0)

    def wait(self, name: str, expected, **labels) -> None:
        """Scrape until ``name`` has the value ``expected`` (or ``expected()``, computed
        after each scrape: the scrapes count themselves)."""
        seen = []

        def reached():
            seen.append(self.value(name, **labels))
            return seen[-1] == (expected() if callable(expected) else expected)

        if not wait_until(reached, WAIT):
            raise AssertionError(f"{name}{labels}: {seen[-5:]}, expected "
                                 f"{expected() if callable(expected) else expected}")

    def close(self) -> None:
        self.session.close()


@pytest.fixture
def mounted():
    """Serve metrics (on a registry of its own) beside a page, /sse, /slow-sse (a small
    queue limit) and /ws; returns (base, scraper, sse, slow_sse).  Afterwards the servers
    stop, their connections are gone, and the observer is removed."""
    stoppers = []
    scrapers = []

    def start():
        sse = make_sse(heartbeat=None)
        slow = make_sse(heartbeat=None, queue_limit=4)
        app = sequencer.make(
            metrics.make(registry=CollectorRegistry()),
            filter.make("^/sse$", sse_dispatcher(sse)),
            filter.make("^/slow-sse$", sse_dispatcher(slow)),
            filter.make("^/ws$", make_general_websockets_dispatcher(echo)),
            filter.make("^/(broken|cut)$", broken_body),
            dispatch_servlet(page))
        stop = serve(app, port=0, listen_ip="127.0.0.1")
        stoppers.append(stop)
        base = f"http://127.0.0.1:{stop.port}"
        scraper = Scraper(base)
        scrapers.append(scraper)
        return base, scraper, sse, slow

    yield start
    for scraper in scrapers:
        scraper.close()
    for stop in stoppers:
        stop(timeout=1)
        assert wait_until(lambda s=stop: not s.server.connections, WAIT), \
            "the connections' end not reached"
    instrument.install(None)


def raw_request(base: str, data: bytes) -> bytes:
    port = int(base.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(data)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def test_requests_by_method_and_status_and_their_durations(mounted):
    base, scrape, _, _ = mounted()
    with requests.Session() as client:
        for _ in range(5):
            assert client.get(base + "/p").status_code == 200
        for _ in range(2):
            assert client.post(base + "/p", data={"a": "1"}).status_code == 200
        assert client.head(base + "/p").status_code == 200
        assert client.get(base + "/boom").status_code == 500
        assert client.get(base + "/slow").status_code == 200
    assert requests.get(base + "/broken", timeout=5).status_code == 500  # the engine's
    assert raw_request(base, b"GET /broken HTTP/1.1\r\nHost: x\r\n\r\n").startswith(
        b"HTTP/1.1 500 ")
    cut = raw_request(base, b"GET /cut HTTP/1.1\r\nHost: x\r\n\r\n")
    assert cut.startswith(b"HTTP/1.1 200 ") and b"a start" in cut and not cut.endswith(
        b"0\r\n\r\n")  # no last chunk: the client can tell (not counted: no answer)
    # Refused by the engine before any application: method unknown (as for /broken's
    # 500s, which the engine answered itself).
    assert raw_request(base, b"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n").startswith(
        b"HTTP/1.1 400 ")
    assert raw_request(base, b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n\r\n")[9:12] == b"414"

    samples = scrape()
    requests_total = {dict(labels)["method"] + " " + dict(labels)["status"]: value
                      for (name, labels), value in samples.items()
                      if name == "dispatch_http_requests_total"}
    assert requests_total == {"GET 200": 6 + scrape.done - 1, "POST 200": 2, "HEAD 200": 1,
                              "GET 500": 1, " 500": 2, " 400": 1, " 414": 1}
    answered = sum(v for k, v in requests_total.items() if not k.startswith(" "))
    duration = {dict(labels).get("le"): value for (name, labels), value in samples.items()
                if name == "dispatch_http_request_duration_seconds_bucket"}
    assert samples[("dispatch_http_request_duration_seconds_count", ())] == answered
    assert duration["0.25"] == duration["0.5"] == answered - 1  # all but /slow
    assert duration["+Inf"] == answered
    assert samples[("dispatch_http_request_duration_seconds_sum", ())] >= 0.5
    # The scrape itself is counted once it is answered.
    assert scrape.value("dispatch_http_requests_total", method="GET", status="200") == \
        6 + scrape.done - 1


def test_keep_alive_connections_are_counted_while_open(mounted):
    base, scrape, _, _ = mounted()
    scrape.wait("dispatch_open_connections", 1, kind="http")  # the scraper's own
    port = int(base.rsplit(":", 1)[1])
    clients = []
    for _ in range(5):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.sendall(b"GET /p HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")
        clients.append(sock)
    scrape.wait("dispatch_open_connections", 6, kind="http")
    for sock in clients[:3]:
        sock.close()
    scrape.wait("dispatch_open_connections", 3, kind="http")
    for sock in clients[3:]:
        sock.close()
    scrape.wait("dispatch_open_connections", 1, kind="http")


def test_sse_streams_events_and_slow_clients(mounted):
    base, scrape, sse, slow = mounted()
    sse_send_event(sse, data="kept 1", id=True)
    sse_send_event(sse, data="kept 2", id=True)
    clients = [RawSSE(base, "/sse") for _ in range(3)]
    for client in clients:
        assert [e["data"] for e in client.events(2)] == ["kept 1", "kept 2"]  # replayed
    scrape.wait("dispatch_open_connections", 3, kind="sse")
    # Detached streams have left the HTTP connections: only the scraper's is there.
    assert scrape.value("dispatch_open_connections", kind="http") == 1
    for n in range(4):
        sse_send_event(sse, data=f"live {n}")
    for client in clients:
        assert [e["data"] for e in client.events(4)] == [f"live {n}" for n in range(4)]
    assert scrape.value("dispatch_sse_events_sent_total") == 3 * 2 + 3 * 4
    scrape.wait("dispatch_http_requests_total", lambda: 3 + scrape.done - 1, method="GET",
                status="200")
    clients[0].close()
    scrape.wait("dispatch_open_connections", 2, kind="sse")
    for client in clients[1:]:
        client.close()
    scrape.wait("dispatch_open_connections", 0, kind="sse")

    # A client that stops reading is dropped, and counted as such.
    port = int(base.rsplit(":", 1)[1])
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.sendall(b"GET /slow-sse HTTP/1.1\r\nHost: x\r\n\r\n")
    scrape.wait("dispatch_open_connections", 1, kind="sse")
    big = "x" * 65536
    with gevent.Timeout(10):
        for _ in range(200):  # far more than the socket buffers and the queue hold
            sse_send_event(slow, data=big)
            gevent.sleep(0)
            if not slow.subscribers:
                break
    assert not slow.subscribers
    scrape.wait("dispatch_open_connections", 0, kind="sse")
    assert scrape.value("dispatch_sse_streams_dropped_total") == 1
    sock.close()


def test_websockets_messages_and_closes_by_code(mounted):
    base, scrape, _, _ = mounted()
    ws = base.replace("http://", "ws://") + "/ws"
    clients = [ws_connect(ws) for _ in range(4)]
    scrape.wait("dispatch_open_connections", 4, kind="websocket")
    assert scrape.value("dispatch_open_connections", kind="http") == 1
    assert scrape.value("dispatch_http_requests_total", method="GET", status="101") == 4
    for n, client in enumerate(clients):
        for i in range(n + 1):
            ws_send(client, f"{n}.{i}")
            assert ws_recv(client) == f"{n}.{i}"
    # Counted on the server's side only: these clients run in the same process.
    assert scrape.value("dispatch_websocket_messages_total", direction="in") == 10
    assert scrape.value("dispatch_websocket_messages_total", direction="out") == 10
    ws_close(clients[0])                          # 1000
    ws_close(clients[1], 4001, "the app's own")   # 4001
    ws_close(clients[2], 1001)                    # 1001
    clients[3].stream.socket.close()              # gone without a close frame: 1006
    scrape.wait("dispatch_open_connections", 0, kind="websocket")
    closes = {dict(labels)["code"]: value for (name, labels), value in scrape().items()
              if name == "dispatch_websocket_closes_total"}
    assert closes == {"1000": 1, "4001": 1, "1001": 1, "1006": 1}


def test_scraped_while_a_load_runs(mounted):
    """Pages, events and WebSocket messages from many greenlets while /metrics is read
    over and over: every scrape parses, counters never go back, and the totals add up."""
    base, scrape, sse, _ = mounted()
    pages, events, messages = 40, 30, 20
    page_clients, sse_clients, ws_clients = 8, 4, 4
    ws = base.replace("http://", "ws://") + "/ws"
    streams = [RawSSE(base, "/sse") for _ in range(sse_clients)]
    scrape.wait("dispatch_open_connections", sse_clients, kind="sse")

    def browse():
        with requests.Session() as session:
            for _ in range(pages):
                assert session.get(base + "/p", timeout=10).status_code == 200

    def chat():
        conn = ws_connect(ws)
        for i in range(messages):
            ws_send(conn, str(i))
            assert ws_recv(conn) == str(i)
        ws_close(conn)

    def publish():
        for i in range(events):
            sse_send_event(sse, data=str(i))
            gevent.sleep(0)  # the others' turn: events, pages and scrapes interleave

    def read(stream):
        assert [e["data"] for e in stream.events(events)] == [str(i) for i in range(events)]

    load = ([gevent.spawn(browse) for _ in range(page_clients)] +
            [gevent.spawn(chat) for _ in range(ws_clients)] +
            [gevent.spawn(publish)] + [gevent.spawn(read, s) for s in streams])
    previous: dict = {}
    deadline = time.monotonic() + 60
    while not all(g.dead for g in load):
        assert time.monotonic() < deadline, "the load did not finish in 60 s"
        samples = scrape()
        for key, value in samples.items():
            if key[0].endswith("_total") and key in previous:
                assert value >= previous[key], key
        previous = samples
        gevent.sleep(0.01)
    for greenlet in load:
        greenlet.get()  # re-raises a client's failure
    for stream in streams:
        stream.close()
    assert scrape.done >= 2
    scrape.wait("dispatch_open_connections", 0, kind="sse")
    scrape.wait("dispatch_open_connections", 0, kind="websocket")
    scrape.wait("dispatch_open_connections", 1, kind="http")
    samples = scrape()
    assert samples[("dispatch_http_requests_total", (("method", "GET"), ("status", "200")))] \
        == page_clients * pages + sse_clients + scrape.done - 1
    assert samples[("dispatch_websocket_messages_total", (("direction", "in"),))] == \
        ws_clients * messages
    assert samples[("dispatch_websocket_messages_total", (("direction", "out"),))] == \
        ws_clients * messages
    assert samples[("dispatch_websocket_closes_total", (("code", "1000"),))] == ws_clients
    assert samples[("dispatch_sse_events_sent_total", ())] == sse_clients * events


def test_the_page_declines_other_methods_and_speaks_openmetrics(mounted):
    base, scrape, _, _ = mounted()
    # A POST to /metrics is declined: the servlet answers it.
    assert requests.post(base + "/metrics", timeout=5).text == "<p>page at /metrics</p>"
    answer = requests.get(base + "/metrics", headers={
        "Accept": "application/openmetrics-text; version=1.0.0"}, timeout=5)
    assert answer.headers["Content-Type"].startswith("application/openmetrics-text")
    assert answer.text.rstrip().endswith("# EOF")


def test_make_checks_its_arguments_and_one_observer_a_process():
    try:
        with pytest.raises(TypeError, match="path must be a str"):
            metrics.make(b"/metrics")
        with pytest.raises(ValueError, match="path must start with '/'"):
            metrics.make("metrics")
        with pytest.raises(TypeError, match="registry must be a CollectorRegistry"):
            metrics.make(registry={})
        assert instrument.observer is None
        registry = CollectorRegistry()
        metrics.make(registry=registry)
        first = instrument.observer
        assert isinstance(first, instrument.Observer)
        other = metrics.make("/other", registry=registry)  # the same figures, twice
        assert instrument.observer is first
        assert declines(other, "/metrics") and declines(other, "/other", method="POST")
        assert not declines(other, "/other") and not declines(other, "/other", method="HEAD")
        accented = metrics.make("/métriques", registry=registry)
        assert not declines(accented, "/métriques") and declines(accented, "/metriques")
        with pytest.raises(ValueError, match="another observer is installed"):
            metrics.make(registry=CollectorRegistry())
        assert instrument.observer is first
        with pytest.raises(TypeError, match="an Observer or None"):
            instrument.install(object())  # type: ignore[arg-type]
    finally:
        instrument.install(None)


def test_without_metrics_mounted_the_hooks_are_none_and_nothing_is_called():
    """A fresh process serving pages, SSE and WebSockets (no metrics): the slot stays
    None throughout; dispatch.metrics imported but not mounted installs nothing."""
    script = r"""
from gevent import monkey; monkey.patch_all()
import requests
from dispatch import filter, instrument, sequencer
from dispatch.server import serve
from dispatch.sse import make_sse, sse_dispatcher, sse_send_event
from dispatch.websocket import make_general_websockets_dispatcher, ws_connect, ws_recv, ws_send
from servlets import dispatch_servlet, response_xexpr
from tests.sse_client import RawSSE
import dispatch.metrics
from tests.test_metrics import echo
sse = make_sse()
stop = serve(sequencer.make(filter.make("^/sse$", sse_dispatcher(sse)),
                            filter.make("^/ws$", make_general_websockets_dispatcher(echo)),
                            dispatch_servlet(lambda r: response_xexpr(("p", "x")))),
             port=0, listen_ip="127.0.0.1")
base = f"http://127.0.0.1:{stop.port}"
assert requests.get(base + "/p").status_code == 200
client = RawSSE(base, "/sse"); sse_send_event(sse, data="e"); assert client.events(1)
c = ws_connect(base.replace("http", "ws") + "/ws"); ws_send(c, "m"); assert ws_recv(c) == "m"
assert instrument.observer is None
stop()
print("none")
"""
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, env=dict(os.environ, PYTHONPATH=ROOT))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "none"


def test_an_observer_of_ones_own_sees_what_the_engine_does(served):
    """The hook slot takes any Observer (another monitoring system's): here one that
    records, on a server without dispatch.metrics."""
    class Recorder(instrument.Observer):
        def __init__(self):
            self.calls = []

        def request(self, method, status, seconds):
            self.calls.append(("request", method, status))

        def connection_opened(self):
            self.calls.append(("opened",))

        def connection_closed(self, upgraded):
            self.calls.append(("closed", upgraded))

    recorder = Recorder()
    assert instrument.install(recorder) is None
    try:
        base = served(dispatch_servlet(lambda r: response_full(
            201, None, None, "text/plain", None, [b"made"])))
        assert requests.get(base + "/x", timeout=5).status_code == 201
        assert wait_until(lambda: ("closed", False) in recorder.calls, WAIT)
        assert recorder.calls == [("opened",), ("request", "GET", "201 Created"),
                                  ("closed", False)]
    finally:
        assert instrument.install(None) is recorder


# -- several processes: gunicorn workers in multiprocess mode --------------------------

def shape(text: str) -> set:
    """The dispatch_* families of a page: name, type and label names."""
    return {(family.name, family.type,
             frozenset(k for sample in family.samples for k in sample.labels if k != "le"))
            for family in text_string_to_metric_families(text)
            if family.name.startswith("dispatch_")}


def single_process_page() -> str:
    """The page of a process whose every figure has been touched once."""
    figures = metrics._Figures()
    figures.request("GET", "200 OK", 0.01)
    figures.websocket_closed(1000)
    registry = CollectorRegistry()
    registry.register(figures)
    return prometheus_client.generate_latest(registry).decode()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_gunicorn_workers_are_summed_in_multiprocess_mode(tmp_path):
    if shutil.which("gunicorn") is None and not os.path.exists(
            os.path.join(os.path.dirname(sys.executable), "gunicorn")):
        pytest.skip("gunicorn is not installed")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-k", "dispatch.gunicorn.Worker", "-w", "2",
         "-b", f"127.0.0.1:{port}", "--graceful-timeout", "5",
         "-c", "python:tests.metrics_gunicorn_conf", "tests.metrics_app:app"],
        cwd=ROOT, env=dict(os.environ, PYTHONPATH=ROOT, PROMETHEUS_MULTIPROC_DIR=str(tmp_path)),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    scrape = Scraper(base)
    try:
        def pid():
            try:
                answer = requests.get(base + "/pid", timeout=5)  # a new connection each
            except requests.ConnectionError:
                return None
            assert answer.status_code == 202
            return int(answer.text)

        assert wait_until(lambda: pid() is not None, 30), "gunicorn's start not reached"
        pids: dict = {}
        with gevent.Timeout(30, AssertionError("one worker took every connection")):
            while len(pids) < 2 or sum(pids.values()) < 20:
                served_by = pid()
                pids[served_by] = pids.get(served_by, 0) + 1
        total = sum(pids.values()) + 1  # and the first one, in wait_until
        # Each worker counted its own: the page sums them, whichever worker serves it.
        for _ in range(4):
            assert scrape.value("dispatch_http_requests_total", method="GET",
                                status="202") == total
        assert len(list(tmp_path.glob("counter_*.db"))) >= 2
        # Open streams: the sum over the live workers.  Each worker's source keeps two
        # events, replayed to each of its clients.
        streams = [RawSSE(base, "/sse") for _ in range(6)]
        for stream in streams:
            assert [e["data"] for e in stream.events(2)] == ["kept 1", "kept 2"]
        scrape.wait("dispatch_open_connections", 6, kind="sse")
        assert scrape.value("dispatch_sse_events_sent_total") == 12
        for stream in streams:
            stream.close()
        scrape.wait("dispatch_open_connections", 0, kind="sse")
        conn = ws_connect(base.replace("http://", "ws://") + "/ws")
        ws_send(conn, "hi")
        assert ws_recv(conn) == "hi"
        scrape.wait("dispatch_open_connections", 1, kind="websocket")
        ws_close(conn)
        scrape.wait("dispatch_open_connections", 0, kind="websocket")
        samples = scrape()
        assert samples[("dispatch_websocket_closes_total", (("code", "1000"),))] == 1
        for direction in ("in", "out"):
            assert samples[("dispatch_websocket_messages_total",
                            (("direction", direction),))] == 1
        # The same figures, with the same labels, as a single process serves.
        assert shape(scrape.text) == shape(single_process_page())
    finally:
        scrape.close()
        proc.terminate()
        assert proc.wait(20) == 0
        proc.stderr.close()
    # gunicorn's child_exit hook (dispatch.metrics.child_exit) forgot the workers' open
    # connections once they ended; their counters stay.
    assert not list(tmp_path.glob("gauge_livesum_*.db"))
    assert list(tmp_path.glob("counter_*.db"))
