"""Serve static files.  Racket: ``web-server/dispatchers/dispatch-files``.

GET and HEAD, as Racket's: a directory URL without its trailing slash is redirected to
it (``302``), a directory URL serves the first of ``indices``; a ``Range`` request gets
``206`` with one range or ``multipart/byteranges`` with several (RFC 9110 14), ``416``
when no range is satisfiable, and a malformed ``Range`` or an unknown unit is ignored
(``200``).  Beyond Racket: ``ETag``, ``304`` answers to ``If-None-Match`` and
``If-Modified-Since``, and ``If-Range``.  Bodies are read in blocks, never whole.
Missing, unreadable or refused paths decline, so the next dispatcher may answer.
"""
from __future__ import annotations

import mimetypes
import os
import re
import secrets
import stat
from typing import Callable, Iterable, Iterator, List, Optional, Tuple, Union
from urllib.parse import quote

from werkzeug.http import http_date, is_resource_modified, parse_date

from .core import Dispatcher, next_dispatcher
from .filesystem_map import UrlToPath

__all__ = ["make", "read_range_header"]

#: An HTTP range as the header writes it, offsets inclusive: ``(first, last)``,
#: ``(first, None)`` for ``first-`` and ``(None, n)`` for the suffix ``-n``.
HttpRange = Tuple[Optional[int], Optional[int]]

_BLOCK = 64 * 1024
#: More ranges than this, or ranges adding up to more than the file (overlaps), and the
#: Range header is ignored (RFC 9110 14.2 allows it): no request amplifies a file.
MAX_RANGES = 64
_RANGE_SPEC = re.compile(r"([0-9]*)-([0-9]*)")
#: Headers a ``path_to_headers`` procedure may not replace: they frame the body.
_FRAMING = {"content-length", "content-range", "transfer-encoding"}


def _mime_type(path: str) -> Optional[str]:
    return mimetypes.guess_type(path)[0]


def _text(value: Union[str, bytes]) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)


def _looks_like_directory(url_path: str) -> bool:
    """Whether a URL path names a directory (ends in ``/``).  Racket:
    ``looks-like-directory?``."""
    return url_path.endswith("/")


def _range_value(headers) -> Optional[str]:
    if hasattr(headers, "get") and not isinstance(headers, (list, tuple)):
        value = headers.get("Range")
        return None if value is None else _text(value)
    for name, value in headers:
        if _text(name).lower() == "range":
            return _text(value)
    return None


def read_range_header(headers) -> Optional[List[HttpRange]]:
    """The ranges of a ``Range: bytes=...`` header, or ``None`` when there is none or
    it is malformed (a unit other than bytes, a non-number, ``first > last``).
    Racket: ``read-range-header``.  ``headers`` is a list of ``(name, value)`` pairs or a
    mapping (a request's ``headers``); names and values may be ``str`` or ``bytes``."""
    value = _range_value(headers)
    if value is None:
        return None
    unit, eq, specs = value.partition("=")
    if not eq or unit.strip().lower() != "bytes":
        return None
    ranges: List[HttpRange] = []
    for spec in specs.split(","):
        spec = spec.strip(" \t")
        if not spec:
            continue  # RFC 9110 5.6.1: empty list elements are allowed
        match = _RANGE_SPEC.fullmatch(spec)
        if match is None or match.group(0) == "-":
            return None
        first = int(match.group(1)) if match.group(1) else None
        last = int(match.group(2)) if match.group(2) else None
        if first is not None and last is not None and last < first:
            return None
        ranges.append((first, last))
    return ranges or None


def _convert(ranges: List[HttpRange], size: int) -> List[Tuple[int, int]]:
    """Absolute ``[start, end)`` offsets, trimmed to the file; empty ones dropped.
    Racket: ``convert-http-ranges``."""
    converted = []
    for first, last in ranges:
        if first is None:
            start, end = size - (last or 0), size
        elif last is None:
            start, end = first, size
        else:
            start, end = first, last + 1
        start, end = max(0, min(size, start)), max(0, min(size, end))
        if start < end:
            converted.append((start, end))
    return converted


def _if_range_holds(value: Optional[str], etag: str, modified: int) -> bool:
    """RFC 9110 13.1.5: a Range applies only while the ``If-Range`` validator matches."""
    if value is None:
        return True
    value = value.strip()
    if value.startswith(('"', "W/")):
        return value == etag  # strong comparison: a weak tag never matches
    date = parse_date(value)
    return date is not None and int(date.timestamp()) == modified


