"""dispatch.files and dispatch.filesystem_map: serving, ranges, caching, and never a byte
from outside the root."""
import os
import socket

import pytest
import requests

from dispatch import files, sequencer
from dispatch.filesystem_map import (
    PathEscape,
    filter_url_to_path,
    make_url_to_path,
    make_url_to_valid_path,
)
from dispatch.testing import Client, declines
from servlets import dispatch_servlet, response_full


@pytest.fixture
def root(tmp_path):
    site = tmp_path / "site"
    (site / "docs").mkdir(parents=True)
    (site / "index.html").write_text("<p>home</p>")
    (site / "docs" / "a.txt").write_bytes(b"0123456789")
    (site / "style.css").write_text("p{}")
    (tmp_path / "secret.txt").write_text("top secret")
    os.symlink(tmp_path / "secret.txt", site / "leak.txt")
    os.symlink(site / "docs" / "a.txt", site / "inside.txt")
    return site


def test_get_head_mime_types_and_index_files(root):
    client = Client(files.make(make_url_to_path(root)))
    page = client.get("/")
    assert (page.status_code, page.data, page.mimetype) == (200, b"<p>home</p>", "text/html")
    assert client.get("/style.css").mimetype == "text/css"
    head = client.head("/docs/a.txt")
    assert (head.status_code, head.data, head.headers["Content-Length"]) == (200, b"", "10")
    assert client.get("/inside.txt").data == b"0123456789"  # a link that stays inside


def test_single_ranges_and_unsatisfiable_ones(root):
    client = Client(files.make(make_url_to_path(root)))
    part = client.get("/docs/a.txt", headers={"Range": "bytes=2-4"})
    assert (part.status_code, part.data) == (206, b"234")
    assert part.headers["Content-Range"] == "bytes 2-4/10"
    assert client.get("/docs/a.txt", headers={"Range": "bytes=50-60"}).status_code == 416


def test_etag_and_last_modified_give_304(root):
    client = Client(files.make(make_url_to_path(root)))
    first = client.get("/docs/a.txt")
    assert client.get("/docs/a.txt", headers={"If-None-Match": first.headers["ETag"]}
                      ).status_code == 304
    assert client.get("/docs/a.txt", headers={
        "If-Modified-Since": first.headers["Last-Modified"]}).status_code == 304


def test_cache_control_options_and_extra_headers(root):
    client = Client(files.make(make_url_to_path(root), cache_public=True, cache_max_age=600,
                               cache_immutable=True,
                               path_to_headers=lambda p: [("X-File", os.path.basename(p))]))
    response = client.get("/docs/a.txt")
    assert response.headers["Cache-Control"] == "immutable, max-age=600, public"  # Racket's order
    assert response.headers["X-File"] == "a.txt"


@pytest.mark.parametrize("path", [
    "/../secret.txt", "/docs/../../secret.txt", "/docs/%2e%2e/%2e%2e/secret.txt",
    "/docs%2f..%2f..%2fsecret.txt", "/..%5csecret.txt", "/docs\\..\\..\\secret.txt",
    "/a.txt%00.html", "//etc/passwd", "/leak.txt", "/missing.txt",
])
def test_nothing_outside_the_root_and_nothing_missing(root, path):
    assert declines(files.make(make_url_to_path(root)), path)


def test_other_methods_decline(root):
    assert declines(files.make(make_url_to_path(root)), "/docs/a.txt", method="POST")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_unreadable_files_decline(root):
    (root / "docs" / "a.txt").chmod(0)
    assert declines(files.make(make_url_to_path(root)), "/docs/a.txt")


def test_url_to_path_helpers(root):
    url_to_path = make_url_to_path(root)
    assert url_to_path("/docs/a.txt") == (str(root / "docs" / "a.txt"), ["docs", "a.txt"])
    with pytest.raises(PathEscape):
        url_to_path("/docs/../../x")
    valid = make_url_to_valid_path(url_to_path)
    assert valid("/docs/a.txt/extra/info")[1] == ["docs", "a.txt"]
    with pytest.raises(PathEscape):
        valid("/nothing/here")
    only_docs = filter_url_to_path("/docs/", url_to_path)  # matched on the mapped path
    assert only_docs("/docs/a.txt")[1] == ["docs", "a.txt"]
    with pytest.raises(PathEscape):
        only_docs("/style.css")


