"""Form and query bindings.  Racket: ``web-server/http/bindings`` (``request-bindings``,
``extract-binding/single``, ``extract-bindings``, ``exists-binding?``) and the binding
structs of ``web-server/http/request-structs`` (``bindings-assq``,
``bindings-assq-all``).

::

    def get_number(req):
        return float(extract_binding_single("number", request_bindings(req)))

A binding that is missing, or repeated where one is expected, raises
:class:`BindingError`: a ``LookupError`` the servlet may catch, and a werkzeug
``BadRequest``, so that uncaught it answers ``400`` (never a ``500``).
"""
from __future__ import annotations

from typing import IO, Any, Callable, Iterable, Optional, Union

from werkzeug.exceptions import BadRequest

__all__ = [
    "Binding", "BindingError", "BindingFile", "BindingForm", "bindings_assq",
    "bindings_assq_all", "exists_binding", "extract_binding_single", "extract_bindings",
    "request_bindings", "request_bindings_raw", "request_headers",
    "request_bindings_raw_promise", "is_binding_file_port", "binding_file_port_in",
    "make_binding_file_port",
]


class BindingError(BadRequest, LookupError):
    """A binding missing, or repeated where one is expected."""


class Binding:
    """A binding from the query string or the body.  Racket: ``binding``."""

    __slots__ = ("id",)

    def __init__(self, id: str) -> None:  # noqa: A002 (Racket's field name)
        self.id = id


class BindingForm(Binding):
    """A form or query field.  Racket: ``binding:form``."""

    __slots__ = ("value",)

    def __init__(self, id: str, value: str) -> None:  # noqa: A002
        super().__init__(id)
        self.value = value

    def __repr__(self) -> str:
        return f"BindingForm({self.id!r}, {self.value!r})"

    def __eq__(self, other: Any) -> bool:
        return (isinstance(other, BindingForm) and other.id == self.id
                and other.value == self.value)

    __hash__ = None  # type: ignore[assignment]


class BindingFile(Binding):
    """An uploaded file.  Racket: ``binding:file``: ``filename``, ``headers`` (a list
    of ``(name, value)``) and ``content`` (the bytes, read once, on first use);
    ``stream`` reads it piecewise instead.

    A request's file bindings hold a stream (Racket's ``binding:file/port``, see
    :func:`is_binding_file_port`): the first read of ``content`` reads what is left of
    it, keeps it and closes the stream; bytes read from the stream before are not in
    ``content``, and a stream closed before makes ``content`` raise (as Racket's)."""

    __slots__ = ("filename", "headers", "stream", "_content")
    _content: Optional[bytes]

    def __init__(self, id: str, filename: str, headers: list,  # noqa: A002
                 content: Union[bytes, Any]) -> None:
        super().__init__(id)
        self.filename, self.headers = filename, headers
        if isinstance(content, (bytes, bytearray)):
            self.stream, self._content = None, bytes(content)
        else:
            self.stream, self._content = content, None

    @property
    def content(self) -> bytes:
        if self._content is None:
            stream = self.stream
            self._content = stream.read()  # type: ignore[union-attr]  # set when no content
            stream.close()  # type: ignore[union-attr]
        return self._content

    def __repr__(self) -> str:
        return f"BindingFile({self.id!r}, {self.filename!r})"


def request_bindings_raw(req) -> list:
    """Every binding of ``req``: the query string's, then the form's, then the
    files'.  Racket: ``request-bindings/raw``.  Made once per request (a file's
    content is read once)."""
    cached = getattr(req, "_gevent_dispatch_bindings", None)
    if cached is not None:
        return list(cached)
    query = getattr(req, "query_bindings", None)  # Racket's reading: ?a&b=1 binds b only
    pairs = query if query is not None else req.args.items(multi=True)
    binds: list = [BindingForm(k, v) for k, v in pairs]
    if req.method not in ("GET", "HEAD"):
        binds.extend(BindingForm(k, v) for k, v in req.form.items(multi=True))
        binds.extend(BindingFile(k, f.filename or "", list(f.headers.items()), f.stream)
                     for k, f in req.files.items(multi=True))
    req._gevent_dispatch_bindings = binds
    return list(binds)


