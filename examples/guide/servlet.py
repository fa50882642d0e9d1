"""Racket's guide "Web Applications in Racket", section "Stateful Servlets"
(``servlet.scrbl``): a version 2 servlet module, which provides ``interface_version``,
its continuation ``manager`` and ``start``.

    python examples/guide/servlet.py [--port 8000]

The page is at http://localhost:8000/. This servlet's manager keeps no continuations
(``create-none-manager``): a continuation URL gets its "No Continuations Here!" page.
"""
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from servlets import response_xexpr, serve_servlet  # noqa: E402
from servlets.managers import create_none_manager  # noqa: E402

interface_version = "v2"

manager = create_none_manager(
    lambda req: response_xexpr(
        ("html", ("head", ("title", "No Continuations Here!")),
                 ("body", ("h1", "No Continuations Here!")))))


def start(req):
    return response_xexpr(
        ("html", ("head", ("title", "Hello World!")),
                 ("body", ("h1", "Hi Mom!"))))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--reload", action="store_true", help="restart when a source file changes")
    args = parser.parse_args()
    serve_servlet(start, manager=manager, launch_browser=False, quit=False,
                  port=args.port, servlet_path="/", reload=args.reload)
