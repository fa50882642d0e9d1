"""Standard responders.  Racket: ``web-server/configuration/responders``.

The ``gen_*`` procedures take a file (an HTML page, as Racket's ``conf/not-found.html``)
and return a responder answering with that file's content, read at each response (so the
server starts without the file, as Racket's, and an edit shows at once)::

    not_found = gen_file_not_found_responder("conf/not-found.html")
    dispatcher = sequencer.make(files.make(url_to_path), lift.make(not_found))

:func:`servlet_loading_responder` and :func:`servlet_error_responder` answer a servlet's
exception (``dispatch.dispatch_servlets.make``'s defaults).  Two differences from Racket:

* Racket's page shows the exception's message and stack trace to whoever made the
  request.  Here it does only with ``show_exception=True``
  (``functools.partial(servlet_error_responder, show_exception=True)``, for
  development): a page reachable by others should not show the program's insides.
* Racket's responders print the exception (``error-display-handler``); here the
  dispatcher that caught it logs it with its traceback (as this project's dispatchers
  all do), and a responder only answers.
"""
from __future__ import annotations

import os
import time
import traceback
from typing import Any, Callable, Union

from .http.request import Header
from .http.response import TEXT_HTML_MIME_TYPE, Response, response_full, response_xexpr

__all__ = [
    "file_response", "servlet_loading_responder", "gen_servlet_not_found",
    "servlet_error_responder", "gen_servlet_responder", "gen_servlets_refreshed",
    "gen_passwords_refreshed", "gen_authentication_responder", "gen_protocol_responder",
    "gen_file_not_found_responder", "gen_collect_garbage_responder",
]

PathLike = Union[str, "os.PathLike[str]"]
HeaderLike = Union[Header, "tuple[Any, Any]"]


def _path(file: Any, who: str) -> str:
    try:
        return os.fspath(file)
    except TypeError:
        raise TypeError(f"{who}: file must be a path (str or os.PathLike), given "
                        f"{type(file).__name__} {file!r}") from None


def file_response(http_code: int, short_version: Union[str, bytes], text_file: PathLike,
                  *headers: HeaderLike) -> Response:
    """A ``text/html`` response with status ``http_code`` and reason ``short_version``
    whose body is ``text_file``'s content, with ``headers``.  Racket: ``file-response``.
    Relative URLs in the file resolve against the URL it answers: use absolute ones."""
    path = _path(text_file, "file_response")
    with open(path, "rb") as f:
        body = f.read()
    return response_full(http_code, short_version, time.time(), TEXT_HTML_MIME_TYPE,
                         list(headers), [body])


def _stack_trace(exc: BaseException) -> str:
    # Racket's format-stack-trace, innermost frame first as Racket's context lists them
    frames = traceback.extract_tb(exc.__traceback__)
    return "".join(f"{frame.name} at:\n  line {frame.lineno}, in file {frame.filename}\n"
                   for frame in reversed(frames))


def _pretty_exception_response(url: str, exc: BaseException, show: bool) -> Response:
    if show:
        message = "".join(traceback.format_exception_only(type(exc), exc)).rstrip("\n")
        details: tuple = (
            ("p", "The application raised an exception with the message:",
             ("pre", message)),
            ("p", "Stack trace:", ("pre", _stack_trace(exc))))
    else:
        details = (("p", "The application raised an exception; the server's log has "
                         "its message and stack trace."),)
    return response_xexpr(
        ("html", ("head", ("title", "Servlet Error")),
         ("body", ("div", [("class", "section")],
                   ("div", [("class", "title")], "Exception"), *details))),
        code=500, message="Internal Server Error")


def servlet_loading_responder(url: str, exc: BaseException, *,
                              show_exception: bool = False) -> Response:
    """The ``500`` "Servlet Error" page for a servlet that did not load (its module
    raised, or has no ``start``).  Racket: ``servlet-loading-responder``; the message
    and stack trace show with ``show_exception=True`` only (see the module's notes)."""
    return _pretty_exception_response(url, exc, show_exception)


def servlet_error_responder(url: str, exc: BaseException, *,
                            show_exception: bool = False) -> Response:
    """The ``500`` "Servlet Error" page for a servlet that raised.  Racket:
    ``servlet-error-responder``; the message and stack trace show with
    ``show_exception=True`` only (see the module's notes)."""
    return _pretty_exception_response(url, exc, show_exception)


def gen_servlet_not_found(file: PathLike) -> Callable[[str], Response]:
    """``(url) -> response``: ``404 Servlet not found`` with ``file``'s content.
    Racket: ``gen-servlet-not-found``."""
    path = _path(file, "gen_servlet_not_found")
    return lambda url: file_response(404, "Servlet not found", path)


def gen_servlet_responder(file: PathLike) -> Callable[[str, Any], Response]:
    """``(url, exc) -> response``: ``500 Servlet error`` with ``file``'s content.
    Racket: ``gen-servlet-responder``."""
    path = _path(file, "gen_servlet_responder")
    return lambda url, exc: file_response(500, "Servlet error", path)


def gen_servlets_refreshed(file: PathLike) -> Callable[[], Response]:
    """``() -> response``: ``200 Servlet cache refreshed`` with ``file``'s content, for
    after flushing the servlet cache (``make_cached_url_to_servlet``'s first value).
    Racket: ``gen-servlets-refreshed``."""
    path = _path(file, "gen_servlets_refreshed")
    return lambda: file_response(200, "Servlet cache refreshed", path)


def gen_passwords_refreshed(file: PathLike) -> Callable[[], Response]:
    """``() -> response``: ``200 Passwords refreshed`` with ``file``'s content.
    Racket: ``gen-passwords-refreshed``."""
    path = _path(file, "gen_passwords_refreshed")
    return lambda: file_response(200, "Passwords refreshed", path)


def gen_authentication_responder(file: PathLike) -> Callable[[str, HeaderLike], Response]:
    """``(url, header) -> response``: ``401 Authorization Required`` with ``file``'s
    content and ``header`` (the challenge: ``make_basic_auth_header(realm)``, what
    ``dispatch.passwords.make`` hands its ``authentication_responder``).  Racket:
    ``gen-authentication-responder``."""
    path = _path(file, "gen_authentication_responder")
    return lambda url, header: file_response(401, "Authorization Required", path, header)


def gen_protocol_responder(file: PathLike) -> Callable[[Any], Response]:
    """``(url) -> response``: ``400 Malformed Request`` with ``file``'s content.
    Racket: ``gen-protocol-responder``."""
    path = _path(file, "gen_protocol_responder")
    return lambda url: file_response(400, "Malformed Request", path)


def gen_file_not_found_responder(file: PathLike) -> Callable[[Any], Response]:
    """``(request) -> response``: ``404 File not found`` with ``file``'s content; the
    last dispatcher of a chain (``lift.make(...)``, ``serve_servlet``'s default).
    Racket: ``gen-file-not-found-responder``."""
    path = _path(file, "gen_file_not_found_responder")
    return lambda request: file_response(404, "File not found", path)


def gen_collect_garbage_responder(file: PathLike) -> Callable[[], Response]:
    """``() -> response``: ``200 Garbage collected`` with ``file``'s content (the
    collection itself is the caller's: ``gc.collect()``).  Racket:
    ``gen-collect-garbage-responder``."""
    path = _path(file, "gen_collect_garbage_responder")
    return lambda: file_response(200, "Garbage collected", path)

