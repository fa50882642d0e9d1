"""The WebSocket protocol (RFC 6455) without I/O: bytes in, messages out, and back.

:class:`Protocol` parses what the peer sent (``receive_data``) into events and serialises
what we send (``encode_*``).  It never touches a socket, so it is tested byte by byte;
``connection.py`` puts gevent I/O around it.

Why not gevent-websocket's framing: it reads each frame with several small blocking reads,
unmasks payloads one byte at a time in Python and validates UTF-8 in Python (a 1 MiB echo
took 307 ms), and has no permessage-deflate.  Here the payload is unmasked with one
big-integer XOR and text is validated by the C UTF-8 decoder, incrementally, so invalid
text is caught in the frame where it becomes invalid.
"""
from __future__ import annotations

import codecs
import importlib
import os
import struct
from typing import Any, Optional, Union

from .closing import (
    CLOSE_ABNORMAL,
    CLOSE_GOING_AWAY,
    CLOSE_INTERNAL_ERROR,
    CLOSE_INVALID_DATA,
    CLOSE_NO_STATUS,
    CLOSE_NORMAL,
    CLOSE_POLICY,
    CLOSE_PROTOCOL_ERROR,
    CLOSE_TOO_BIG,
    CLOSE_UNSUPPORTED,
    ProtocolError,
    valid_close_code,
)
from .deflate import PerMessageDeflate

__all__ = [
    "OP_CONTINUATION", "OP_TEXT", "OP_BINARY", "OP_CLOSE", "OP_PING", "OP_PONG",
    "CLOSE_NORMAL", "CLOSE_GOING_AWAY", "CLOSE_PROTOCOL_ERROR", "CLOSE_UNSUPPORTED",
    "CLOSE_NO_STATUS", "CLOSE_ABNORMAL", "CLOSE_INVALID_DATA", "CLOSE_POLICY",
    "CLOSE_TOO_BIG", "CLOSE_INTERNAL_ERROR", "Protocol", "ProtocolError", "mask_payload",
]

OP_CONTINUATION, OP_TEXT, OP_BINARY = 0x0, 0x1, 0x2
OP_CLOSE, OP_PING, OP_PONG = 0x8, 0x9, 0xA
_DATA_OPCODES = (OP_TEXT, OP_BINARY)
_CONTROL_OPCODES = (OP_CLOSE, OP_PING, OP_PONG)

