"""permessage-deflate (RFC 7692): negotiation and the per-message codec.

Negotiation, server side: :func:`negotiate_server` reads the client's
``Sec-WebSocket-Extensions`` offers and returns the answer header and the codec, or
``(None, None)`` when no offer is acceptable (the connection then runs uncompressed).
Client side: :func:`client_offer` and :func:`accept_client`.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Optional, Union

from .closing import CLOSE_TOO_BIG, ProtocolError

__all__ = ["DeflateOptions", "PerMessageDeflate", "accept_client", "client_offer",
           "negotiate_server", "NegotiationError"]

_TAIL = b"\x00\x00\xff\xff"
_NAME = "permessage-deflate"


class NegotiationError(ValueError):
    """An extension answer or offer that RFC 7692 does not allow."""


@dataclass(frozen=True)
class DeflateOptions:
    """What this side wants.  ``compress_min``: smaller messages are sent uncompressed
    (compressing a few bytes costs more than it saves)."""

    enabled: bool = True
    server_no_context_takeover: bool = False
    client_no_context_takeover: bool = False
    server_max_window_bits: int = 15
    client_max_window_bits: int = 15
    level: int = 6
    compress_min: int = 64


class PerMessageDeflate:
    """The negotiated codec of one connection (one side's view)."""

    def __init__(self, client: bool, *, server_no_context_takeover: bool = False,
                 client_no_context_takeover: bool = False, server_max_window_bits: int = 15,
                 client_max_window_bits: int = 15, level: int = 6,
                 compress_min: int = 64) -> None:
        ours_no_takeover = client_no_context_takeover if client else server_no_context_takeover
        theirs_no_takeover = server_no_context_takeover if client else client_no_context_takeover
        ours_bits = client_max_window_bits if client else server_max_window_bits
        theirs_bits = server_max_window_bits if client else client_max_window_bits
        # zlib cannot make raw deflate streams with an 8-bit window; a 9-bit one is the
        # smallest it writes, so a peer limited to 8 bits is answered with 9 (see the
        # negotiation, which never agrees to 8 for what we compress).
        self._compress_bits = max(ours_bits, 9)
        # A window larger than the peer's always inflates its data correctly.
        del theirs_bits
        self._reset_compressor = ours_no_takeover
        self._reset_decompressor = theirs_no_takeover
        self.level = level
        self.compress_min = compress_min
        # Created on first use: a zlib compressor holds ~256 KiB, too much to spend on
        # every idle connection.
        self._compressor = None
        self._decompressor: Optional[zlib._Decompress] = None

    def _new_compressor(self):
        return zlib.compressobj(self.level, zlib.DEFLATED, -self._compress_bits)

    def worth_compressing(self, data: bytes) -> bool:
        return len(data) >= self.compress_min

    def compress(self, data: bytes) -> bytes:
        compressor = self._compressor
        if compressor is None or self._reset_compressor:
            compressor = self._compressor = self._new_compressor()
        out = compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)
        return out[:-4] if out.endswith(_TAIL) else out

    def decompress(self, data: Union[bytes, bytearray], final: bool, room: Optional[int]) -> bytes:
        """One frame's payload decompressed; ``room`` bounds the output so that a small
        frame cannot inflate into a huge message (a deflate bomb)."""
        if final:
            data += _TAIL
        decompressor = self._decompressor
        if decompressor is None:
            decompressor = self._decompressor = zlib.decompressobj(-15)
        try:
            if room is None:
                out = decompressor.decompress(data)
            else:
                out = decompressor.decompress(data, room + 1)
                if len(out) > room or decompressor.unconsumed_tail:
                    raise ProtocolError("message larger than the limit once inflated",
                                        CLOSE_TOO_BIG)
        except zlib.error as exc:
            raise ProtocolError(f"invalid compressed data: {exc}") from None
        if final and self._reset_decompressor:
            self._decompressor = None
        return out


def parse_extensions(header: str) -> list:
    """``Sec-WebSocket-Extensions`` as [(name, {param: value or None}), ...]."""
    offers = []
    for item in header.split(","):
        parts = [p.strip() for p in item.split(";")]
        if not parts[0]:
            continue
        params: dict = {}
        value: Optional[str]
        for part in parts[1:]:
            if not part:
                continue
            key, eq, value = part.partition("=")
            key = key.strip().lower()
            value = value.strip().strip('"') if eq else None
            if key in params:
                raise NegotiationError(f"duplicate extension parameter {key}")
            params[key] = value
        offers.append((parts[0].lower(), params))
    return offers


def _bits(value: Optional[str], allow_empty: bool) -> Optional[int]:
    if value is None:
        if allow_empty:
            return None
        raise NegotiationError("window bits without a value")
    # ASCII digits only: str.isdigit() also accepts "²", which int() refuses.
    if not (value.isascii() and value.isdigit()) or not 8 <= int(value) <= 15:
        raise NegotiationError(f"window bits out of range: {value!r}")
    return int(value)


