"""The engine's only use of gevent's private socket internals, in one place.

gevent's socket methods are made for blocking-style code: ``recv`` first tries and fails
with an exception before it waits, ``sendall`` asks the socket's options on every call,
and a full send buffer makes a writer wait.  The engine's hot paths and its detached
streams go around them to the OS socket underneath; these helpers are how.  TLS keeps
state beside the socket (``pending``): there, gevent's own methods are used.
"""
from __future__ import annotations

from typing import Any, Optional

__all__ = ["is_tls", "os_socket", "os_socket_of", "wait_readable"]


def is_tls(sock: Any) -> bool:
    """Whether ``sock`` is a TLS socket (its buffered bytes are invisible to the OS)."""
    return getattr(sock, "pending", None) is not None


def os_socket(sock: Any) -> Optional[Any]:
    """The OS socket under gevent's plain socket ``sock``; ``None`` for TLS."""
    return None if is_tls(sock) else getattr(sock, "_sock", None)


def os_socket_of(sock: Any) -> Any:
    """The OS socket under ``sock``, or ``sock`` itself where it has none."""
    return getattr(sock, "_sock", sock)


def wait_readable(sock: Any) -> None:
    """Wait on gevent's own read watcher of ``sock`` (under its time-out, if any)."""
    sock._wait(sock._read_event)
