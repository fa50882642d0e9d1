"""Racket's "Continue" tutorial, iteration 4 (``iteration-4.rkt``): share and share alike.

    python examples/continue/iteration_4.py [--port 8000] [--reload]

The blog is at http://localhost:8000/.  The posts are now in one mutable ``BLOG`` that
every visitor shares.  A reload after posting posts again (the tutorial's "double
submit error", fixed in iteration 7).
"""
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from dataclasses import dataclass  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from servlets import (  # noqa: E402
    extract_binding_single,
    request_bindings,
    response_xexpr,
    send_suspend_dispatch,
    serve_servlet,
)


# A blog is a (blog posts)
# where posts is a (listof post)
@dataclass
class blog:  # mutable, as Racket's #:mutable
    posts: list


# and post is a (post title body)
# where title is a string, and body is a string
@dataclass(frozen=True)
class post:
    title: str
    body: str


# BLOG: blog
# The initial BLOG.
BLOG = blog(
    [post("Second Post", "This is another post"),
     post("First Post", "This is my first post")])


# blog-insert-post!: blog post -> void
# Consumes a blog and a post, adds the post at the top of the blog.
def blog_insert_post(a_blog, a_post):
    a_blog.posts = [a_post, *a_blog.posts]


# start: request -> doesn't return
# Consumes a request and produces a page that displays
# all of the web content.
def start(request):
    return render_blog_page(request)


# parse-post: bindings -> post
# Extracts a post out of the bindings.
def parse_post(bindings):
    return post(extract_binding_single("title", bindings),
                extract_binding_single("body", bindings))


# render-blog-page: request -> doesn't return
# Produces an HTML page of the content of the BLOG.
def render_blog_page(request):
    def response_generator(embed_url):
        return response_xexpr(
            ("html", ("head", ("title", "My Blog")),
                     ("body",
                      ("h1", "My Blog"),
                      render_posts(),
                      ("form", [("action",
                                 embed_url(insert_post_handler))],
                       ("input", [("name", "title")]),
                       ("input", [("name", "body")]),
                       ("input", [("type", "submit")])))))

    def insert_post_handler(request):
        blog_insert_post(
            BLOG, parse_post(request_bindings(request)))
        return render_blog_page(request)

    return send_suspend_dispatch(response_generator)


# render-post: post -> xexpr
# Consumes a post, produces an xexpr fragment of the post.
def render_post(a_post):
    return ("div", [("class", "post")],
            a_post.title,
            ("p", a_post.body))


# render-posts: -> xexpr
# Consumes a blog, produces an xexpr fragment
# of all its posts.
def render_posts():
    return ("div", [("class", "posts")],
            *map(render_post, BLOG.posts))


if __name__ == "__main__":
    # The tutorial's "Leaving DrRacket": serve/servlet without a browser, the blog at /.
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--reload", action="store_true", help="restart when a source file changes")
    htdocs = os.path.join(os.path.dirname(os.path.abspath(__file__)), "htdocs")
    args = parser.parse_args()
    serve_servlet(start, launch_browser=False, quit=False, port=args.port, reload=args.reload,
                  servlet_path="/", extra_files_paths=[htdocs])
