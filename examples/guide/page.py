"""Racket's guide "Web Applications in Racket", section "Page: Short-hand for Common
Patterns" (``page.scrbl``): ``page`` and ``embed_url``.

    python examples/guide/page.py [--port 8000]

http://localhost:8000/ shows "Click me"; the link's handler gives "You clicked!", which
comes back from ``page`` and is what ``start`` returns. A string is not a response, so
the program registers a converter (``set_any_to_response``, Racket's
``set-any->response!``) that makes a page of one.
"""
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from servlets import (  # noqa: E402
    embed_url,
    page,
    response_xexpr,
    serve_servlet,
    set_any_to_response,
)


def string_to_response(value):
    if isinstance(value, str):
        return response_xexpr(("html", ("body", ("p", value))))
    return None  # anything else: not convertible


set_any_to_response(string_to_response)


def start(request):
    return page(lambda: response_xexpr(
        ("html",
         ("body",
          ("a", [("href", embed_url(lambda req: "You clicked!"))],
           "Click me")))))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--reload", action="store_true", help="restart when a source file changes")
    args = parser.parse_args()
    serve_servlet(start, launch_browser=False, quit=False, port=args.port, reload=args.reload,
                  servlet_path="/")
