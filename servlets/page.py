"""Short-hand for pages made of ``send_suspend_dispatch`` and handlers.  Racket:
``web-server/page`` (``page``, ``embed/url``, ``lambda/page``, ``define/page``,
``current-request``, ``get-binding``, ``get-bindings``).

``page(body)`` is ``send_suspend_dispatch`` whose ``embed_url`` needs no passing
around: while ``body()`` runs, the module's :func:`embed_url` embeds handlers in the
page being made.  ``define_page`` (a decorator) and ``lambda_page`` (the same, for a
lambda) make a handler that binds :data:`current_request` to its request and makes its
page, so that :func:`get_binding` finds the request by itself::

    from servlets.page import define_page, embed_url, get_binding, lambda_page, page

    def request_number(which):
        return page(lambda: response_xexpr(
            ("form", [("action", embed_url(lambda_page(
                          lambda request: int(get_binding("number"))))),
                      ("method", "post")],
             f"Enter the {which} number to add: ", ("input", [("name", "number")]))))

    @define_page
    def start(request):
        return response_xexpr(
            ("p", f"The answer is {request_number('first') + request_number('second')}"))

What differs from Racket: ``page`` is a function of a thunk (Racket's is syntax around
the body), and ``embed_url`` is found at run time rather than by scope: it works while
a ``page`` body runs and raises ``RuntimeError`` elsewhere (Racket: a syntax error),
including later, in a handler, where Racket's would still refer to the old page.
Python cannot resume a function twice: see :mod:`servlets.stateful` for what that
means for handlers whose value returns from ``page``.
"""
from __future__ import annotations

import contextvars
import functools
from typing import Any, Callable, Optional, TypeVar, Union

from werkzeug.wrappers import Response as WerkzeugResponse

from dispatch.http.bindings import BindingFile, BindingForm, request_bindings_raw
from dispatch.http.request import Request

from . import stateful
from .servlet_structs import can_be_response

__all__ = ["current_request", "define_page", "embed_url", "get_binding", "get_bindings",
           "lambda_page", "page"]

F = TypeVar("F", bound=Callable[..., Any])

#: Racket's ``current-request`` parameter: the request of the handler made by
#: :func:`define_page` or :func:`lambda_page` that is running (``None`` outside one).
current_request: contextvars.ContextVar[Optional[Request]] = \
    contextvars.ContextVar("current_request", default=None)

_embed: contextvars.ContextVar[Optional[Callable[[Callable], str]]] = \
    contextvars.ContextVar("page_embed_url", default=None)


def page(body: Callable[[], Any]) -> Any:
    """Send the response ``body()`` makes, with :func:`embed_url` embedding handlers in
    it, and return what a handler returns that is not a response.  Racket: ``(page e
    ...)``, which is ``send_suspend_dispatch`` with ``embed/url`` bound."""
    if not callable(body) or isinstance(body, WerkzeugResponse):
        raise TypeError(f"page: body must be a procedure of no arguments making the "
                        f"response (page(lambda: response_xexpr(...))), given "
                        f"{type(body).__name__} {body!r}")
    return _page(body, escapes=False)


class _Escape(BaseException):
    """A ``define_page`` body gave a value, not a response: no page is sent."""

    def __init__(self, value: Any) -> None:
        self.value = value


def _page(body: Callable[[], Any], escapes: bool) -> Any:
    def response_generator(this_embed_url: Callable[[Callable], str]):
        token = _embed.set(this_embed_url)
        try:
            result = body()
        finally:
            _embed.reset(token)
        if escapes and not can_be_response(result):
            raise _Escape(result)  # before the page is sent: send_suspend_dispatch drops it
        return result

    try:
        return stateful.send_suspend_dispatch(response_generator)
    except _Escape as escaped:
        return escaped.value


def embed_url(handler: Callable[[Request], Any]) -> str:
    """A URL of the page being made that calls ``handler(request)`` when used.
    Racket: ``embed/url`` inside ``page``.  Outside a ``page`` body: ``RuntimeError``."""
    current = _embed.get()
    if current is None:
        raise RuntimeError("embed_url: used outside page (call it while a page's body "
                           "makes the response)")
    return current(handler)


