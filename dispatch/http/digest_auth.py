"""HTTP Digest authentication (RFC 7616).  Racket: ``web-server/http/digest-auth``.

Racket's example, Python-spelled::

    PRIVATE_KEY, OPAQUE = "private-key", "opaque"
    check = make_check_digest_credentials(
        password_to_digest_ha1(lambda username, realm: "pass"))

    def start(req):
        credentials = request_to_digest_credentials(req)
        if credentials is None:
            return response_full(401, "Unauthorized", None, TEXT_HTML_MIME_TYPE,
                                 [make_digest_auth_header("Digest Auth Test",
                                                          PRIVATE_KEY, OPAQUE)], [b""])
        ok = check(req.method, credentials)
        return response_xexpr(("html", ("body", ("h1", "Pass!" if ok else "No Pass!"))))

Credentials are a list of ``(name, value)`` pairs (Racket's association list), names
lower-cased.  Hashes are hexadecimal ``str`` (Racket: bytes of the same digits).

Beyond Racket (its behaviour stays the default):

* ``algorithm="SHA-256"`` (or ``"MD5-sess"``, ``"SHA-256-sess"``) on the header, on
  :func:`password_to_digest_ha1` and on the check; Racket knows MD5 only.
* ``private_key=`` (and ``nonce_lifetime=``) on the check refuses nonces that
  :func:`make_digest_auth_header` did not make with that key (or made too long ago);
  with both, a request replayed (the same nonce and ``nc`` again) is refused.  Racket
  checks no nonce: a credential seen once is good forever.

Differences: the challenge separates ``nonce`` and ``opaque`` with a comma (Racket's
omits it, which RFC 7616 clients such as urllib and requests misread); the parser takes
parameter names in any case and values quoted or not, as RFC 7235 asks (Racket's
refuses ``algorithm="MD5"`` quoted, which urllib and requests send); the nonce carries
an HMAC-SHA256 of its time rather than Racket's MD5.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import time
from typing import Any, Callable, Iterable, Mapping, Optional, Union

from .request import Header, headers_assq_star

__all__ = [
    "make_digest_auth_header", "request_to_digest_credentials", "password_to_digest_ha1",
    "make_check_digest_credentials", "UsernameRealmToPassword", "UsernameRealmToDigestHA1",
    "DIGEST_ALGORITHMS",
]

#: Racket's ``username*realm->password/c``: ``(username, realm) -> password``.
UsernameRealmToPassword = Callable[[str, str], str]
#: Racket's ``username*realm->digest-HA1/c``: ``(username, realm) -> HA1`` (hex digits;
#: ``None`` for a user there is none of, which checks as wrong).
UsernameRealmToDigestHA1 = Callable[[str, str], Union[str, bytes, None]]

_HASHES = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}
#: The ``algorithm`` values understood (RFC 7616 section 3.3; MD5 is Racket's and the default).
DIGEST_ALGORITHMS = ("MD5", "MD5-sess", "SHA-256", "SHA-256-sess")


def _algorithm(algorithm: Any, who: str) -> str:
    if not isinstance(algorithm, str):
        raise TypeError(f"{who}: algorithm must be a str, given {algorithm!r}")
    for known in DIGEST_ALGORITHMS:
        if algorithm.upper() == known.upper():
            return known
    raise ValueError(f"{who}: algorithm must be one of {', '.join(DIGEST_ALGORITHMS)}, "
                     f"given {algorithm!r}")


def _hasher(algorithm: str) -> Callable[[str], str]:
    hash_ = _HASHES[algorithm[:-5] if algorithm.endswith("-sess") else algorithm]
    return lambda text: hash_(text.encode("utf-8")).hexdigest()


def _param(value: Any, who: str, what: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{who}: {what} must be a str, given {type(value).__name__} {value!r}")
    if any(c in value for c in '"\\\r\n\0'):
        raise ValueError(f"{who}: {what} cannot hold quotes, backslashes, CR, LF or NUL: "
                         f"{value!r}")
    return value


def _key(private_key: Any, who: str) -> bytes:
    if isinstance(private_key, str):
        return private_key.encode("utf-8")
    if isinstance(private_key, (bytes, bytearray)):
        return bytes(private_key)
    raise TypeError(f"{who}: private_key must be str or bytes, given {private_key!r}")


def _nonce_mac(key: bytes, timestamp: str) -> str:
    return hmac.new(key, timestamp.encode("ascii"), hashlib.sha256).hexdigest()


def make_digest_auth_header(realm: str, private_key: Union[str, bytes], opaque: str, *,
                            algorithm: Optional[str] = None) -> Header:
    """``WWW-Authenticate: Digest realm=..., qop="auth", nonce=..., opaque=...``: asks
    the browser for a user and password.  The nonce is the time and a MAC of it keyed
    with ``private_key``; ``opaque`` comes back unchanged.  Racket:
    ``make-digest-auth-header``.  ``algorithm`` (not in Racket) adds ``algorithm=``."""
    who = "make_digest_auth_header"
    realm, opaque = _param(realm, who, "realm"), _param(opaque, who, "opaque")
    timestamp = str(int(time.time()))
    nonce = base64.b64encode(
        f"{timestamp} {_nonce_mac(_key(private_key, who), timestamp)}".encode("ascii"))
    value = (f'Digest realm="{realm}", qop="auth", nonce="{nonce.decode("ascii")}", '
             f'opaque="{opaque}"')
    if algorithm is not None:
        value += f", algorithm={_algorithm(algorithm, who)}"
    return Header("WWW-Authenticate", value)


# RFC 7235: auth-param = token BWS "=" BWS ( token / quoted-string )
_SCHEME = re.compile(r"\s*Digest(?:\s+|$)", re.IGNORECASE)
_PARAM = re.compile(r"""\s*([!#$%&'*+\-.^_`|~0-9A-Za-z]+)\s*=\s*
                        (?:"((?:[^"\\]|\\.)*)"|([!#$%&'*+\-.^_`|~0-9A-Za-z]+))\s*""",
                    re.VERBOSE | re.DOTALL)
