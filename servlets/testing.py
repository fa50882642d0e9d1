"""Testing servlets and dispatchers without a server.  Racket: ``web-server/test``
(``make-servlet-tester``, ``make-dispatcher-tester``).

A tester calls its servlet or dispatcher with a GET request and gives back the body of
the answer as an x-expression, as Racket's does::

    tester = make_servlet_tester(start)
    tester()                        # ("html", [], ("head", [], ...), ...) for "/"
    tester("/sum?a=1", [("b", "2")])
    tester("/x", raw=True)          # the body's bytes
    head, body = tester("/x", headers=True)

The servlet runs as a stateful servlet (:mod:`servlets.stateful`, as Racket's
``dispatch/servlet``), so a URL from ``send_suspend`` in one answer can be the next
call's target.  ``dispatch.testing.Client`` is the other way to test: werkzeug's client,
with status codes, headers, other methods, and WebSockets and event streams.

What the tester returns:

* the body read as XML and turned into an x-expression whose elements always carry
  their attribute list (Racket's ``string->xexpr``): ``<p class="a">hi</p>`` is
  ``("p", [("class", "a")], "hi")``, ``<br />`` is ``("br", [])``; comments become
  ``Comment``, processing instructions ``PI``, CDATA sections ``CData``, and character
  and HTML entity references the characters they stand for.  A body that is not XML
  raises ``ValueError`` (ask for ``raw=True``).  Entity declarations are refused
  (so that a body cannot make the parser expand entities without end);
* with ``raw=True``, the body's bytes;
* with ``headers=True``, ``(head, body)``: ``head`` is the status line and header
  lines as bytes, separated by CRLF, with ``Date`` and ``Last-Modified`` values
  replaced by ``REDACTED`` (Racket's ``redact``).
"""
from __future__ import annotations

import html.entities
import re
from io import BytesIO
from typing import Any, Callable, Iterable, Union
from urllib.parse import SplitResult, urlencode, urlsplit
from xml.parsers import expat

from werkzeug.test import EnvironBuilder, run_wsgi_app

from dispatch.core import Dispatcher
from dispatch.http.bindings import BindingFile, BindingForm
from dispatch.http.request import Request
from dispatch.http.xexpr import PI, CData, Comment
from dispatch.wsgi import to_wsgi

from . import stateful

__all__ = ["Tester", "make_dispatcher_tester", "make_servlet_tester", "string_to_xexpr"]

Tester = Callable[..., Any]
Target = Union[None, str, SplitResult, Request]

_REDACT = re.compile(rb"^(Date|Last-Modified): [^\r\n]*", re.M | re.I)


def make_servlet_tester(start: Callable[[Request], Any], manager: Any = None) -> Tester:
    """A tester for the servlet ``start`` (run by :func:`servlets.stateful.make` with
    ``manager``).  Racket: ``make-servlet-tester``."""
    if not callable(start):
        raise TypeError(f"make_servlet_tester: start must be a procedure taking the "
                        f"request, given {type(start).__name__} {start!r}")
    return make_dispatcher_tester(stateful.make(start, manager))


def make_dispatcher_tester(dispatcher: Dispatcher) -> Tester:
    """A tester for ``dispatcher``.  Racket: ``make-dispatcher-tester``.

    ``tester(target=None, bindings=(), *, raw=False, headers=False)``: ``target`` is a
    URL or a path (``None``: ``"/"``), a ``urllib.parse`` split URL, or a
    :class:`~dispatch.http.request.Request` used as it is.  ``bindings``
    (``BindingForm``, ``BindingFile`` or ``(name, value)`` pairs) are added to the
    query string; with a ``BindingFile`` among them the request is a ``POST`` of
    ``multipart/form-data`` instead (Racket gives them to a GET request directly,
    which HTTP cannot carry).  A request that every dispatcher declines is answered
    ``404``, as by the server."""
    if not callable(dispatcher):
        raise TypeError(f"make_dispatcher_tester: expected a dispatcher, given "
                        f"{type(dispatcher).__name__} {dispatcher!r}")
    app = to_wsgi(dispatcher)

    def tester(target: Target = None, bindings: Iterable[Any] = (), *,
               raw: bool = False, headers: bool = False) -> Any:
        environ = _environ(target, list(bindings))
        app_iter, status, response_headers = run_wsgi_app(app, environ, buffered=True)
        try:
            body = b"".join(app_iter)
        finally:
            close = getattr(app_iter, "close", None)
            if close is not None:
                close()
        content = body if raw else string_to_xexpr(body.decode("utf-8"))
        if not headers:
            return content
        lines = [f"HTTP/1.1 {status}"] + [f"{k}: {v}" for k, v in response_headers.items()]
        head = _REDACT.sub(rb"\1: REDACTED", "\r\n".join(lines).encode("latin-1"))
        return head, content

    return tester


