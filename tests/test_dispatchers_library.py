"""The rest of Racket's dispatcher library, each through the test client and over a real
socket: pathprocedure, method, host, wrap, stat, timeout, log, logresp, passwords, limit."""
import base64
import io
import socket

import gevent
import pytest
import requests

from dispatch import filter as filter_
from dispatch import (
    host,
    lift,
    limit,
    log,
    logresp,
    method,
    passwords,
    pathprocedure,
    sequencer,
    stat,
    timeout,
    wrap,
)
from dispatch.testing import Client, declines
from servlets import response_full, response_output
from tests.support import wait_until


def text(body, code=200):
    return response_full(code, None, None, "text/plain", [], [body.encode()])


def answer(body):
    return lift.make(lambda r: text(body))


def test_pathprocedure_matches_the_path_exactly(served):
    d = pathprocedure.make("/exact", lambda r: text("exact"))
    assert Client(d).get("/exact").data == b"exact"
    assert declines(d, "/exact/more") and declines(d, "/")
    assert requests.get(served(d) + "/exact", timeout=5).text == "exact"


def test_method_is_case_insensitive_and_takes_lists(served):
    d = method.make(["get", "Head"], answer("read"))
    assert not declines(d, "/", method="GET") and not declines(d, "/", method="HEAD")
    assert declines(d, "/", method="POST")
    base = served(sequencer.make(d, method.make("post", answer("write"))))
    assert requests.get(base, timeout=5).text == "read"
    assert requests.post(base, timeout=5).text == "write"


def test_host_picks_a_dispatcher_per_host(served):
    d = host.make(lambda h: answer("host " + h))
    client = Client(d)
    assert client.get("/", headers={"Host": "Example.COM:8080"}).data == b"host example.com"
    assert client.get("/", headers={"Host": "[::1]:80"}).data == b"host [::1]"
    environ = {"HTTP_HOST": ""}
    assert client.get("/", environ_overrides=environ).data == b"host none"
    base = served(d)
    assert requests.get(base, timeout=5).text == "host 127.0.0.1"


def test_wrap_transforms_request_and_response(served):
    def servlet(request):
        return text(request.path)

    def tag(response):
        response.headers["X-Wrapped"] = "yes"
        return response

    seen = []
    d = wrap.make(servlet, lambda r: seen.append(r.method) or r, tag)
    response = Client(d).get("/a")
    assert (response.data, response.headers["X-Wrapped"]) == (b"/a", "yes")
    assert seen == ["GET"]
    assert requests.get(served(d) + "/b", timeout=5).headers["X-Wrapped"] == "yes"


def test_stat_reports_memory(served):
    page = Client(stat.make()).get("/").data.decode()
    assert "rss_kib" in page and "greenlets" in page
    assert "Server statistics" in requests.get(served(stat.make()), timeout=5).text


def test_timeout_changes_the_socket_timeout_then_declines(served):
    seen = []

    def report(conn, request):
        seen.append(conn.environ["gevent_dispatch.handler"].socket.gettimeout())
        conn.respond(text("ok"))

    assert declines(timeout.make(5), "/")
    base = served(sequencer.make(timeout.make(7.5), report))
    assert requests.get(base, timeout=5).text == "ok"
    assert seen == [7.5]


@pytest.mark.parametrize("fmt, expected", [
    ("paren", '(from "127.0.0.1" to "127.0.0.1" for "/p?q=1" at "'),
    ("extended", '((client-ip "127.0.0.1") (host-ip "127.0.0.1") (referer #f) (uri "/p?q=1")'),
    ("apache-default", '127.0.0.1 - - ['),
])
def test_log_formats_to_a_stream_then_declines(served, fmt, expected):
    stream = io.StringIO()
    base = served(sequencer.make(log.make(fmt, stream), answer("logged")))
    assert requests.get(base + "/p?q=1", timeout=5).text == "logged"
    line = stream.getvalue()
    assert line.startswith(expected) and line.endswith("\n")
    if fmt == "apache-default":
        assert '"GET /p?q=1 HTTP/1.1" - -' in line


def test_log_to_a_path(tmp_path):
    path = tmp_path / "access.log"
    d = sequencer.make(log.make("apache-default", path), answer("x"))
    Client(d).get("/one")
    Client(d).get("/two")
    lines = path.read_text().splitlines()
    assert len(lines) == 2 and '"GET /one HTTP/1.1"' in lines[0]


def test_logresp_records_the_status(served):
    stream = io.StringIO()
    d = logresp.make(sequencer.make(pathprocedure.make("/ok", lambda r: text("ok")),
                                    lift.make(lambda r: text("no", 404))),
                     "apache-default", stream)
    base = served(d)
    requests.get(base + "/ok", timeout=5)
    requests.get(base + "/nope", timeout=5)
    lines = stream.getvalue().splitlines()
    assert lines[0].endswith(" 200 -") and lines[1].endswith(" 404 -")


PASSWORDS = '''(("secret stuff" "/secret(/.*)?" (bubba "bbq") (|Billy| "BoB"))
                ("admin" "/admin" (root "toor")))'''


def basic(user, password):
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.fixture
def protected(tmp_path):
    path = tmp_path / "passwords"
    path.write_text(PASSWORDS)
    refresh, authorized = passwords.password_file_to_authorized(path)
    d = sequencer.make(passwords.make(passwords.make_basic_denied_path(authorized)),
                       lift.make(lambda r: text("inside " + r.path)))
    return d, refresh, path


