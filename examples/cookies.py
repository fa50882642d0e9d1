"""Port of the cookie examples of Racket's HTTP documentation ("Placing Cookies" and
"Extracting Cookies"): a first visit is redirected with an ``id`` cookie set, and the
next one is greeted by it; ``/cookied`` sets two cookies on a page.

    python examples/cookies.py [--port 8000] [--reload] [--no-web-browser]
"""
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from servlets import (  # noqa: E402
    make_cookie,
    redirect_to,
    request_cookies,
    response_xexpr,
    see_other,
    serve_servlet,
)


def start(req):
    if req.path == "/cookied":
        return cookied(req)
    id_cookie = next((c for c in request_cookies(req) if c.name == "id"), None)
    if id_cookie is not None:
        return hello(id_cookie.value)
    return redirect_to(req.url, see_other, cookies=[make_cookie("id", "joseph")])


def hello(who):
    return response_xexpr(("html", ("head", ("title", "Hello!")),
                           ("body", ("h1", "Hello ", who))))


def cookied(req):
    time_cookie = make_cookie("time", str(int(time.time())))
    id_cookie = make_cookie("id", "joseph", secure=True)
    return response_xexpr(("html", ("head", ("title", "Cookie Example")),
                           ("body", ("h1", "You're cookie'd!"))),
                          cookies=[time_cookie, id_cookie])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--reload", action="store_true", help="restart when a source file changes")
    parser.add_argument("--no-web-browser", action="store_true")
    args = parser.parse_args()
    serve_servlet(start, port=args.port, reload=args.reload, servlet_path="/", servlet_regexp="",
                  launch_browser=not args.no_web_browser)
