"""The request a servlet or dispatcher receives.  Racket: ``request`` from
``web-server/http/request-structs``.

It is a werkzeug ``Request`` (everything werkzeug users know works) with Racket's
accessors under Python names:

=============================  ==========================
Racket                         Python
=============================  ==========================
``request-method``             ``request.method``
``request-uri``                ``request.uri`` (``url`` too)
``request-headers/raw``        ``request.headers``
``request-bindings/raw``       ``request.bindings`` (query and form)
``request-post-data/raw``      ``request.post_data``
``request-client-ip``          ``request.client_ip``
``request-host-ip``            ``request.host_ip``
``request-host-port``          ``request.host_port``
=============================  ==========================
"""
from __future__ import annotations

from typing import Optional

from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Request as _WerkzeugRequest

__all__ = ["Request", "MAX_BODY"]

#: Racket's ``make-safety-limits`` default for bodies read whole: 1 MiB.
MAX_BODY = 1024 * 1024


class Request(_WerkzeugRequest):
    """A werkzeug request with Racket's accessors."""

    max_form_memory_size = MAX_BODY

    @property
    def max_content_length(self) -> Optional[int]:
        """Bodies read whole (``post_data``, forms) larger than this get ``413``: the
        server's ``max_request_body_length``, 1 MiB by default."""
        return self.environ.get("gevent_dispatch.max_body", MAX_BODY)

    @property
    def uri(self) -> str:
        """The full URL the client asked for."""
        return self.url

    @property
    def bindings(self) -> MultiDict:
        """Query-string and form bindings together, query first."""
        return self.values

    @property
    def post_data(self) -> bytes:
        """The raw request body (at most :attr:`max_content_length` bytes)."""
        return self.get_data(cache=True)

    @property
    def client_ip(self) -> Optional[str]:
        return self.remote_addr

    @property
    def host_ip(self) -> Optional[str]:
        """The server address the request arrived on."""
        handler = self.environ.get("gevent_dispatch.handler")
        if handler is not None and handler.socket is not None:
            return handler.socket.getsockname()[0]
        return self.environ.get("SERVER_NAME")

    @property
    def host_port(self) -> int:
        return int(self.environ.get("SERVER_PORT") or 0)
