"""The WebSocket protocol core, byte by byte, without sockets."""
import os
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispatch.websocket.deflate import (
    DeflateOptions,
    NegotiationError,
    accept_client,
    client_offer,
    negotiate_server,
)
from dispatch.websocket.protocol import (
    OP_BINARY,
    OP_CLOSE,
    OP_PING,
    OP_TEXT,
    Protocol,
    ProtocolError,
    mask_payload,
)


def client_frame(opcode, payload, fin=True, rsv=0, mask=True):
    """A frame as a client sends it, built by hand (independently of encode_frame)."""
    b0 = (0x80 if fin else 0) | rsv | opcode
    n = len(payload)
    head = bytes([b0]) + (bytes([0x80 | n]) if n < 126 else
                          struct.pack("!BH", 0x80 | 126, n) if n < 65536 else
                          struct.pack("!BQ", 0x80 | 127, n))
    if not mask:
        return bytes([head[0], head[1] & 0x7F]) + head[2:] + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def test_mask_matches_the_rfc_definition():
    key, data = b"\x01\x02\x03\x04", bytes(range(256)) * 3
    assert mask_payload(key, data) == bytes(b ^ key[i % 4] for i, b in enumerate(data))
    assert mask_payload(key, b"") == b""


def test_text_and_binary_messages():
    p = Protocol()
    data = client_frame(OP_TEXT, "héllo".encode()) + client_frame(OP_BINARY, b"\x00\xff")
    assert p.receive_data(data) == [(OP_TEXT, "héllo"), (OP_BINARY, b"\x00\xff")]


@pytest.mark.parametrize("kind", [bytearray, memoryview])
def test_any_bytes_like_data_is_taken(kind):
    # The sans-I/O core takes what a socket or a buffer gives, compiled as pure.
    small, large = client_frame(OP_TEXT, b"hi"), client_frame(OP_BINARY, b"x" * 2000)
    p = Protocol()
    assert p.receive_data(kind(small)) == [(OP_TEXT, "hi")]
    assert p.receive_data(kind(large[:7])) == []
    assert p.receive_data(kind(large[7:])) == [(OP_BINARY, b"x" * 2000)]


def test_frames_split_anywhere_are_reassembled():
    p = Protocol()
    data = client_frame(OP_TEXT, b"a" * 70000) + client_frame(OP_PING, b"p")
    events = []
    for i in range(0, len(data), 999):
        events += p.receive_data(data[i:i + 999])
    assert events == [(OP_TEXT, "a" * 70000), (OP_PING, b"p")]


def test_fragments_with_interleaved_control_frames():
    p = Protocol()
    data = (client_frame(OP_TEXT, b"one ", fin=False) + client_frame(OP_PING, b"x")
            + client_frame(0, b"two ", fin=False) + client_frame(0, b"three"))
    assert p.receive_data(data) == [(OP_PING, b"x"), (OP_TEXT, "one two three")]


@pytest.mark.parametrize("data, code", [
    (client_frame(OP_TEXT, b"x", mask=False), 1002),                 # unmasked client frame
    (client_frame(OP_TEXT, b"x", rsv=0x40), 1002),                   # RSV1 without deflate
    (client_frame(OP_TEXT, b"x", rsv=0x20), 1002),
    (client_frame(0x3, b""), 1002),                                  # reserved opcode
    (client_frame(0xB, b""), 1002),
    (client_frame(OP_PING, b"x" * 126), 1002),                       # control too long
    (client_frame(OP_PING, b"", fin=False), 1002),                   # fragmented control
    (client_frame(0, b"x"), 1002),                                   # continuation of nothing
    (client_frame(OP_TEXT, b"a", fin=False) + client_frame(OP_TEXT, b"b"), 1002),
    (client_frame(OP_TEXT, b"\xff"), 1007),                          # invalid UTF-8
    (client_frame(OP_CLOSE, b"\x03"), 1002),                         # 1-byte close
    (client_frame(OP_CLOSE, struct.pack("!H", 1005)), 1002),         # code never sent
    (client_frame(OP_CLOSE, struct.pack("!H", 999)), 1002),
    (client_frame(OP_CLOSE, struct.pack("!H", 1000) + b"\xff"), 1007),
    (client_frame(OP_BINARY, b"x" * 2000), 1009),                    # over the size limit
])
def test_violations_close_with_the_right_code(data, code):
    with pytest.raises(ProtocolError) as error:
        Protocol(max_message_size=1000).receive_data(data)
    assert error.value.code == code


def test_oversized_length_is_refused_before_the_payload_arrives():
    p = Protocol(max_message_size=1 << 20)
    header = struct.pack("!BBQ", 0x82, 0x80 | 127, 1 << 40) + b"kkkk"
    with pytest.raises(ProtocolError) as error:
        p.receive_data(header)
    assert error.value.code == 1009
    with pytest.raises(ProtocolError):
        Protocol().receive_data(struct.pack("!BBQ", 0x82, 0x80 | 127, 1 << 63) + b"kkkk")