_SEPARATOR = re.compile(r"\s*,")
_UNESCAPE = re.compile(r"\\(.)", re.DOTALL)


def _parse(text: str) -> Optional[list]:
    scheme = _SCHEME.match(text)
    if scheme is None:
        return None
    pos, pairs = scheme.end(), []
    while True:
        while (sep := _SEPARATOR.match(text, pos)) is not None:  # empty list elements
            pos = sep.end()
        param = _PARAM.match(text, pos)
        if param is None:
            break
        quoted = param.group(2)
        value = _UNESCAPE.sub(r"\1", quoted) if quoted is not None else param.group(3)
        pairs.append((param.group(1).lower(), value))
        pos = param.end()
        sep = _SEPARATOR.match(text, pos)
        if sep is None:
            break
        pos = sep.end()
    if not pairs or text[pos:].strip():
        return None  # nothing, or something that is not a parameter list
    return pairs


def request_to_digest_credentials(req) -> Optional[list]:
    """The ``Authorization: Digest`` header's parameters as ``[(name, value), ...]``
    (``username``, ``realm``, ``nonce``, ``uri``, ``response``, ``qop``, ``nc``,
    ``cnonce``, ...), in the order sent; ``None`` when there is no such header or it
    does not parse.  Racket: ``request->digest-credentials``."""
    headers = getattr(req, "headers", None)
    if headers is None:
        raise TypeError(f"request_to_digest_credentials: expected a request, given {req!r}")
    header = headers_assq_star("Authorization", headers)
    if header is None:
        return None
    # WSGI gives header bytes as Latin-1; Racket reads them as UTF-8
    try:
        text = header.value.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return None
    return _parse(text)


def password_to_digest_ha1(lookup_password: UsernameRealmToPassword,
                           algorithm: str = "MD5") -> Callable[[str, str], str]:
    """``(username, realm) -> HA1``, the hash of ``username:realm:password`` with the
    password from ``lookup_password(username, realm)``.  Racket:
    ``password->digest-HA1``.  A password store keeps HA1s rather than passwords by
    storing this function's results."""
    if not callable(lookup_password):
        raise TypeError(f"password_to_digest_ha1: lookup_password must be a procedure "
                        f"(username, realm) -> password, given {lookup_password!r}")
    hash_ = _hasher(_algorithm(algorithm, "password_to_digest_ha1"))

    def ha1(username: str, realm: str) -> str:
        return hash_(f"{username}:{realm}:{lookup_password(username, realm)}")

    return ha1


_REQUIRED = ("username", "realm", "uri", "nonce", "nc", "cnonce", "qop", "response")


def _nonce_time(nonce: str, key: bytes, lifetime: Optional[float]) -> Optional[int]:
    """When ``nonce`` was made, if it was made with ``key`` and is still good."""
    try:
        timestamp, _, mac = base64.b64decode(nonce, validate=True).decode("ascii").partition(" ")
    except (binascii.Error, ValueError):
        return None
    if not timestamp.isdigit() or not hmac.compare_digest(mac, _nonce_mac(key, timestamp)):
        return None
    made = int(timestamp)
    if lifetime is not None and not 0 <= time.time() - made <= lifetime:
        return None
    return made


