"""Serve static files.  Racket: ``web-server/dispatchers/dispatch-files``.

GET and HEAD; single ``Range`` requests (206, or 416 when unsatisfiable), ``ETag`` and
``Last-Modified`` with 304 answers, and streaming come from werkzeug's ``send_file``
(bodies are read in blocks, never whole; ``wsgi.file_wrapper`` where the server has one).
MIME types from the standard library's ``mimetypes``.  Missing, unreadable or refused
paths decline, so the next dispatcher may answer.
"""
from __future__ import annotations

import mimetypes
import os
from typing import Callable, Iterable, Optional

from werkzeug.utils import send_file

from .core import Dispatcher, next_dispatcher
from .filesystem_map import UrlToPath

__all__ = ["make"]


def _mime_type(path: str) -> Optional[str]:
    return mimetypes.guess_type(path)[0]


def make(url_to_path: UrlToPath, *,
         path_to_mime_type: Callable[[str], Optional[str]] = _mime_type,
         path_to_headers: Callable[[str], Iterable] = lambda path: (),
         indices: Iterable[str] = ("index.html", "index.htm"),
         cache_no_cache: bool = False, cache_no_store: bool = False,
         cache_max_age: Optional[int] = None, cache_smax_age: Optional[int] = None,
         cache_private: bool = False, cache_public: bool = False,
         cache_must_revalidate: bool = False, cache_proxy_revalidate: bool = False,
         cache_must_understand: bool = False, cache_immutable: bool = False,
         cache_stale_while_revalidate: Optional[int] = None,
         cache_stale_if_error: Optional[int] = None) -> Dispatcher:
    """A dispatcher serving the files ``url_to_path`` maps.  The ``cache_*`` keywords are
    Racket's: each adds its ``Cache-Control`` directive; ``path_to_headers(path)`` adds
    headers per file."""
    indices = tuple(indices)
    directives = [d for d in (
        cache_no_cache and "no-cache", cache_no_store and "no-store",
        cache_max_age is not None and f"max-age={cache_max_age}",
        cache_smax_age is not None and f"s-maxage={cache_smax_age}",
        cache_private and "private", cache_public and "public",
        cache_must_revalidate and "must-revalidate",
        cache_proxy_revalidate and "proxy-revalidate",
        cache_must_understand and "must-understand", cache_immutable and "immutable",
        cache_stale_while_revalidate is not None
        and f"stale-while-revalidate={cache_stale_while_revalidate}",
        cache_stale_if_error is not None and f"stale-if-error={cache_stale_if_error}",
    ) if d]
    cache_control = ", ".join(directives)

    def files(conn, request):
        if request.method not in ("GET", "HEAD"):
            next_dispatcher()
        try:
            path, _ = url_to_path(request.path)
        except ValueError:
            next_dispatcher()
        if os.path.isdir(path):
            path = next((os.path.join(path, i) for i in indices
                         if os.path.isfile(os.path.join(path, i))), None)
            if path is None:
                next_dispatcher()
        if not os.path.isfile(path) or not os.access(path, os.R_OK):
            next_dispatcher()  # missing or unreadable: another dispatcher may know better
        response = send_file(path, request.environ,
                             mimetype=path_to_mime_type(path) or "application/octet-stream",
                             conditional=True, etag=True, max_age=None)
        if cache_control:
            response.headers["Cache-Control"] = cache_control
        for name, value in path_to_headers(path):
            response.headers[name] = value
        conn.respond(response)

    return files
