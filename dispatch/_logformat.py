"""Log lines: Apache's common and combined formats, and Racket's own log formats.

One Apache formatter serves both logs that write Apache lines: Racket's ``dispatch-log``
and ``dispatch-logresp`` formats (``apache-default``, ``combined``) and the engine's
access log (:mod:`dispatch.access_log`).  Each builds its line from the WSGI environ with
:func:`common_line` / :func:`combined_line`, so both share one escaping, one date and one
request line; they differ only where their twins do (Racket writes ``- -`` for the
identity and user, ``-`` for the length and no duration).

Racket's ``log-format/c`` names: ``parenthesized-default`` (``paren`` is kept as this
project's older name), ``extended``, ``apache-default`` and ``combined``.  Each format
is ``format(request, code=None) -> str``: with ``code`` (the response status, as
``logresp`` passes it) it writes Racket's ``dispatch-logresp`` line, without it
``dispatch-log``'s.
"""
from __future__ import annotations

import inspect
import time
import unicodedata
from typing import Callable, Optional
from urllib.parse import quote

__all__ = ["FORMATS", "LogFormat", "apache_default_format", "clf_date", "combined_line",
           "combined_log_format", "common_line", "escape", "extended_format",
           "log_format_to_format", "paren_format", "request_line", "request_target",
           "resolve"]

LogFormat = Callable[..., str]

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

# -- Apache's formats ---------------------------------------------------------------------

# Apache's ap_escape_logitem (since 2.0.46): quotes and backslashes escaped, and every
# byte that is not printable ASCII (controls, DEL, the high half) as \xhh, bar the five
# with C names.  The line is then plain ASCII: no field can end early, no line be forged.
_ESCAPES = {byte: f"\\x{byte:02x}" for byte in (*range(0x20), *range(0x7f, 0x100))}
_ESCAPES.update({0x08: "\\b", 0x09: "\\t", 0x0a: "\\n", 0x0b: "\\v", 0x0d: "\\r",
                 0x22: '\\"', 0x5c: "\\\\"})


def escape(value: str) -> str:
    """``value`` as Apache logs a request field (``%r``, ``%{Referer}i``, ``%u``...).

    A WSGI str holds the bytes received as latin-1 (PEP 3333), so each character is the
    byte Apache would escape; any other str is escaped as its UTF-8 bytes.
    """
    if value.isascii():
        if value.isprintable() and '"' not in value and "\\" not in value:
            return value
    elif max(value) > "\xff":
        value = value.encode("utf-8").decode("latin-1")
    return value.translate(_ESCAPES)


def _bare(value: Optional[str]) -> str:
    # An unquoted field (host, user) also ends at a space: one more escape than Apache's.
    return escape(value).replace(" ", "\\x20") if value else "-"


def clf_date(now: float) -> str:
    """``25/Nov/2026:16:05:02 +0100``: local time, English month whatever the locale
    (Apache's ``%t``; Racket's SRFI-19 ``~d/~b/~Y:~T ~z``)."""
    t = time.localtime(now)
    offset = (t.tm_gmtoff or 0) // 60
    sign = "-" if offset < 0 else "+"
    return (f"{t.tm_mday:02d}/{_MONTHS[t.tm_mon - 1][:3]}/{t.tm_year}:"
            f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} "
            f"{sign}{abs(offset) // 60:02d}{abs(offset) % 60:02d}")


def request_target(environ: dict) -> str:
    """The request-target as the client sent it (``/p?q=1``), Racket's
    ``(url->string (request-uri req))``: the server's record of it when it keeps one
    (``RAW_URI``, ``REQUEST_URI``), else rebuilt from the path and query."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    query = environ.get("QUERY_STRING")
    if raw:
        # werkzeug's EnvironBuilder (the test clients) records the path alone.
        return raw + "?" + query if query and "?" not in raw else raw
    path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
    try:
        data = path.encode("latin-1")  # WSGI's path: the bytes the client sent
    except UnicodeEncodeError:
        data = path.encode("utf-8")
    # RFC 3986 pchar and "/" stay; "%" does not, or a decoded "%25" would read as an escape.
    target = quote(data, safe="/:@!$&'()*+,;=") or "/"
    return target + "?" + query if query else target


def request_line(environ: dict) -> str:
    """``GET /p?q=1 HTTP/1.1``: Apache's ``%r`` (unescaped: :func:`escape` it to log)."""
    return (f"{environ.get('REQUEST_METHOD') or '-'} {request_target(environ)} "
            f"{environ.get('SERVER_PROTOCOL') or '-'}")


def common_line(environ: dict, status: Optional[int], length: Optional[int],
                user: Optional[str] = None, now: Optional[float] = None) -> str:
    """Apache's common log format, without a newline:
    ``HOST - USER [DATE] "REQUEST LINE" STATUS LENGTH``, ``-`` for what is unknown."""
    return (f"{_bare(environ.get('REMOTE_ADDR'))} - {_bare(user)} "
            f"[{clf_date(time.time() if now is None else now)}] "
            f"\"{escape(request_line(environ))}\" "
            f"{'-' if status is None else status} {'-' if length is None else length}")


def combined_line(environ: dict, status: Optional[int], length: Optional[int],
                  user: Optional[str] = None, now: Optional[float] = None,
                  absent: str = '"-"') -> str:
    """Apache's combined format: the common line, then ``"REFERER" "USER-AGENT"``;
    ``absent`` stands for a missing header (Apache's ``"-"``; Racket writes ``-``)."""
    def quoted(name: str) -> str:
        value = environ.get(name)
        return absent if value is None else '"' + escape(value) + '"'

    return (f"{common_line(environ, status, length, user, now)} "
            f"{quoted('HTTP_REFERER')} {quoted('HTTP_USER_AGENT')}")


