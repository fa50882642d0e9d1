"""dispatch.access_log: combined-format lines on the ``dispatch.access`` logger."""
import http.client
import io
import logging
import re
import time

import gevent
import requests
from werkzeug.test import EnvironBuilder

from dispatch import access_log, filter, log, sequencer
from dispatch._logformat import clf_date, escape, request_line, request_target
from dispatch.access_log import format_access, log_access
from dispatch.testing import Client
from dispatch.websocket import (
    make_general_websockets_dispatcher,
    ws_close,
    ws_connect,
    ws_recv,
    ws_send,
)
from servlets import response_full
from tests.support import wait_until

COMBINED = re.compile(
    r'^(?P<host>\S+) - (?P<user>\S+) \[(?P<time>\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4})\] '
    r'"(?P<line>(?:[^"\\]|\\.)*)" (?P<status>\d{3}|-) (?P<length>\d+|-) '
    r'"(?P<referer>(?:[^"\\]|\\.)*)" "(?P<agent>(?:[^"\\]|\\.)*)" (?P<duration>\d+\.\d{6})$')
# Racket's combined-log-format: no user, no length, no duration.
RACKET_COMBINED = re.compile(
    r'^(?P<host>\S+) - - \[[^\]]+\] "(?P<line>(?:[^"\\]|\\.)*)" (?P<status>\d{3}|-) - '
    r'"(?P<referer>(?:[^"\\]|\\.)*)" "(?P<agent>(?:[^"\\]|\\.)*)"$')


def text(body, code=200):
    return response_full(code, None, None, "text/plain", [], [body.encode()])


def page(conn, request):
    conn.respond(text("hello " * 10))


def stream(conn, request):
    def chunks():
        for i in range(3):
            yield f"part{i}\n".encode()
    conn.respond(response_full(200, None, None, "text/plain", [], chunks()))


def environ_for(path="/", **kwargs):
    return EnvironBuilder(path=path, **kwargs).get_environ()


def access_records(caplog, count, timeout=5):
    """The first ``count`` access records, waiting (bounded) for the server to log them."""
    def records():
        return [r for r in caplog.records if r.name == "dispatch.access"]

    assert wait_until(lambda: len(records()) >= count, timeout), \
        f"fewer than {count} access lines"
    return records()


def test_the_combined_format_with_the_duration():
    environ = environ_for("/a b", query_string="x=1", headers={
        "Referer": "http://ref/", "User-Agent": "tester/1"},
        environ_base={"REMOTE_ADDR": "192.0.2.7", "REMOTE_USER": "ann"})
    del environ["RAW_URI"], environ["REQUEST_URI"]  # no record: rebuilt from the path
    now = time.mktime((2026, 11, 25, 16, 5, 2, 0, 0, -1))
    line = format_access(environ, 200, 512, 0.25, now=now)
    match = COMBINED.match(line)
    assert match, line
    assert match["host"] == "192.0.2.7" and match["user"] == "ann"
    assert match["time"].startswith("25/Nov/2026:16:05:02 ")
    assert match["line"] == "GET /a%20b?x=1 HTTP/1.1"
    assert (match["status"], match["length"]) == ("200", "512")
    assert (match["referer"], match["agent"]) == ("http://ref/", "tester/1")
    assert match["duration"] == "0.250000"
    unknown = format_access(environ_for("/"), None, None, 0.0)
    assert ' - - "-" "-" 0.000000' in unknown and '" - - "' in unknown


def test_the_request_target_as_the_server_recorded_it():
    # The server's record wins over the decoded path: "%2F" stays "%2F", not "/".
    environ = environ_for("/a/b", query_string="x=1")
    environ.update(RAW_URI="/a%2Fb?x=1", REQUEST_URI="/a%2Fb?x=1")
    assert request_target(environ) == "/a%2Fb?x=1"
    # werkzeug's EnvironBuilder records the path alone: the query is added back.
    assert request_target(environ_for("/p", query_string="q=2")) == "/p?q=2"
    # Rebuilt: SCRIPT_NAME first, each byte of the latin-1 WSGI path percent-encoded,
    # and a "%" that was "%25" on the wire encoded again.
    rebuilt = {"SCRIPT_NAME": "/app", "PATH_INFO": "/50%/\xe9 x", "QUERY_STRING": ""}
    assert request_target(rebuilt) == "/app/50%25/%E9%20x"
    assert request_target({"PATH_INFO": "/\u2713"}) == "/%E2%9C%93"  # not WSGI: UTF-8
    assert request_line({}) == "- / -"


def test_the_date_is_apaches_whatever_the_zone(monkeypatch):
    def in_zone(tz):
        monkeypatch.setenv("TZ", tz)
        time.tzset()
        return clf_date(1795622702.0)  # 2026-11-25 16:05:02 UTC

    try:
        assert in_zone("UTC0") == "25/Nov/2026:16:05:02 +0000"
        assert in_zone("EST5") == "25/Nov/2026:11:05:02 -0500"
        assert in_zone("IST-5:30") == "25/Nov/2026:21:35:02 +0530"
        assert in_zone("NST3:30") == "25/Nov/2026:12:35:02 -0330"
    finally:
        monkeypatch.undo()
        time.tzset()


