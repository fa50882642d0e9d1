"""The examples run as the README says (with --port), checked over HTTP, SSE and WebSocket,
and closed with enter as the seed's programs are."""
import pytest
import requests

from tests.support import Example


def read_sse_events(response, count, limit=200):
    """The next ``count`` events of an SSE response, as dicts of field -> value."""
    if not hasattr(response, "sse_lines"):  # one line iterator per response: it buffers
        response.sse_lines = response.iter_lines(decode_unicode=True)
    events, fields = [], {}
    for n, line in enumerate(response.sse_lines):
        if n > limit:
            break
        if line == "":
            if fields:
                events.append(fields)
                fields = {}
                if len(events) == count:
                    return events
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            fields[name] = (fields.get(name, "") + "\n" if name in fields else "") + value[1:]
    return events


@pytest.fixture
def example(request):
    running = []

    def start(script):
        running.append(Example(script))
        return running[-1]

    yield start
    for ex in running:
        ex.close()


def test_http_sse_example(example):
    ex = example("http_sse.py")
    page = requests.get(ex.url, timeout=5)
    assert 'new EventSource("/sse/")' in page.text
    with requests.get(ex.url + "sse/", stream=True, timeout=5) as stream:
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        (event,) = read_sse_events(stream, 1)
    assert event == {"data": "Hello world", "id": "1"}  # kept with id 1, replayed to us
    assert ex.terminate_with_enter() == 0


@pytest.mark.parametrize("script", ["http_websocket_legacy.py", "http_websocket_modern.py"])
def test_http_websocket_examples(example, script):
    from dispatch.websocket import EOF, ws_connect, ws_recv, ws_send

    ex = example(script)
    page = requests.get(ex.url, timeout=5)
    assert "new  WebSocket(websocket_url)" in page.text
    c = ws_connect(ex.url.replace("http://", "ws://") + "ws_test")
    ws_send(c, "Hello")
    assert ws_recv(c) == "Hello world!\n"
    assert ws_recv(c) is EOF
    assert ex.terminate_with_enter() == 0


def test_demo_serves_all_three_on_one_port(example):
    from dispatch.websocket import ws_connect, ws_recv, ws_send

    ex = example("demo.py")
    assert "EventSource" in requests.get(ex.url, timeout=5).text
    ws_url = ex.url.replace("http://", "ws://") + "ws_test"
    alice, bob = ws_connect(ws_url), ws_connect(ws_url)
    with requests.get(ex.url + "sse/", stream=True, timeout=5) as stream:
        (tick,) = read_sse_events(stream, 1)
        assert tick["event"] == "tick" and tick["data"][:2] == "20"
        ws_send(alice, "hi all")
        assert ws_recv(alice) == "hi all" and ws_recv(bob) == "hi all"
        events = read_sse_events(stream, 3)  # a tick may come first
        assert {"event": "chat", "data": "hi all", "id": "1"} in events
    assert ex.terminate_with_enter() == 0


def test_examples_exit_cleanly_at_end_of_input(example):
    ex = example("http_sse.py")
    ex.proc.stdin.close()
    assert ex.proc.wait(10) == 0
