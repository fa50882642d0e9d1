"""Port of the "Conversion Example" of Racket's templates documentation: Al Church's
blog, its presentation in three templates (``examples/templates/``).

    python examples/templates_blog.py [--port 8000] [--reload] [--no-web-browser]

Racket's version moves between pages with ``send/suspend``; this one with two routes:
``/`` lists the posts with a form that posts to ``/new``, which shows the new post and
a link back.  Titles and bodies are escaped by the templates.
"""
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from dataclasses import dataclass  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from servlets import (  # noqa: E402
    TEXT_HTML_MIME_TYPE,
    dispatch_rules,
    extract_binding_single,
    include_template,
    request_bindings,
    response_full,
    serve_dispatch,
)


@dataclass
class Post:
    title: str
    body: str


posts = [Post("(Y Y) Works: The Why of Y", "Why is Y, that is the question."),
         Post("Church and the States", "I grew up in DC, which is not a state.")]


# presentation
def template(section, body):
    page = include_template("templates/blog.html", section=section, body=body)
    return response_full(200, "Okay", None, TEXT_HTML_MIME_TYPE, [], [page.encode()])


def blog_posted(title, body, k_url):
    return include_template("templates/blog-posted.html", title=title, body=body, k_url=k_url)


def blog_posts(k_url):
    return include_template("templates/blog-posts.html", posts=posts, k_url=k_url)


# logic
def display_posts(req):
    return template("Posts", blog_posts(url(extract_post)))


def extract_post(req):
    binds = request_bindings(req)
    title = extract_binding_single("title", binds)
    body = extract_binding_single("body", binds)
    posts.insert(0, Post(title, body))
    return template("Posted", blog_posted(title, body, url(display_posts)))


start, url = dispatch_rules(
    (("",), display_posts),
    (("new",), "post", extract_post))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--reload", action="store_true", help="restart when a source file changes")
    parser.add_argument("--no-web-browser", action="store_true")
    args = parser.parse_args()
    serve_dispatch(start, port=args.port,
                   launch_browser=not args.no_web_browser, reload=args.reload)
