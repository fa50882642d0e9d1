"""The request a servlet or dispatcher receives.  Racket: ``request`` from
``web-server/http/request-structs``.

It is a werkzeug ``Request`` (everything werkzeug users know works) with Racket's
accessors under Python names:

=============================  ==========================
Racket                         Python
=============================  ==========================
``request-method``             ``request.method``
``request-uri``                ``request.uri`` (``url`` too)
``request-headers/raw``        ``request.headers``
``request-bindings/raw``       ``request.bindings`` (query and form)
``request-post-data/raw``      ``request.post_data``
``request-client-ip``          ``request.client_ip``
``request-host-ip``            ``request.host_ip``
``request-host-port``          ``request.host_port``
=============================  ==========================

Racket's ``header`` struct is :class:`Header` (``make_header``, ``header_field``,
``header_value``, ``is_header``), a ``(field, value)`` pair that every response
constructor takes among its headers; ``headers_assq`` and ``headers_assq_star`` find one
in a list of headers (``request.headers`` too).

As Racket's, ``request.path`` keeps the path as sent (``//foo/bar`` stays
``//foo/bar``), a query key without ``=`` (``?a&b=1``) is not a binding, and
``multipart/form-data`` bodies are bounded by the server's form-data safety limits
(``max_form_data_files``, ``max_form_data_file_length``, ...; ``413`` beyond them).
"""
from __future__ import annotations

import tempfile
from typing import IO, TYPE_CHECKING, Any, Iterable, NamedTuple, Optional, Union
from urllib.parse import parse_qsl

from werkzeug.datastructures import EnvironHeaders, FileStorage, MultiDict
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.formparser import FormDataParser, MultiPartParser
from werkzeug.sansio.multipart import (
    Data,
    Epilogue,
    Field,
    File,
    MultipartDecoder,
    NeedData,
)
from werkzeug.wrappers import Request as _WerkzeugRequest
from werkzeug.wsgi import _get_server

from ..handle import HANDLER_KEY, MAX_BODY_KEY, SAFETY_LIMITS_KEY

if TYPE_CHECKING:
    from ..safety_limits import SafetyLimits

__all__ = ["Request", "MAX_BODY", "SAFETY_LIMITS_KEY", "Header", "make_header",
           "header_field", "header_value", "is_header", "headers_assq", "headers_assq_star"]

#: Racket's ``make-safety-limits`` default for bodies read whole: 1 MiB.
MAX_BODY = 1024 * 1024
_default_limits: list = []


def _limits(environ: dict) -> SafetyLimits:
    limits = environ.get(SAFETY_LIMITS_KEY)  # this project's server always sets it
    if limits is None or not hasattr(limits, "max_form_data_files"):
        if not _default_limits:
            # imported here: dispatch imports this module
            from ..safety_limits import SafetyLimits
            _default_limits.append(SafetyLimits())
        limits = _default_limits[0]
    return limits


