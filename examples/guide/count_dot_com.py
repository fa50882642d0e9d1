"""Racket's guide "Web Applications in Racket", section "Web Interaction" (``web.scrbl``):
``count-dot-com``, ``send/suspend/dispatch`` in its two styles.

    python examples/guide/count_dot_com.py [--port 8000]

* http://localhost:8000/values: the handlers' results (``i - 1``, ``i + 1``) come back
  from ``send_suspend_dispatch`` to the function that sent the page, which counts on.
  In Python the rest of that function runs once per page: going back and using an
  older page's link gets the expiration page (Racket's would count on from there).
* http://localhost:8000/callbacks: the handlers call ``count_dot_com`` themselves
  ("value-less callbacks"). These run each time they are used, so the back button
  works as in Racket: an older page counts on from the number it showed.
"""
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from servlets import response_xexpr, send_suspend_dispatch, serve_servlet  # noqa: E402


def count_page(i, minus, plus):
    return lambda embed_url: response_xexpr(
        ("html",
         ("head", ("title", "Count!")),
         ("body",
          ("h2", ("a", [("href", embed_url(minus))], "-")),
          ("h1", str(i)),
          ("h2", ("a", [("href", embed_url(plus))], "+")))))


def count_dot_com_values(i):
    # Racket: (count-dot-com (send/suspend/dispatch ...)), a loop written as recursion
    while True:
        i = send_suspend_dispatch(
            count_page(i, lambda req, i=i: i - 1, lambda req, i=i: i + 1))


def count_dot_com_callbacks(i):
    return send_suspend_dispatch(
        count_page(i, lambda req: count_dot_com_callbacks(i - 1),
                   lambda req: count_dot_com_callbacks(i + 1)))


def start(request):
    if request.path == "/values":
        return count_dot_com_values(0)
    if request.path == "/callbacks":
        return count_dot_com_callbacks(0)
    return response_xexpr(
        ("html", ("head", ("title", "count-dot-com")),
         ("body", ("ul", ("li", ("a", [("href", "/values")], "handlers return values")),
                   ("li", ("a", [("href", "/callbacks")], "handlers call back"))))))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--reload", action="store_true", help="restart when a source file changes")
    args = parser.parse_args()
    serve_servlet(start, launch_browser=False, quit=False, port=args.port, reload=args.reload,
                  servlet_regexp="")
