"""The servlet guide's board (``docs/servlet-guide.rst``): log in with a signed cookie,
boards at typed URLs, a formlet that adds notes, forms with CSRF tokens, Jinja2
templates, a stylesheet, new notes announced by server-sent events and a WebSocket chat
per board, all served by one ``serve_servlet`` call on one port.

    python examples/guide_servlets/board.py [--port 8000] [--no-web-browser]
                                            [--salt FILE ...] [--secure-cookies]
                                            [--origin URL ...]

``--salt`` names the key files (128 random bytes each, made on first use): the first
signs the login cookies and the CSRF tokens, the others are older keys still accepted
for logins (key rotation).  ``--secure-cookies`` when the site is served over HTTPS;
``--origin`` lists the origins, besides the page's own, whose pages may open the chat
(``https://board.example.com``).  SIGTERM or Ctrl-C stops it.
"""
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from dispatch.broadcast import make_ws_group, ws_group_add, ws_group_send  # noqa: E402
from dispatch.sse import make_sse, sse_dispatcher, sse_send_event  # noqa: E402
from dispatch.websocket import is_eof, ws_recv  # noqa: E402
from servlets import (  # noqa: E402
    csrf_field,
    csrf_protect,
    dispatch_rules,
    dispatch_url,
    extract_binding_single,
    integer_arg,
    logout_id_cookie,
    make_id_cookie,
    make_secret_salt_file,
    redirect_to,
    request_bindings,
    request_id_cookie,
    response_template,
    response_xexpr,
    see_other,
    serve_servlet,
    ws_dispatch_rules,
)
from servlets.formlets import formlet, formlet_display, formlet_process, input_string  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))

# Settings, from the command line (main).
KEYS: list = []          # the key that signs first, then older keys still accepted
SECURE_COOKIES = False   # True when the site is served over HTTPS
SESSION_SECONDS = 8 * 3600

# The data: in memory here; a real site keeps it in a database.
BOARDS = {1: "Ideas", 2: "Errands"}
NOTES: dict = {n: [] for n in BOARDS}
NEWS = make_sse()                                  # every new note, at /events
CHATS = {n: make_ws_group() for n in BOARDS}       # one chat room per board


# -- sessions: a signed id cookie ------------------------------------------------------

def current_user(req):
    """The logged-in user's name, or None: a cookie signed with any of KEYS, younger than
    SESSION_SECONDS."""
    for key in KEYS:
        user = request_id_cookie(req, name="user", key=key, shelf_life=SESSION_SECONDS)
        if user is not None:
            return user
    return None


def session_cookie(user):
    return make_id_cookie("user", user, key=KEYS[0], path="/", max_age=SESSION_SECONDS,
                          same_site="Lax", secure=SECURE_COOKIES)


# -- pages ---------------------------------------------------------------------------------

def page(title, *body, code=200, cookies=()):
    return response_xexpr(
        ("html", ("head", ("title", title),
                  ("link", [("rel", "stylesheet"), ("href", "/static/style.css")])),
         ("body", ("h1", title), *body)),
        code=code, cookies=cookies)


def csrf(req):
    """The hidden field that csrf_protect (main) wants in every form posted here."""
    return csrf_field(req, key=KEYS[0])


def login_form(req, error=None):
    return ("form", [("method", "post"), ("action", url(login))], csrf(req),
            ("p", [("class", "error")], error) if error else "",
            ("label", "Your name: ", ("input", [("name", "user")])),
            ("input", [("type", "submit"), ("value", "Log in")]))


def login_page(req):
    return page("Log in", login_form(req))


def login(req):
    user = extract_binding_single("user", request_bindings(req)).strip()
    if not user:
        return page("Log in", login_form(req, "Type a name."), code=400)
    return redirect_to(url(home), see_other, cookies=[session_cookie(user)])


def logout(req):
    return redirect_to(url(login_page), see_other,
                       cookies=[logout_id_cookie("user", path="/")])


