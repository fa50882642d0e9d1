"""HTTP Basic authentication.  Racket: ``web-server/dispatchers/dispatch-passwords``.

``make(denied)`` answers ``401`` with ``WWW-Authenticate: Basic realm="..."`` when
``denied(request)`` returns a realm, and declines otherwise (so the protected dispatcher
after it in a sequencer answers).  Malformed ``Authorization`` headers count as no
credentials: ``401``, never ``500``.

The password file is Racket's: one quoted s-expression, a list of realms::

    '(("secret stuff" "/secret(/.*)?" (bubba "bbq") (aladdin "open sesame")))

each ``(realm path-regex (user password) ...)``.  A path in which a realm's regex is
found (searched, as Racket's ``regexp-match``) needs one of its users.  The regex may
also be written ``#rx"..."``, ``#px"..."`` or, for a byte regex, ``#rx#"..."``.  User
names are compared case-insensitively (Racket lowercases the name the client sends).
The file is read again when its modification time changes, as Racket does.
"""
from __future__ import annotations

import hmac
import inspect
import logging
import os
import re
from typing import Any, Callable, Optional, Union

from werkzeug.datastructures import Authorization
from werkzeug.wrappers import Response

from .core import Dispatcher, next_dispatcher
from .filter import path_searcher

__all__ = ["make", "make_basic_denied_path", "password_file_to_authorized", "read_realms"]

log = logging.getLogger("dispatch")

Denied = Callable[..., Optional[str]]
Authorized = Callable[[str, Optional[str], Optional[str]], Optional[str]]


def _challenge(realm: str) -> tuple:
    quoted = realm.replace("\\", "\\\\").replace('"', '\\"')
    return ("WWW-Authenticate", f'Basic realm="{quoted}"')


def _unauthorized(realm: str) -> Response:
    return Response("Authorization required\n", status=401, mimetype="text/plain",
                    headers=[_challenge(realm)])


def _takes_two(proc: Callable) -> bool:
    try:
        inspect.signature(proc).bind(None, None)
    except TypeError:
        return False
    except ValueError:  # no signature to inspect: this project's one-argument form
        return False
    return True


def make(denied: Denied,
         authentication_responder: Callable[..., Response] = _unauthorized) -> Dispatcher:
    """``authentication_responder`` is ``(realm) -> response``, or Racket's
    ``(url, header) -> response`` where ``header`` is the ``("WWW-Authenticate",
    'Basic realm="..."')`` pair its response must carry."""
    if not callable(denied):
        raise TypeError(f"passwords.make: denied must be a procedure, not {denied!r}")
    racket_style = _takes_two(authentication_responder)

    def passwords(conn, request):
        realm = denied(request)
        if realm is None or realm is False:
            next_dispatcher()
        if racket_style:
            conn.respond(authentication_responder(request.url, _challenge(realm)))
        else:
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

class _Symbol(str):
    """A bare word of the file (Racket's symbol), as opposed to a "string"."""


class _Regex:
    def __init__(self, pattern: Union[str, bytes]) -> None:
        self.pattern = pattern


_TOKEN = re.compile(r'''(?x)
    (?P<space>\s+|;[^\n]*)
  | (?P<open>[(\[]) | (?P<close>[)\]]) | (?P<quote>')
  | \#[rp]x(?P<bytes>\#)?"(?P<regex>(?:[^"\\]|\\.)*)"
  | "(?P<string>(?:[^"\\]|\\.)*)"
  | \|(?P<bars>[^|]*)\|
  | (?P<symbol>[^\s()\[\]"|';]+)
''')
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"'}


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), text, flags=re.S)


_QUOTE = object()  # a quote mark waiting for its datum


