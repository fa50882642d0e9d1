"""Racket's "Continue" tutorial, iteration 2 (``iteration-2.rkt``): inspecting requests.

    python examples/continue/iteration_2.py [--port 8000] [--reload]

The blog is at http://localhost:8000/; its form (no action: it comes back to the same
URL with ``?title=...&body=...``) shows one more post, for that request only.
"""
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from dataclasses import dataclass  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from servlets import (  # noqa: E402
    exists_binding,
    extract_binding_single,
    request_bindings,
    response_xexpr,
    serve_servlet,
)


# A blog is a (listof post)
# and a post is a (post title body)
@dataclass(frozen=True)
class post:
    title: str
    body: str


# BLOG: blog
# The static blog.
BLOG = [post("Second Post", "This is another post"),
        post("First Post", "This is my first post")]


# start: request -> response
# Consumes a request and produces a page that displays all of the
# web content.
def start(request):
    if can_parse_post(request_bindings(request)):
        a_blog = [parse_post(request_bindings(request)),
                  *BLOG]
    else:
        a_blog = BLOG
    return render_blog_page(a_blog, request)


# can-parse-post?: bindings -> boolean
# Produces true if bindings contains values for 'title and 'body.
def can_parse_post(bindings):
    return (exists_binding("title", bindings)
            and exists_binding("body", bindings))


# parse-post: bindings -> post
# Consumes a bindings, and produces a post out of the bindings.
def parse_post(bindings):
    return post(extract_binding_single("title", bindings),
                extract_binding_single("body", bindings))


# render-blog-page: blog request -> response
# Consumes a blog and a request, and produces an HTML page
# of the content of the blog.
def render_blog_page(a_blog, request):
    return response_xexpr(
        ("html", ("head", ("title", "My Blog")),
                 ("body",
                  ("h1", "My Blog"),
                  render_posts(a_blog),
                  ("form",
                   ("input", [("name", "title")]),
                   ("input", [("name", "body")]),
                   ("input", [("type", "submit")])))))


# render-post: post -> xexpr
# Consumes a post, produces an xexpr fragment of the post.
def render_post(a_post):
    return ("div", [("class", "post")],
            a_post.title,
            ("p", a_post.body))


# render-posts: blog -> xexpr
# Consumes a blog, produces an xexpr fragment
# of all its posts.
def render_posts(a_blog):
    return ("div", [("class", "posts")],
            *map(render_post, a_blog))


if __name__ == "__main__":
    # The tutorial's "Leaving DrRacket": serve/servlet without a browser, the blog at /.
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--reload", action="store_true", help="restart when a source file changes")
    htdocs = os.path.join(os.path.dirname(os.path.abspath(__file__)), "htdocs")
    args = parser.parse_args()
    serve_servlet(start, launch_browser=False, quit=False, port=args.port, reload=args.reload,
                  servlet_path="/", extra_files_paths=[htdocs])
