"""Racket's guide "Web Applications in Racket", section "Web Interaction" (``web.scrbl``):
``with-errors-to-browser`` with ``send/back``.

    python examples/guide/reciprocal.py [--port 8000]

http://localhost:8000/ asks for a number and shows one divided by it. Zero, or
something that is not a number, raises in the servlet: ``with_errors_to_browser``
sends the error to the browser as a page (a development aid: it shows the traceback).
"""
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from servlets import (  # noqa: E402
    response_xexpr,
    send_back,
    send_suspend,
    serve_servlet,
    with_errors_to_browser,
)


def request_number():
    return send_suspend(lambda k_url: response_xexpr(
        ("html", ("head", ("title", "Enter a number")),
                 ("body",
                  ("form", [("action", k_url)],
                   "Enter a number: ",
                   ("input", [("name", "number")]),
                   ("input", [("type", "submit")]))))))


def get_number(request):
    return float(request.values["number"])


def start(request):
    return with_errors_to_browser(
        send_back,
        lambda: response_xexpr(
            ("html", ("body", ("p", "1 / n = ", str(1 / get_number(request_number())))))))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--reload", action="store_true", help="restart when a source file changes")
    args = parser.parse_args()
    serve_servlet(start, launch_browser=False, quit=False, port=args.port, reload=args.reload,
                  servlet_path="/")
