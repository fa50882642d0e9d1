"""CSRF tokens for plain forms: re-exported from :mod:`dispatch.http.csrf`, with
:func:`csrf_formlet`, the token as a formlet.  No Racket twin (Racket's forms post to
continuation URLs, which other sites cannot name)."""
from __future__ import annotations

from typing import Any, Optional

from dispatch.http.csrf import (
    CSRF_COOKIE,
    CSRF_FIELD,
    CSRF_HEADER,
    CsrfError,
    Session,
    _binding,
    _key,
    _session,
    _token_for,
    _valid,
    check_csrf,
    csrf_cookie,
    csrf_field,
    csrf_protect,
    csrf_token,
    valid_csrf_token,
)

from .formlets import Formlet

__all__ = ["CSRF_COOKIE", "CSRF_FIELD", "CSRF_HEADER", "CsrfError", "check_csrf",
           "csrf_cookie", "csrf_field", "csrf_formlet", "csrf_protect", "csrf_token",
           "valid_csrf_token"]


def csrf_formlet(req, *, key: bytes, session: Session = None) -> Formlet:
    """The hidden input ``csrf_token`` carrying a token for the browser of ``req`` (the
    request whose page shows the form), checked when the formlet is processed: a
    missing or wrong token raises :class:`CsrfError` (a ``403``).  It takes no input
    number (the field is named ``csrf_token``, so :func:`csrf_protect` finds it too) and
    its value is ``None``::

        form = formlet(("div", csrf_formlet(req, key=KEY), input_string),
                       lambda _csrf, title: title)
    """
    key = _key(key, "csrf_formlet")
    binding: Optional[str] = _binding(req, _session(session, "csrf_formlet"), create=True)
    assert binding is not None  # created when missing
    token = _token_for(key, binding)
    field = ("input", [("type", "hidden"), ("name", CSRF_FIELD), ("value", token)])
    wanted = CSRF_FIELD.encode()

    def process(bindings: Any) -> None:
        sent = next((b for b in bindings if b.id == wanted), None)
        value = getattr(sent, "value", None)
        text = value.decode("utf-8", "replace") if isinstance(value, bytes) else None
        if not _valid(key, binding, text):
            raise CsrfError("the form's token is missing or was not made for this page's "
                            "browser")
        return None

    return Formlet(lambda i: ([field], process, i))