# -- Racket's formats -----------------------------------------------------------------------

# Racket's write prints these with their names, and any other character that is neither
# graphic nor blank as \uXXXX: no line break (not even U+0085 or U+2028) gets through.
_NAMED = {"\a": "\\a", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\v": "\\v", "\f": "\\f",
          "\r": "\\r", "\x1b": "\\e", '"': '\\"', "\\": "\\\\"}
_UNPRINTED = frozenset(("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"))


def _write_string(value) -> str:
    """A string as Racket's ``write`` prints it."""
    out = []
    for char in str(value if value is not None else ""):
        if char in _NAMED:
            out.append(_NAMED[char])
        elif (char < " " or char >= "\x7f") and unicodedata.category(char) in _UNPRINTED:
            code = ord(char)
            out.append(f"\\u{code:04X}" if code <= 0xFFFF else f"\\U{code:08X}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _write_bytes(value: bytes) -> str:
    """A byte string as Racket's ``write`` prints it: ``#"..."``."""
    out = []
    for byte in value:
        char = chr(byte)
        if char in '"\\':
            out.append("\\" + char)
        elif 32 <= byte < 127:
            out.append(char)
        else:
            out.append(f"\\{byte:o}")
    return '#"' + "".join(out) + '"'


def _american_date(now: float) -> str:
    """Racket's ``(date->string (seconds->date now) #t)`` in its default ``american``
    display: ``Wednesday, November 25th, 2026 4:01:00pm``."""
    t = time.localtime(now)
    day = t.tm_mday
    th = "th" if 11 <= day <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    hour12 = t.tm_hour % 12 or 12
    return (f"{_DAYS[t.tm_wday]}, {_MONTHS[t.tm_mon - 1]} {day}{th}, {t.tm_year} "
            f"{hour12}:{t.tm_min:02d}:{t.tm_sec:02d}{'pm' if t.tm_hour >= 12 else 'am'}")


def paren_format(request, code: Optional[int] = None) -> str:
    """``(from "CLIENT" to "HOST" for "URI" at "DATE")``, with ``code N`` appended
    for logresp."""
    parts = ["from", _write_string(request.client_ip), "to", _write_string(request.host_ip),
             "for", _write_string(request_target(request.environ)),
             "at", _write_string(_american_date(time.time()))]
    if code is not None:
        parts += ["code", str(code)]
    return "(" + " ".join(parts) + ")\n"


def extended_format(request, code: Optional[int] = None) -> str:
    """``((client-ip "..") (host-ip "..") (referer #"..") (uri "..") (time N))``, with
    ``(code N)`` appended for logresp."""
    referer = request.headers.get("Referer")
    fields = [("client-ip", _write_string(request.client_ip)),
              ("host-ip", _write_string(request.host_ip)),
              ("referer", _write_bytes(referer.encode("latin-1", "replace"))
               if referer is not None else "#f"),
              ("uri", _write_string(request_target(request.environ))),
              ("time", str(int(time.time())))]
    if code is not None:
        fields.append(("code", str(code)))
    return "(" + " ".join(f"({k} {v})" for k, v in fields) + ")\n"


def apache_default_format(request, code: Optional[int] = None) -> str:
    """Apache's common log format as Racket writes it:
    ``CLIENT - - [DATE] "METHOD URI PROTOCOL" CODE -`` (``-`` for the code in
    ``dispatch-log``, which runs before the response; ``-`` for the length always)."""
    return common_line(request.environ, code, None) + "\n"


def combined_log_format(request, code: Optional[int] = None) -> str:
    """Apache's combined format as Racket writes it: the common one, then
    ``"REFERER" "USER-AGENT"``, a bare ``-`` for either when absent."""
    return combined_line(request.environ, code, None, absent="-") + "\n"


FORMATS = {"parenthesized-default": paren_format, "extended": extended_format,
           "apache-default": apache_default_format, "combined": combined_log_format,
           "paren": paren_format}


def log_format_to_format(log_format: str) -> LogFormat:
    """The procedure of a format name.  Racket: ``log-format->format``."""
    if not isinstance(log_format, str):
        raise TypeError(f"a log format name is a str, not {log_format!r}")
    try:
        return FORMATS[log_format]
    except KeyError:
        raise ValueError(f"unknown log format {log_format!r}; the known formats are "
                         + ", ".join(repr(name) for name in FORMATS)) from None


def _accepts(proc: Callable, count: int) -> Optional[bool]:
    try:
        signature = inspect.signature(proc)
    except (TypeError, ValueError):
        return None  # a builtin without a signature: assume it fits
    try:
        signature.bind(*([None] * count))
    except TypeError:
        return False
    return True


def resolve(fmt, caller: str, with_code: bool) -> Callable:
    """``write_line(request, code)`` for a format name or procedure, checked now.

    A procedure is called as Racket's ``logresp`` calls it: with the request and the
    status code when it takes two arguments, with the request alone otherwise.
    """
    proc = log_format_to_format(fmt) if isinstance(fmt, str) else fmt
    if not callable(proc):
        raise TypeError(f"{caller}: format must be one of "
                        + ", ".join(repr(name) for name in FORMATS)
                        + f" or a procedure, not {fmt!r}")
    if with_code and _accepts(proc, 2) is not False:
        return proc
    if _accepts(proc, 1) is False:
        wanted = "(request) or (request, code)" if with_code else "(request)"
        raise TypeError(f"{caller}: the format procedure {proc!r} must take {wanted}")
    return lambda request, code=None: proc(request)
