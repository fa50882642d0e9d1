"""Authenticated cookies, as Racket's "Authenticated Cookies" documentation describes
them: a login form sets a signed, timestamped ``user`` cookie; pages trust only a
cookie signed with the server's key and younger than an hour; logout expires it.

    python examples/id_cookie_login.py [--port 8000] [--reload] [--no-web-browser] [--salt FILE]

The key lives in ``--salt`` (128 random bytes, made on first run).
"""
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from servlets import (  # noqa: E402
    dispatch_rules,
    extract_binding_single,
    logout_id_cookie,
    make_id_cookie,
    make_secret_salt_file,
    redirect_to,
    request_bindings,
    request_id_cookie,
    response_xexpr,
    see_other,
    serve_dispatch,
)

KEY = b""  # set from --salt at start


def home(req):
    user = request_id_cookie(req, name="user", key=KEY, shelf_life=3600)
    if user is None:
        return response_xexpr(
            ("html", ("head", ("title", "Log in")),
             ("body", ("form", [("method", "post"), ("action", url(login))],
                       ("input", [("name", "user")]), ("input", [("type", "submit")])))))
    return response_xexpr(
        ("html", ("head", ("title", "Welcome")),
         ("body", ("h1", "Hello ", user),
          ("form", [("method", "post"), ("action", url(logout))],
           ("input", [("type", "submit"), ("value", "Log out")])))))


def login(req):
    user = extract_binding_single("user", request_bindings(req))
    # HttpOnly; SameSite=Lax by default (other sites' forms do not carry it); over HTTPS,
    # add secure=True.
    return redirect_to(url(home), see_other,
                       cookies=[make_id_cookie("user", user, key=KEY, path="/")])


def logout(req):
    return redirect_to(url(home), see_other, cookies=[logout_id_cookie("user", path="/")])


dispatch, url = dispatch_rules(
    (("",), home),
    (("login",), "post", login),
    (("logout",), "post", logout))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--reload", action="store_true", help="restart when a source file changes")
    parser.add_argument("--no-web-browser", action="store_true")
    parser.add_argument("--salt", default=os.path.join(tempfile.gettempdir(),
                                                       "gevent-dispatch-salt"))
    args = parser.parse_args()
    KEY = make_secret_salt_file(args.salt)
    serve_dispatch(dispatch, port=args.port,
                   launch_browser=not args.no_web_browser, reload=args.reload)
