"""Cross-site request forgery (CSRF) tokens for plain forms.  No Racket twin: Racket's
answer is the continuation URL (see below), and its ``web-server`` has no token helper.

A page on another site can make a browser post a form here, with the browser's cookies
(``SameSite=Lax`` on :func:`~dispatch.http.id_cookie.make_id_cookie` stops that in
current browsers, but not from another port or subdomain of the same site, nor in older
browsers).  A token in a hidden field, which only this site's pages hold, tells the
site's own forms from forged ones::

    KEY = make_secret_salt_file("secret-salt")

    def board(req):                                   # GET /: the page with the form
        return response_xexpr(("form", [("method", "post"), ("action", "/cards")],
                               csrf_field(req, key=KEY), ("input", [("name", "title")])))

    def add_card(req):                                # POST /cards: checked before
        ...

    dispatch, url = dispatch_rules((("",), board), (("cards",), "post", add_card))
    serve_dispatch(csrf_protect(dispatch, key=KEY))

The token is ``salt.mac``: an HMAC-SHA256, with ``key``, over a fresh random salt and
the value it is bound to, compared in constant time.  It is bound to

* ``session`` when given (a string only this browser's requests carry: the value of the
  login's id cookie, a session id), so that no cookie of its own is needed;
* otherwise to a random secret in a ``csrf`` cookie (``HttpOnly; SameSite=Lax``), which
  :func:`csrf_protect` sets on the response when the request had none (or
  :func:`csrf_cookie` gives it, to set yourself).  This is the signed double-submit
  pattern: a forger can neither read the cookie nor sign for it without ``key``.

:func:`check_csrf` passes GET, HEAD, OPTIONS and TRACE (they must not change
anything), and refuses any other request without a valid token (the form field
``csrf_token`` or the ``X-CSRF-Token`` header, for scripts) with :class:`CsrfError`, a
werkzeug ``Forbidden``: the browser gets a ``403`` page saying to reload the form.

Continuation URLs (stateful servlets: ``send_suspend``, ``embed_url``) need none of
this: each form's URL holds 128 random bits that only the page it was sent in knows,
so another site cannot name it.  That is Racket's way, and this project's.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
from typing import Any, Callable, Optional

from werkzeug.exceptions import Forbidden

from .cookies import Cookie, make_cookie, request_cookies
from .response import Response, response_xexpr

__all__ = ["CSRF_COOKIE", "CSRF_FIELD", "CSRF_HEADER", "CsrfError", "check_csrf",
           "csrf_cookie", "csrf_field", "csrf_protect", "csrf_token", "valid_csrf_token"]

#: the form field the token travels in
CSRF_FIELD = "csrf_token"
#: the header scripts send it in (``fetch(url, {headers: {"X-CSRF-Token": token}})``)
CSRF_HEADER = "X-CSRF-Token"
#: the cookie holding the secret tokens are bound to when no ``session`` is given
CSRF_COOKIE = "csrf"

log = logging.getLogger("dispatch.csrf")

_SAFE_METHODS = frozenset(("GET", "HEAD", "OPTIONS", "TRACE"))
_SECRET = re.compile(r"[A-Za-z0-9_-]{43}")
_TOKEN = re.compile(r"([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{43})")
# The secret a request made (it had no cookie): the cookie csrf_protect sets.
_NEW_SECRET = "dispatch.csrf.new_secret"

Session = Optional[str]


class CsrfError(Forbidden):
    """A request that changes something came without a valid CSRF token: ``403``.
    ``reason`` says what was wrong (it is logged, not shown)."""

    description = ("This form did not come from a page of this site, or that page is "
                   "too old. Reload the page with the form and submit it again.")

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason

    def __str__(self) -> str:
        return f"403 Forbidden: CSRF check failed: {self.reason}"

    def get_response(self, environ: Any = None, scope: Any = None) -> Response:
        """The ``403`` page: what happened and what to do."""
        return response_xexpr(
            ("html", ("head", ("title", "Forbidden")),
             ("body", ("h1", "Forbidden"), ("p", self.description))),
            code=403, message="Forbidden", headers=[("Cache-Control", "no-store")])


def _key(key: Any, who: str) -> bytes:
    if not isinstance(key, (bytes, bytearray)) or not key:
        raise TypeError(f"{who}: key is a non-empty bytes object (make_secret_salt_file), "
                        f"not {type(key).__name__}")
    return bytes(key)


def _session(session: Any, who: str) -> Session:
    if session is not None and not isinstance(session, str):
        raise TypeError(f"{who}: session is a str (what only this browser's requests "
                        f"carry) or None, not {type(session).__name__} {session!r}")
    return session or None


def _cookie_secret(req) -> Optional[str]:
    for cookie in request_cookies(req):
        if cookie.name == CSRF_COOKIE and _SECRET.fullmatch(cookie.value):
            return cookie.value
    return None


def _binding(req, session: Session, create: bool) -> Optional[str]:
    """What a token for ``req`` is bound to: ``s:<session>``, or ``c:<cookie secret>``
    (made, and remembered for :func:`csrf_cookie`, when ``create`` and there is none)."""
    if session is not None:
        return "s:" + session
    secret = _cookie_secret(req) or req.environ.get(_NEW_SECRET)
    if secret is None and create:
        secret = secrets.token_urlsafe(32)
        req.environ[_NEW_SECRET] = secret
    return None if secret is None else "c:" + secret


def _mac(key: bytes, binding: str, salt: str) -> str:
    message = b"\0".join((b"csrf", binding.encode("utf-8"), salt.encode("ascii")))
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _token_for(key: bytes, binding: str) -> str:
    salt = secrets.token_urlsafe(12)  # a new token each time: nothing to compare across pages
    return f"{salt}.{_mac(key, binding, salt)}"


def _valid(key: bytes, binding: Optional[str], token: Optional[str]) -> bool:
    if binding is None or not token:
        return False
    match = _TOKEN.fullmatch(token.strip())
    if match is None:
        return False
    return hmac.compare_digest(match.group(2), _mac(key, binding, match.group(1)))


def csrf_token(req, *, key: bytes, session: Session = None) -> str:
    """A token for the forms of the page answering ``req``: bound to ``session`` when
    given, else to the request's ``csrf`` cookie (made now if it has none: the response
    must then set :func:`csrf_cookie`, as :func:`csrf_protect` does)."""
    key = _key(key, "csrf_token")
    binding = _binding(req, _session(session, "csrf_token"), create=True)
    assert binding is not None  # created when missing
    return _token_for(key, binding)


def csrf_field(req, *, key: bytes, session: Session = None,
               field: str = CSRF_FIELD) -> tuple:
    """The hidden input carrying :func:`csrf_token`, as an x-expression to put in a
    ``form``."""
    return ("input", [("type", "hidden"), ("name", field),
                      ("value", csrf_token(req, key=key, session=session))])


def valid_csrf_token(req, token: Optional[str], *, key: bytes,
                     session: Session = None) -> bool:
    """Whether ``token`` is one :func:`csrf_token` made for this browser (its
    ``session``, or its ``csrf`` cookie)."""
    return _valid(_key(key, "valid_csrf_token"),
                  _binding(req, _session(session, "valid_csrf_token"), create=False), token)


def check_csrf(req, *, key: bytes, session: Session = None,
               field: str = CSRF_FIELD) -> None:
    """Return if ``req`` is safe (GET, HEAD, OPTIONS, TRACE) or carries a valid token in
    the form field ``field`` or the ``X-CSRF-Token`` header; raise :class:`CsrfError`
    (``403``) otherwise."""
    key = _key(key, "check_csrf")
    session = _session(session, "check_csrf")
    if req.method in _SAFE_METHODS:
        return
    token = req.headers.get(CSRF_HEADER) or req.form.get(field)
    if not token:
        raise CsrfError(f"no {field!r} field nor {CSRF_HEADER} header")
    binding = _binding(req, session, create=False)
    if binding is None:
        raise CsrfError(f"no {CSRF_COOKIE!r} cookie (cookies off, or the form's page was "
                        "not served through csrf_protect)")
    if not _valid(key, binding, token):
        raise CsrfError("the token was not made for this browser with this key")


def csrf_cookie(req, *, secure: bool = False) -> Optional[Cookie]:
    """The ``csrf`` cookie to set on the response to ``req``, when :func:`csrf_token` made
    a new secret for it (else ``None``): ``Path=/; HttpOnly; SameSite=Lax``, and
    ``Secure`` with ``secure=True`` (over HTTPS)."""
    secret = req.environ.get(_NEW_SECRET)
    if secret is None or _cookie_secret(req) == secret:
        return None
    return make_cookie(CSRF_COOKIE, secret, path="/", http_only=True, same_site="Lax",
                       secure=secure)


def _with_header(app, name: str, value: str):
    def with_header(environ, start_response):
        def start(status, headers, exc_info=None):
            return start_response(status, [*headers, (name, value)], exc_info)
        return app(environ, start)
    return with_header


def csrf_protect(servlet: Callable[..., Any], *, key: bytes,
                 session: Optional[Callable[[Any], Session]] = None,
                 secure: bool = False) -> Callable[..., Any]:
    """``servlet`` (``servlet(request, *args)``: a start procedure, a
    ``dispatch_rules`` dispatch) behind :func:`check_csrf`: a request that fails it gets
    the ``403`` page without ``servlet`` running.  Responses carry the ``csrf`` cookie
    when the request had none and a token was made for it.

    ``session(request)``, when given, returns what tokens are bound to (``None``: the
    cookie), e.g. ``lambda req: request_cookie_value(req, "user")``; use the same in
    :func:`csrf_field`.  For stateless servlets: the responses of a stateful servlet's
    ``send_suspend`` do not pass through here (their continuation URLs protect them)."""
    key = _key(key, "csrf_protect")
    if not callable(servlet):
        raise TypeError(f"csrf_protect: servlet is a procedure taking the request, not "
                        f"{type(servlet).__name__} {servlet!r}")
    if session is not None and not callable(session):
        raise TypeError("csrf_protect: session is a procedure request -> str or None")

    def protected(req, *args: Any, **kwargs: Any):
        try:
            check_csrf(req, key=key, session=session(req) if session else None)
        except CsrfError as refused:
            log.info("%s %s refused: %s", req.method, req.path, refused.reason)
            return refused.get_response()
        response = servlet(req, *args, **kwargs)
        cookie = csrf_cookie(req, secure=secure)
        if cookie is not None and callable(response):
            response = _with_header(response, "Set-Cookie", cookie.header_value())
        return response

    protected.__wrapped__ = servlet  # type: ignore[attr-defined]
    return protected