def define_page(fn: F) -> F:
    """Decorate ``fn(request, *args)`` so that calling it binds
    :data:`current_request` to ``request`` and sends ``page(lambda: fn(request,
    *args))``.  Racket: ``(define/page (id . formals) e ...)`` (whose request argument
    is implicit; here it is ``fn``'s first parameter, by any name).

    When ``fn`` gives a value that is not a response (:func:`can_be_response`), no page
    is sent and the value is returned: that is how an ``embed_url(lambda_page(...))``
    handler hands a value back to the ``page`` whose URL called it, where Racket's
    ``add-page`` example escapes with ``let/ec``.  (In Racket such a body must escape;
    a value would be an error.)"""
    if not callable(fn):
        raise TypeError(f"define_page: expected a procedure taking the request first, "
                        f"given {type(fn).__name__} {fn!r}")

    @functools.wraps(fn)
    def handler(request: Request, *args: Any, **kwargs: Any) -> Any:
        token = current_request.set(request)
        try:
            return _page(lambda: fn(request, *args, **kwargs), escapes=True)
        finally:
            current_request.reset(token)

    return handler  # type: ignore[return-value]


#: Racket's ``lambda/page``: the same as :func:`define_page`, for a ``lambda``
#: (``embed_url(lambda_page(lambda request: ...))``).
lambda_page = define_page

_FORMATS = ("string", "bytes", "file", "binding")


def _id(binding_id: Union[str, bytes], who: str) -> str:
    if isinstance(binding_id, bytes):
        return binding_id.decode("utf-8", "surrogateescape")
    if isinstance(binding_id, str):  # Racket's strings and symbols alike
        return binding_id
    raise TypeError(f"{who}: a binding id is a str or bytes, given "
                    f"{type(binding_id).__name__} {binding_id!r}")


def _request(req: Optional[Request], who: str) -> Request:
    if req is None:
        req = current_request.get()
        if req is None:
            raise RuntimeError(f"{who}: no request given and none is current (pass "
                               "the request, or call it inside define_page/lambda_page)")
    return req


def _convert(binding: Any, format: str) -> Any:  # noqa: A002 (Racket's keyword)
    if format == "string":
        return binding.value if isinstance(binding, BindingForm) else None
    if format == "bytes":
        return binding.value.encode("utf-8") if isinstance(binding, BindingForm) else None
    if format == "file":
        return binding.content if isinstance(binding, BindingFile) else None
    return binding


def _check_format(format: str, who: str) -> None:  # noqa: A002
    if format not in _FORMATS:
        raise ValueError(f"{who}: format must be one of {', '.join(_FORMATS)}, "
                         f"given {format!r}")


def get_binding(binding_id: Union[str, bytes], req: Optional[Request] = None, *,
                format: str = "string") -> Any:  # noqa: A002
    """The first binding of the form field ``binding_id`` (compared case-sensitively) in
    ``req`` (by default :data:`current_request`), or ``None``.  Racket: ``get-binding``.

    ``format``: ``"string"`` (the value; ``None`` for a file), ``"bytes"`` (the value
    as UTF-8), ``"file"`` (an uploaded file's content; ``None`` for a field) or
    ``"binding"`` (the :class:`~dispatch.http.bindings.Binding` itself).  A value that
    is not UTF-8 arrives with U+FFFD in its place (Racket's ``'string`` gives ``#f``)."""
    _check_format(format, "get_binding")
    name = _id(binding_id, "get_binding")
    for binding in request_bindings_raw(_request(req, "get_binding")):
        if binding.id == name:
            return _convert(binding, format)
    return None


def get_bindings(binding_id: Union[str, bytes], req: Optional[Request] = None, *,
                 format: str = "string") -> list:  # noqa: A002
    """Every binding of ``binding_id``, converted as :func:`get_binding` does; those
    that the format does not fit (a file for ``"string"``) are left out.  Racket:
    ``get-bindings``."""
    _check_format(format, "get_bindings")
    name = _id(binding_id, "get_bindings")
    values = []
    for binding in request_bindings_raw(_request(req, "get_bindings")):
        if binding.id == name:
            value = _convert(binding, format)
            if value is not None:
                values.append(value)
    return values
