"""Any WSGI application (Flask, Django, any PEP 3333 callable) as a dispatcher.

Racket has no WSGI; the nearest twin is ``dispatch-servlets``, which mounts servlets
under a URL prefix.  The mount follows werkzeug's ``DispatcherMiddleware``: the prefix
moves from ``PATH_INFO`` to ``SCRIPT_NAME``, so the app builds its URLs under it::

    sequencer.make(wsgi_app.make(flask_app, prefix="/blog", decline_on_404=True),
                   dispatch_servlet(start))

=================  ======================  ====================
request path       ``SCRIPT_NAME``         ``PATH_INFO``
=================  ======================  ====================
``/blog``          ``/blog``               ``""``
``/blog/``         ``/blog``               ``/``
``/blog/a/b``      ``/blog``               ``/a/b``
``/blogger``       declined                declined
=================  ======================  ====================
"""
from __future__ import annotations

from typing import Any, Callable, Iterable, Iterator, Optional

from .connection import WSGIApp
from .core import Dispatcher, next_dispatcher

__all__ = ["make", "split_prefix"]


def split_prefix(path: str, prefix: str) -> Optional[tuple[str, str]]:
    """``(script_name_part, path_info)`` when ``path`` is ``prefix`` or under it (a whole
    segment: ``/blog`` does not take ``/blogger``), else ``None``."""
    if path == prefix:
        return prefix, ""
    if path.startswith(prefix + "/"):
        return prefix, path[len(prefix):]
    return None


def _close(iterable: Iterable) -> None:
    close = getattr(iterable, "close", None)
    if close is not None:
        close()


class _Replay:
    """The app's response, started before the dispatcher accepted: its status line, the
    writes and the first chunk it produced then, followed by the rest of its body,
    unread until the server asks for it."""

    def __init__(self, started: tuple, written: list, head: list, body: Iterable,
                 rest: Iterator) -> None:
        self.started, self.written, self.head = started, written, head
        self.body, self.rest = body, rest
        self.write: Optional[Callable[[bytes], Any]] = None
        self.start_response: Optional[Callable] = None

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        self.start_response = start_response
        self.write = start_response(*self.started)
        return self._chunks()

    def _chunks(self) -> Iterator[bytes]:
        try:
            yield from self.written
            yield from self.head
            yield from self.rest
        finally:
            _close(self.body)


def _run_buffering_status(app: WSGIApp, environ: dict):
    """Call ``app`` until its status is known; return ``(status, replay)``.

    Most apps call ``start_response`` before returning; a generator app calls it on its
    first chunk, so that one chunk is read, and only that one."""
    started: list = []
    written: list = []
    replay: list = []

    def write(data: bytes) -> None:
        # Legacy write(): before the replay starts it is kept; afterwards it goes through.
        if replay and replay[0].write is not None:
            replay[0].write(data)
        else:
            written.append(data)

    def start_response(status: str, headers: list, exc_info=None):
        if replay and replay[0].start_response is not None:
            # An error page replacing a streaming response: the server decides (PEP 3333).
            return replay[0].start_response(status, headers, exc_info)
        started[:] = [(status, headers, exc_info)]
        return write

    body = app(environ, start_response)
    rest = iter(body)
    head: list = []
    try:
        while not started:
            try:
                head.append(next(rest))
            except StopIteration:
                break
    except BaseException:
        _close(body)
        raise
    if not started:
        _close(body)
        raise RuntimeError("the WSGI application returned without calling start_response")
    status, headers, exc_info = started[0]
    replay.append(_Replay((status, headers, exc_info), written, head, body, rest))
    return status, replay[0], body


def make(app: WSGIApp, prefix: Optional[str] = None,
         decline_on_404: bool = False) -> Dispatcher:
    """A dispatcher answering with the WSGI application ``app``.

    ``prefix`` (``"/blog"``): only requests at or under it, which the app sees with
    ``SCRIPT_NAME`` extended by the prefix and ``PATH_INFO`` the rest; others are
    declined.  ``decline_on_404``: a ``404`` from the app declines too, so the next
    dispatcher of a sequencer tries; the app runs inside the dispatcher until its status
    is known (any other response streams untouched afterwards).  A 404 app that read the
    request body has consumed it for the next dispatcher.
    """
    mount = prefix.rstrip("/") if prefix else ""

    def wsgi_app(conn, request):
        environ = conn.environ
        if mount:
            split = split_prefix(environ.get("PATH_INFO", ""), mount)
            if split is None:
                next_dispatcher()
            # A copy: when the app declines, the next dispatcher sees the request unchanged.
            environ = dict(environ, SCRIPT_NAME=environ.get("SCRIPT_NAME", "") + split[0],
                           PATH_INFO=split[1])
        elif decline_on_404:
            environ = dict(environ)
        if not decline_on_404:
            conn.respond(lambda _environ, start_response: app(environ, start_response))
            return
        status, replay, body = _run_buffering_status(app, environ)
        if status.split(" ", 1)[0] == "404":
            _close(body)
            next_dispatcher()
        conn.respond(replay)

    return wsgi_app
