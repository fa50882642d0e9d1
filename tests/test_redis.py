"""Several processes on one Redis: a real redis-server, server processes, gunicorn."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys

import pytest
import requests

from dispatch.sse.redis_broker import ID_BASE
from tests.sse_client import RawSSE
from tests.support import ROOT, Example, wait_until

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None,
                                reason="redis-server is not installed (bash .ci/setup does)")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def eventually(condition, timeout: float = 15.0, step: float = 0.05) -> None:
    """Fail the test unless ``condition()`` holds within ``timeout`` seconds. Redis servers
    and workers start, stop and fail over meanwhile: a refused connection (an OSError) only
    means not yet."""
    assert wait_until(condition, timeout, step, ignoring=OSError), "condition not reached"


class RedisServer:
    def __init__(self, directory):
        self.port = free_port()
        self.dir = str(directory)
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc = None
        self.start()

    def start(self):
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
             "--save", "", "--appendonly", "yes", "--appendfsync", "always"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        eventually(lambda: socket.create_connection(("127.0.0.1", self.port), 1).close() or True)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path)
    yield server
    server.stop()


@pytest.fixture
def apps(redis_server):
    running = []

    def start(*args):
        running.append(Example("tests/redis_app.py",
                               args=("--redis-url", redis_server.url, *args)))
        return running[-1].url.rstrip("/")

    yield start
    for app in running:
        app.close()
    running.clear()


def send(base, data, keep=True, timeout=15):
    reply = requests.post(f"{base}/send", params={"data": data, "keep": "1" if keep else "0"},
                          timeout=timeout)
    return reply.status_code, (reply.json() if reply.status_code == 200 else reply.text)


def test_events_from_any_process_reach_every_process_in_one_order(apps):
    a, b = apps(), apps()
    clients = [RawSSE(a, "/sse/"), RawSSE(a, "/sse/"), RawSSE(b, "/sse/"), RawSSE(b, "/sse/")]
    sent = []
    for i in range(6):
        status, answer = send(a if i % 2 == 0 else b, f"event {i}", keep=i != 3)
        assert status == 200
        sent.append(answer["id"])
    # global ids, 1, 2, ... within the stream's generation (None: not kept)
    base = sent[0] - 1
    assert base % ID_BASE == 0
    assert sent == [base + 1, base + 2, base + 3, None, base + 4, base + 5]
    for client in clients:
        events = client.events(6)
        assert [e["data"] for e in events] == [f"event {i}" for i in range(6)]
        assert [e.get("id") for e in events] == [None if i is None else str(i) for i in sent]
        client.close()


def test_after_a_kill_9_clients_resume_on_the_other_process_completely(apps):
    a, b = apps(), apps()
    client = RawSSE(a, "/sse/")
    ids = [send(b, f"e{i}")[1]["id"] for i in range(3)]
    seen = client.events(2)
    last = seen[-1]["id"]
    os.kill(_pid_of(a), signal.SIGKILL)
    ids += [send(b, f"e{i}")[1]["id"] for i in range(3, 6)]
    resumed = RawSSE(b, "/sse/", headers={"Last-Event-ID": last})
    events = resumed.events(4)
    assert [e["data"] for e in events] == ["e2", "e3", "e4", "e5"]
    assert [int(e["id"]) for e in events] == ids[2:] == list(range(ids[0] + 2, ids[0] + 6))
    resumed.close()


def _pid_of(base):
    status, answer = send(base, "who am i", keep=False)
    return answer["pid"]


def test_redis_restarted_under_load(apps, redis_server):
    a = apps("--retry-for", "0.5")
    client = RawSSE(a, "/sse/")
    assert send(a, "before")[0] == 200
    assert client.events(1)[0]["data"] == "before"
    redis_server.stop()
    status, text = send(a, "while down")
    assert status == 503 and "Redis" in text  # refused loudly, not dropped silently
    assert client.messages(1, comments=True) == [":"]  # the stream stays open: heartbeats
    redis_server.start()
    eventually(lambda: send(a, "after")[0] == 200)
    assert client.events(1)[0]["data"] == "after"
    replay = RawSSE(a, "/sse/", headers={"Last-Event-ID": "0"})
    assert [e["data"] for e in replay.events(2)] == ["before", "after"]
    client.close()
    replay.close()


def test_gunicorn_with_two_workers(redis_server, tmp_path):
    if shutil.which("gunicorn") is None and not os.path.exists(
            os.path.join(os.path.dirname(sys.executable), "gunicorn")):
        pytest.skip("gunicorn is not installed")
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-k", "dispatch.gunicorn.Worker", "-w", "2",
         "-b", f"127.0.0.1:{port}", "--graceful-timeout", "5", "tests.redis_app:app"],
        cwd=ROOT, env=dict(os.environ, PYTHONPATH=ROOT, REDIS_URL=redis_server.url),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        eventually(lambda: send(base, "warm-up", keep=False)[0] == 200, timeout=30)
        pids = set()
        eventually(lambda: pids.add(_pid_of(base)) or len(pids) == 2, timeout=30, step=0)
        clients = [RawSSE(base, "/sse/") for _ in range(8)]
        status, answer = send(base, "to everyone")
        assert status == 200
        for client in clients:
            assert client.events(1) == [{"id": str(answer["id"]), "data": "to everyone"}]
            client.close()
    finally:
        proc.terminate()
        assert proc.wait(20) == 0
        proc.stderr.close()


def test_reuse_port_lets_two_servers_share_a_port():
    from dispatch import lift
    from dispatch.server import serve
    from servlets import response_jsexpr

    port = free_port()
    stops = [serve(lift.make(lambda r, n=n: response_jsexpr(n)), port=port,
                   listen_ip="127.0.0.1", reuse_port=True) for n in (1, 2)]
    try:
        answers = set()
        for _ in range(200):
            answers.add(json.loads(requests.get(f"http://127.0.0.1:{port}/",
                                                timeout=5, headers={"Connection": "close"}).text))
            if len(answers) == 2:
                break
        assert answers == {1, 2}
    finally:
        for stop in stops:
            stop()


def test_a_websocket_group_spans_processes(apps):
    from dispatch.websocket import ws_connect, ws_recv, ws_send

    a, b = apps(), apps()
    members = [ws_connect(base.replace("http", "ws") + "/chat") for base in (a, a, b, b)]
    # Each member joined its group before its handshake's answer left the server.
    ws_send(members[0], "hello from a")
    assert [ws_recv(m) for m in members] == ["hello from a"] * 4
    ws_send(members[3], b"\x00binary from b", payload_type="binary")
    assert [ws_recv(m) for m in members] == [b"\x00binary from b"] * 4
