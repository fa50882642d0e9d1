"""The SSE wire format, without I/O.  WHATWG HTML, "Server-sent events", section 9.2.

Each function returns the bytes of one complete message (ending in a blank line), so that
a stream is the concatenation of what they return.  A field that would break the framing
is a ``ValueError`` here, at the call, never a corrupt stream.
"""
from __future__ import annotations

import re
from typing import Optional, Union

__all__ = ["encode_comment", "encode_event", "split_lines"]

# The line terminators the specification recognises (and no others: str.splitlines
# would also split on form feeds, U+2028 and more, which a browser keeps as data).
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def split_lines(text: str) -> list[str]:
    """``text`` split on CRLF, CR or LF, as an EventSource splits a stream."""
    return _LINE_BREAK.split(text)


def _single_line(name: str, value: str) -> str:
    if "\r" in value or "\n" in value:
        raise ValueError(f"an SSE {name} cannot contain a line break: {value!r}")
    return value


def encode_event(data: Optional[str] = None, event: Optional[str] = None,
                 id: Optional[Union[int, str]] = None,  # noqa: A002 (the field's name)
                 retry: Optional[int] = None) -> bytes:
    """One event: ``event:``, ``id:``, ``retry:`` and one ``data:`` line per line of data."""
    lines = []
    if event is not None:
        lines.append("event: " + _single_line("event name", event))
    if id is not None:
        ident = _single_line("id", str(id))
        if "\0" in ident:
            raise ValueError("an SSE id cannot contain NUL (browsers ignore such ids)")
        lines.append("id: " + ident)
    if retry is not None:
        if isinstance(retry, bool) or not isinstance(retry, int) or retry < 0:
            raise ValueError(f"SSE retry must be a non-negative integer, not {retry!r}")
        lines.append(f"retry: {retry}")
    if data is not None:
        if not isinstance(data, str):
            raise TypeError(f"SSE data must be text, not {type(data).__name__}")
        lines.extend("data: " + line for line in split_lines(data))
    if not lines:
        raise ValueError("an SSE event needs at least one field")
    return ("\n".join(lines) + "\n\n").encode("utf-8")


def encode_comment(text: str = "") -> bytes:
    """A comment line: ignored by clients, it keeps idle connections open."""
    return b"".join(b":" + (b" " if line else b"") + line.encode("utf-8") + b"\n"
                    for line in split_lines(text)) + b"\n"
