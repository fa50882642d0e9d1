"""HTTP Basic authentication.  Racket: ``web-server/dispatchers/dispatch-passwords``.

``make(denied)`` answers ``401`` with ``WWW-Authenticate: Basic realm="..."`` when
``denied(request)`` returns a realm, and declines otherwise (so the protected dispatcher
after it in a sequencer answers).  Malformed ``Authorization`` headers count as no
credentials: ``401``, never ``500``.

The password file (Racket's format) is one s-expression, a list of realms::

    (("secret stuff" "/secret(/.*)?" (bubba "bbq") (|Billy| "BoB")))

each ``(realm path-regex (user password) ...)``; a path matching a realm's regex needs
one of its users.
"""
from __future__ import annotations

import hmac
import os
import re
from typing import Callable, Optional, Union

from werkzeug.datastructures import Authorization
from werkzeug.wrappers import Response

from .core import Dispatcher, next_dispatcher

__all__ = ["make", "make_basic_denied_path", "password_file_to_authorized", "read_realms"]

Denied = Callable[..., Optional[str]]
Authorized = Callable[[str, Optional[str], Optional[str]], Optional[str]]


def _unauthorized(realm: str) -> Response:
    quoted = realm.replace("\\", "\\\\").replace('"', '\\"')
    return Response("Authorization required\n", status=401, mimetype="text/plain",
                    headers=[("WWW-Authenticate", f'Basic realm="{quoted}"')])


def make(denied: Denied,
         authentication_responder: Callable[[str], Response] = _unauthorized) -> Dispatcher:
    def passwords(conn, request):
        realm = denied(request)
        if realm is None or realm is False:
            next_dispatcher()
        conn.respond(authentication_responder(realm))

    return passwords


def _credentials(request) -> tuple:
    try:
        auth = Authorization.from_header(request.headers.get("Authorization"))
    except (ValueError, UnicodeError):
        auth = None
    if auth is None or auth.type != "basic":
        return None, None
    return auth.username, auth.password


def make_basic_denied_path(authorized: Authorized) -> Denied:
    """A ``denied`` predicate from ``authorized(path, user, password) -> realm or None``
    and the request's Basic credentials.  Racket: ``make-basic-denied?/path``."""

    def denied(request) -> Optional[str]:
        user, password = _credentials(request)
        return authorized(request.path, user, password)

    return denied


# -- the password file ------------------------------------------------------------------

_TOKEN = re.compile(r'\s*(?:(\()|(\))|"((?:[^"\\]|\\.)*)"|\|([^|]*)\||([^\s()"|]+))')


def _parse(text: str):
    stack: list = [[]]
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "" or text[pos:].lstrip().startswith(";"):
            break
        match = _TOKEN.match(text, pos)
        if match is None:
            raise ValueError(f"password file: cannot read at {pos}")
        pos = match.end()
        opening, closing, string, bars, symbol = match.groups()
        if opening:
            stack.append([])
        elif closing:
            if len(stack) == 1:
                raise ValueError("password file: unbalanced ')'")
            done = stack.pop()
            stack[-1].append(done)
        elif string is not None:
            stack[-1].append(re.sub(r"\\(.)", r"\1", string))
        else:
            stack[-1].append(bars if bars is not None else symbol)
    if len(stack) != 1 or len(stack[0]) != 1:
        raise ValueError("password file: expected one list")
    return stack[0][0]


def read_realms(path: str) -> list:
    """``[(realm, compiled regex, {user: password}), ...]`` from a password file."""
    with open(path, encoding="utf-8") as f:
        data = _parse(f.read())
    realms = []
    for entry in data:
        if not isinstance(entry, list) or len(entry) < 2:
            raise ValueError(f"password file: bad realm entry {entry!r}")
        realm, regex, *users = entry
        table = {}
        for user in users:
            if not isinstance(user, list) or len(user) != 2:
                raise ValueError(f"password file: bad user entry {user!r}")
            table[user[0]] = user[1]
        realms.append((realm, re.compile(regex), table))
    return realms


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def password_file_to_authorized(path: Union[str, os.PathLike]) -> tuple:
    """``(refresh, authorized)`` for a password file; ``refresh()`` re-reads it.
    Racket: ``password-file->authorized?``.  Passwords are compared in constant time."""
    realms = read_realms(path)

    def refresh() -> None:
        nonlocal realms
        realms = read_realms(path)

    def authorized(url_path: str, user: Optional[str], password: Optional[str]):
        for realm, regex, users in realms:
            if regex.fullmatch(url_path) is None:
                continue
            known = users.get(user) if user is not None else None
            # Compare even for unknown users, so timing does not tell which users exist.
            if not _same(known if known is not None else "\0unknown",
                         password if password is not None else "") or known is None:
                return realm
        return None

    return refresh, authorized