def negotiate_server(header: Optional[str], options: DeflateOptions = DeflateOptions()):
    """The answer to the client's offers: ``(header value, PerMessageDeflate)``, or
    ``(None, None)`` to run without compression."""
    if not options.enabled or not header:
        return None, None
    try:
        offers = parse_extensions(header)
    except NegotiationError:
        return None, None
    for name, params in offers:
        if name != _NAME:
            continue
        try:
            agreed = _agree(params, options)
        except NegotiationError:
            continue  # try the client's next offer
        if agreed is not None:
            return agreed
    return None, None


def _agree(params: dict, options: DeflateOptions):
    known = {"server_no_context_takeover", "client_no_context_takeover",
             "server_max_window_bits", "client_max_window_bits"}
    if set(params) - known:
        return None
    for flag in ("server_no_context_takeover", "client_no_context_takeover"):
        if params.get(flag, None) is not None:
            raise NegotiationError(f"{flag} takes no value")
    server_bits = options.server_max_window_bits
    if "server_max_window_bits" in params:
        asked = _bits(params["server_max_window_bits"], allow_empty=False)
        if asked == 8:
            return None  # zlib writes no 8-bit windows: decline this offer
        server_bits = min(server_bits, asked)  # type: ignore[type-var,assignment]  # not None
    client_bits = 15
    if "client_max_window_bits" in params:
        offered = _bits(params["client_max_window_bits"], allow_empty=True)
        client_bits = min(options.client_max_window_bits, offered or 15)
    elif options.client_max_window_bits < 15:
        return None  # we would need to limit a client that cannot be limited
    server_no_takeover = "server_no_context_takeover" in params or \
        options.server_no_context_takeover
    client_no_takeover = "client_no_context_takeover" in params or \
        options.client_no_context_takeover
    answer = [_NAME]
    if server_no_takeover:
        answer.append("server_no_context_takeover")
    if client_no_takeover:
        answer.append("client_no_context_takeover")
    if server_bits < 15 or "server_max_window_bits" in params:
        answer.append(f"server_max_window_bits={server_bits}")
    if "client_max_window_bits" in params and client_bits < 15:
        answer.append(f"client_max_window_bits={client_bits}")
    codec = PerMessageDeflate(
        False, server_no_context_takeover=server_no_takeover,
        client_no_context_takeover=client_no_takeover, server_max_window_bits=server_bits,
        client_max_window_bits=client_bits, level=options.level,
        compress_min=options.compress_min)
    return "; ".join(answer), codec


def client_offer(options: DeflateOptions = DeflateOptions()) -> Optional[str]:
    """The client's ``Sec-WebSocket-Extensions`` offer, or ``None`` when disabled."""
    if not options.enabled:
        return None
    offer = [_NAME]
    if options.server_no_context_takeover:
        offer.append("server_no_context_takeover")
    if options.client_no_context_takeover:
        offer.append("client_no_context_takeover")
    if options.server_max_window_bits < 15:
        offer.append(f"server_max_window_bits={options.server_max_window_bits}")
    offer.append("client_max_window_bits" if options.client_max_window_bits == 15
                 else f"client_max_window_bits={options.client_max_window_bits}")
    return "; ".join(offer)


def accept_client(header: Optional[str], options: DeflateOptions = DeflateOptions()):
    """The codec for the server's answer, ``None`` when it declined compression;
    :class:`NegotiationError` when the answer is not one our offer allows."""
    if not header:
        return None
    answers = parse_extensions(header)
    if len(answers) != 1 or answers[0][0] != _NAME or not options.enabled:
        raise NegotiationError(f"unexpected extension answer: {header!r}")
    params = answers[0][1]
    known = {"server_no_context_takeover", "client_no_context_takeover",
             "server_max_window_bits", "client_max_window_bits"}
    if set(params) - known:
        raise NegotiationError(f"unknown parameter in {header!r}")
    server_bits: int = _bits(  # type: ignore[assignment]  # allow_empty=False: never None
        params["server_max_window_bits"], False) \
        if "server_max_window_bits" in params else 15
    if server_bits > options.server_max_window_bits:
        raise NegotiationError("the server's window is larger than offered")
    client_bits: int = _bits(  # type: ignore[assignment]  # allow_empty=False: never None
        params["client_max_window_bits"], False) \
        if "client_max_window_bits" in params else options.client_max_window_bits
    return PerMessageDeflate(
        True, server_no_context_takeover="server_no_context_takeover" in params,
        client_no_context_takeover="client_no_context_takeover" in params
        or options.client_no_context_takeover,
        server_max_window_bits=server_bits, client_max_window_bits=client_bits,
        level=options.level, compress_min=options.compress_min)
