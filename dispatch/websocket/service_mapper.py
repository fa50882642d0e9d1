"""Map paths and subprotocols to WebSocket handlers.  Racket: ``ws-service-mapper`` and
``make-service-mapper-dispatcher`` from ``net/rfc6455/service-mapper``.

The seed's mapper::

    (ws-service-mapper
     ["^/ws_test"
      [(#f) (lambda (c) ...)]])

ports as::

    ws_service_mapper(
        ("^/ws_test",
         ([None], lambda c: ...)))

Each entry is ``(path_regex, (protocols, handler), ...)``: the regex (str, or bytes as
Racket's ``#rx#"..."``, matched against the path's UTF-8 bytes) must match the whole
path; ``protocols`` lists the subprotocols the handler speaks, ``None`` standing for
"no subprotocol requested".  Handlers are tried in order; the first whose protocols
include one the client asked for (or ``None`` when it asked for none) wins, and its
subprotocol is returned in ``Sec-WebSocket-Protocol``.  Named groups of the regex are
route parameters: ``("^/chat/(?P<room>[^/]+)", ([None], chat))`` calls
``chat(c, room="lobby")`` for ``/chat/lobby``.
"""
from __future__ import annotations

import functools
import re
from typing import Any, Callable, Iterable, Optional, Union

from ..core import Dispatcher, next_dispatcher
from .connection import WebSocketConnection, WSOptions
from .deflate import DeflateOptions
from .dispatcher import accept
from .handshake import Origins, is_upgrade, origin_policy, requested_subprotocols

__all__ = ["ServiceMapper", "make_service_mapper_dispatcher", "ws_service_mapper"]

Handler = Callable[[WebSocketConnection], Any]
Protocols = Union[None, str, Iterable[Optional[str]]]


class ServiceMapper:
    """What :func:`ws_service_mapper` returns: ``mapper(path, requested)`` gives
    ``(subprotocol, handler)`` or ``None``."""

    def __init__(self, entries: list) -> None:
        self.entries = entries

    def __call__(self, path: str, requested: list) -> Optional[tuple]:
        chosen = self.match(path, requested)
        return chosen[:2] if chosen is not None else None

    def match(self, path: str, requested: list) -> Optional[tuple]:
        """``(subprotocol, handler, params)``: ``params`` are the named groups of the
        path regex (``(?P<room>[^/]+)``), which the handler gets as keyword arguments."""
        for regex, handlers in self.entries:
            if isinstance(regex.pattern, bytes):
                # A bytes regex (Racket's #rx#"...") matches the path's UTF-8 bytes.
                found = regex.fullmatch(path.encode("utf-8", "surrogateescape"))
                params = {} if found is None else {
                    k: v.decode("utf-8", "replace") if v is not None else None
                    for k, v in found.groupdict().items()}
            else:
                found = regex.fullmatch(path)
                params = {} if found is None else found.groupdict()
            if found is None:
                continue
            for protocols, handler in handlers:
                for protocol in protocols:
                    if protocol is None and not requested:
                        return None, handler, params
                    if protocol is not None and protocol in requested:
                        return protocol, handler, params
        return None


def _protocols(value: Protocols) -> tuple:
    if value is None or isinstance(value, str):
        return (value,)
    return tuple(value)


def ws_service_mapper(*entries) -> ServiceMapper:
    """Build a mapper from ``(path_regex, (protocols, handler), ...)`` entries, or from
    one dict ``{path_regex: {protocol_or_None: handler}}``."""
    if len(entries) == 1 and isinstance(entries[0], dict):
        entries = tuple((path, *[(p, h) for p, h in handlers.items()])
                        for path, handlers in entries[0].items())
    compiled = []
    for path, *handlers in entries:
        if not handlers:
            raise ValueError(f"no handler for {path!r}")
        if not isinstance(path, (str, bytes, re.Pattern)):
            raise TypeError(f"ws_service_mapper: a path regex is a str or bytes regex, "
                            f"given {type(path).__name__} {path!r}")
        # A bytes regex (Racket's #rx#"...") matches the path's UTF-8 bytes.
        compiled.append((re.compile(path),
                         [(_protocols(protocols), handler) for protocols, handler in handlers]))
    return ServiceMapper(compiled)


def make_service_mapper_dispatcher(mapper: ServiceMapper, *,
                                   options: WSOptions = WSOptions(),
                                   deflate: DeflateOptions = DeflateOptions(),
                                   origins: Origins = None) -> Dispatcher:
    """A dispatcher serving the WebSockets ``mapper`` maps; it declines requests that are
    not upgrades, and upgrades whose path or subprotocols no entry accepts.  A browser's
    handshake from another site than the server's own host gets 403 unless ``origins``
    lists its origin (see :func:`~dispatch.websocket.handshake.origin_policy`)."""
    if not isinstance(mapper, ServiceMapper):
        raise TypeError(f"make_service_mapper_dispatcher: mapper is a ws_service_mapper(...), "
                        f"not {type(mapper).__name__} {mapper!r}")
    origins = origin_policy(origins, "make_service_mapper_dispatcher: origins")

    def dispatcher(conn, request):
        if not is_upgrade(conn.environ):
            next_dispatcher()
        chosen = mapper.match(request.path, requested_subprotocols(conn.environ))
        if chosen is None:
            next_dispatcher()
        subprotocol, handler, params = chosen
        if params:  # route parameters: the regex's named groups
            handler = functools.partial(handler, **params)
        accept(conn, request, handler, subprotocol=subprotocol, options=options,
               deflate=deflate, origins=origins)

    return dispatcher
