"""Sending pages and waiting for the answer.  Racket: ``web-server/servlet/web``.

Call these from a stateful servlet (:func:`servlets.stateful.make`, or
``serve_servlet``): they find the current instance through the servlet's greenlet.

===============================================  ============================================
Racket                                           Python
===============================================  ============================================
``send/suspend``                                 ``send_suspend(response_generator)``
``send/suspend/dispatch``                        ``send_suspend_dispatch(response_generator)``
``send/suspend/url``                             ``send_suspend_url(response_generator)``
``send/suspend/url/dispatch``                    ``send_suspend_url_dispatch(response_generator)``
``send/forward``                                 ``send_forward(response_generator)``
``send/back``                                    ``send_back(response)``
``send/finish``                                  ``send_finish(response)``
``redirect/get``                                 ``redirect_get(headers=None)``
``redirect/get/forget``                          ``redirect_get_forget(headers=None)``
``clear-continuation-table!``                    ``clear_continuation_table()``
``adjust-timeout!``                              ``adjust_timeout(seconds)``
``with-errors-to-browser``                       ``with_errors_to_browser(send, thunk)``
``continuation-url?``                            ``is_continuation_url(url)``
``servlet-prompt``                               ``servlet_prompt`` (what ``send_back`` raises)
current-servlet-continuation-expiration-handler  ``current_servlet_continuation_expiration_handler``
                                                 (a ``ContextVar``)
===============================================  ============================================

What differs from Racket, because a Python function cannot be resumed twice: see
:mod:`servlets.stateful`.  Hence :func:`send_suspend_until_valid` (not in Racket): a
``send_suspend`` URL is used once, so a form whose answer fails validation is asked
again with a new page rather than by raising.
"""
from __future__ import annotations

import functools
import traceback
from typing import Any, Callable, Optional, Tuple, Type, TypeVar, Union
from urllib.parse import SplitResult, urlsplit

from dispatch.http.request import Request
from dispatch.http.response import Headers, redirect_to, response_xexpr, see_other

from . import stateful
from .stateful import (
    _SendBack,
    adjust_timeout,
    clear_continuation_table,
    current_servlet_continuation_expiration_handler,
    is_continuation_url,
)

__all__ = [
    "send_suspend", "send_suspend_dispatch", "send_forward", "send_back", "send_finish",
    "redirect_get", "redirect_get_forget", "clear_continuation_table", "adjust_timeout",
    "with_errors_to_browser", "current_servlet_continuation_expiration_handler",
    "send_suspend_until_valid",
]
__all__ += ["is_continuation_url", "send_suspend_url", "send_suspend_url_dispatch",
            "servlet_prompt"]

#: Racket's ``servlet-prompt``, the prompt tag of Web interaction: here the exception
#: class that :func:`send_back` (and ``send_finish``) raise up to the servlet's greenlet,
#: where the response it carries (``.response``) is sent.  Racket's
#: ``(call-with-continuation-prompt thunk servlet-prompt handler)`` is ``try: thunk()
#: except servlet_prompt as sent: handler(sent.response)``.  It derives from
#: ``BaseException``, so that ``except Exception`` in servlet code lets it through.
servlet_prompt = _SendBack

T = TypeVar("T")


def send_suspend(response_generator: Callable[[str], Any]) -> Request:
    """Send ``response_generator(k_url)`` and wait: return the request that comes to
    ``k_url``.  ``k_url`` can be used once; a second use gets the expiration page."""
    return stateful.send_suspend(response_generator)


def send_suspend_dispatch(response_generator: Callable[[Callable[[Callable], str]], Any]):
    """Send ``response_generator(embed_url)``, where ``embed_url(handler)`` is a URL that
    calls ``handler(request)`` each time it is used.  A response the handler returns is
    the answer; another value is returned from this call (once)."""
    return stateful.send_suspend_dispatch(response_generator)


def send_suspend_url(response_generator: Callable[[SplitResult], Any]) -> Request:
    """``send_suspend`` with the URL parsed: ``response_generator`` gets a
    ``urllib.parse.SplitResult`` (``.geturl()`` gives the string back).  Racket:
    ``send/suspend/url`` (its ``url`` struct)."""
    return stateful.send_suspend(lambda k_url: response_generator(urlsplit(k_url)))


