"""Cookies, RFC 6265.  Racket: ``web-server/http/cookie`` (``make-cookie``,
``cookie->header``) and ``web-server/http/cookie-parse`` (``request-cookies``,
``client-cookie``).

::

    time_cookie = make_cookie("time", str(int(time.time())))
    id_cookie = make_cookie("id", "joseph", secure=True)
    response_xexpr(("p", "You're cookie'd!"), cookies=[time_cookie, id_cookie])

Names must be RFC 6265 tokens and values cookie-octets (no space, ``"``, ``,``, ``;``
or ``\\``); a bad name, value, domain, path or attribute is a ``ValueError`` at
:func:`make_cookie`, never a broken header.  :func:`request_cookies` reads the
``Cookie`` header field by field: a field that is not ``name=value`` with a valid name
and value is skipped, and the others are kept.
"""
from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from email.utils import format_datetime, parsedate_to_datetime
from typing import Optional, Union

__all__ = ["ClientCookie", "Cookie", "cookie_to_header", "make_cookie", "request_cookies"]

# RFC 6265 section 4.1.1
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_COOKIE_VALUE = re.compile(r'[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*')
# path-value and extension-av: any CHAR except CTLs or ";"
_AV_VALUE = re.compile(r"[\x20-\x3a\x3c-\x7e]+")
_DOMAIN = re.compile(r"\.?[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                     r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*")
_SAME_SITE = {"strict": "Strict", "lax": "Lax", "none": "None"}

Expires = Union[datetime.datetime, str, int, float, None]


@dataclass(frozen=True)
class Cookie:
    """A cookie to set.  Racket: ``cookie`` from ``net/cookies/server``."""

    name: str
    value: str
    expires: Optional[datetime.datetime] = None
    max_age: Optional[int] = None
    domain: Optional[str] = None
    path: Optional[str] = None
    secure: bool = False
    http_only: bool = False
    same_site: Optional[str] = None
    extension: Optional[str] = None

    def header_value(self) -> str:
        """The ``Set-Cookie`` value, attributes in Racket's order."""
        parts = [f"{self.name}={self.value}"]
        if self.expires is not None:
            parts.append("Expires=" + format_datetime(self.expires, usegmt=True))
        if self.max_age is not None:
            parts.append(f"Max-Age={self.max_age}")
        if self.domain is not None:
            parts.append(f"Domain={self.domain}")
        if self.path is not None:
            parts.append(f"Path={self.path}")
        if self.secure:
            parts.append("Secure")
        if self.http_only:
            parts.append("HttpOnly")
        if self.same_site is not None:
            parts.append(f"SameSite={self.same_site}")
        if self.extension is not None:
            parts.append(self.extension)
        return "; ".join(parts)


def _expires(expires: Expires) -> Optional[datetime.datetime]:
    if expires is None:
        return None
    if isinstance(expires, str):
        try:  # RFC 7231 section 7.1.1.2 (IMF-fixdate and the obsolete forms)
            when = parsedate_to_datetime(expires)
        except (TypeError, ValueError, IndexError):
            when = None
        if when is None:
            raise ValueError(f"invalid expires string {expires!r}: expected an HTTP date "
                             f"such as 'Thu, 09 Mar 2017 00:42:26 GMT'")
    elif isinstance(expires, datetime.datetime):
        when = expires
    elif isinstance(expires, (int, float)) and not isinstance(expires, bool):
        when = datetime.datetime.fromtimestamp(expires, datetime.timezone.utc)
    else:
        raise TypeError(f"expires is a datetime, an HTTP date string or POSIX seconds, "
                        f"not {expires!r}")
    if when.tzinfo is None:  # naive: taken as UTC, as Racket's dates without a zone
        when = when.replace(tzinfo=datetime.timezone.utc)
    return when.astimezone(datetime.timezone.utc)


def _text(what: str, value: Union[str, bytes]) -> str:
    if isinstance(value, bytes):
        try:
            return value.decode("ascii")
        except UnicodeDecodeError:
            raise ValueError(f"{what} {value!r} is not ASCII") from None
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a string, not {value!r}")
    return value


