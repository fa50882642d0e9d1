"""Authenticated (signed, timestamped) cookies.  Racket: ``web-server/http/id-cookie``.

::

    key = make_secret_salt_file("secret-salt")          # 128 random bytes, kept
    response_xexpr(page, cookies=[make_id_cookie("user", "alice", key=key)])
    ...
    user = request_id_cookie(req, name="user", key=key)  # "alice", or None

The client receives ``digest&authored-seconds&value`` (the layout of Racket's cookies,
after the MIT "Cookie Eaters" design).  The digest is an HMAC-SHA256 over the cookie's
name, the authoring time and the value, unpadded URL-safe base64, checked with a
constant-time compare: a cookie whose value, time or name was changed, or one signed
with another key, is refused.  (Racket signs with HMAC-SHA1 over its own
serialisation, so cookies do not cross between the two.)

Safe by default, unlike Racket's: :func:`make_id_cookie` sets ``SameSite=Lax`` (Racket's
``make-id-cookie`` takes no SameSite at all), so a browser does not send the cookie with
a form another site posts here (cross-site request forgery).  Served over HTTPS, pass
``secure=True`` too, so that the cookie never travels over plain HTTP.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import math
import os
import re
import secrets
import time
from typing import Optional, Union

from .cookies import ClientCookie, Cookie, Expires, make_cookie, request_cookies

__all__ = ["logout_id_cookie", "make_id_cookie", "make_secret_salt_file",
           "request_id_cookie", "valid_id_cookie"]

_ID_VALUE = re.compile(r"([A-Za-z0-9_-]{43})&([0-9]{1,19})&(.*)", re.DOTALL)

# Overridable in tests; everything here reads the time through it.
_now = time.time


def _bytes(value: Union[str, bytes]) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


def _text(value: Union[str, bytes]) -> str:
    return value.decode("utf-8") if isinstance(value, (bytes, bytearray)) else value


def _mac(key: bytes, name: str, authored: int, data: str) -> str:
    if not isinstance(key, (bytes, bytearray)) or not key:
        raise TypeError("the key is a non-empty bytes object (see make_secret_salt_file)")
    message = b"\0".join((name.encode("utf-8"), str(authored).encode("ascii"),
                          data.encode("utf-8")))
    digest = hmac.new(bytes(key), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def make_id_cookie(name: Union[str, bytes], value: Union[str, bytes], *, key: bytes,
                   path: Optional[str] = None, expires: Expires = None,
                   max_age: Optional[int] = None, domain: Optional[str] = None,
                   secure: bool = False, http_only: bool = True,
                   same_site: Optional[str] = "Lax",
                   extension: Optional[str] = None) -> Cookie:
    """A cookie holding ``value``, signed with ``key`` and stamped with the time.
    Racket: ``make-id-cookie`` (``http_only`` is true by default, as there).

    ``same_site`` is ``"Lax"`` by default (not in Racket): browsers leave the cookie out
    of cross-site POSTs, frames and scripted requests, and send it on plain links to
    the site.  ``"Strict"`` leaves it out of links from other sites too; ``None`` omits
    the attribute (Racket's cookie, sent everywhere).  ``secure=True`` (use it when the
    site is served over HTTPS) keeps the cookie off plain-HTTP requests."""
    if isinstance(same_site, str) and same_site.lower() == "none" and not secure:
        raise ValueError("same_site='None' needs secure=True: browsers drop a SameSite=None "
                         "cookie that is not Secure")
    name, data = _text(name), _text(value)
    authored = int(_now())
    signed = f"{_mac(key, name, authored, data)}&{authored}&{data}"
    return make_cookie(name, signed, path=path, expires=expires, max_age=max_age,
                       domain=domain, secure=secure, http_only=http_only,
                       same_site=same_site, extension=extension)


def valid_id_cookie(cookie: Union[Cookie, ClientCookie], *, name: Union[str, bytes],
                    key: bytes, timeout: float = math.inf,
                    shelf_life: float = math.inf) -> Optional[str]:
    """The value of ``cookie`` if it is named ``name`` and validly signed with ``key``,
    else ``None``.  Racket: ``valid-id-cookie?``.

    ``shelf_life``: the most seconds since the cookie was made.  ``timeout`` (as
    Racket's, counter-intuitively): the latest POSIX time at which it may have been
    made."""
    if cookie.name != _text(name):
        return None
    match = _ID_VALUE.fullmatch(cookie.value)
    if match is None:
        return None
    digest, authored, data = match.group(1), int(match.group(2)), match.group(3)
    if not (_now() - shelf_life <= authored <= timeout):
        return None
    if not hmac.compare_digest(digest, _mac(key, cookie.name, authored, data)):
        return None
    return data


def request_id_cookie(req, *, name: Union[str, bytes], key: bytes,
                      timeout: float = math.inf,
                      shelf_life: float = math.inf) -> Optional[str]:
    """The value of the first cookie of ``req`` named ``name`` that is validly signed
    with ``key`` (and within ``timeout`` and ``shelf_life``), or ``None`` when it is
    absent, tampered with or expired.  Racket: ``request-id-cookie``."""
    for cookie in request_cookies(req):
        value = valid_id_cookie(cookie, name=name, key=key, timeout=timeout,
                                shelf_life=shelf_life)
        if value is not None:
            return value
    return None


def logout_id_cookie(name: Union[str, bytes], *, path: Optional[str] = None,
                     domain: Optional[str] = None) -> Cookie:
    """An empty cookie named ``name`` that expired long ago: browsers drop the one
    they hold.  Racket: ``logout-id-cookie`` (it cannot make a copied cookie invalid:
    for that, keep server-side state)."""
    return make_cookie(name, "", expires=1420070400, path=path, domain=domain)


def make_secret_salt_file(path: Union[str, os.PathLike]) -> bytes:
    """The bytes of the file at ``path``, which is created first (readable by its owner
    only) with 128 cryptographically random bytes if it does not exist.  Racket:
    ``make-secret-salt/file``."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "wb") as out:
            out.write(secrets.token_bytes(128))
    with open(path, "rb") as salt:
        return salt.read()
