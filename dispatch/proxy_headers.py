"""Trusted reverse proxies: honour ``X-Forwarded-*`` only from them.

No Racket twin (Racket's ``request-client-ip`` is always the direct peer).  Behind
nginx, the direct peer of every request is nginx, and the client's address and scheme
come in ``X-Forwarded-For`` and ``X-Forwarded-Proto``.  Those headers are whatever the
sender wrote, so they are believed only when the direct peer is one of ``trusted``, and
only as many hops deep as there are proxies, as werkzeug's ``ProxyFix`` (which does the
rewriting here) counts them::

    serve(proxy_headers.make(dispatcher, trusted=("127.0.0.1",)), port=8080)

With one proxy (``x_for=1``), ``X-Forwarded-For: 203.0.113.9, 198.51.100.2`` gives
``request.client_ip == "198.51.100.2"``: the address nginx itself saw; the first one may
have been made up by the client.  The environ is rewritten in place (``REMOTE_ADDR``,
``wsgi.url_scheme``, ``HTTP_HOST``, ``SERVER_PORT``, ``SCRIPT_NAME``), so access logs
and everything after see the client; the originals stay in
``environ["werkzeug.proxy_fix.orig"]``.  From untrusted peers nothing changes.
"""
from __future__ import annotations

import ipaddress
from typing import Iterable, Union

from werkzeug.middleware.proxy_fix import ProxyFix

from .connection import WSGIApp
from .core import Dispatcher

__all__ = ["TrustedProxies", "make", "wrap_wsgi"]

_Network = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]


def _rewritten(environ, start_response):
    return None


class TrustedProxies:
    """Which peers are proxies, and how many ``X-Forwarded-*`` values to believe.

    ``trusted``: addresses or networks (``"10.0.0.0/8"``, ``"::1"``) of the proxies
    directly in front.  ``x_for``, ``x_proto``, ``x_host``, ``x_port``, ``x_prefix``:
    the number of proxies that set ``X-Forwarded-For``, ``-Proto``, ``-Host``, ``-Port``
    and ``-Prefix`` (0: ignore the header), as werkzeug's ``ProxyFix``.
    """

    def __init__(self, trusted: Iterable[str] = ("127.0.0.1", "::1"), x_for: int = 1,
                 x_proto: int = 1, x_host: int = 0, x_port: int = 0,
                 x_prefix: int = 0) -> None:
        if isinstance(trusted, str):
            trusted = (trusted,)
        self.networks: tuple[_Network, ...] = tuple(
            ipaddress.ip_network(value, strict=False) for value in trusted)
        self._fix = ProxyFix(_rewritten, x_for=x_for, x_proto=x_proto, x_host=x_host,
                             x_port=x_port, x_prefix=x_prefix)

    def trusts(self, address: object) -> bool:
        """Whether ``address`` (a peer's IP, as in ``REMOTE_ADDR``) is a trusted proxy."""
        if not isinstance(address, str) or not address:
            return False
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip in network for network in self.networks)

    def apply(self, environ: dict) -> bool:
        """Rewrite ``environ`` from the forwarded headers when its peer is trusted;
        return whether it did."""
        if not self.trusts(environ.get("REMOTE_ADDR")):
            return False
        self._fix(environ, None)  # type: ignore[arg-type]  # rewrites; never responds
        return True


def make(inner: Dispatcher, trusted: Iterable[str] = ("127.0.0.1", "::1"), *,
         x_for: int = 1, x_proto: int = 1, x_host: int = 0, x_port: int = 0,
         x_prefix: int = 0) -> Dispatcher:
    """A dispatcher calling ``inner`` with the client's address and scheme taken from
    ``X-Forwarded-*`` when the direct peer is in ``trusted`` (see
    :class:`TrustedProxies`), and with the request unchanged otherwise."""
    proxies = TrustedProxies(trusted, x_for=x_for, x_proto=x_proto, x_host=x_host,
                             x_port=x_port, x_prefix=x_prefix)

    def proxy_headers(conn, request):
        if proxies.apply(conn.environ):
            # werkzeug's Request reads the address and scheme when it is built.
            request = type(request)(conn.environ)
        return inner(conn, request)

    return proxy_headers


def wrap_wsgi(app: WSGIApp, trusted: Iterable[str] = ("127.0.0.1", "::1"), *,
              x_for: int = 1, x_proto: int = 1, x_host: int = 0, x_port: int = 0,
              x_prefix: int = 0) -> WSGIApp:
    """The same as WSGI middleware: ``wrap_wsgi(to_wsgi(dispatcher), ...)``."""
    proxies = TrustedProxies(trusted, x_for=x_for, x_proto=x_proto, x_host=x_host,
                             x_port=x_port, x_prefix=x_prefix)

    def proxied(environ, start_response):
        proxies.apply(environ)
        return app(environ, start_response)

    return proxied