def test_over_a_real_socket_with_raw_escapes(served, root):
    base = served(sequencer.make(
        files.make(make_url_to_path(root)),
        dispatch_servlet(lambda r: response_full(404, None, None, "text/plain", [],
                                                 [b"fallback"]))))
    assert requests.get(base + "/docs/a.txt", timeout=5).content == b"0123456789"
    big = root / "big.bin"
    big.write_bytes(os.urandom(3 << 20))
    assert requests.get(base + "/big.bin", timeout=10).content == big.read_bytes()
    port = int(base.rsplit(":", 1)[1])
    for raw in (b"/../secret.txt", b"/docs/%2e%2e/%2e%2e/secret.txt", b"/leak.txt"):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(b"GET " + raw + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            reply = b""
            while chunk := sock.recv(65536):
                reply += chunk
        assert b"top secret" not in reply and b" 404 " in reply.split(b"\r\n")[0]


# -- Range as RFC 9110 14 has it ---------------------------------------------------------

@pytest.mark.parametrize("value", [
    "bytes=a-10", "completely wrong", "byte=1-10", "items=0-1", "bytes=1-1.0", "bytes=5-2",
    "bytes=-", "bytes=",
])
def test_malformed_ranges_and_unknown_units_are_ignored(root, value):
    response = Client(files.make(make_url_to_path(root))).get(
        "/docs/a.txt", headers={"Range": value})
    assert (response.status_code, response.data) == (200, b"0123456789")
    assert "Content-Range" not in response.headers


def test_a_suffix_longer_than_the_file_is_the_whole_file(root):
    response = Client(files.make(make_url_to_path(root))).get(
        "/docs/a.txt", headers={"Range": "bytes=-100"})
    assert (response.status_code, response.data) == (206, b"0123456789")
    assert response.headers["Content-Range"] == "bytes 0-9/10"


def test_unsatisfiable_ranges_say_the_length(root):
    response = Client(files.make(make_url_to_path(root))).get(
        "/docs/a.txt", headers={"Range": "bytes=10-20, 30-"})
    assert response.status_code == 416
    assert response.headers["Content-Range"] == "bytes */10"


def parse_multipart(response):
    boundary = response.mimetype_params["boundary"]
    assert response.mimetype == "multipart/byteranges"
    assert response.data.endswith(f"\r\n--{boundary}--\r\n".encode())
    assert int(response.headers["Content-Length"]) == len(response.data)
    parts = []
    for chunk in response.data.split(f"--{boundary}".encode())[1:-1]:
        head, _, body = chunk.partition(b"\r\n\r\n")
        parts.append((head.strip().decode().split("\r\n"), body[:-2]))  # less the CRLF
    return parts


def test_several_ranges_are_multipart_byteranges(served, root):
    d = files.make(make_url_to_path(root), path_to_mime_type=lambda p: "text/plain")
    response = Client(d).get("/docs/a.txt", headers={"Range": "bytes=0-1, 4-5,-2"})
    assert response.status_code == 206
    assert parse_multipart(response) == [
        (["Content-Type: text/plain", "Content-Range: bytes 0-1/10"], b"01"),
        (["Content-Type: text/plain", "Content-Range: bytes 4-5/10"], b"45"),
        (["Content-Type: text/plain", "Content-Range: bytes 8-9/10"], b"89")]
    wire = requests.get(served(d) + "/docs/a.txt", headers={"Range": "bytes=1-2,7-"},
                        timeout=5)
    assert wire.status_code == 206
    assert wire.headers["Content-Type"].startswith("multipart/byteranges; boundary=")
    assert b"\r\n\r\n12\r\n--" in wire.content and b"\r\n\r\n789\r\n--" in wire.content


def test_overlapping_or_too_many_ranges_get_the_whole_file(root):
    client = Client(files.make(make_url_to_path(root)))
    for value in ("bytes=0-9,0-9", "bytes=" + ",".join(["0-0"] * 65)):
        response = client.get("/docs/a.txt", headers={"Range": value})
        assert (response.status_code, response.data) == (200, b"0123456789")


def test_if_range_applies_the_range_only_while_it_matches(root):
    client = Client(files.make(make_url_to_path(root)))
    first = client.get("/docs/a.txt")
    for validator, status in ((first.headers["ETag"], 206), ('"other"', 200),
                              ("W/" + first.headers["ETag"], 200),
                              (first.headers["Last-Modified"], 206),
                              ("Mon, 01 Jan 2001 00:00:00 GMT", 200)):
        response = client.get("/docs/a.txt", headers={"Range": "bytes=0-0",
                                                       "If-Range": validator})
        assert response.status_code == status, validator


def test_headers_racket_sends_and_no_more(root):
    client = Client(files.make(make_url_to_path(root)))
    page = client.get("/index.html")
    assert page.headers["Content-Type"] == "text/html"  # no charset added
    assert "Cache-Control" not in page.headers  # none unless a cache_* keyword asks
    bare = Client(files.make(make_url_to_path(root), path_to_mime_type=lambda p: None))
    assert "Content-Type" not in bare.get("/docs/a.txt").headers
    typed = Client(files.make(make_url_to_path(root), path_to_mime_type=lambda p: b"x/y"))
    assert typed.get("/docs/a.txt").headers["Content-Type"] == "x/y"  # Racket's bytes


def test_a_directory_without_its_slash_redirects(served, root):
    client = Client(files.make(make_url_to_path(root)))
    response = client.get("/docs?x=1")
    assert (response.status_code, response.headers["Location"]) == (302, "/docs/?x=1")
    wire = requests.get(served(files.make(make_url_to_path(root))) + "/docs",
                        allow_redirects=False, timeout=5)
    assert (wire.status_code, wire.headers["Location"]) == (302, "/docs/")


def test_path_parameters_and_inner_dotdots(root):
    client = Client(files.make(make_url_to_path(root)))
    assert client.get("/docs/a.txt;v=2").data == b"0123456789"
    assert client.get("/docs/../docs/a.txt").data == b"0123456789"


def test_mistakes_fail_at_make(root):
    with pytest.raises(ValueError):
        files.make(make_url_to_path(root), cache_max_age=-1)
    with pytest.raises(TypeError):
        files.make("not a procedure")
    with pytest.raises(TypeError):
        files.make(make_url_to_path(root), indices="index.html")


def test_the_redirect_never_leaves_the_site(root):
    (root / "evil.example").mkdir()
    client = Client(files.make(make_url_to_path(root)))
    response = client.get("/", environ_overrides={"PATH_INFO": "//evil.example"})
    assert (response.status_code, response.headers["Location"]) == (302, "/evil.example/")