class _FormDataMultiPartParser(MultiPartParser):
    """werkzeug's multipart parser with Racket's per-kind counts and lengths."""

    def __init__(self, limits: SafetyLimits, **kwargs) -> None:
        super().__init__(**kwargs)
        self.limits = limits

    def parse(self, stream: IO[bytes], boundary: bytes, content_length: Optional[int]):
        limits = self.limits
        # werkzeug's decoder refuses to buffer more than its limit: one read, plus a
        # part's headers waiting to be complete (the header limit), plus a boundary.
        chunk_size = 16384
        header_limit = limits.max_form_data_header_length
        decoder = MultipartDecoder(
            boundary, max_form_memory_size=None if header_limit is None else
            chunk_size + header_limit + 2 * len(boundary) + 64,
            max_parts=self.max_form_parts)
        fields: list = []
        files: list = []
        n_fields = n_files = 0
        part: Any = None  # the Field or File being read
        size = 0
        limit: Optional[int] = None
        chunks: list = []
        container: Any = None  # the File part's stream
        while True:
            data = stream.read(chunk_size)
            decoder.receive_data(data or None)
            event = decoder.next_event()
            while not isinstance(event, (Epilogue, NeedData)):
                if isinstance(event, (Field, File)):
                    header_length = sum(len(k) + len(v) + 4 for k, v in event.headers.items())
                    if (limits.max_form_data_header_length is not None
                            and header_length > limits.max_form_data_header_length):
                        raise RequestEntityTooLarge("a form-data part's headers are too long")
                    part, size = event, 0
                    if isinstance(event, File):
                        n_files += 1
                        if limits.max_form_data_files is not None \
                                and n_files > limits.max_form_data_files:
                            raise RequestEntityTooLarge("too many form-data files")
                        limit = limits.max_form_data_file_length
                        container = self.start_file_streaming(event, content_length)
                    else:
                        n_fields += 1
                        if limits.max_form_data_fields is not None \
                                and n_fields > limits.max_form_data_fields:
                            raise RequestEntityTooLarge("too many form-data fields")
                        limit = limits.max_form_data_field_length
                        chunks = []
                elif isinstance(event, Data):
                    size += len(event.data)
                    if limit is not None and size > limit:
                        raise RequestEntityTooLarge(
                            f"a form-data {'file' if isinstance(part, File) else 'field'} "
                            f"is over {limit} bytes")
                    if isinstance(part, File):
                        container.write(event.data)
                    else:
                        chunks.append(event.data)
                    if not event.more_data:
                        if isinstance(part, File):
                            container.seek(0)
                            files.append((part.name, FileStorage(
                                container, part.filename, part.name, headers=part.headers)))
                        else:
                            fields.append((part.name, b"".join(chunks).decode(
                                self.get_part_charset(part.headers), "replace")))
                event = decoder.next_event()
            if isinstance(event, Epilogue) or not data:
                break
        return self.cls(fields), self.cls(files)


class _FormDataParser(FormDataParser):
    limits: SafetyLimits

    def _parse_multipart(self, stream, mimetype, content_length, options):
        parser = _FormDataMultiPartParser(
            self.limits, stream_factory=self.stream_factory,
            max_form_memory_size=self.max_form_memory_size,
            max_form_parts=self.max_form_parts, cls=self.cls)
        boundary = options.get("boundary", "").encode("ascii")
        if not boundary:
            raise ValueError("Missing boundary")
        form, files = parser.parse(stream, boundary, content_length)
        return stream, form, files



class _computed_once:
    """An attribute computed on first read and then stored on the instance, where later
    reads find it directly (werkzeug's cached_property runs Python on every read, and
    functools' takes a lock on the first)."""

    def __init__(self, func) -> None:
        self.func, self.name, self.__doc__ = func, func.__name__, func.__doc__

    def __get__(self, obj, cls=None):
        if obj is None:
            return self
        value = obj.__dict__[self.name] = self.func(obj)
        return value


def _wsgi_decoding_dance(text: str) -> str:
    """PEP 3333 strings are latin-1 bytes; URLs are UTF-8 (as werkzeug reads them)."""
    return text.encode("latin-1").decode(errors="replace")