def test_invalid_utf8_fails_in_the_fragment_where_it_appears():
    p = Protocol()
    assert p.receive_data(client_frame(OP_TEXT, "κό".encode(), fin=False)) == []
    with pytest.raises(ProtocolError) as error:
        p.receive_data(client_frame(0, b"\xf4\x90\x80\x80", fin=False))  # > U+10FFFF
    assert error.value.code == 1007


def test_a_code_point_split_across_fragments_is_fine():
    p = Protocol()
    euro = "€".encode()
    data = client_frame(OP_TEXT, euro[:1], fin=False) + client_frame(0, euro[1:])
    assert p.receive_data(data) == [(OP_TEXT, "€")]


def test_close_frames():
    assert Protocol().receive_data(client_frame(OP_CLOSE, b"")) == [(OP_CLOSE, (1005, ""))]
    payload = struct.pack("!H", 4000) + b"bye"
    assert Protocol().receive_data(client_frame(OP_CLOSE, payload)) == [
        (OP_CLOSE, (4000, "bye"))]


def test_server_frames_are_unmasked_and_client_frames_masked():
    server, client = Protocol(client=False), Protocol(client=True)
    assert server.encode_frame(OP_TEXT, b"hi") == b"\x81\x02hi"
    assert client.receive_data(server.encode_message("hi", binary=False)) == [(OP_TEXT, "hi")]
    assert server.receive_data(client.encode_message(b"\x01" * 70000, binary=True)) == [
        (OP_BINARY, b"\x01" * 70000)]


@given(st.lists(st.one_of(st.text(max_size=300), st.binary(max_size=300)), max_size=8),
       st.integers(min_value=1, max_value=50))
def test_any_messages_in_any_slicing_round_trip(messages, step):
    client, server = Protocol(client=True), Protocol()
    wire = b"".join(client.encode_message(m, binary=isinstance(m, bytes)) for m in messages)
    events = []
    for i in range(0, len(wire), step):
        events += server.receive_data(wire[i:i + step])
    assert [payload for _, payload in events] == messages


@given(st.binary(max_size=64))
def test_garbage_never_escapes_as_anything_but_protocol_error(data):
    try:
        Protocol().receive_data(data)
    except ProtocolError:
        pass


# -- permessage-deflate ----------------------------------------------------------------

def pair(offer_options=DeflateOptions(), server_options=DeflateOptions()):
    answer, server_codec = negotiate_server(client_offer(offer_options), server_options)
    client_codec = accept_client(answer, offer_options)
    return (Protocol(client=True, deflate=client_codec),
            Protocol(client=False, deflate=server_codec), answer)


def test_deflate_round_trip_with_context_takeover():
    client, server, answer = pair()
    assert answer == "permessage-deflate"
    for _ in range(3):
        frame = client.encode_message("hello " * 100, binary=False)
        assert frame[0] & 0x40 and len(frame) < 100  # compressed
        assert server.receive_data(frame) == [(OP_TEXT, "hello " * 100)]
        assert client.receive_data(server.encode_message(b"z" * 500, binary=True)) == [
            (OP_BINARY, b"z" * 500)]


def test_deflate_parameters_are_negotiated():
    options = DeflateOptions(server_no_context_takeover=True, client_no_context_takeover=True,
                             server_max_window_bits=10)
    client, server, answer = pair(options)
    assert answer == ("permessage-deflate; server_no_context_takeover; "
                      "client_no_context_takeover; server_max_window_bits=10")
    for _ in range(2):
        assert server.receive_data(client.encode_message("x" * 300, binary=False)) == [
            (OP_TEXT, "x" * 300)]


def test_deflate_offers_that_cannot_be_met_run_uncompressed():
    assert negotiate_server("permessage-deflate; server_max_window_bits=8") == (None, None)
    assert negotiate_server("permessage-deflate; unknown=1") == (None, None)
    assert negotiate_server("x-other, permessage-deflate")[0] == "permessage-deflate"
    assert negotiate_server("permessage-deflate", DeflateOptions(enabled=False)) == (None, None)
    with pytest.raises(NegotiationError):
        accept_client("permessage-deflate; bogus")


def test_deflate_bomb_is_stopped_at_the_limit():
    client, server, _ = pair()
    server.max_message_size = 10000
    with pytest.raises(ProtocolError) as error:
        server.receive_data(client.encode_message(b"\0" * 1_000_000, binary=True))
    assert error.value.code == 1009


def test_rsv1_on_a_continuation_or_control_frame_is_an_error():
    _, server, _ = pair()
    with pytest.raises(ProtocolError):
        server.receive_data(client_frame(OP_PING, b"", rsv=0x40))


@pytest.mark.parametrize("n", [1023, 1024, 16383, 16384, 16385, 16386, 16387, 70001])
def test_large_payloads_unmask_as_the_rfc_defines(n):
    key, data = os.urandom(4), os.urandom(n)
    assert mask_payload(key, data) == bytes(b ^ key[i % 4] for i, b in enumerate(data))


def test_small_payloads_of_every_length_unmask_as_the_rfc_defines():
    for n in range(131):
        key, data = os.urandom(4), os.urandom(n)
        assert mask_payload(key, data) == bytes(b ^ key[i % 4] for i, b in enumerate(data))
