"""Racket's guide "Web Applications in Racket", section "Web Interaction" (``web.scrbl``):
``send/suspend`` asking for numbers, ``current-servlet-continuation-expiration-handler``
and ``send/finish`` for logging out (which clears the continuation table).

    python examples/guide/sum.py [--port 8000]

http://localhost:8000/ asks for two numbers and shows their sum, with two links: "Add
another number" (usable again from the back button) and "Log out". After logging out
every link of the session, "Add another number" among them, gets the servlet's own
expiration page.
"""
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from servlets import (  # noqa: E402
    current_servlet_continuation_expiration_handler,
    response_xexpr,
    send_finish,
    send_suspend,
    send_suspend_dispatch,
    serve_servlet,
)


def custom_expiration(request):
    return response_xexpr(("html", ("head", ("title", "Custom Expiration!")),
                                   ("body", ("p", "Custom Expiration!"))))


def request_number():
    request = send_suspend(lambda k_url: response_xexpr(
        ("html", ("head", ("title", "Enter a number")),
                 ("body",
                  ("form", [("action", k_url)],
                   "Enter a number: ",
                   ("input", [("name", "number")]),
                   ("input", [("type", "submit")]))))))
    return int(request.values["number"])


def start(request):
    # continuations stored from here on expire with this page
    current_servlet_continuation_expiration_handler.set(custom_expiration)
    show_sum(request_number() + request_number())


def show_sum(total):
    def add_another(request):
        return show_sum(total + request_number())

    def log_out(request):
        send_finish(response_xexpr(
            ("html", ("head", ("title", "Logged out")),
                     ("body", ("p", "Thank you for using the services "
                                    "of the Add Two Numbers, Inc.")))))

    return send_suspend_dispatch(lambda embed_url: response_xexpr(
        ("html", ("head", ("title", "Sum")),
                 ("body", ("h1", "The sum is: ", str(total)),
                  ("a", [("href", embed_url(add_another))], "Add another number"), " ",
                  ("a", [("href", embed_url(log_out))], "Log out")))))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--reload", action="store_true", help="restart when a source file changes")
    args = parser.parse_args()
    serve_servlet(start, launch_browser=False, quit=False, port=args.port, reload=args.reload,
                  servlet_path="/")
