"""A team board on one port: pages from the servlet layer, new cards live by server-sent
events, and a chat by WebSocket, all served by one ``serve_servlet`` call.

    python examples/team_board.py [--port 8000] [--no-web-browser] [--salt FILE]

* ``/``: log in with a name (a signed id cookie: ``HttpOnly; SameSite=Lax``);
* ``/board``: the cards, a form to add one (with a CSRF token), the live feed of new
  cards and the chat;
* ``/cards`` (POST): add a card; ``csrf_protect`` refuses forms from other sites (403);
* ``/events``: server-sent events, one per new card;
* ``/chat``: the WebSocket chat; its handshake carries the login cookie, and only pages
  of this site may open it (the default origin check).

Stop it with Ctrl-C or SIGTERM (or enter, when run from a terminal).
"""
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from dispatch.sse import make_sse, sse_send_event  # noqa: E402
from dispatch.websocket import (  # noqa: E402
    ConnectionClosed,
    is_eof,
    ws_conn_headers,
    ws_recv,
    ws_send,
)
from servlets import (  # noqa: E402
    csrf_field,
    csrf_protect,
    dispatch_rules,
    extract_binding_single,
    make_id_cookie,
    make_secret_salt_file,
    redirect_to,
    request_bindings,
    request_id_cookie,
    response_xexpr,
    see_other,
    serve_servlet,
    valid_id_cookie,
    ws_dispatch_rules,
)
from servlets.cookies import parse_cookie_header  # noqa: E402

KEY = b""  # set from --salt at start
cards: list = []
feed = make_sse()          # new cards, as server-sent events
chatters: set = set()      # open chat WebSockets

SCRIPT = """
var cards = document.getElementById("cards");
new EventSource("/events").addEventListener("card", function (e) {
  var li = document.createElement("li");
  li.textContent = JSON.parse(e.data).title;
  cards.appendChild(li);
});
var log = document.getElementById("chat");
var socket = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://")
                           + location.host + "/chat");
socket.onmessage = function (e) { log.value += e.data + "\\n"; };
document.getElementById("say").onsubmit = function (e) {
  e.preventDefault();
  var box = document.getElementById("message");
  if (box.value) { socket.send(box.value); box.value = ""; }
};
"""


def user_of(req):
    return request_id_cookie(req, name="user", key=KEY, shelf_life=8 * 3600)


def page(title, *body):
    return response_xexpr(("html", ("head", ("title", title)), ("body", *body)))


def login_page(req):
    return page("Log in",
                ("form", [("method", "post"), ("action", url(login))],
                 csrf_field(req, key=KEY),
                 ("input", [("name", "user"), ("id", "user")]),
                 ("input", [("type", "submit"), ("value", "Log in")])))


def login(req):
    user = extract_binding_single("user", request_bindings(req))
    # Served over HTTPS, add secure=True.
    return redirect_to(url(board), see_other,
                       cookies=[make_id_cookie("user", user, key=KEY, path="/")])


def board(req):
    user = user_of(req)
    if user is None:
        return redirect_to(url(login_page), see_other)
    return page("Team board",
                ("h1", "Board of ", user),
                ("ul", [("id", "cards")], *[("li", card["title"]) for card in cards]),
                ("form", [("method", "post"), ("action", url(add_card))],
                 csrf_field(req, key=KEY),
                 ("input", [("name", "title"), ("id", "title")]),
                 ("input", [("type", "submit"), ("value", "Add card"), ("id", "add")])),
                ("textarea", [("id", "chat"), ("readonly", ""), ("rows", "8"),
                              ("cols", "50")]),
                ("form", [("id", "say")], ("input", [("id", "message")]),
                 ("button", "Say")),
                ("script", SCRIPT))


def add_card(req):
    user = user_of(req)
    if user is None:
        return redirect_to(url(login_page), see_other)
    card = {"title": extract_binding_single("title", request_bindings(req)), "by": user}
    cards.append(card)
    sse_send_event(feed, data=json.dumps(card), event="card")
    return redirect_to(url(board), see_other)


def chat(c):
    # The handshake carries the browser's cookies: the login says who speaks.
    user = None
    for cookie in parse_cookie_header(ws_conn_headers(c).get("Cookie", "")):
        user = user or valid_id_cookie(cookie, name="user", key=KEY, shelf_life=8 * 3600)
    if user is None:
        return  # not logged in: closed at once
    chatters.add(c)
    try:
        while not is_eof(message := ws_recv(c)):
            text = message if isinstance(message, str) else message.decode("utf-8", "replace")
            for other in list(chatters):
                try:
                    ws_send(other, f"{user}: {text}")
                except ConnectionClosed:
                    chatters.discard(other)
    finally:
        chatters.discard(c)


pages, url = dispatch_rules(
    (("",), login_page),
    (("login",), "post", login),
    (("board",), board),
    (("cards",), "post", add_card))


def main(port: int, launch_browser: bool, reload: bool = False) -> None:
    # One port: the event feed and the chat first, then the pages (every other path).
    serve_servlet(csrf_protect(pages, key=KEY), port=port, launch_browser=launch_browser,
                  servlet_path="/", servlet_regexp="", stateless=True, reload=reload,
                  extra_dispatchers=[(r"^/events$", feed),
                                     ws_dispatch_rules((("chat",), chat))])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--no-web-browser", action="store_true")
    parser.add_argument("--salt", default=os.path.join(tempfile.gettempdir(),
                                                       "gevent-dispatch-salt"))
    parser.add_argument("--reload", action="store_true", help="restart when a source file changes")
    args = parser.parse_args()
    KEY = make_secret_salt_file(args.salt)
    main(args.port, not args.no_web_browser, args.reload)
