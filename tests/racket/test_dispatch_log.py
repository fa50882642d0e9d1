"""Racket's web-server-test/tests/web-server/dispatchers/dispatch-log-test.rkt, ported.

Racket builds the request by hand: GET of the URL ``whatever``, no headers, host-ip
``localhost``, port 80, client-ip ``nada``.  Here the same request is a WSGI environ
whose request-target, as the server recorded it, is ``whatever``.
"""
from __future__ import annotations

import io
import re
import sys

import pytest
import requests

from dispatch import lift, log, sequencer
from dispatch._logformat import escape
from dispatch.connection import Connection
from dispatch.core import DispatcherNotApplicable
from servlets import response_full
from servlets.request import Request


def fake_request(method="GET", uri="whatever", client="nada", headers=()):
    environ = {"REQUEST_METHOD": method, "PATH_INFO": "/" + uri, "QUERY_STRING": "",
               "REQUEST_URI": uri, "SERVER_NAME": "localhost", "SERVER_PORT": "80",
               "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": client,
               "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(), "wsgi.errors": sys.stderr}
    for name, value in headers:
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    return Request(environ)


def fake_connection(request):
    return Connection(request.environ, None)


def do_nothing_dispatcher(conn, req):
    # connection? request? -> symbol?
    return "do-nothing"


def test_bad_logger_is_refused_at_make():
    # (logger:make #:format 'this-should-fail ...) raises exn:fail:contract?
    with pytest.raises(ValueError) as error:
        log.make(format="this-should-fail", log_path=io.StringIO())
    for known in ("parenthesized-default", "extended", "apache-default", "combined"):
        assert known in str(error.value)  # the message lists the known formats
    with pytest.raises(TypeError):
        log.make(format=42, log_path=io.StringIO())
    with pytest.raises(TypeError):  # a procedure must take the request alone
        log.make(format=lambda request, code, extra: "", log_path=io.StringIO())


def test_apache_default_then_the_next_dispatcher():
    # the (let () ...) case: apache-default to a pipe, in a sequencer before do-nothing
    op = io.StringIO()
    dispatcher = sequencer.make(log.make(format="apache-default", log_path=op),
                                do_nothing_dispatcher)
    req = fake_request()
    assert dispatcher(fake_connection(req), req) == "do-nothing"
    log_entry = op.getvalue().splitlines()[0]
    # the [...] part of the regexp matches a time-dependent piece of the log data
    assert re.fullmatch(r'nada - - \[[^\]].+\] "GET whatever HTTP/1.1" - -', log_entry)


# -- beyond the Racket file: every format name of Racket's log-format/c -------------------

def test_the_four_formats_and_their_layouts():
    req = fake_request(headers=[("Referer", "http://r/"), ("User-Agent", 'ua "1"')])
    lines = {}
    for name in ("parenthesized-default", "extended", "apache-default", "combined"):
        out = io.StringIO()
        d = log.make(format=name, log_path=out)
        with pytest.raises(Exception) as declined:
            d(fake_connection(req), req)
        assert type(declined.value).__name__ == "DispatcherNotApplicable"
        lines[name] = out.getvalue()
    assert re.fullmatch(r'\(from "nada" to "localhost" for "whatever" at '
                        r'"\w+day, \w+ \d+(st|nd|rd|th), \d{4} \d+:\d\d:\d\d[ap]m"\)\n',
                        lines["parenthesized-default"])
    assert re.fullmatch(r'\(\(client-ip "nada"\) \(host-ip "localhost"\) '
                        r'\(referer #"http://r/"\) \(uri "whatever"\) \(time \d+\)\)\n',
                        lines["extended"])
    assert re.fullmatch(r'nada - - \[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] '
                        r'"GET whatever HTTP/1.1" - -\n', lines["apache-default"])
    assert lines["combined"].endswith(
        '"GET whatever HTTP/1.1" - - "http://r/" "ua \\"1\\""\n')
    assert log.make(format="paren", log_path=io.StringIO())  # the older name still works


def do_nothing_answer():
    return lift.make(lambda r: response_full(200, None, None, "text/plain", [], [b"ok"]))


def test_log_format_to_format_and_a_procedure(served):
    assert log.log_format_to_format("combined") is log.combined_log_format
    with pytest.raises(ValueError):
        log.log_format_to_format("json")
    out = io.StringIO()
    base = served(sequencer.make(log.make(lambda r: f"saw {r.path}\n", out),
                                 do_nothing_answer()))
    assert requests.get(base + "/over/a/socket?x=1", timeout=5).status_code == 200
    assert out.getvalue() == "saw /over/a/socket\n"



# -- log forging: the Apache formats escape as Apache does, not as Racket ------------------

# Each an attempt to end a field or the line early, in the request-target and headers.
HOSTILE = ['q"uote', "back\\slash", 'cr\rlf\nnada - - [x] "GET /forged HTTP/1.1" - -',
           "nul\x00bell\x07esc\x1bdel\x7f", "vt\x0bff\x0cfs\x1c", "nel\x85ls\u2028",
           'end" "forged', "trailing\\"]
APACHE = {
    "apache-default": re.compile(r'nada - - \[[^\]]+\] "(?P<line>(?:[^"\\]|\\.)*)" - -\n'),
    "combined": re.compile(r'nada - - \[[^\]]+\] "(?P<line>(?:[^"\\]|\\.)*)" - - '
                           r'"(?P<referer>(?:[^"\\]|\\.)*)" "(?P<agent>(?:[^"\\]|\\.)*)"\n'),
}
WRITTEN = r'"(?:[^"\\]|\\.)*"'  # a string as Racket's write prints it
RACKET = {
    "parenthesized-default": re.compile(
        rf'\(from "nada" to "localhost" for {WRITTEN} at {WRITTEN}\)\n'),
    "extended": re.compile(rf'\(\(client-ip "nada"\) \(host-ip "localhost"\) '
                           rf'\(referer #{WRITTEN}\) \(uri {WRITTEN}\) \(time \d+\)\)\n'),
}


def logged(name, req) -> str:
    out = io.StringIO()
    with pytest.raises(DispatcherNotApplicable):  # declined, after writing the line
        log.make(format=name, log_path=out)(fake_connection(req), req)
    return out.getvalue()


def test_no_request_forges_a_line_or_a_field_in_any_format():
    for value in HOSTILE:
        req = fake_request(uri="/" + value, headers=[("Referer", value), ("User-Agent", value)])
        for name, layout in {**APACHE, **RACKET}.items():
            line = logged(name, req)
            # str.splitlines breaks at every line boundary (\v, \f, \x1c, \x85, \u2028...)
            assert len(line.splitlines()) == 1 and line.endswith("\n"), (name, line)
            match = layout.fullmatch(line)
            assert match, (name, line)
            if name in APACHE:
                assert line.isascii(), line
                assert match["line"] == escape(f"GET /{value} HTTP/1.1")
            if name == "combined":
                assert match["referer"] == match["agent"] == escape(value)


def test_the_apache_formats_escape_control_and_8_bit_bytes_unlike_racket():
    # A deliberate difference: Racket's apache-default and combined formats write the
    # request line and the headers with ~a, as they came, so a CR/LF in them starts a
    # forged line and a quote ends a field early.  Here they are escaped as Apache has
    # escaped %r, %{Referer}i and %{User-agent}i since 2.0.46: \" \\ \n \r \t, else \xhh.
    req = fake_request(uri='/x\r\nnada - - [x] "GET /forged HTTP/1.1" - -',
                       headers=[("User-Agent", "tab\there \xc3\xa9\x85")])
    assert logged("apache-default", req).endswith(
        '] "GET /x\\r\\nnada - - [x] \\"GET /forged HTTP/1.1\\" - - HTTP/1.1" - -\n')
    assert logged("combined", req).endswith(' - "tab\\there \\xc3\\xa9\\x85"\n')
    # Racket's write already escapes the others' strings; line breaks beyond C0 too.
    assert 'for "/x\\r\\nnada' in logged("parenthesized-default", req)
    assert '(uri "\\u2028")' in logged("extended", fake_request(uri="\u2028"))
    # Another: the protocol is the request's; Racket always writes HTTP/1.1.
    http10 = fake_request()
    http10.environ["SERVER_PROTOCOL"] = "HTTP/1.0"
    assert logged("apache-default", http10).endswith('"GET whatever HTTP/1.0" - -\n')