def make_cookie(name: Union[str, bytes], value: Union[str, bytes], *,
                expires: Expires = None, max_age: Optional[int] = None,
                domain: Optional[str] = None, path: Optional[str] = None,
                secure: bool = False, http_only: bool = False,
                same_site: Optional[str] = None, extension: Optional[str] = None,
                comment: object = None) -> Cookie:
    """A cookie to set with ``cookies=[...]`` on any response.  Racket:
    ``make-cookie``.

    ``expires`` is a ``datetime`` (naive ones are UTC), an HTTP date string or POSIX
    seconds; ``max_age`` a positive number of seconds (Racket forbids 0: to remove a
    cookie, expire it in the past); ``same_site`` is ``"Strict"``, ``"Lax"`` or
    ``"None"``; ``comment`` is ignored, as in Racket.
    """
    name, value = _text("cookie name", name), _text("cookie value", value)
    if not _TOKEN.fullmatch(name):
        raise ValueError(f"invalid cookie name {name!r}: expected an RFC 6265 token")
    if not _COOKIE_VALUE.fullmatch(value):
        raise ValueError(f"invalid cookie value {value!r}: no space, '\"', ',', ';', "
                         f"'\\\\' or control characters")
    if max_age is not None and (isinstance(max_age, bool) or not isinstance(max_age, int)
                                or max_age <= 0):
        raise ValueError(f"max_age must be a positive integer, not {max_age!r}")
    if domain is not None and not _DOMAIN.fullmatch(domain):
        raise ValueError(f"invalid cookie domain {domain!r}")
    for what, text in (("path", path), ("extension", extension)):
        if text is not None and not _AV_VALUE.fullmatch(text):
            raise ValueError(f"invalid cookie {what} {text!r}: no ';' or control characters")
    if same_site is not None:
        if same_site.lower() not in _SAME_SITE:
            raise ValueError(f"same_site is 'Strict', 'Lax' or 'None', not {same_site!r}")
        same_site = _SAME_SITE[same_site.lower()]
    return Cookie(name, value, _expires(expires), max_age, domain, path,
                  bool(secure), bool(http_only), same_site, extension)


def cookie_to_header(cookie: Cookie) -> tuple:
    """``("Set-Cookie", value)``, for a response's ``headers``.  Racket:
    ``cookie->header``."""
    return ("Set-Cookie", cookie.header_value())


@dataclass(frozen=True)
class ClientCookie:
    """A cookie the client sent.  Racket: ``client-cookie``; ``domain`` and ``path``
    are always ``None`` (RFC 6265 clients send neither)."""

    name: str
    value: str
    domain: Optional[str] = None
    path: Optional[str] = None


def _parse_field(field: str) -> Optional[ClientCookie]:
    name, eq, value = field.partition("=")
    name, value = name.strip(" \t"), value.strip(" \t")
    if not eq or not _TOKEN.fullmatch(name):
        return None
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    try:  # WSGI headers are latin-1 decoded bytes: values may be UTF-8
        raw = value.encode("latin-1")
        if not _COOKIE_VALUE.fullmatch(raw.decode("ascii", "replace").replace("\ufffd", "a")):
            return None
        return ClientCookie(name, raw.decode("utf-8"))
    except UnicodeError:
        return None


def parse_cookie_header(header: str) -> list:
    """The :class:`ClientCookie` list of one ``Cookie`` header value; malformed fields
    are skipped.  Racket: ``cookie-header->alist``."""
    cookies = []
    # Fields end at ";"; "," too, where a proxy or server joined several Cookie headers
    # (a valid cookie value never holds one).
    for field in re.split(r"[;,]", header):
        cookie = _parse_field(field)
        if cookie is not None:
            cookies.append(cookie)
    return cookies


def request_cookies(req) -> list:
    """The cookies ``req`` carries, in order, as :class:`ClientCookie`.  Racket:
    ``request-cookies``."""
    header = req.environ.get("HTTP_COOKIE") if hasattr(req, "environ") else None
    if header is None:
        header = req.headers.get("Cookie")
    return parse_cookie_header(header) if header else []