class _Replays:
    """The nonce counts accepted per nonce, for the nonces' lifetime (RFC 7616 3.4: the
    same nonce and nc twice is a replay).  Expired nonces are swept as the table
    doubles, so it holds about what was used within one lifetime."""

    def __init__(self, lifetime: float) -> None:
        self.lifetime = lifetime
        self.seen: dict = {}  # nonce -> (made, {nc, ...})
        self.sweep_at = 1024

    def first_use(self, nonce: str, made: int, nc: str) -> bool:
        """Record ``nc`` for ``nonce``; False if it was recorded before."""
        entry = self.seen.get(nonce)
        if entry is None:
            if len(self.seen) >= self.sweep_at:
                cutoff = time.time() - self.lifetime
                self.seen = {n: e for n, e in self.seen.items() if e[0] >= cutoff}
                self.sweep_at = max(1024, 2 * len(self.seen))
            self.seen[nonce] = (made, {nc})
            return True
        if nc in entry[1]:
            return False
        entry[1].add(nc)
        return True


def make_check_digest_credentials(
        lookup_ha1: UsernameRealmToDigestHA1, *, algorithm: str = "MD5",
        private_key: Union[str, bytes, None] = None,
        nonce_lifetime: Optional[float] = None,
) -> Callable[[Union[str, bytes], Union[Iterable, Mapping]], bool]:
    """``check(method, credentials) -> bool``: whether the credentials (from
    :func:`request_to_digest_credentials`) answer correctly for the HTTP ``method``,
    given ``lookup_ha1(username, realm)``.  Racket: ``make-check-digest-credentials``.
    Credentials missing a part raise ``ValueError``, as Racket's raise.

    Not in Racket: credentials of another ``algorithm`` than this check's, or of a
    ``qop`` other than ``auth``, are wrong; with ``private_key``, so is a nonce not made
    by :func:`make_digest_auth_header` with that key, or made more than
    ``nonce_lifetime`` seconds ago.  With both, a request is checked once: the same
    nonce and nonce count (``nc``) again is a replay, and wrong (RFC 7616 3.4; each
    process remembers what it accepted, for the nonces' lifetime).  Without
    ``nonce_lifetime``, the nonce count is not tracked: a credential replayed checks as
    good (serve over TLS)."""
    who = "make_check_digest_credentials"
    if not callable(lookup_ha1):
        raise TypeError(f"{who}: lookup_ha1 must be a procedure (username, realm) -> HA1, "
                        f"given {lookup_ha1!r}")
    algorithm = _algorithm(algorithm, who)
    hash_ = _hasher(algorithm)
    key = None if private_key is None else _key(private_key, who)
    if nonce_lifetime is not None and (isinstance(nonce_lifetime, bool)
                                       or not isinstance(nonce_lifetime, (int, float))
                                       or nonce_lifetime < 0):
        raise ValueError(f"{who}: nonce_lifetime must be seconds (>= 0), given "
                         f"{nonce_lifetime!r}")
    replays = None if key is None or nonce_lifetime is None else _Replays(nonce_lifetime)

    def check(method: Union[str, bytes], credentials: Union[Iterable, Mapping]) -> bool:
        if isinstance(method, (bytes, bytearray)):
            method = bytes(method).decode("latin-1")
        if not isinstance(method, str):
            raise TypeError(f"check_digest_credentials: method must be a str, given {method!r}")
        fields: dict = {}
        items = credentials.items() if isinstance(credentials, Mapping) else credentials
        for name, value in items:
            fields.setdefault(name, value)  # the first, as Racket's assq
        missing = [name for name in _REQUIRED if name not in fields]
        if missing:
            raise ValueError(f"check_digest_credentials: missing digest field(s): "
                             f"{', '.join(missing)}")
        if fields.get("algorithm", "MD5").upper() != algorithm.upper():
            return False
        if fields["qop"] != "auth":  # auth-int would need the body
            return False
        made = None
        if key is not None:
            made = _nonce_time(fields["nonce"], key, nonce_lifetime)
            if made is None:
                return False
        ha1 = lookup_ha1(fields["username"], fields["realm"])
        if ha1 is None:
            return False
        if isinstance(ha1, (bytes, bytearray)):
            ha1 = bytes(ha1).decode("ascii")
        ha1 = ha1.lower()
        if algorithm.endswith("-sess"):
            ha1 = hash_(f"{ha1}:{fields['nonce']}:{fields['cnonce']}")
        ha2 = hash_(f"{method}:{fields['uri']}")
        expected = hash_(f"{ha1}:{fields['nonce']}:{fields['nc']}:{fields['cnonce']}:"
                         f"{fields['qop']}:{ha2}")
        if not hmac.compare_digest(expected.encode("ascii"),
                                   str(fields["response"]).lower().encode("utf-8")):
            return False
        # Recorded only once it checks: a forged answer cannot use up a count.
        return replays is None or made is None or \
            replays.first_use(fields["nonce"], made, str(fields["nc"]).lower())

    return check