@pytest.mark.parametrize("headers", [
    {}, basic("bubba", "wrong"), basic("nobody", "bbq"), {"Authorization": "Basic !!!"},
    {"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()},
    {"Authorization": "Bearer token"}, {"Authorization": "Basic"},
    {"Authorization": "Basic " + base64.b64encode(b"\xff\xfe:\xff").decode()},
])
def test_wrong_or_malformed_credentials_get_401_with_the_realm(protected, headers):
    d, _, _ = protected
    response = Client(d).get("/secret/file", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Basic realm="secret stuff"'


def test_right_credentials_and_unprotected_paths_pass(protected, served):
    d, _, _ = protected
    client = Client(d)
    assert client.get("/secret/x", headers=basic("bubba", "bbq")).data == b"inside /secret/x"
    assert client.get("/secret", headers=basic("Billy", "BoB")).status_code == 200
    assert client.get("/public").data == b"inside /public"
    base = served(d)
    assert requests.get(base + "/admin", timeout=5).status_code == 401
    assert requests.get(base + "/admin", auth=("root", "toor"), timeout=5).text == "inside /admin"


def test_refresh_rereads_the_password_file(protected):
    d, refresh, path = protected
    client = Client(d)
    assert client.get("/admin", headers=basic("root", "new")).status_code == 401
    path.write_text('(("admin" "/admin" (root "new")))')
    refresh()
    assert client.get("/admin", headers=basic("root", "new")).status_code == 200


def test_a_bad_password_file_is_a_clear_error(tmp_path):
    path = tmp_path / "bad"
    path.write_text('(("realm" "/x" (user)))')
    with pytest.raises(ValueError):
        passwords.password_file_to_authorized(path)


def held_open(release, entered):
    def dispatcher(conn, request):
        entered.append(request.path)
        conn.respond(response_output(lambda out: (release.wait(10), out.write(b"done"))))
    return dispatcher


def start_request(base, path):
    port = int(base.rsplit(":", 1)[1])
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    return sock


def read_all(sock):
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    sock.close()
    return data


def test_limit_kill_new_answers_503_over_the_limit(served):
    release, entered = gevent.event.Event(), []
    base = served(limit.make(2, held_open(release, entered), "kill-new"))
    socks = [start_request(base, f"/{i}") for i in range(2)]
    assert wait_until(lambda: len(entered) == 2)
    assert requests.get(base + "/third", timeout=5).status_code == 503
    release.set()
    assert all(b"done" in read_all(s) for s in socks)
    assert requests.get(base + "/after", timeout=5).status_code == 200  # slots came back


def test_limit_block_waits_for_a_slot(served):
    release, entered = gevent.event.Event(), []
    base = served(limit.make(1, held_open(release, entered), "block"))
    first = start_request(base, "/first")
    assert wait_until(lambda: entered == ["/first"])
    second = start_request(base, "/second")
    gevent.sleep(0.2)  # a window in which the blocked second must not enter (negative check)
    assert entered == ["/first"]
    release.set()
    assert b"done" in read_all(first)
    assert b"done" in read_all(second)
    assert entered == ["/first", "/second"]


def test_limit_kill_old_ends_the_oldest(served):
    release, entered = gevent.event.Event(), []
    base = served(limit.make(1, held_open(release, entered), "kill-old"))
    old = start_request(base, "/old")
    assert wait_until(lambda: entered == ["/old"])
    new = start_request(base, "/new")
    assert wait_until(lambda: entered == ["/old", "/new"])
    assert b"done" not in read_all(old)  # ended: its connection closed unanswered
    release.set()
    assert b"done" in read_all(new)


def test_byte_regexes_filter_and_a_wrong_regex_fails_at_make(served):
    d = sequencer.make(filter_.make(rb"^/api/", answer("api")),
                       filter_.make(rb"^/caf\xc3\xa9/b", answer("utf-8 bytes")),
                       filter_.make("^/caf\u00e9", answer("str")),
                       answer("rest"))
    client = Client(d)
    assert client.get("/api/x").data == b"api"
    assert client.get("/caf%C3%A9/b").data == b"utf-8 bytes"  # the path as UTF-8
    assert client.get("/caf%C3%A9").data == b"str"
    assert client.get("/other").data == b"rest"  # the byte filter declined, nothing failed
    base = served(d)
    assert requests.get(base + "/api/y", timeout=5).text == "api"
    assert requests.get(base + "/x", timeout=5).text == "rest"
    for bad in (42, None, ["^/api/"]):
        with pytest.raises(TypeError, match="str or bytes"):
            filter_.make(bad, answer("never"))


def test_unknown_log_formats_list_the_known_ones():
    with pytest.raises(ValueError, match="'combined'"):
        log.make("json", io.StringIO())
    with pytest.raises(ValueError, match="'parenthesized-default'"):
        logresp.make(answer("x"), "json", io.StringIO())


@pytest.mark.parametrize("build", [
    lambda: sequencer.make(answer("a"), "not a dispatcher"),
    lambda: lift.make(None),
    lambda: pathprocedure.make(42, lambda r: text("x")),
    lambda: pathprocedure.make("/p", "not a procedure"),
    lambda: wrap.make(lambda r: text("x"), None),
    lambda: timeout.make("5"),
    lambda: limit.make("2", answer("a")),
    lambda: limit.make(2, None),
    lambda: method.make(42, answer("a")),
    lambda: host.make(None),
])
def test_mistakes_are_type_errors_at_make(build):
    with pytest.raises(TypeError):
        build()
