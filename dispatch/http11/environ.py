"""The WSGI environ of a request (PEP 3333), from a parsed :class:`~.reader.Message`."""
from __future__ import annotations

from typing import Any
from urllib.parse import unquote_to_bytes

from .reader import Message

__all__ = ["environ_for"]

# "User-Agent" -> "HTTP_USER_AGENT", computed once per distinct field name.
_keys: dict[bytes, str] = {}
_SPECIAL = {b"content-type": "CONTENT_TYPE", b"content-length": "CONTENT_LENGTH"}


def _key(name: bytes) -> str:
    key = _keys.get(name)
    if key is None:
        lower = name.lower()
        key = _SPECIAL.get(lower) or "HTTP_" + name.decode("latin-1").upper().replace("-", "_")
        if len(_keys) < 1024:
            _keys[name] = key
    return key


def environ_for(message: Message, base: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``base`` (the server's and connection's entries) with the request's."""
    environ = base.copy()
    environ["REQUEST_METHOD"] = message.method
    environ["SERVER_PROTOCOL"] = "HTTP/1.0" if message.version == "1.0" else "HTTP/1.1"
    target, authority = message.target, None
    if target[:1] != b"/" and target != b"*":
        target, authority = _origin_form(target)
    raw = target.decode("latin-1")
    environ["RAW_URI"] = environ["REQUEST_URI"] = raw
    path, _, query = raw.partition("?")
    environ["PATH_INFO"] = path if "%" not in path else \
        unquote_to_bytes(path).decode("latin-1")
    environ["QUERY_STRING"] = query
    for name, field in message.headers:
        if b"_" in name:
            # CGI maps "-" and "_" alike: X_Forwarded_For could pose as X-Forwarded-For.
            continue
        key = _keys.get(name)
        if key is None:
            key = _key(name)
        value = field.decode("latin-1")
        if key in environ and key.startswith("HTTP_"):
            separator = "; " if key == "HTTP_COOKIE" else ", "
            environ[key] += separator + value
        else:
            environ[key] = value
    if authority is not None:
        environ["HTTP_HOST"] = authority
    return environ


def _origin_form(target: bytes) -> tuple[bytes, str]:
    """``http://host/path?q`` -> ``/path?q`` and ``host``: RFC 9112 3.2.2, a server MUST
    accept the absolute form, and the URL's authority wins over the Host field."""
    rest = target.partition(b"://")[2]
    end = len(rest)
    for stop in (b"/", b"?"):
        found = rest.find(stop)
        if 0 <= found < end:
            end = found
    authority, path = rest[:end], rest[end:]
    if not path.startswith(b"/"):
        path = b"/" + path
    return path, authority.decode("latin-1")