def request_bindings_raw_promise(req) -> Callable[[], list]:
    """A procedure that returns ``request_bindings_raw(req)``: the bindings are read
    (the body parsed) when it is first called, not before.  Racket:
    ``request-bindings/raw-promise`` (a promise; here ``force`` is a call)."""
    if not hasattr(req, "environ"):
        raise TypeError(f"request_bindings_raw_promise: expected a request, given {req!r}")
    return lambda: request_bindings_raw(req)


def is_binding_file_port(v: object) -> bool:
    """Whether ``v`` is a file binding whose content comes from a stream (every file
    binding of a request), not from bytes given to :class:`BindingFile`.  Racket:
    ``binding:file/port?``."""
    return isinstance(v, BindingFile) and v.stream is not None


def binding_file_port_in(b: BindingFile) -> IO[bytes]:
    """The stream of a file binding that has one (:func:`is_binding_file_port`), to
    read the upload piecewise rather than as one ``bytes``.  Racket:
    ``binding:file/port-in``."""
    if not is_binding_file_port(b):
        raise TypeError(f"binding_file_port_in: expected a file binding with a stream "
                        f"(binding:file/port), given {b!r}")
    return b.stream  # type: ignore[return-value]  # checked above


def make_binding_file_port(id: str, filename: str, headers: list,  # noqa: A002
                           content_in: IO[bytes]) -> BindingFile:
    """A file binding reading its content from the binary stream ``content_in``.
    Racket: ``make-binding:file/port``."""
    if not callable(getattr(content_in, "read", None)):
        raise TypeError(f"make_binding_file_port: content_in must be a binary stream, "
                        f"given {content_in!r}")
    return BindingFile(id, filename, headers, content_in)


def request_bindings(req) -> list:
    """``[(name, value)]``: field values as strings, files as :class:`BindingFile`;
    names lower-cased as Racket's ``request-bindings`` does."""
    return [(b.id.lower(), b.value if isinstance(b, BindingForm) else b)
            for b in request_bindings_raw(req)]


def request_headers(req) -> list:
    """``[(name, value)]`` with lower-cased names.  Racket: ``request-headers``."""
    return [(name.lower(), value) for name, value in req.headers.items()]


def _name(name: Union[str, bytes]) -> str:
    return name.decode("utf-8") if isinstance(name, bytes) else name


def extract_bindings(name: Union[str, bytes], bindings: Iterable) -> list:
    """Every value bound to ``name``.  Racket: ``extract-bindings``."""
    name = _name(name)
    return [value for key, value in bindings if key == name]


def extract_binding_single(name: Union[str, bytes], bindings: Iterable) -> Any:
    """The one value bound to ``name``; :class:`BindingError` when there is none or
    more than one.  Racket: ``extract-binding/single``."""
    values = extract_bindings(name, bindings)
    if len(values) == 1:
        return values[0]
    problem = "is missing" if not values else f"occurs {len(values)} times"
    raise BindingError(f"the binding {_name(name)!r} {problem}; exactly one was expected")


def exists_binding(name: Union[str, bytes], bindings: Iterable) -> bool:
    """Whether ``name`` is bound (a checkbox).  Racket: ``exists-binding?``."""
    name = _name(name)
    return any(key == name for key, _ in bindings)


def bindings_assq(name: Union[str, bytes], binds: Iterable[Binding]) -> Optional[Binding]:
    """The first :class:`Binding` with id ``name``, or ``None``.  Racket:
    ``bindings-assq``."""
    name = _name(name)
    return next((b for b in binds if b.id == name), None)


def bindings_assq_all(name: Union[str, bytes], binds: Iterable[Binding]) -> list:
    """Every :class:`Binding` with id ``name``.  Racket: ``bindings-assq-all``."""
    name = _name(name)
    return [b for b in binds if b.id == name]