def home(req):
    user = current_user(req)
    if user is None:
        return redirect_to(url(login_page), see_other)
    return page("Boards",
                ("ul", *[("li", ("a", [("href", url(show_board, n))], name))
                         for n, name in BOARDS.items()]),
                ("form", [("method", "post"), ("action", url(logout))], csrf(req),
                 ("input", [("type", "submit"), ("value", f"Log out {user}")])))


note_formlet = formlet(("label", "Note: ", input_string), lambda text: text.strip())


def board_page(req, n, user, error=None, code=200):
    return response_template(
        "templates/board.html", code=code, board=n, name=BOARDS[n], user=user,
        notes=NOTES[n], error=error, home_url=url(home), add_url=url(add_note, n),
        csrf=csrf(req), form=formlet_display(note_formlet),
        events_url="/events", chat_url=chat_url(chat, n))


def show_board(req, n):
    user = current_user(req)
    if user is None:
        return redirect_to(url(login_page), see_other)
    if n not in BOARDS:
        return page("No such board", ("p", ("a", [("href", url(home))], "All boards")),
                    code=404)
    return board_page(req, n, user)


def add_note(req, n):
    user = current_user(req)
    if user is None or n not in BOARDS:
        return page("Forbidden", ("p", "Log in first."), code=403)
    text = formlet_process(note_formlet, req)
    if not text:
        return board_page(req, n, user, error="A note needs some text.", code=400)
    NOTES[n].append(text)
    sse_send_event(NEWS, data=json.dumps({"board": n, "text": text}), event="note")
    return redirect_to(url(show_board, n), see_other)   # POST, redirect, GET


def not_found(req):
    return page("Not Found", ("p", "Nothing is served at this address."), code=404)


board_dispatch, url = dispatch_rules(
    (("",), home),
    (("login",), login_page),
    (("login",), "post", login),
    (("logout",), "post", logout),
    (("board", integer_arg()), show_board),
    (("board", integer_arg(), "notes"), "post", add_note))


# -- live: events and a chat on the same port -------------------------------------------

def chat(ws, n):
    user = current_user(ws)   # the handshake's headers: its cookies too
    ws_group_add(CHATS[n], ws)
    while not is_eof(message := ws_recv(ws)):
        ws_group_send(CHATS[n], f"{user}: {message}")


CHAT_RULE = (("board", integer_arg(), "chat"), chat)
chat_url = dispatch_url(CHAT_RULE)


def members_only(inner):
    """A dispatcher: ``inner`` for logged-in users, 403 for others (before a WebSocket
    handshake or an event stream starts)."""
    def dispatcher(conn, req):
        if current_user(req) is None:
            conn.respond(page("Forbidden", ("p", "Log in first."), code=403))
            return
        inner(conn, req)

    return dispatcher


def main():
    global SECURE_COOKIES
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--no-web-browser", action="store_true")
    parser.add_argument("--salt", action="append", default=[])
    parser.add_argument("--secure-cookies", action="store_true")
    parser.add_argument("--origin", action="append", default=None)
    parser.add_argument("--reload", action="store_true", help="restart when a source file changes")
    args = parser.parse_args()
    salts = args.salt or [os.path.join(tempfile.gettempdir(), "gevent-dispatch-board-salt")]
    KEYS[:] = [make_secret_salt_file(path) for path in salts]
    SECURE_COOKIES = args.secure_cookies
    chats = ws_dispatch_rules(CHAT_RULE, origins=args.origin)  # own host, and --origin
    serve_servlet(
        csrf_protect(board_dispatch, key=KEYS[0], secure=SECURE_COOKIES),
        servlet_path="/", servlet_regexp="", stateless=True,
        extra_dispatchers=[(r"^/events$", members_only(sse_dispatcher(NEWS))),
                           (r"^/board/[0-9]+/chat$", members_only(chats))],
        extra_files_paths=[("/static", os.path.join(HERE, "static"))],
        file_not_found_responder=not_found,
        port=args.port, launch_browser=not args.no_web_browser, reload=args.reload)


if __name__ == "__main__":
    main()
