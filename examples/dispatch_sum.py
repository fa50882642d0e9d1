"""Port of the ``serve/dispatch`` program of Racket's dispatch tests and the Sum.com
example of its documentation: numbers in the URL, links made from the rules.

    python examples/dispatch_sum.py [--port 8000] [--reload] [--no-web-browser]

``/`` links to ``/2nd/50``, which links to ``/sum/50/100``, which shows 150;
``/add/1/2/3`` adds any number of integers (a rest argument).
"""
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from servlets import (  # noqa: E402
    dispatch_rules,
    integer_arg,
    number_arg,
    response_xexpr,
    serve_dispatch,
)


def get_first_number(req):
    return response_xexpr(("html", ("head", ("title", "First number")),
                           ("a", [("href", url(get_second_number, 50))], ("h1", "+ 50"))))


def get_second_number(req, fst):
    return response_xexpr(("html", ("head", ("title", "Second number")),
                           ("a", [("href", url(display_sum, fst, 100))], ("h1", "+ 100"))))


def display_sum(req, fst, snd):
    return response_xexpr(("html", ("head", ("title", "Sum")), ("h1", str(fst + snd))))


def add(req, numbers):
    return response_xexpr(("html", ("head", ("title", "Sum")), ("h1", str(sum(numbers)))))


start, url = dispatch_rules(
    (("",), get_first_number),
    (("2nd", number_arg()), get_second_number),
    (("sum", number_arg(), number_arg()), display_sum),
    (("add", integer_arg(), ...), add))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--reload", action="store_true", help="restart when a source file changes")
    parser.add_argument("--no-web-browser", action="store_true")
    args = parser.parse_args()
    serve_dispatch(start, port=args.port,
                   launch_browser=not args.no_web_browser, reload=args.reload)
