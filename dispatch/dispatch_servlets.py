"""Serve a directory of servlets, each loaded once and kept.  Racket:
``web-server/dispatchers/dispatch-servlets``.

::

    from dispatch import dispatch_servlets
    from servlets.setup import make_default_path_to_servlet

    flush, url_to_servlet = dispatch_servlets.make_cached_url_to_servlet(
        dispatch_servlets.make_servlet_url_to_path("servlets"),
        make_default_path_to_servlet())
    dispatcher = dispatch_servlets.make(url_to_servlet)

``/add.py`` then runs ``servlets/add.py``'s ``start`` (a stateful servlet: its
``send_suspend`` URLs come back to it), loaded on its first request and kept until
``flush()`` (Racket's ``/conf/refresh-servlets``).  A servlet module exports ``start``
and optionally ``manager``, ``interface_version`` and ``timeout``, as Racket's servlet
files do (see :func:`servlets.setup.make_default_path_to_servlet`).

Loading a URL's file runs its code, so what a URL may name is narrower than Racket's
(whose ``serve/servlet`` loads any ``.rkt`` under the root):
:func:`make_servlet_url_to_path` maps only ``.py`` files inside the root, refusing
``..`` above it, symbolic links leading out of it, and any path segment that starts with
``.`` or ``_`` (hidden files, ``__init__.py``, ``__pycache__``, private helpers); and
``make_default_path_to_servlet`` runs no file whose source does not define ``start``.
"""
from __future__ import annotations

import logging
import os
import re
from typing import Any, Callable, Iterable, Optional, Union
from urllib.parse import unquote, urlsplit

from gevent.lock import Semaphore
from werkzeug.exceptions import HTTPException

from .core import Dispatcher, DispatcherNotApplicable, next_dispatcher
from .filesystem_map import (
    PathEscape,
    UrlToPath,
    filter_url_to_path,
    make_url_to_path,
    make_url_to_valid_path,
)
from .responders import servlet_error_responder, servlet_loading_responder

__all__ = ["make", "make_cached_url_to_servlet", "make_servlet_url_to_path", "Servlet",
           "ServletNotFound"]

log = logging.getLogger("dispatch")

Responder = Callable[[str, BaseException], Any]


class ServletNotFound(LookupError):
    """No servlet file at a URL (``url_to_path`` refused it): the dispatcher declines.
    Racket raises ``exn:fail:filesystem:exists`` for it."""


class Servlet:
    """What ``url_to_servlet`` returns.  Racket: ``servlet`` (``web-server/private/servlet``):
    ``manager``, ``directory`` and ``handler``, here a dispatcher ``(conn, request)``.

    ``make_handler(responder)``, when given, builds the handler that answers the
    servlet's own exceptions with ``responder`` (a stateful servlet catches them in its
    greenlet, where :func:`make`'s ``responders_servlet`` would not see them); one is
    built per responder and kept."""

    __slots__ = ("handler", "manager", "directory", "module", "_make_handler", "_handlers")

    def __init__(self, handler: Dispatcher, *, manager: Any = None,
                 directory: Optional[str] = None, module: Any = None,
                 make_handler: Optional[Callable[[Responder], Dispatcher]] = None) -> None:
        if not callable(handler):
            raise TypeError(f"Servlet: handler must be a dispatcher (conn, request), "
                            f"given {handler!r}")
        self.handler, self.manager, self.directory = handler, manager, directory
        self.module = module
        self._make_handler = make_handler
        self._handlers: dict = {}

    def handler_for(self, responder: Responder) -> Dispatcher:
        if self._make_handler is None:
            return self.handler
        handler = self._handlers.get(responder)
        if handler is None:
            handler = self._handlers[responder] = self._make_handler(responder)
        return handler

    def __repr__(self) -> str:
        return f"<Servlet {getattr(self.module, '__file__', self.handler)!r}>"


def _url_path(url: str) -> str:
    """A URL path as ``url_to_path`` takes it; full URLs (``request.url``) too."""
    if not isinstance(url, str):
        raise TypeError(f"expected a URL or URL path (str), given {url!r}")
    return url if url.startswith("/") else unquote(urlsplit(url).path)


