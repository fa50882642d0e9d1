"""WebSocket close codes (RFC 6455 7.4) and the error that closes a connection with one.

Below both the framing (:mod:`.protocol`) and the compression extension (:mod:`.deflate`),
which each raise :class:`ProtocolError`; :mod:`.protocol` re-exports everything here.
"""
from __future__ import annotations

from geventwebsocket.exceptions import ProtocolError as _GeventWebSocketProtocolError

__all__ = [
    "CLOSE_NORMAL", "CLOSE_GOING_AWAY", "CLOSE_PROTOCOL_ERROR", "CLOSE_UNSUPPORTED",
    "CLOSE_NO_STATUS", "CLOSE_ABNORMAL", "CLOSE_INVALID_DATA", "CLOSE_POLICY",
    "CLOSE_TOO_BIG", "CLOSE_INTERNAL_ERROR", "ProtocolError", "valid_close_code",
]

CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001
CLOSE_PROTOCOL_ERROR = 1002
CLOSE_UNSUPPORTED = 1003
CLOSE_NO_STATUS = 1005  # never sent: "the close frame had no status"
CLOSE_ABNORMAL = 1006  # never sent: "the connection dropped without a close frame"
CLOSE_INVALID_DATA = 1007
CLOSE_POLICY = 1008
CLOSE_TOO_BIG = 1009
CLOSE_INTERNAL_ERROR = 1011

# Codes a peer may send (RFC 6455 7.4, and the IANA registry's 1012-1014).
_SENDABLE = frozenset((1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014))


def valid_close_code(code: int) -> bool:
    return code in _SENDABLE or 3000 <= code <= 4999


class ProtocolError(_GeventWebSocketProtocolError):
    """The peer broke the protocol; the connection closes with ``code``."""

    def __init__(self, reason: str, code: int = CLOSE_PROTOCOL_ERROR) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