def _parse(text: str):
    """The one datum of the file; ``'X`` and ``(quote X)`` are read as ``X``."""
    stack: list = [[]]

    def push(value) -> None:
        top = stack[-1]
        while top and top[-1] is _QUOTE:
            top.pop()
            value = [_Symbol("quote"), value]
        top.append(value)

    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise ValueError(f"password file: cannot read at character {pos}: "
                             f"{text[pos:pos + 20]!r}")
        pos = match.end()
        kind = match.lastgroup
        if kind == "space":
            continue
        if kind == "quote":
            stack[-1].append(_QUOTE)
        elif kind == "open":
            stack.append([])
        elif kind == "close":
            if len(stack) == 1:
                raise ValueError("password file: unbalanced ')'")
            if stack[-1] and stack[-1][-1] is _QUOTE:
                raise ValueError("password file: a quote mark before ')'")
            push(stack.pop())
        elif kind in ("regex", "bytes"):
            source = _unescape(match.group("regex"))
            push(_Regex(source.encode("utf-8") if match.group("bytes") else source))
        elif kind == "string":
            push(_unescape(match.group("string")))
        else:
            push(_Symbol(match.group("bars") if kind == "bars" else match.group("symbol")))
    if len(stack) != 1:
        raise ValueError("password file: a '(' is never closed")
    data = stack[0]
    if len(data) != 1 or data[0] is _QUOTE:
        raise ValueError(f"password file: expected one list, found {len(data)} data")
    datum = data[0]
    if isinstance(datum, list) and len(datum) == 2 and isinstance(datum[0], _Symbol) \
            and datum[0] == "quote":
        datum = datum[1]  # Racket's own files are quoted: '((realm ...) ...)
    return datum


def read_realms(path: Union[str, os.PathLike]) -> list:
    """``[(realm, search, {user: password}), ...]`` from a password file, where
    ``search(url_path)`` finds the realm's regex.  Racket: ``read-passwords``."""
    with open(path, encoding="utf-8") as f:
        data = _parse(f.read())
    if not isinstance(data, list):
        raise ValueError(f"password file {os.fspath(path)!r}: expected a list of realms")
    realms = []
    for entry in data:
        if not isinstance(entry, list) or len(entry) < 2 \
                or isinstance(entry[0], (list, _Symbol, _Regex)) \
                or not isinstance(entry[0], str) \
                or not isinstance(entry[1], (str, _Regex)) or isinstance(entry[1], _Symbol):
            raise ValueError(f"password file: a realm entry is (\"realm\" \"regex\" "
                             f"(user \"password\") ...), not {entry!r}")
        realm, regex, *users = entry
        table: dict = {}
        for user in users:
            if not isinstance(user, list) or len(user) != 2 \
                    or not all(isinstance(x, str) for x in user) \
                    or isinstance(user[1], _Symbol):
                raise ValueError(f"password file: a user entry is (user \"password\"), "
                                 f"not {user!r}")
            table.setdefault(str(user[0]).lower(), str(user[1]))  # the first one wins
        pattern = regex.pattern if isinstance(regex, _Regex) else regex
        try:
            search = path_searcher(pattern, "password file regex")
        except re.error as exc:
            raise ValueError(f"password file: the regex of realm {str(realm)!r} does not "
                             f"compile: {exc}") from None
        realms.append((str(realm), search, table))
    return realms


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def _mtime(path) -> Optional[tuple]:
    """What tells a changed file (Racket looks at the modification seconds only)."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_mtime_ns, info.st_size, info.st_ino


def password_file_to_authorized(path: Union[str, os.PathLike]) -> tuple:
    """``(refresh, authorized)`` for a password file; ``refresh()`` re-reads it now.
    Racket: ``password-file->authorized?``.

    The file must exist and parse when this is called (Racket lets every request through
    while it is missing).  It is read again when its modification time changes; a
    version that does not parse is logged and the previous one stays in force.
    Passwords are compared in constant time.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"password_file_to_authorized: a path, not {path!r}")
    state: dict[str, Any] = {"realms": read_realms(path), "mtime": _mtime(path)}

    def refresh() -> None:
        mtime = _mtime(path)
        state["realms"], state["mtime"] = read_realms(path), mtime

    def current() -> list:
        mtime = _mtime(path)
        if mtime is not None and mtime != state["mtime"]:
            try:
                refresh()
            except (OSError, ValueError) as exc:
                state["mtime"] = mtime  # one message per change, not one per request
                log.error("password file %s not reloaded, the previous one stays: %s",
                          os.fspath(path), exc)
        return state["realms"]

    def authorized(url_path: str, user: Optional[str], password: Optional[str]):
        name = user.lower() if user is not None else None
        for realm, search, users in current():
            if search(url_path) is None:
                continue
            known = users.get(name) if name is not None else None
            # Compare even for unknown users, so timing does not tell which users exist.
            if not _same(known if known is not None else "\0unknown",
                         password if password is not None else "") or known is None:
                return realm
        return None

    return refresh, authorized
