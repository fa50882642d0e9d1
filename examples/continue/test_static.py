"""Racket's "Continue" tutorial, ``test-static.rkt`` ("Decorating With Style!"): a page
whose style sheet is a static file, ``htdocs/test-static.css``.

    python examples/continue/test_static.py [--port 8000] [--reload]

The page is at http://localhost:8000/, the style sheet at /test-static.css.
"""
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from servlets import response_xexpr, serve_servlet  # noqa: E402


def start(request):
    return response_xexpr(
        ("html", ("head", ("title", "Testing"),
                          ("link", [("rel", "stylesheet"),
                                    ("href", "/test-static.css"),
                                    ("type", "text/css")])),
                 ("body", ("h1", "This is a header"),
                          ("p", "This is ", ("span", [("class", "hot")], "hot"), "."))))


# (static-files-path "htdocs"): the directory beside this file.
HTDOCS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "htdocs")

if __name__ == "__main__":
    # The tutorial's "Leaving DrRacket": serve/servlet without a browser, the page at /.
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--reload", action="store_true", help="restart when a source file changes")
    args = parser.parse_args()
    serve_servlet(start, launch_browser=False, quit=False, port=args.port, reload=args.reload,
                  servlet_path="/", extra_files_paths=[HTDOCS])