class Request(_WerkzeugRequest):
    """A werkzeug request with Racket's accessors."""

    max_form_memory_size = MAX_BODY

    def __init__(self, environ: dict, populate_request: bool = True,
                 shallow: bool = False) -> None:
        # werkzeug's constructor computes eight attributes from the environ at once;
        # most requests read two or three of them (a filter reads the path, a servlet
        # the bindings): each is computed when first read (see _computed_once).
        self.environ = environ
        self.shallow = shallow
        if populate_request and not shallow:
            environ["werkzeug.request"] = self

    @_computed_once
    def method(self) -> str:  # type: ignore[override]
        return self.environ.get("REQUEST_METHOD", "GET").upper()

    @_computed_once
    def scheme(self) -> str:  # type: ignore[override]
        return self.environ.get("wsgi.url_scheme", "http")

    @_computed_once
    def server(self):  # type: ignore[override]
        return _get_server(self.environ)

    @_computed_once
    def root_path(self) -> str:  # type: ignore[override]
        return _wsgi_decoding_dance(self.environ.get("SCRIPT_NAME") or "").rstrip("/")

    @_computed_once
    def path(self) -> str:  # type: ignore[override]
        raw = self.environ.get("PATH_INFO") or ""
        if raw.startswith("//"):
            # werkzeug strips leading slashes; Racket keeps the empty segments.
            return raw.encode("latin-1").decode("utf-8", "replace")
        if raw[:1] == "/" and raw.isascii():
            return raw  # what the general case gives, without decoding it twice
        return "/" + _wsgi_decoding_dance(raw).lstrip("/")

    @_computed_once
    def query_string(self) -> bytes:  # type: ignore[override]
        return self.environ.get("QUERY_STRING", "").encode("latin1")

    @_computed_once
    def headers(self) -> EnvironHeaders:  # type: ignore[override]
        return EnvironHeaders(self.environ)

    @_computed_once
    def remote_addr(self) -> Optional[str]:  # type: ignore[override]
        return self.environ.get("REMOTE_ADDR")

    @property
    def safety_limits(self) -> SafetyLimits:
        """The server's safety limits (defaults when the server gives none)."""
        return _limits(self.environ)

    @property
    def _is_multipart(self) -> bool:
        return (self.environ.get("CONTENT_TYPE") or "").lower().startswith("multipart/form-data")

    @property
    def max_content_length(self) -> Optional[int]:  # type: ignore[override]
        """Bodies read whole (``post_data``, url-encoded forms) larger than this get
        ``413``: the server's ``max_request_body_length``, 1 MiB by default.  A
        ``multipart/form-data`` body is bounded by the form-data limits instead."""
        if self._is_multipart:
            return self.safety_limits.max_form_data_length
        return self.environ.get(MAX_BODY_KEY, MAX_BODY)

    @property
    def max_form_parts(self) -> Optional[int]:  # type: ignore[override]
        return self.safety_limits.max_form_data_parts

    def make_form_data_parser(self) -> FormDataParser:
        parser = _FormDataParser(
            stream_factory=self._get_file_stream,
            max_form_memory_size=(self.safety_limits.max_form_data_field_length
                                  if self._is_multipart else self.max_form_memory_size),
            max_content_length=self.max_content_length,
            max_form_parts=self.max_form_parts,
            cls=self.parameter_storage_class)
        parser.limits = self.safety_limits
        return parser

    def _get_file_stream(self, total_content_length, content_type, filename=None,
                         content_length=None) -> IO[bytes]:
        # Racket's form-data-file-memory-threshold: in memory up to it, then on disk.
        threshold = self.safety_limits.form_data_file_memory_threshold
        return tempfile.SpooledTemporaryFile(max_size=threshold or 0)

    @property
    def uri(self) -> str:
        """The full URL the client asked for."""
        return self.url

    @property
    def query_bindings(self) -> list:
        """The query string's ``(name, value)`` pairs as Racket's ``url-query`` gives
        bindings: a key without ``=`` (``?a&b=1``) is left out; ``?a=`` binds ``""``."""
        query = self.environ.get("QUERY_STRING", "")
        if not query:
            return []
        # The query string is latin-1 per WSGI; its bytes are UTF-8 percent-encoded.
        pieces = "&".join(p for p in query.split("&") if "=" in p)
        return parse_qsl(pieces.encode("latin-1").decode("utf-8", "replace"),
                         keep_blank_values=True, errors="replace")

    @property
    def bindings(self) -> MultiDict:
        """Query-string and form bindings together, query first.  As Racket's, a query
        key without ``=`` (``?a&b=1``) is not a binding."""
        cached = self.__dict__.get("_bindings")
        if cached is None:
            pairs = self.query_bindings
            form = self.form
            if form:
                pairs.extend(form.items(multi=True))
            cached = self.__dict__["_bindings"] = MultiDict(pairs)
        return cached

    @property
    def post_data(self) -> bytes:
        """The raw request body (at most :attr:`max_content_length` bytes)."""
        return self.get_data(cache=True)

    @property
    def client_ip(self) -> Optional[str]:
        return self.remote_addr

    @property
    def host_ip(self) -> Optional[str]:
        """The server address the request arrived on."""
        handler = self.environ.get(HANDLER_KEY)
        if handler is not None and handler.socket is not None:
            return handler.socket.getsockname()[0]
        return self.environ.get("SERVER_NAME")

    @property
    def host_port(self) -> int:
        return int(self.environ.get("SERVER_PORT") or 0)