def make_cached_url_to_servlet(
        url_to_path: UrlToPath, path_to_servlet: Callable[[str], Servlet],
) -> tuple[Callable[..., None], Callable[[str], Servlet]]:
    """``(flush, url_to_servlet)``.  Racket: ``make-cached-url->servlet``.

    ``url_to_servlet(url_path)`` maps the URL to a file with ``url_to_path`` (raising
    :class:`ServletNotFound` when it refuses), then to a servlet with
    ``path_to_servlet(path)``, once per file: later requests find it in the cache (a
    file that failed to load is tried again next time).

    ``flush(urls=None, finalize=None)`` empties the cache, or forgets only the servlets
    that ``urls`` (URL paths or full URLs) map to; ``finalize(servlet)`` runs for each
    one forgotten.  As Racket's, by default nothing is finalized: a flushed servlet's
    continuations expire only as its manager lets them (``finalize=lambda s:
    s.manager.close()`` ends them at once, unless the new load shares the manager)."""
    if not callable(url_to_path):
        raise TypeError(f"make_cached_url_to_servlet: url_to_path must be a procedure, "
                        f"given {url_to_path!r}")
    if not callable(path_to_servlet):
        raise TypeError(f"make_cached_url_to_servlet: path_to_servlet must be a procedure, "
                        f"given {path_to_servlet!r}")
    cache: dict = {}
    lock = Semaphore()

    def servlet_path(url: str) -> str:
        try:
            path, _ = url_to_path(_url_path(url))
        except Exception as exc:
            raise ServletNotFound(str(exc)) from exc
        return os.fspath(path)

    def flush(urls: Optional[Iterable[str]] = None,
              finalize: Optional[Callable[[Servlet], Any]] = None) -> None:
        if isinstance(urls, str):
            raise TypeError(f"flush: urls must be a list of URLs, given {urls!r}")
        with lock:
            if urls is None:
                keys = list(cache)
            else:
                keys = []
                for url in urls:
                    try:
                        keys.append(servlet_path(url))
                    except ServletNotFound:
                        continue
            for key in keys:
                servlet = cache.pop(key, None)
                if servlet is not None and finalize is not None:
                    finalize(servlet)

    def url_to_servlet(url: str) -> Servlet:
        key = servlet_path(url)
        servlet = cache.get(key)
        if servlet is None:
            with lock:  # one load per file, however many requests wait for it
                servlet = cache.get(key)
                if servlet is None:
                    servlet = cache[key] = path_to_servlet(key)
        return servlet

    return flush, url_to_servlet


def make_servlet_url_to_path(root: Union[str, os.PathLike], suffix: str = ".py") -> UrlToPath:
    """The URL-to-file mapping for servlet files under ``root``: the longest prefix of
    the URL path that names a ``suffix`` file (so ``/add.py/more`` and the continuation
    URL ``/add.py;k=...`` map to ``add.py``); never a file outside ``root`` (``..``,
    symbolic links), nor one whose path has a segment starting with ``.`` or ``_``.
    Racket's ``serve/servlet`` composes ``filter-url->path``, ``make-url->valid-path``
    and ``make-url->path`` so, without the last rule."""
    if not os.path.isdir(root):
        raise ValueError(f"make_servlet_url_to_path: {os.fspath(root)!r} is not a directory")
    if not isinstance(suffix, str) or not suffix.startswith("."):
        raise ValueError(f"make_servlet_url_to_path: suffix must be like '.py', given {suffix!r}")
    inside = make_url_to_path(root)

    def url_to_path(url_path: str) -> tuple:
        path, pieces = inside(url_path)
        if any(piece.startswith((".", "_")) for piece in pieces):
            raise PathEscape(f"{url_path!r} names a hidden or private file")
        return path, pieces

    return filter_url_to_path(re.escape(suffix) + "$", make_url_to_valid_path(url_to_path))


def make(url_to_servlet: Callable[[str], Servlet], *,
         responders_servlet_loading: Responder = servlet_loading_responder,
         responders_servlet: Responder = servlet_error_responder) -> Dispatcher:
    """A dispatcher running the servlet ``url_to_servlet(request.path)`` finds.  Racket:
    ``make`` (``#:responders-servlet-loading``, ``#:responders-servlet``).

    No servlet there (:class:`ServletNotFound`): the dispatcher declines.  A servlet
    that fails to load is answered by ``responders_servlet_loading(url, exc)``, one that
    raises by ``responders_servlet(url, exc)`` (both logged with their traceback); a
    servlet calling ``next_dispatcher()`` declines, as Racket's."""
    if not callable(url_to_servlet):
        raise TypeError(f"dispatch_servlets.make: url_to_servlet must be a procedure, "
                        f"given {url_to_servlet!r}")
    for name, responder in (("responders_servlet_loading", responders_servlet_loading),
                            ("responders_servlet", responders_servlet)):
        if not callable(responder):
            raise TypeError(f"dispatch_servlets.make: {name} must be a procedure "
                            f"(url, exception) -> response, given {responder!r}")

    def dispatcher(conn, request) -> None:
        url = request.url
        try:
            servlet = url_to_servlet(request.path)
        except ServletNotFound:
            next_dispatcher()
        except (DispatcherNotApplicable, HTTPException):
            raise
        except Exception as exc:
            log.exception("servlet at %s did not load", url)
            conn.respond(responders_servlet_loading(url, exc))
            return
        try:
            servlet.handler_for(responders_servlet)(conn, request)
        except (DispatcherNotApplicable, HTTPException):
            raise
        except Exception as exc:
            if conn.answered:
                raise
            log.exception("servlet at %s failed", url)
            conn.respond(responders_servlet(url, exc))

    return dispatcher
