"""Continuation managers for stateful servlets.  Racket: ``web-server/managers/*``.

Pass one to :func:`servlets.stateful.make` (``serve_servlet(..., manager=...)``)::

    make_threshold_lru_manager(expiration_handler, 64 * 1024 * 1024)
    make_timeout_manager(expiration_handler, instance_timeout, continuation_timeout)
    make_none_manager(expiration_handler)

``expiration_handler`` is ``(request) -> response`` answering requests for expired
continuations, or ``None`` for the default page ("Sorry, this page has expired. Please
go back.").
"""
from .lru import create_lru_manager, current_rss, make_threshold_lru_manager
from .manager import (
    Manager,
    NoContinuation,
    NoInstance,
    ServletManagerError,
    exn_fail_servlet_manager_no_continuation,
    exn_fail_servlet_manager_no_instance,
)
from .none import create_none_manager, make_none_manager
from .timeouts import create_timeout_manager, make_timeout_manager

__all__ = [
    "Manager", "NoContinuation", "NoInstance", "ServletManagerError",
    "create_lru_manager", "make_threshold_lru_manager", "current_rss",
    "create_timeout_manager", "make_timeout_manager",
    "create_none_manager", "make_none_manager",
]
__all__ += ["exn_fail_servlet_manager_no_continuation", "exn_fail_servlet_manager_no_instance"]
