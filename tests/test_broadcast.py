"""dispatch.broadcast in one process: members, binary and text, leaving."""
from dispatch.broadcast import make_ws_group, ws_group_add, ws_group_remove, ws_group_send
from dispatch.websocket import (
    ConnectionClosed,
    is_eof,
    make_service_mapper_dispatcher,
    ws_close,
    ws_connect,
    ws_recv,
    ws_send,
    ws_service_mapper,
)


def test_group_messages_reach_every_member_and_leavers_are_dropped(served):
    group = make_ws_group()

    def chatter(c):
        ws_group_add(group, c)
        try:
            while not is_eof(message := ws_recv(c)):
                ws_group_send(group, message)
        finally:
            ws_group_remove(group, c)

    base = served(make_service_mapper_dispatcher(ws_service_mapper(("/chat", ([None], chatter)))))
    url = base.replace("http", "ws") + "/chat"
    alice, bob, carol = ws_connect(url), ws_connect(url), ws_connect(url)
    ws_send(alice, "hi")
    assert [ws_recv(m) for m in (alice, bob, carol)] == ["hi"] * 3
    ws_close(carol)
    ws_send(bob, b"\x01", payload_type="binary")
    assert [ws_recv(m) for m in (alice, bob)] == [b"\x01"] * 2
    assert len(group.members) == 2


def test_a_member_whose_send_fails_is_dropped():
    group = make_ws_group()

    class Broken:
        closed = False

        def send(self, *args, **kwargs):
            raise ConnectionClosed("gone")

    broken = Broken()
    ws_group_add(group, broken)
    ws_group_send(group, "x")
    assert broken not in group.members
