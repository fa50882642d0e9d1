"""The SSE wire encoder, without sockets."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispatch.sse import encode_comment, encode_event
from dispatch.sse.encoder import split_lines
from dispatch.sse.source import parse_last_event_id


def parse(stream: bytes):
    """A minimal EventSource parser (WHATWG 9.2.6), to check the encoder against."""
    events, data, fields = [], [], {}
    for line in split_lines(stream.decode("utf-8")):
        if line == "":
            if data or fields:
                events.append(dict(fields, data="\n".join(data)) if data else dict(fields))
            data, fields = [], {}
        elif line.startswith(":"):
            continue
        else:
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "data":
                data.append(value)
            else:
                fields[name] = value
    return events


def test_each_line_of_data_is_one_data_field():
    assert encode_event(data="a\r\nb\rc\nd") == b"data: a\ndata: b\ndata: c\ndata: d\n\n"


def test_other_unicode_line_breaks_stay_data():
    assert encode_event(data="a\u2028b\x0cc") == "data: a\u2028b\x0cc\n\n".encode()


def test_all_fields_in_order():
    assert encode_event(data="x", event="tick", id=7, retry=1500) == \
        b"event: tick\nid: 7\nretry: 1500\ndata: x\n\n"


def test_empty_data_is_one_empty_data_line():
    assert encode_event(data="") == b"data: \n\n"
    assert parse(encode_event(data="")) == [{"data": ""}]


@pytest.mark.parametrize("fields", [
    {"event": "a\nb"}, {"event": "a\rb"}, {"id": "1\n2"}, {"id": "a\0b"},
    {"retry": -1}, {"retry": 1.5}, {"retry": True}, {},
])
def test_fields_that_would_break_the_framing_are_rejected(fields):
    with pytest.raises(ValueError):
        encode_event(**fields)


def test_data_must_be_text():
    with pytest.raises(TypeError):
        encode_event(data=b"bytes")


def test_comments():
    assert encode_comment() == b":\n\n"
    assert encode_comment("a\nb") == b": a\n: b\n\n"


@pytest.mark.parametrize("header, expected", [
    (None, None), ("5", 5), (" 12 ", 12), ("-1", None), ("1e3", None), ("x", None),
    ("", None), ("9" * 30, None),
])
def test_last_event_id_parsing(header, expected):
    assert parse_last_event_id(header) == expected


text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=200)
single_line = text.filter(lambda s: "\r" not in s and "\n" not in s)


@given(data=text, event=single_line, retry=st.integers(min_value=0, max_value=10**12))
def test_what_is_encoded_is_what_a_client_parses(data, event, retry):
    event = event or None
    (parsed,) = parse(encode_event(data=data, event=event, id=3, retry=retry))
    normalised = "\n".join(split_lines(data))
    assert parsed["data"] == normalised
    assert parsed.get("event") == event
    assert parsed["id"] == "3" and parsed["retry"] == str(retry)


@given(st.lists(text, max_size=5))
def test_a_stream_of_events_parses_back_event_by_event(datas):
    stream = b"".join(encode_event(data=d) for d in datas) + encode_comment("x")
    assert [e["data"] for e in parse(stream)] == ["\n".join(split_lines(d)) for d in datas]
