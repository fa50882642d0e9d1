"""Port of the blog of Racket's "URL-Based Dispatch" documentation
(``web-server/dispatch``): pretty URLs to handlers and back, served with
``serve/dispatch``.

    python examples/dispatch_blog.py [--port 8000] [--reload] [--no-web-browser]

``/`` lists the posts, ``/posts/<title>`` shows one, ``/archive/<year>/<month>`` an
archive; any other path lists the posts (the rules' ``else``).  Every link on the pages
is made by ``blog_url``.
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
    response_xexpr,
    serve_dispatch,
    string_arg,
)

POSTS = {"Extracurricular-Activity": (1984, 10), "Another-Saturday-Night": (1984, 11)}


def page(title, *body):
    return response_xexpr(("html", ("head", ("title", title)),
                                   ("body", ("h1", title), *body)))


def list_posts(req):
    return page("Posts", ("ul", *[("li", ("a", [("href", blog_url(review_post, name))], name))
                                  for name in POSTS]))


def review_post(req, p):
    if p not in POSTS:
        return page("No such post", ("p", p), all_posts_link())
    year, month = POSTS[p]
    return page(p, ("p", "From ", ("a", [("href", blog_url(review_archive, year, month))],
                                   f"{year}/{month}")), all_posts_link())


def review_archive(req, y, m):
    names = [name for name, when in POSTS.items() if when == (y, m)]
    return page(f"Archive {y}/{m}",
                ("ul", *[("li", ("a", [("href", blog_url(review_post, n))], n)) for n in names]),
                all_posts_link())


def all_posts_link():
    return ("p", ("a", [("href", blog_url(list_posts))], "All posts"))


blog_dispatch, blog_url = dispatch_rules(
    (("",), list_posts),
    (("posts", string_arg()), review_post),
    (("archive", integer_arg(), integer_arg()), review_archive),
    else_=list_posts)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--reload", action="store_true", help="restart when a source file changes")
    parser.add_argument("--no-web-browser", action="store_true")
    args = parser.parse_args()
    serve_dispatch(blog_dispatch, port=args.port,
                   launch_browser=not args.no_web_browser, reload=args.reload)
