"""Port of the first example of Racket's "Simple Single Servlet Servers" documentation
(``web-server/servlet-env``): one servlet served by ``serve/servlet``.

    python examples/servlet_env_hello.py [--port 8000] [--reload] [--no-web-browser]

The page is at http://localhost:8000/servlets/standalone.rkt (``serve/servlet``'s
default servlet path); press enter (run from a terminal) or Ctrl-C to stop.
"""
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from servlets import response_xexpr, serve_servlet  # noqa: E402


def my_app(req):
    return response_xexpr(
        ("html", ("head", ("title", "Hello world!")),
                 ("body", ("p", "Hey out there!"))))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--reload", action="store_true", help="restart when a source file changes")
    parser.add_argument("--no-web-browser", action="store_true")
    args = parser.parse_args()
    serve_servlet(my_app, port=args.port,
                  launch_browser=not args.no_web_browser, reload=args.reload)
