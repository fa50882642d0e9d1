"""dispatch.broadcast in one process: members, binary and text, leaving."""
from gevent.event import Event

from dispatch.broadcast import (
    make_ws_group,
    ws_group_add,
    ws_group_members,
    ws_group_remove,
    ws_group_send,
)
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
from tests.support import wait_until


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


def test_members_leave_when_they_close_without_being_removed(served):
    group = make_ws_group()
    left = {"clean": Event(), "crash": Event()}

    def member(c):
        ws_group_add(group, c)
        try:
            while not is_eof(message := ws_recv(c)):
                if message == "crash":
                    raise RuntimeError("a handler that fails")
                ws_group_send(group, message)
        finally:
            left[c.path.strip("/")].set()

    base = served(make_service_mapper_dispatcher(ws_service_mapper(
        ("/clean", ([None], member)), ("/crash", ([None], member)))))
    url = base.replace("http", "ws")
    stay, clean, crash = ws_connect(url + "/clean"), ws_connect(url + "/clean"), \
        ws_connect(url + "/crash")
    ws_send(stay, "all here?")
    assert [ws_recv(m) for m in (stay, clean, crash)] == ["all here?"] * 3
    assert len(group) == 3
    left["clean"].clear()
    ws_close(clean)
    assert left["clean"].wait(5)
    assert len(ws_group_members(group)) == 2  # gone, though nobody called ws_group_remove
    ws_send(crash, "crash")
    assert left["crash"].wait(5)
    assert is_eof(ws_recv(crash))  # the server closed it after the handler failed
    assert wait_until(lambda: len(group) == 1)  # closed as soon as its close handshake ends
    ws_send(stay, "alone")
    assert ws_recv(stay) == "alone"
    ws_close(stay)


def test_a_closed_connection_does_not_join():
    group = make_ws_group()

    class Closed:
        closed = True

    ws_group_add(group, Closed())
    assert len(group) == 0