def _read(file, start: int, end: int) -> Iterator[bytes]:
    file.seek(start)
    left = end - start
    while left > 0:
        block = file.read(min(_BLOCK, left))
        if not block:
            return  # the file shrank: the server sees the short body and closes
        left -= len(block)
        yield block


class _Body:
    """A file body: blocks of the given ranges, with multipart framing around each."""

    def __init__(self, file, parts: List[Tuple[bytes, int, int]], trailer: bytes) -> None:
        self.file, self.parts, self.trailer = file, parts, trailer

    def __iter__(self) -> Iterator[bytes]:
        try:
            for head, start, end in self.parts:
                if head:
                    yield head
                yield from _read(self.file, start, end)
            if self.trailer:
                yield self.trailer
        finally:
            self.close()

    def close(self) -> None:
        self.file.close()


def _head_only(status: str, headers: list, file=None):
    if file is not None:
        file.close()

    def app(environ, start_response):
        start_response(status, headers)
        return []

    return app


def _cache_control(directives: Iterable) -> Optional[str]:
    # Racket's order: the directive names, alphabetically.
    parts = []
    for name, value in sorted(directives):
        if value is True:
            parts.append(name)
        elif value is not None and value is not False:
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"files.make: cache_{name.replace('-', '_')} must be a "
                                 f"positive integer, not {value!r}")
            parts.append(f"{name}={value}")
    return ", ".join(parts) or None


