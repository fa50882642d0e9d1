"""Racket's web-server-test ``tests/web-server/http/util.rkt`` (``write-response``) and the
``redact``/``bytes-sort`` helpers of ``tests/web-server/util.rkt``, over a real socket.

Racket writes a response to a pipe and compares its lines, sorted, with the expected
bytes, after blanking ``Date`` and ``Last-Modified``.  Here the response is served by a
real server on 127.0.0.1 and read raw.  What differs by the server rather than by the
response is made alike on both sides, a deliberate difference listed in
docs/notes/racketservlet.rst: Racket's server names itself (``Server: Racket``; this one
sends no ``Server``), and frames a body by closing the connection where this one sends
``Content-Length`` or chunks (so those lines and ``Connection`` are dropped, and a
chunked body is de-chunked).
"""
from __future__ import annotations

import re
import socket
import time
from typing import Optional

from dispatch.server import serve
from servlets import dispatch_servlet

_DATE = re.compile(rb"Date: [a-zA-Z0-9:, ]+ GMT\r\n")
_LAST_MODIFIED = re.compile(rb"Last-Modified: [a-zA-Z0-9:, ]+ GMT\r\n")
_FRAMING = re.compile(rb"(?im)^(content-length|transfer-encoding|connection): [^\r\n]*\r\n")


def redact(data: bytes) -> bytes:
    """Racket's ``redact``."""
    data = _LAST_MODIFIED.sub(b"Last-Modified: REDACTED GMT\r\n", data)
    data = _DATE.sub(b"Date: REDACTED GMT\r\n", data)
    return data.replace(b"Connection: close\r\n", b"", 1)


def bytes_sort(data: bytes) -> list:
    """Racket's ``bytes-sort``: the CRLF-separated lines, sorted."""
    lines = data.split(b"\r\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return sorted(lines)


def racket_expected(data: bytes) -> list:
    """Racket's expected bytes, sorted, without the server's own name and framing."""
    return bytes_sort(data.replace(b"Server: Racket\r\n", b"")
                      .replace(b"Connection: close\r\n", b""))


def read_all(sock: socket.socket, limit: int = 1 << 20, timeout: float = 5) -> bytes:
    """Everything the server sends until it closes (bounded by size and time)."""
    sock.settimeout(timeout)
    deadline = time.monotonic() + timeout
    data = b""
    while len(data) < limit and time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            break
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    return data


def dechunk(body: bytes) -> bytes:
    out = b""
    while body:
        size_line, _, body = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out, body = out + body[:size], body[size + 2:]
    return out


def raw_exchange(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request)
        return read_all(sock)


def write_response(response, redact_it: bool = True, method: str = "GET",
                   path: str = "/") -> list:
    """Racket's ``write-response``: serve ``response``, read it raw, redact and sort."""
    stop = serve(dispatch_servlet(lambda request: response), port=0, listen_ip="127.0.0.1")
    try:
        raw = raw_exchange(stop.port, f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                      "Connection: close\r\n\r\n".encode())
    finally:
        stop(timeout=1)
    head, _, body = raw.partition(b"\r\n\r\n")
    if re.search(rb"(?im)^transfer-encoding: chunked", head):
        body = dechunk(body)
    head = _FRAMING.sub(b"", head + b"\r\n")
    raw = head + b"\r\n" + body
    return bytes_sort(redact(raw) if redact_it else raw)


def status_line(raw: bytes) -> Optional[bytes]:
    """The status line of a raw response, or None when the server sent nothing."""
    return raw.split(b"\r\n", 1)[0] if raw else None