def unescape(field: str) -> bytes:
    """The bytes an Apache-escaped log field stands for."""
    named = {"b": b"\b", "t": b"\t", "n": b"\n", "v": b"\v", "r": b"\r",
             '"': b'"', "\\": b"\\"}
    return re.sub(rb"\\(x[0-9a-f]{2}|[btnvr\"\\])",
                  lambda m: (bytes([int(m[1][1:], 16)]) if m[1][:1] == b"x"
                             else named[m[1].decode()]),
                  field.encode("ascii"))


# What a client (or a WSGI server less strict than this one) may put in a request line
# or a header: each an attempt to end a field or the line early.
HOSTILE = ['q"uote', 'back\\slash', 'cr\rlf\n127.0.0.1 - - [x] "GET /forged HTTP/1.1" 200 1',
           "nul\x00bell\x07esc\x1bdel\x7f", "tab\tvt\x0bff\x0c",
           "nel\x85nbsp\xa0utf8\xc3\xa9", 'end" "-" "forged', "trailing\\"]


def test_escaping_round_trips_and_the_line_stays_one_ascii_line():
    for value in HOSTILE:
        assert escape(value).isascii() and escape(value).isprintable()
        assert unescape(escape(value)) == value.encode("latin-1")
    assert escape("plain /p?q=1 ~") == "plain /p?q=1 ~"  # nothing to escape: the same
    assert escape("\n\t\x01\x85") == "\\n\\t\\x01\\x85"  # Apache's names, else \xhh
    assert escape("\u2028\u2713") == "\\xe2\\x80\\xa8\\xe2\\x9c\\x93"  # not WSGI: UTF-8


def test_client_values_cannot_forge_lines_or_fields():
    environ = dict(environ_for("/x"), HTTP_USER_AGENT='evil"\n127.0.0.1 - - [x] "GET /')
    line = format_access(environ, 200, 1, 0.0)
    assert "\n" not in line
    assert COMBINED.match(line), line
    assert '\\"\\n127.0.0.1' in line
    for value in HOSTILE:
        environ = dict(environ_for("/x"), RAW_URI="/" + value, REQUEST_METHOD="G" + value,
                       HTTP_REFERER=value, HTTP_USER_AGENT=value, REMOTE_USER=value)
        line = format_access(environ, 200, 1, 0.5)
        assert line.isascii() and len(line.splitlines()) == 1, line
        match = COMBINED.match(line)
        assert match, line
        assert unescape(match["line"]) == f"G{value} /{value} HTTP/1.1".encode("latin-1")
        assert unescape(match["referer"]) == unescape(match["agent"]) == value.encode("latin-1")
        assert unescape(match["user"]) == value.encode("latin-1")  # its spaces \x20
        assert (match["status"], match["length"], match["duration"]) == ("200", "1", "0.500000")


def test_off_unless_the_logger_is_enabled(caplog, monkeypatch):
    def unused(*args, **kwargs):
        raise AssertionError("a line formatted for a log that is off")

    with caplog.at_level(logging.WARNING, logger="dispatch.access"):
        with monkeypatch.context() as patched:
            patched.setattr(access_log, "format_access", unused)
            log_access(environ_for("/"), 200, 0, 0.0)
    assert caplog.records == []
    with caplog.at_level(logging.INFO, logger="dispatch.access"):
        log_access(environ_for("/"), 204, 0, 0.5)
    (record,) = caplog.records
    assert record.name == "dispatch.access" and record.levelno == logging.INFO
    assert (record.status, record.response_length, record.duration) == (204, 0, 0.5)
    assert record.request_line == "GET / HTTP/1.1"


def test_the_dispatcher_wrapper_over_a_socket(served, caplog):
    caplog.set_level(logging.INFO, logger="dispatch.access")
    base = served(access_log.make(sequencer.make(filter.make("^/stream$", stream), page)))
    requests.get(base + "/page?q=1", headers={"User-Agent": "ua/1"}, timeout=5)
    requests.get(base + "/stream", timeout=5)
    first, second = access_records(caplog, 2)
    match = COMBINED.match(first.getMessage())
    assert match and match["host"] == "127.0.0.1"
    assert match["line"] == "GET /page?q=1 HTTP/1.1" and match["agent"] == "ua/1"
    assert (match["status"], match["length"]) == ("200", str(len("hello " * 10)))
    # A streamed body is measured as it leaves, and logged once it ended.
    assert COMBINED.match(second.getMessage())["length"] == str(len("part0\n") * 3)


