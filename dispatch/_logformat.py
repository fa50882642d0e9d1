"""The log formats of Racket's ``dispatch-log`` and ``dispatch-logresp``.

Racket's ``log-format/c`` names: ``parenthesized-default`` (``paren`` is kept as this
project's older name), ``extended``, ``apache-default`` and ``combined``.  Each format
is ``format(request, code=None) -> str``: with ``code`` (the response status, as
``logresp`` passes it) it writes Racket's ``dispatch-logresp`` line, without it
``dispatch-log``'s.
"""
from __future__ import annotations

import inspect
import time
from typing import Callable, Optional
from urllib.parse import quote

__all__ = ["FORMATS", "LogFormat", "apache_default_format", "combined_log_format",
           "extended_format", "log_format_to_format", "paren_format", "resolve"]

LogFormat = Callable[..., str]

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _write_string(value) -> str:
    """A string as Racket's ``write`` prints it."""
    out = []
    for char in str(value if value is not None else ""):
        if char in '"\\':
            out.append("\\" + char)
        elif char in "\n\r\t":
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t"}[char])
        elif ord(char) < 32 or ord(char) == 127:
            out.append(f"\\u{ord(char):04X}")
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


def _quoted(value: str) -> str:
    # Apache's own escaping inside its quoted fields: a quote cannot end the field early.
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _american_date(now: float) -> str:
    """Racket's ``(date->string (seconds->date now) #t)`` in its default ``american``
    display: ``Wednesday, November 25th, 2026 4:01:00pm``."""
    t = time.localtime(now)
    day = t.tm_mday
    th = "th" if 11 <= day <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    hour12 = t.tm_hour % 12 or 12
    return (f"{_DAYS[t.tm_wday]}, {_MONTHS[t.tm_mon - 1]} {day}{th}, {t.tm_year} "
            f"{hour12}:{t.tm_min:02d}:{t.tm_sec:02d}{'pm' if t.tm_hour >= 12 else 'am'}")


def _apache_date(now: float) -> str:
    """SRFI-19's ``~d/~b/~Y:~T ~z``, with English month names whatever the locale."""
    t = time.localtime(now)
    return (f"{t.tm_mday:02d}/{_MONTHS[t.tm_mon - 1][:3]}/{t.tm_year}:"
            f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} {time.strftime('%z', t)}")


def request_target(request) -> str:
    """The request-target as the client sent it (``/p?q=1``), Racket's
    ``(url->string (request-uri req))``: the server's record of it when it keeps one
    (``RAW_URI``, ``REQUEST_URI``), else rebuilt from the path and query."""
    environ = request.environ
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        return raw
    target = quote(request.script_root + request.path, safe="/:@!$&'()*+,;=~")
    query = environ.get("QUERY_STRING")
    return target + "?" + query if query else target


def _request_line(request) -> str:
    protocol = request.environ.get("SERVER_PROTOCOL") or "HTTP/1.1"
    return f"{request.method.upper()} {request_target(request)} {protocol}"


def paren_format(request, code: Optional[int] = None) -> str:
    """``(from "CLIENT" to "HOST" for "URI" at "DATE")``, with ``code N`` appended
    for logresp."""
    parts = ["from", _write_string(request.client_ip), "to", _write_string(request.host_ip),
             "for", _write_string(request_target(request)),
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
              ("uri", _write_string(request_target(request))),
              ("time", str(int(time.time())))]
    if code is not None:
        fields.append(("code", str(code)))
    return "(" + " ".join(f"({k} {v})" for k, v in fields) + ")\n"


def apache_default_format(request, code: Optional[int] = None) -> str:
    """Apache's common log format: ``CLIENT - - [DATE] "METHOD URI PROTOCOL" CODE -``
    (``-`` for the code in ``dispatch-log``, which runs before the response)."""
    return (f"{request.client_ip or '-'} - - [{_apache_date(time.time())}] "
            f"{_quoted(_request_line(request))} {code if code is not None else '-'} -\n")


def combined_log_format(request, code: Optional[int] = None) -> str:
    """Apache's combined format: the common one, then ``"REFERER" "USER-AGENT"``
    (``-`` for either when absent)."""
    referer, agent = request.headers.get("Referer"), request.headers.get("User-Agent")
    return (f"{request.client_ip or '-'} - - [{_apache_date(time.time())}] "
            f"{_quoted(_request_line(request))} {code if code is not None else '-'} - "
            f"{_quoted(referer) if referer is not None else '-'} "
            f"{_quoted(agent) if agent is not None else '-'}\n")


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
