"""The log formats of Racket's ``dispatch-log``: paren, extended and Apache's default."""
from __future__ import annotations

import time
from typing import Callable, Optional

__all__ = ["FORMATS", "LogFormat", "apache_default_format", "extended_format",
           "paren_format"]

LogFormat = Callable[..., str]


def _quote(value) -> str:
    text = str(value if value is not None else "")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def paren_format(request, status: Optional[int] = None) -> str:
    """``(from CLIENT to HOST for URI at DATE)``."""
    parts = ["from", _quote(request.client_ip), "to", _quote(request.host_ip), "for",
             _quote(request.uri), "at", _quote(time.strftime("%a, %d %b %Y %H:%M:%S"))]
    if status is not None:
        parts += ["status", str(status)]
    return "(" + " ".join(parts) + ")\n"


def extended_format(request, status: Optional[int] = None) -> str:
    """``((client-ip ...) (host-ip ...) (referer ...) (uri ...) (time ...))``."""
    fields = [("client-ip", _quote(request.client_ip)), ("host-ip", _quote(request.host_ip)),
              ("referer", _quote(request.referrer) if request.referrer else "#f"),
              ("uri", _quote(request.uri)), ("time", str(int(time.time())))]
    if status is not None:
        fields.append(("status", str(status)))
    return "(" + " ".join(f"({k} {v})" for k, v in fields) + ")\n"


def apache_default_format(request, status: Optional[int] = None) -> str:
    """Apache's common log format: ``CLIENT - - [DATE] "METHOD URI PROTOCOL" STATUS -``."""
    line = f"{request.method} {request.full_path.rstrip('?')} " \
           f"{request.environ.get('SERVER_PROTOCOL', 'HTTP/1.1')}"
    return (f"{request.client_ip or '-'} - - [{time.strftime('%d/%b/%Y:%H:%M:%S %z')}] "
            f"{_quote(line)} {status if status is not None else '-'} -\n")


FORMATS = {"paren": paren_format, "extended": extended_format,
           "apache-default": apache_default_format}


def resolve(fmt) -> LogFormat:
    return FORMATS[fmt] if isinstance(fmt, str) else fmt