def test_the_wsgi_wrapper_logs_404s_errors_and_upgrades(caplog):
    caplog.set_level(logging.INFO, logger="dispatch.access")

    def failing(conn, request):
        raise RuntimeError("boom")

    client = Client(filter.make("^/fail$", failing))
    client.application = access_log.wrap_wsgi(client.application)
    assert client.get("/missing", buffered=True).status_code == 404
    assert client.get("/fail", buffered=True).status_code == 500
    missing, failed = access_records(caplog, 2)
    assert COMBINED.match(missing.getMessage())["status"] == "404"
    assert failed.status == 500

    def upgraded(environ, start_response):
        # What to_wsgi returns once a dispatcher took the socket over.
        return []

    caplog.clear()
    environ = environ_for("/ws", headers={"Upgrade": "websocket", "Connection": "Upgrade"})
    body = access_log.wrap_wsgi(upgraded)(environ, None)
    assert list(body) == []
    (session,) = access_records(caplog, 1)
    assert session.status == 101 and session.request_line == "GET /ws HTTP/1.1"


def test_the_dispatcher_wrapper_logs_websocket_sessions(served, caplog):
    caplog.set_level(logging.INFO, logger="dispatch.access")

    def echo(c, state):
        ws_send(c, ws_recv(c))

    base = served(access_log.make(make_general_websockets_dispatcher(echo)))
    conn = ws_connect(base.replace("http", "ws") + "/ws")
    ws_send(conn, "x")
    assert ws_recv(conn) == "x"
    ws_close(conn)
    (session,) = access_records(caplog, 1)
    assert session.status == 101 and session.request_line == "GET /ws HTTP/1.1"


def test_a_response_cut_short_is_still_logged(served, caplog):
    caplog.set_level(logging.INFO, logger="dispatch.access")

    def endless(conn, request):
        def chunks():
            for _ in range(10_000):
                yield b"x" * 1024
                gevent.sleep(0.001)
        conn.respond(response_full(200, None, None, "text/plain", [], chunks()))

    base = served(access_log.make(endless))
    reply = requests.get(base + "/", stream=True, timeout=5)
    next(reply.iter_content(4096))
    reply.close()
    (record,) = access_records(caplog, 1)
    assert record.status == 200 and 0 < record.response_length < 10_000 * 1024


def test_the_dispatcher_wrapper_logs_failures_not_declines(caplog):
    from werkzeug.exceptions import Forbidden

    caplog.set_level(logging.INFO, logger="dispatch.access")

    def forbidden(conn, request):
        raise Forbidden()

    def failing(conn, request):
        raise RuntimeError("boom")

    client = Client(sequencer.make(access_log.make(filter.make("^/page$", page)),
                                   access_log.make(filter.make("^/forbidden$", forbidden)),
                                   access_log.make(filter.make("^/fail$", failing))))
    codes = [client.get(path, buffered=True).status_code
             for path in ("/forbidden", "/fail", "/page")]
    assert codes == [403, 500, 200]
    # Each request logged once, by the wrapper whose dispatcher answered it.
    assert [r.status for r in access_records(caplog, 3)] == [403, 500, 200]


def test_the_server_logs_each_request_when_asked(served, caplog):
    import logging

    import requests

    from servlets import response_full

    base = served(lambda conn, request: conn.respond(
        response_full(201, None, None, "text/plain", [], [b"made"])), access_log=True)
    with caplog.at_level(logging.INFO, logger="dispatch.access"):
        assert requests.get(base + "/thing?x=1", timeout=5).status_code == 201
    [record] = [r for r in caplog.records if r.name == "dispatch.access"]
    assert '"GET /thing?x=1 HTTP/1.1" 201 4 ' in record.getMessage()


def test_a_hostile_request_over_a_socket_is_one_line_in_either_log(served, caplog):
    # The engine refuses control characters in the request line and header values, but
    # takes quotes and backslashes in the target, and tabs and obs-text in values.
    caplog.set_level(logging.INFO, logger="dispatch.access")
    racket_log = io.StringIO()
    base = served(sequencer.make(log.make("combined", racket_log), page), access_log=True)
    target = '/a"b\\c?q="200-"x\\'  # no space or control: a client refuses to send them
    agent = b'ua\t" "forged" 0.1\xc3\xa9\x85\\'
    client = http.client.HTTPConnection("127.0.0.1", int(base.rsplit(":", 1)[1]), timeout=5)
    client.putrequest("GET", target)
    client.putheader("User-Agent", agent)
    client.putheader("Referer", b'" "')
    client.endheaders()
    reply = client.getresponse()
    assert reply.status == 200 and reply.read()
    client.close()
    (record,) = access_records(caplog, 1)
    racket_line = racket_log.getvalue()
    for line, fields in [(record.getMessage(), COMBINED),
                         (racket_line[:-1], RACKET_COMBINED)]:
        assert line.isascii() and len(line.splitlines()) == 1, line
        match = fields.match(line)
        assert match, line
        assert unescape(match["line"]) == f"GET {target} HTTP/1.1".encode()
        assert (unescape(match["agent"]), unescape(match["referer"])) == (agent, b'" "')
    assert racket_line.endswith("\n") and racket_line.count("\n") == 1
    assert record.user_agent == agent.decode("latin-1")  # the attribute is the value sent