def send_suspend_url_dispatch(
        response_generator: Callable[[Callable[[Callable], SplitResult]], Any]):
    """``send_suspend_dispatch`` whose ``embed_url(handler)`` gives a
    ``urllib.parse.SplitResult``.  Racket: ``send/suspend/url/dispatch``."""
    return stateful.send_suspend_dispatch(
        lambda embed_url: response_generator(lambda handler: urlsplit(embed_url(handler))))


def send_suspend_until_valid(
        response_generator: Callable[[str, Optional[Exception]], Any],
        validate: Callable[[Request], T],
        errors: Union[Type[Exception], Tuple[Type[Exception], ...]] = ValueError) -> T:
    """Ask until the answer is valid: send ``response_generator(k_url, None)``, pass the
    request that comes back to ``validate``, and return its value; while ``validate``
    raises one of ``errors`` (``ValueError`` by default: ``int("x")``, a formlet's
    ``FormletError``, your own checks), send ``response_generator(new_k_url, error)``
    instead, so the page can show what was wrong.  Not in Racket.

    Why: a URL of ``send_suspend`` resumes once.  An exception in the code after it is
    a 500 and ends the session; the user's corrected form then meets the expiration
    page.  Here each attempt gets a page of its own (the earlier pages' URLs expire, as
    any used ``send_suspend`` URL)::

        def ask_age(k_url, error):
            return response_xexpr(("form", [("action", k_url), ("method", "post")],
                                   ("p", str(error)) if error else "",
                                   "Age:", ("input", [("name", "age")])))

        age = send_suspend_until_valid(ask_age, lambda req: int(req.form["age"]))
    """
    if not isinstance(errors, tuple):
        errors = (errors,)
    if not errors or not all(isinstance(e, type) and issubclass(e, Exception)
                             for e in errors):
        raise TypeError(f"send_suspend_until_valid: errors is an exception class or a "
                        f"tuple of them, not {errors!r}")
    error: Optional[Exception] = None
    while True:
        request = send_suspend(functools.partial(_with_error, response_generator, error))
        try:
            return validate(request)
        except errors as exc:
            error = exc


def _with_error(response_generator: Callable[[str, Optional[Exception]], Any],
                error: Optional[Exception], k_url: str) -> Any:
    return response_generator(k_url, error)


def send_forward(response_generator: Callable[[str], Any]) -> Request:
    """``clear_continuation_table()``, then ``send_suspend``."""
    clear_continuation_table()
    return send_suspend(response_generator)


def send_back(response) -> None:
    """Send ``response``; the rest of the current handler does not run (Racket aborts to
    the servlet's prompt: here it raises :data:`servlet_prompt`).  The continuation
    table is kept."""
    stateful.send_back(response)


def send_finish(response) -> None:
    """``clear_continuation_table()``, then ``send_back(response)``."""
    clear_continuation_table()
    send_back(response)


def redirect_get(headers: Headers = None) -> Request:
    """POST-redirect-GET: answer with a ``303`` to a continuation URL and return the GET
    request that follows it.  Reloading the page it leads to renders that page again
    instead of posting again."""
    return stateful.send_suspend(
        lambda k_url: redirect_to(k_url, see_other, headers=headers), redirect=True)


def redirect_get_forget(headers: Headers = None) -> Request:
    """``redirect_get`` after ``clear_continuation_table()``."""
    clear_continuation_table()
    return redirect_get(headers)


def with_errors_to_browser(send: Callable[[Any], Optional[Request]],
                           thunk: Callable[[], Any]):
    """Run ``thunk()``; an exception becomes a 500 page showing it, sent with ``send``
    (``send_back`` or ``send_finish``).  For development: the page shows the traceback."""
    try:
        return thunk()
    except Exception:
        return send(response_xexpr(
            ("html", ("head", ("title", "Servlet Error")),
             ("body", [("bgcolor", "white")],
              ("p", "The following error occured: "), ("pre", traceback.format_exc()))),
            code=500, message="Internal Server Error"))