def make(url_to_path: UrlToPath, *,
         path_to_mime_type: Callable[[str], Union[str, bytes, None]] = _mime_type,
         path_to_headers: Callable[[str], Iterable] = lambda path: (),
         indices: Iterable[str] = ("index.html", "index.htm"),
         cache_max_age: Optional[int] = None, cache_smaxage: Optional[int] = None,
         cache_stale_while_revalidate: Optional[int] = None,
         cache_stale_if_error: Optional[int] = None,
         cache_no_cache: bool = False, cache_no_store: bool = False,
         cache_no_transform: bool = False, cache_must_revalidate: bool = False,
         cache_proxy_revalidate: bool = False, cache_must_understand: bool = False,
         cache_private: bool = False, cache_public: bool = False,
         cache_immutable: bool = False,
         cache_smax_age: Optional[int] = None) -> Dispatcher:
    """A dispatcher serving the files ``url_to_path`` maps.

    ``path_to_mime_type(path)`` gives the ``Content-Type`` (none when it returns
    ``None``; the default guesses from the file name); ``path_to_headers(path)`` adds
    ``(name, value)`` headers per file.  The ``cache_*`` keywords are Racket's: each adds
    its ``Cache-Control`` directive, and without any there is no ``Cache-Control``.
    ``cache_smax_age`` is an older spelling of ``cache_smaxage``.
    """
    if not callable(url_to_path):
        raise TypeError(f"files.make: url_to_path must be a procedure, not {url_to_path!r}")
    for name, proc in (("path_to_mime_type", path_to_mime_type),
                       ("path_to_headers", path_to_headers)):
        if not callable(proc):
            raise TypeError(f"files.make: {name} must be a procedure taking the path, "
                            f"not {proc!r}")
    if isinstance(indices, (str, bytes)):
        raise TypeError("files.make: indices is a list of file names, not one name")
    indices = tuple(os.fsdecode(i) for i in indices)
    cache_control = _cache_control([
        ("immutable", cache_immutable), ("max-age", cache_max_age),
        ("must-revalidate", cache_must_revalidate),
        ("must-understand", cache_must_understand), ("no-cache", cache_no_cache),
        ("no-store", cache_no_store), ("no-transform", cache_no_transform),
        ("private", cache_private), ("proxy-revalidate", cache_proxy_revalidate),
        ("public", cache_public),
        ("s-maxage", cache_smaxage if cache_smaxage is not None else cache_smax_age),
        ("stale-if-error", cache_stale_if_error),
        ("stale-while-revalidate", cache_stale_while_revalidate)])

    def open_file(path: str):
        """The open file and its stat, or ``None`` when it cannot be served."""
        try:
            file = open(path, "rb")
        except (OSError, ValueError):
            return None
        info = os.fstat(file.fileno())
        if not stat.S_ISREG(info.st_mode):
            file.close()
            return None
        return file, info

    def extra_headers(path: str) -> list:
        headers = [("Cache-Control", cache_control)] if cache_control else []
        for name, value in path_to_headers(path):
            name, value = _text(name), _text(value)
            if name.lower() not in _FRAMING:
                headers = [h for h in headers if h[0].lower() != name.lower()]
                headers.append((name, value))
        return headers

    def respond_file(conn, request, path: str, file, info) -> None:
        size, modified = info.st_size, int(info.st_mtime)
        etag = f'"{info.st_mtime_ns:x}-{size:x}"'
        mime = path_to_mime_type(path)
        mime = _text(mime) if mime else None
        validators = [("Last-Modified", http_date(modified)), ("ETag", etag)]
        extra = extra_headers(path)
        if not is_resource_modified(request.environ, etag, last_modified=http_date(modified)):
            conn.respond(_head_only("304 Not Modified", validators + extra, file))
            return
        typed = [("Content-Type", mime)] if mime else []
        ranges = read_range_header(request.headers)
        if ranges is not None and not _if_range_holds(request.headers.get("If-Range"),
                                                      etag, modified):
            ranges = None
        converted = _convert(ranges, size) if ranges is not None else [(0, size)]
        if ranges is not None and (len(converted) > MAX_RANGES
                                   or sum(e - s for s, e in converted) > size):
            ranges, converted = None, [(0, size)]
        if not converted:
            conn.respond(_head_only("416 Range Not Satisfiable",
                                    validators + typed + [("Content-Range", f"bytes */{size}"),
                                                          ("Content-Length", "0")], file))
            return
        headers = validators + [("Accept-Ranges", "bytes")]
        trailer = b""
        if len(converted) == 1:
            start, end = converted[0]
            parts = [(b"", start, end)]
            headers += typed
            if ranges is not None:
                headers.append(("Content-Range", f"bytes {start}-{end - 1}/{size}"))
        else:
            boundary = secrets.token_hex(16)
            parts = []
            for start, end in converted:
                head = f"--{boundary}\r\n"
                if mime:
                    head += f"Content-Type: {mime}\r\n"
                head += f"Content-Range: bytes {start}-{end - 1}/{size}\r\n\r\n"
                if parts:
                    head = "\r\n" + head  # the CRLF before a boundary belongs to it
                parts.append((head.encode("latin-1", "replace"), start, end))
            trailer = f"\r\n--{boundary}--\r\n".encode()
            headers.append(("Content-Type", f"multipart/byteranges; boundary={boundary}"))
        length = sum(len(h) + e - s for h, s, e in parts) + len(trailer)
        headers.append(("Content-Length", str(length)))
        headers += extra
        status = "206 Partial Content" if ranges is not None else "200 OK"
        if request.method == "HEAD":
            conn.respond(_head_only(status, headers, file))
            return
        body = _Body(file, parts, trailer)

        def app(environ, start_response):
            start_response(status, headers)
            return body

        conn.respond(app)

    def redirect_to_directory(conn, request) -> None:
        # Racket's redirect-to: 302, to the same path with its slash (the query kept).
        location = quote(request.script_root + request.path, safe="/:@!$&'()*+,;=~",
                         errors="surrogateescape") + "/"
        # "//host/" would send the browser to another site: one leading slash only.
        location = "/" + location.lstrip("/")
        if request.query_string:
            location += "?" + request.query_string.decode("latin-1")
        conn.respond(_head_only("302 Found", [("Location", location),
                                              ("Content-Length", "0")]))

    def files(conn, request):
        if request.method not in ("GET", "HEAD"):
            next_dispatcher()
        try:
            path, _ = url_to_path(request.path)
        except ValueError:
            next_dispatcher()
        path = os.fspath(path)
        opened = open_file(path) if not os.path.isdir(path) else None
        if opened is None and os.path.isdir(path):
            if not _looks_like_directory(request.path):
                redirect_to_directory(conn, request)
                return
            for index in indices:
                full = os.path.join(path, index)
                opened = open_file(full)
                if opened is not None:
                    path = full
                    break
        if opened is None:
            next_dispatcher()  # missing or unreadable: another dispatcher may know better
        respond_file(conn, request, path, *opened)

    return files
