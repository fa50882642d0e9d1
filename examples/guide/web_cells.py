"""Racket's guide "Web Applications in Racket", section "Web Cells" (``web-cells.scrbl``):
the extended example, two counters on one page, each a web cell.

    python examples/guide/web_cells.py [--port 8000]

At http://localhost:8000/ each "+" adds one to its counter. Go back a few pages and
press "+" there: the counter goes on from the value that page showed, not from the
latest one, because a web cell's value belongs to the pages made with it.

Racket's ``include-counter`` re-enters its ``call/cc`` continuation (up to
``servlet-prompt``) to draw the page again; a Python function cannot be re-entered, so
here the handler calls the page's own ``render`` instead, which is what that
continuation went on to do.
"""
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from servlets import (  # noqa: E402
    make_web_cell,
    response_xexpr,
    send_suspend_dispatch,
    serve_servlet,
    web_cell_ref,
    web_cell_shadow,
)


def start(initial_request):
    counter1 = make_counter()
    counter2 = make_counter()

    def render():
        return send_suspend_dispatch(lambda embed_url: response_xexpr(
            ("html",
             ("head", ("title", "Double Counters")),
             ("body", ("h2", "Double Counters"),
              ("div", [("class", "first")], ("h3", "First"),
               include_counter(counter1, render, embed_url)),
              ("div", [("class", "second")], ("h3", "Second"),
               include_counter(counter2, render, embed_url))))))

    return render()


def make_counter():
    return make_web_cell(0)


def include_counter(a_counter, render, embed_url):
    def plus(request):
        # A new frame has been created
        last = web_cell_ref(a_counter)
        # We can inspect the value at the parent
        web_cell_shadow(a_counter, last + 1)
        # The new frame has been modified
        return render()

    return ("div", ("h3", [("class", "count")], str(web_cell_ref(a_counter))),
            ("a", [("href", embed_url(plus))], "+"))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--reload", action="store_true", help="restart when a source file changes")
    args = parser.parse_args()
    serve_servlet(start, launch_browser=False, quit=False, port=args.port, reload=args.reload,
                  servlet_path="/")