def _environ(target: Target, bindings: list) -> dict:
    if isinstance(target, Request):
        if bindings:
            raise ValueError("tester: bindings go with a URL target, not with a Request")
        return target.environ
    if target is None:
        target = "/"
    if isinstance(target, SplitResult):
        target = target.geturl()
    if not isinstance(target, str):
        raise TypeError(f"tester: the target is a URL string, a split URL, a Request or "
                        f"None, given {type(target).__name__} {target!r}")
    parts = urlsplit(target)
    base_url = f"{parts.scheme}://{parts.netloc}/" if parts.scheme and parts.netloc else None
    fields, files = [], []
    for b in bindings:
        if isinstance(b, BindingForm):
            fields.append((b.id, b.value))
        elif isinstance(b, BindingFile):
            files.append((b.id, (BytesIO(b.content), b.filename)))
        elif isinstance(b, (tuple, list)) and len(b) == 2 and isinstance(b[0], str) \
                and isinstance(b[1], str):
            fields.append((b[0], b[1]))
        else:
            raise TypeError(f"tester: a binding is a BindingForm, a BindingFile or a "
                            f"(name, value) pair of strings, given {b!r}")
    path = parts.path or "/"
    if files:
        builder = EnvironBuilder(path=path, base_url=base_url, query_string=parts.query,
                                 method="POST", data=dict([*fields, *files]))
    else:
        query = "&".join(q for q in (parts.query, urlencode(fields)) if q)
        builder = EnvironBuilder(path=path, base_url=base_url, query_string=query)
    try:
        return builder.get_environ()
    finally:
        builder.close()


def string_to_xexpr(text: str) -> Any:
    """The x-expression of the XML document ``text`` (as described above).  Racket:
    ``string->xexpr``."""
    parser = expat.ParserCreate()
    parser.ordered_attributes = True
    parser.UseForeignDTD(True)  # undefined entities reach SkippedEntityHandler
    root: list = [None, []]
    stack: list = [root]
    in_cdata: list = []

    def add(child: Any) -> None:
        children = stack[-1]
        if type(child) is str and len(children) > 2 and type(children[-1]) is str:
            children[-1] += child  # adjacent text is one string
        else:
            children.append(child)

    def start(tag: str, attributes: list) -> None:
        pairs = [(attributes[i], attributes[i + 1]) for i in range(0, len(attributes), 2)]
        element = [tag, pairs]
        add(element)
        stack.append(element)

    def end(tag: str) -> None:
        stack.pop()

    def characters(data: str) -> None:
        if in_cdata:
            in_cdata[-1] += data
        else:
            add(data)

    def start_cdata() -> None:
        in_cdata.append("")

    def end_cdata() -> None:
        add(CData("<![CDATA[" + in_cdata.pop() + "]]>"))

    def skipped(name: str, is_parameter: bool) -> None:
        code = html.entities.name2codepoint.get(name)
        if code is None or is_parameter:
            raise ValueError(f"undefined entity &{name};")
        add(chr(code))

    def refuse_entities(*args: Any) -> None:
        raise ValueError("entity declarations are not accepted")

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = characters
    parser.StartCdataSectionHandler = start_cdata
    parser.EndCdataSectionHandler = end_cdata
    parser.CommentHandler = lambda data: add(Comment(data))
    parser.ProcessingInstructionHandler = lambda target, data: add(PI(target, data))
    parser.SkippedEntityHandler = skipped
    parser.EntityDeclHandler = refuse_entities
    parser.UnparsedEntityDeclHandler = refuse_entities
    try:
        parser.Parse(text, True)
    except expat.ExpatError as exc:
        raise ValueError(f"the body is not XML ({exc}); ask for raw=True") from None
    elements = [c for c in root[2:] if isinstance(c, list)]
    if len(elements) != 1:
        raise ValueError("the body is not one XML element; ask for raw=True")
    return _freeze(elements[0])


def _freeze(element: list) -> tuple:
    tag, pairs, *children = element
    return (tag, pairs, *[_freeze(c) if isinstance(c, list) else c for c in children])