# For payloads under 126 bytes: 1 + 2**32 + 2**64 + ... (one term per 4-byte word), which
# multiplied by the key repeats it, and the mask of the payload's n bytes.
_REPEAT = [sum(1 << (32 * i) for i in range((n + 3) // 4)) for n in range(126)]
_LOW = [(1 << (8 * n)) - 1 for n in range(126)]

# XOR tables for each key byte value: bytes.translate applies one to every fourth byte.
_XOR = [bytes(a ^ k for a in range(256)) for k in range(256)]


def mask_payload(key: bytes, data: bytes) -> bytes:
    """XOR ``data`` with the 4-byte ``key`` repeated (RFC 6455 5.3), at C speed.

    Small payloads: two big-integer conversions and one XOR. Large ones: four strided
    ``translate`` passes, about 2.5 times faster than the integers at 1 MiB (where the
    conversions dominate), where gevent-websocket loops over the bytes in Python.
    """
    n = len(data)
    if n < 126:
        # The key repeated by one multiplication (no carries: each word is < 2**32).
        return ((int.from_bytes(data, "little") ^ int.from_bytes(key, "little") * _REPEAT[n])
                & _LOW[n]).to_bytes(n, "little")
    if n < 1024:
        keys = key * (n // 4 + 1)
        return (int.from_bytes(data, "little") ^ int.from_bytes(keys[:n], "little")
                ).to_bytes(n, "little")
    return bytes(_unmask(key, bytearray(data)))


def _unmask(key: bytes, data: bytearray) -> Union[bytes, bytearray]:
    """:func:`mask_payload` on a bytearray of our own: large ones are unmasked in place
    (no copy), small ones come back as bytes."""
    n = len(data)
    if n < 1024:
        if n < 126:
            return ((int.from_bytes(data, "little")
                     ^ int.from_bytes(key, "little") * _REPEAT[n]) & _LOW[n]).to_bytes(n, "little")
        keys = key * (n // 4 + 1)
        return (int.from_bytes(data, "little") ^ int.from_bytes(keys[:n], "little")
                ).to_bytes(n, "little")
    if n >= _NUMPY_FROM:
        xor = _numpy_xor()
        if xor is not None:
            return xor(key, data)
    for i in range(4):
        data[i::4] = data[i::4].translate(_XOR[key[i]])
    return data


# At 1 MiB the strided translate takes ~1.8 ms; numpy's XOR of 32-bit words ~0.1 ms.
# numpy is optional (the speedups extra; imported on the first large frame only: it
# costs ~20 MB).  It is imported by name, so the type check needs no numpy installed:
# what it gives is Any either way.
_NUMPY_FROM = 16384
_numpy: Any = None


def _numpy_xor():
    global _numpy
    if _numpy is None:
        try:
            _numpy = importlib.import_module("numpy")
        except ImportError:
            _numpy = False
    if not _numpy:
        return None
    return _xor_words


def _xor_words(key: bytes, data: bytearray) -> bytearray:
    np = _numpy
    words = len(data) >> 2
    # Both views are in native byte order, so byte i of each word meets key[i].
    view = np.frombuffer(data, dtype=np.uint32, count=words)
    np.bitwise_xor(view, np.frombuffer(key, dtype=np.uint32)[0], out=view)
    for i in range(words << 2, len(data)):
        data[i] ^= key[i & 3]
    return data


# Events produced by Protocol.receive_data: (opcode, payload).  Messages are whole
# (fragments reassembled): OP_TEXT with str, OP_BINARY with bytes; OP_PING and OP_PONG
# with bytes; OP_CLOSE with (code, reason).
Event = tuple


class Protocol:
    """One side of one WebSocket connection, as a state machine over bytes."""

    # Slots: an idle connection's instance dict cost a few hundred bytes.
    __slots__ = ("client", "deflate", "max_message_size", "_buffer", "_opcode", "_parts",
                 "_size", "_decoder", "_compressed", "_wire", "close_received", "failed",
                 "_discard")

    def __init__(self, client: bool = False, deflate: Optional[PerMessageDeflate] = None,
                 max_message_size: Optional[int] = 1 << 20) -> None:
        self.client = client
        self.deflate = deflate
        self.max_message_size = max_message_size
        self._buffer = bytearray()
        # The message being received: opcode, parts, size, UTF-8 decoder, compressed?
        self._opcode: Optional[int] = None
        self._parts: list = []
        self._size = 0
        self._decoder: Any = None  # an incremental UTF-8 decoder while one is needed
        self._compressed = False
        self._wire = 0  # compressed bytes of the message so far
        self.close_received = False
        # After a protocol error only the peer's close frame matters: frames are skipped
        # (never buffered whole), ``_discard`` bytes of the offending frame first.
        self.failed = False
        self._discard = 0

    # -- receiving -------------------------------------------------------------------

    @property
    def buffered(self) -> int:
        """Bytes of an incomplete frame waiting for the rest."""
        return len(self._buffer)

    def receive_data(self, data: Union[bytes, bytearray, memoryview]) -> list:
        """Parse ``data`` (any slice of the stream, bytes-like) into complete events.

        Raises :class:`ProtocolError` at the first violation; nothing after it is read.
        """
        if type(data) is not bytes:
            data = bytes(data)  # compiled, the code below takes bytes only
        if self.failed:
            return self._receive_after_failure(data)
        if not self._buffer and self._opcode is None and not self.client:
            # The common case on a server: exactly one small, whole, masked, unfragmented
            # text or binary frame, with nothing buffered and no extension bit.
            n = len(data)
            if n >= 6:
                b0, b1 = data[0], data[1]
                if (b0 == 0x81 or b0 == 0x82) and b1 >= 0x80 and n == (b1 & 0x7F) + 6 \
                        and b1 - 0x80 < 126 and (self.max_message_size is None
                                                 or b1 - 0x80 <= self.max_message_size):
                    payload = mask_payload(data[2:6], data[6:])
                    if b0 == 0x82:
                        return [(OP_BINARY, payload)]
                    try:
                        return [(OP_TEXT, payload.decode("utf-8"))]
                    except UnicodeDecodeError as exc:
                        self.failed = True
                        raise ProtocolError(f"invalid UTF-8 in a text message: {exc.reason}",
                                            CLOSE_INVALID_DATA) from None
        buffer = self._buffer
        buffer += data
        events = []
        pos = 0
        skip = 0  # what to discard of the frame at ``pos`` should it be refused
        try:
            end = len(buffer)
            while end - pos >= 2 and not self.close_received:
                b0 = buffer[pos]
                b1 = buffer[pos + 1]
                length = b1 & 0x7F
                head = 2
                if length == 126:
                    if end - pos < 4:
                        break
                    length = (buffer[pos + 2] << 8) | buffer[pos + 3]
                    head = 4
                elif length == 127:
                    if end - pos < 10:
                        break
                    (length,) = struct.unpack_from("!Q", buffer, pos + 2)
                    if length >> 63:
                        raise ProtocolError("the most significant bit of a 64-bit length "
                                            "is set")
                    head = 10
                masked = b1 & 0x80
                if masked:
                    head += 4
                skip = head + length
                self._check_header(b0, masked, length)
                if end - pos < head + length:
                    break
                start = pos + head
                body: Union[bytes, bytearray]
                if masked:
                    body = _unmask(bytes(buffer[start - 4:start]), buffer[start:start + length])
                else:
                    body = bytes(buffer[start:start + length])
                pos += head + length
                skip = 0
                event = self._frame(b0, body)
                if event is not None:
                    events.append(event)
        except ProtocolError:
            del buffer[:pos]
            self._fail(skip)
            raise
        del buffer[:pos]
        return events

    def _fail(self, skip: int) -> None:
        self.failed = True
        self._opcode, self._parts, self._decoder = None, [], None
        dropped = min(skip, len(self._buffer))
        del self._buffer[:dropped]
        self._discard = skip - dropped

    def _receive_after_failure(self, data: bytes) -> list:
        """After a protocol error: skip the peer's frames, looking for its close frame
        (so that our close frame is read rather than lost to a reset connection)."""
        if self._discard:
            n = min(self._discard, len(data))
            self._discard -= n
            data = data[n:]
        buffer = self._buffer
        buffer += data
        pos, end = 0, len(buffer)
        event: list = []
        while end - pos >= 2 and not self.close_received:
            b0, b1 = buffer[pos], buffer[pos + 1]
            length, head = b1 & 0x7F, 2
            if length == 126:
                if end - pos < 4:
                    break
                length, head = (buffer[pos + 2] << 8) | buffer[pos + 3], 4
            elif length == 127:
                if end - pos < 10:
                    break
                (length,) = struct.unpack_from("!Q", buffer, pos + 2)
                head = 10
            if b1 & 0x80:
                head += 4
            if b0 & 0x0F == OP_CLOSE and length <= 125:
                if end - pos < head + length:
                    break
                payload = bytes(buffer[pos + head:pos + head + length])
                if b1 & 0x80:
                    payload = mask_payload(bytes(buffer[pos + head - 4:pos + head]), payload)
                self.close_received = True
                try:
                    event = [self._close(payload)]
                except ProtocolError:
                    event = [(OP_CLOSE, (CLOSE_NO_STATUS, ""))]
                pos += head + length
                break
            if end - pos < head + length:
                self._discard = head + length - (end - pos)
                pos = end
                break
            pos += head + length
        del buffer[:pos]
        return event

    def _check_header(self, b0: int, masked: int, length: int) -> None:
        opcode = b0 & 0x0F
        if opcode in _CONTROL_OPCODES:
            if not b0 & 0x80 or length > 125:
                # A broken close frame still ends the peer's side: no other will come.
                self.close_received = opcode == OP_CLOSE
                raise ProtocolError("a control frame is fragmented" if not b0 & 0x80
                                    else "a control frame is longer than 125 bytes")
        elif opcode not in _DATA_OPCODES and opcode != OP_CONTINUATION:
            raise ProtocolError(f"reserved opcode {opcode:#x}")
        if b0 & 0x30 or (b0 & 0x40 and (self.deflate is None or opcode not in _DATA_OPCODES)):
            raise ProtocolError("a reserved bit is set that no extension defines")
        if bool(masked) == self.client:
            raise ProtocolError("a server's frames must not be masked" if self.client
                                else "a client's frames must be masked")
        limit = self.max_message_size
        if limit is not None and opcode not in _CONTROL_OPCODES:
            # A compressed frame is refused on its declared size too (as ``websockets``
            # does): it is never buffered beyond the limit, whatever it would inflate to.
            compressed = b0 & 0x40 or (opcode == OP_CONTINUATION and self._compressed)
            if (self._wire if compressed else self._size) + length > limit:
                raise ProtocolError(f"message larger than {limit} bytes", CLOSE_TOO_BIG)

    def _frame(self, b0: int, payload: Union[bytes, bytearray]) -> Optional[Event]:
        opcode = b0 & 0x0F
        fin = b0 & 0x80
        if opcode >= OP_CLOSE:
            if opcode == OP_CLOSE:
                return self._close(payload)
            return (opcode, payload)
        if opcode == OP_CONTINUATION:
            if self._opcode is None:
                raise ProtocolError("a continuation frame without a message to continue")
        else:
            if self._opcode is not None:
                raise ProtocolError("a new message began before the last one ended")
            self._opcode = opcode
            self._compressed = bool(b0 & 0x40)
            if opcode == OP_TEXT and not (fin and not self._compressed):
                self._decoder = _utf8_decoder()
        if self._compressed:
            self._wire += len(payload)
            payload = self.deflate.decompress(  # type: ignore[union-attr]  # negotiated
                payload, bool(fin), self._room())
        self._size += len(payload)
        if self.max_message_size is not None and self._size > self.max_message_size:
            raise ProtocolError(f"message larger than {self.max_message_size} bytes",
                                CLOSE_TOO_BIG)
        message: Union[str, bytes, bytearray] = payload
        if self._decoder is not None:
            try:
                message = self._decoder.decode(payload, bool(fin))
            except UnicodeDecodeError as exc:
                raise ProtocolError(f"invalid UTF-8 in a text message: {exc.reason}",
                                    CLOSE_INVALID_DATA) from None
        if not fin:
            self._parts.append(message)
            return None
        parts, self._parts = self._parts, []
        opcode, self._opcode, self._decoder, self._size = self._opcode, None, None, 0
        self._wire = 0
        if opcode == OP_TEXT and type(message) is not str:
            # A single uncompressed frame: one plain decode, no incremental decoder.
            try:
                message = payload.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ProtocolError(f"invalid UTF-8 in a text message: {exc.reason}",
                                    CLOSE_INVALID_DATA) from None
        if parts:
            parts.append(message)
            message = ("" if opcode == OP_TEXT else b"").join(parts)
        elif type(message) is not bytes and opcode == OP_BINARY:
            message = bytes(payload)
        return (opcode, message)

    def _room(self) -> Optional[int]:
        if self.max_message_size is None:
            return None
        return self.max_message_size - self._size

    def _close(self, payload: Union[bytes, bytearray]) -> Event:
        self.close_received = True
        if not payload:
            return (OP_CLOSE, (CLOSE_NO_STATUS, ""))
        if len(payload) == 1:
            raise ProtocolError("a close frame with a one-byte payload")
        (code,) = struct.unpack_from("!H", payload)
        if not valid_close_code(code):
            raise ProtocolError(f"invalid close code {code}")
        try:
            reason = payload[2:].decode("utf-8")
        except UnicodeDecodeError:
            raise ProtocolError("invalid UTF-8 in a close reason", CLOSE_INVALID_DATA) from None
        return (OP_CLOSE, (code, reason))

    # -- sending ---------------------------------------------------------------------

    def encode_frame(self, opcode: int, payload: bytes, fin: bool = True,
                     rsv1: bool = False) -> bytes:
        """One frame, masked when we are the client."""
        b0 = opcode | (0x80 if fin else 0) | (0x40 if rsv1 else 0)
        n = len(payload)
        mask_bit = 0x80 if self.client else 0
        if n < 126:
            header = bytes((b0, mask_bit | n))
        elif n < 65536:
            header = struct.pack("!BBH", b0, mask_bit | 126, n)
        else:
            header = struct.pack("!BBQ", b0, mask_bit | 127, n)
        if self.client:
            key = os.urandom(4)
            return header + key + mask_payload(key, payload)
        return header + payload

    def encode_message(self, payload: Union[str, bytes], binary: bool) -> bytes:
        """A whole message in one frame, compressed when deflate was negotiated."""
        data = payload.encode("utf-8") if isinstance(payload, str) else payload
        opcode = OP_BINARY if binary else OP_TEXT
        if self.deflate is not None and self.deflate.worth_compressing(data):
            return self.encode_frame(opcode, self.deflate.compress(data), rsv1=True)
        return self.encode_frame(opcode, data)

    def encode_close(self, code: int = CLOSE_NORMAL, reason: str = "") -> bytes:
        if code in (CLOSE_NO_STATUS, CLOSE_ABNORMAL):
            return self.encode_frame(OP_CLOSE, b"")
        data = struct.pack("!H", code) + reason.encode("utf-8")
        if len(data) > 125:
            raise ValueError("a close reason may take at most 123 bytes of UTF-8")
        return self.encode_frame(OP_CLOSE, data)


def _utf8_decoder():
    return codecs.getincrementaldecoder("utf-8")("strict")