# --- the header struct (Racket's ``header`` of web-server/http/request-structs) -------------

class Header(NamedTuple):
    """A header: ``field`` and ``value``, as ``str`` (bytes given are read as Latin-1,
    so they go on the wire unchanged, as the response constructors send them).
    Racket: ``header`` (whose fields are bytes).  A 2-tuple, so a response constructor
    takes it among its ``headers``."""

    field: str
    value: str


def _header_text(value: Union[str, bytes], who: str, what: str) -> str:
    if isinstance(value, (bytes, bytearray)):
        text = bytes(value).decode("latin-1")
    elif isinstance(value, str):
        text = value
        try:
            text.encode("latin-1")
        except UnicodeEncodeError:
            raise ValueError(f"{who}: {what} {value!r} has characters a header cannot "
                             f"carry; pass bytes (UTF-8 encoded) instead") from None
    else:
        raise TypeError(f"{who}: {what} must be str or bytes, given "
                        f"{type(value).__name__} {value!r}")
    return text


def make_header(field: Union[str, bytes], value: Union[str, bytes]) -> Header:
    """The header ``field: value``.  Racket: ``make-header`` (``header``).  As Racket's,
    any text is kept (a request's header as read); a response constructor refuses
    the header if it cannot be sent (CR, LF, NUL, a field that is not a token)."""
    return Header(_header_text(field, "make_header", "field"),
                  _header_text(value, "make_header", "value"))


def header_field(h: Header) -> str:
    """Racket: ``header-field``."""
    if not isinstance(h, Header):
        raise TypeError(f"header_field: expected a Header, given {h!r}")
    return h.field


def header_value(h: Header) -> str:
    """Racket: ``header-value``."""
    if not isinstance(h, Header):
        raise TypeError(f"header_value: expected a Header, given {h!r}")
    return h.value


def is_header(v: object) -> bool:
    """Whether ``v`` is a :class:`Header`.  Racket: ``header?``."""
    return isinstance(v, Header)


def _as_header(item: Any, who: str) -> Header:
    if isinstance(item, Header):
        return item
    if isinstance(item, tuple) and len(item) == 2:
        return Header(_header_text(item[0], who, "header field"),
                      _header_text(item[1], who, "header value"))
    raise TypeError(f"{who}: heads must hold headers ((field, value) pairs), given {item!r}")


def _headers_assq(who: str, field: Union[str, bytes], heads: Iterable,
                  fold: bool) -> Optional[Header]:
    wanted = _header_text(field, who, "field")
    if fold:
        wanted = wanted.lower()
    if isinstance(heads, (str, bytes)) or not hasattr(heads, "__iter__"):
        raise TypeError(f"{who}: heads must be a list of headers, given {heads!r}")
    # werkzeug's Headers iterate as (name, value) pairs, as a list of Header does
    for item in heads:
        h = _as_header(item, who)
        if (h.field.lower() if fold else h.field) == wanted:
            return h
    return None


def headers_assq(field: Union[str, bytes], heads: Iterable) -> Optional[Header]:
    """The first header of ``heads`` whose field is ``field`` (case-sensitively), or
    ``None``.  Racket: ``headers-assq``.  ``heads`` is a list of :class:`Header` or of
    ``(name, value)`` pairs, or ``request.headers``."""
    return _headers_assq("headers_assq", field, heads, False)


def headers_assq_star(field: Union[str, bytes], heads: Iterable) -> Optional[Header]:
    """As :func:`headers_assq`, but fields compare case-insensitively: what a server
    wants, since clients send any case.  Racket: ``headers-assq*``."""
    return _headers_assq("headers_assq_star", field, heads, True)
