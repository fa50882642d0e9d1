"""The examples run as the README says (with --port), checked over HTTP, SSE and WebSocket,
and closed with enter as the seed's programs are."""
import pytest
import requests

from tests.support import Example


def read_sse_events(response, count, limit=200):
    """The first ``count`` events of an SSE response, as dicts of field -> value."""
    events, fields = [], {}
    for n, line in enumerate(response.iter_lines(decode_unicode=True)):
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
