"""Port of web-server-test/tests/web-server/e2e/file-upload: a servlet answering the
SHA-1 of each uploaded ``file`` binding, one per line.

Racket's client sends the multipart body without a length and closes its side; HTTP/1.1
needs a length, so this port sends it chunked.  Racket's limits ``#:max-form-data-files
2`` and ``#:max-form-data-file-length 500`` have no twin in ``make_safety_limits``: the
"three small files" case is skipped with that reason, and the "infinite file" case is
bounded by ``max_request_body_length`` instead.
"""
from __future__ import annotations

import hashlib
import os

import pytest
import requests

from dispatch.safety_limits import make_safety_limits
from servlets import dispatch_servlet, response_output

HELLO = "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d"
GOODBYE = "3c8ec4874488f6090a157b014ce3397ca8e06d4f"


def file_upload(request):
    hashes = [hashlib.sha1(f.read()).hexdigest() for f in request.files.getlist("file")]
    return response_output(lambda out: [out.write(h + "\n") for h in hashes])


def _multipart(contents, boundary: bytes):
    for content in contents:
        yield b"--" + boundary + b"\r\n"
        yield (b'Content-Disposition: application/octet-stream; filename="data"; name="file"'
               b"\r\n\r\n")
        yield from content
        yield b"\r\n"
    yield b"--" + boundary + b"--\r\n"


def upload(base: str, *contents):
    boundary = hashlib.sha1(os.urandom(32)).hexdigest().encode()
    return requests.post(base, data=_multipart(contents, boundary), timeout=10, headers={
        "Content-Type": "multipart/form-data; boundary=" + boundary.decode(),
        "Connection": "close"})


@pytest.fixture
def base(served):
    return served(dispatch_servlet(file_upload),
                  safety_limits=make_safety_limits(max_request_body_length=64 * 1024))


def test_one_small_file(base):
    assert upload(base, [b"hello"]).text == HELLO + "\n"


def test_two_small_files(base):
    assert upload(base, [b"hello"], [b"goodbye"]).text == HELLO + "\n" + GOODBYE + "\n"


def test_one_large_file(base):
    assert upload(base, [bytes(350)]).text == "948905d56e776f1efa1e026b309c6669b089a2fa\n"


@pytest.mark.skip(reason="make_safety_limits has no max_form_data_files "
                         "(Racket's #:max-form-data-files 2)")
def test_three_small_files(base):
    upload(base, [b"hello"], [b"hello"], [b"goodbye"])


def test_one_infinite_file(base):
    """An upload that does not end (bounded here at 4 MiB) is cut by the body limit: a
    413 or a reset, never a hash of part of it."""
    endless = (b"A" * 4096 for _ in range(1024))
    try:
        response = upload(base, endless)
    except requests.ConnectionError:
        return
    assert response.status_code == 413, response.text[:200]
