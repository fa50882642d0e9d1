"""Racket's "Continue" tutorial, iteration 6 (``iteration-6.rkt``): a back link, and a
confirmation page for comments.

    python examples/continue/iteration_6.py [--port 8000] [--reload]

The blog is at http://localhost:8000/; a post's page adds a comment after a page that
asks "Yes, add the comment."; "Back to the blog" returns to the list.
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


# and post is a (post title body comments)
# where title is a string, body is a string,
# and comments is a (listof string)
@dataclass  # mutable, as Racket's #:mutable
class post:
    title: str
    body: str
    comments: list


# BLOG: blog
# The initial BLOG.
BLOG = blog(
    [post("Second Post",
          "This is another post",
          []),
     post("First Post",
          "This is my first post",
          ["First comment!"])])


# blog-insert-post!: blog post -> void
# Consumes a blog and a post, adds the post at the top of the blog.
def blog_insert_post(a_blog, a_post):
    a_blog.posts = [a_post, *a_blog.posts]


# post-insert-comment!: post string -> void
# Consumes a post and a comment string.  As a side-efect,
# adds the comment to the bottom of the post's list of comments.
def post_insert_comment(a_post, a_comment):
    a_post.comments = [*a_post.comments, a_comment]


# start: request -> doesn't return
# Consumes a request and produces a page that displays
# all of the web content.
def start(request):
    return render_blog_page(request)


# render-blog-page: request -> doesn't return
# Produces an HTML page of the content of the
# BLOG.
def render_blog_page(request):
    def response_generator(embed_url):
        return response_xexpr(
            ("html", ("head", ("title", "My Blog")),
                     ("body",
                      ("h1", "My Blog"),
                      render_posts(embed_url),
                      ("form", [("action",
                                 embed_url(insert_post_handler))],
                       ("input", [("name", "title")]),
                       ("input", [("name", "body")]),
                       ("input", [("type", "submit")])))))

    # parse-post: bindings -> post
    # Extracts a post out of the bindings.
    def parse_post(bindings):
        return post(extract_binding_single("title", bindings),
                    extract_binding_single("body", bindings),
                    [])

    def insert_post_handler(request):
        blog_insert_post(
            BLOG, parse_post(request_bindings(request)))
        return render_blog_page(request)
    return send_suspend_dispatch(response_generator)


# render-post-detail-page: post request -> doesn't return
# Consumes a post and produces a detail page of the post.
# The user will be able to either insert new comments
# or go back to render-blog-page.
def render_post_detail_page(a_post, request):
    def response_generator(embed_url):
        return response_xexpr(
            ("html", ("head", ("title", "Post Details")),
                     ("body",
                      ("h1", "Post Details"),
                      ("h2", a_post.title),
                      ("p", a_post.body),
                      render_as_itemized_list(
                          a_post.comments),
                      ("form", [("action",
                                 embed_url(insert_comment_handler))],
                       ("input", [("name", "comment")]),
                       ("input", [("type", "submit")])),
                      ("a", [("href", embed_url(back_handler))],
                       "Back to the blog"))))

    def parse_comment(bindings):
        return extract_binding_single("comment", bindings)

    def insert_comment_handler(request):
        return render_confirm_add_comment_page(
            parse_comment(request_bindings(request)),
            a_post,
            request)

    def back_handler(request):
        return render_blog_page(request)
    return send_suspend_dispatch(response_generator)


# render-confirm-add-comment-page :
# comment post request -> doesn't return
# Consumes a comment that we intend to add to a post, as well
# as the request. If the user follows through, adds a comment
# and goes back to the display page. Otherwise, goes back to
# the detail page of the post.
def render_confirm_add_comment_page(a_comment, a_post, request):
    def response_generator(embed_url):
        return response_xexpr(
            ("html", ("head", ("title", "Add a Comment")),
                     ("body",
                      ("h1", "Add a Comment"),
                      "The comment: ", ("div", ("p", a_comment)),
                      "will be added to ",
                      ("div", a_post.title),

                      ("p", ("a", [("href", embed_url(yes_handler))],
                             "Yes, add the comment.")),
                      ("p", ("a", [("href", embed_url(cancel_handler))],
                             "No, I changed my mind!")))))

    def yes_handler(request):
        post_insert_comment(a_post, a_comment)
        return render_post_detail_page(a_post, request)

    def cancel_handler(request):
        return render_post_detail_page(a_post, request)
    return send_suspend_dispatch(response_generator)


# render-post: post (handler -> string) -> xexpr
# Consumes a post, produces an xexpr fragment of the post.
# The fragment contains a link to show a detailed view of the post.
def render_post(a_post, embed_url):
    def view_post_handler(request):
        return render_post_detail_page(a_post, request)
    return ("div", [("class", "post")],
            ("a", [("href", embed_url(view_post_handler))],
             a_post.title),
            ("p", a_post.body),
            ("div", str(len(a_post.comments)),
             " comment(s)"))


# render-posts: (handler -> string) -> xexpr
# Consumes a embed/url, produces an xexpr fragment
# of all its posts.
def render_posts(embed_url):
    def render_post_embed_url(a_post):
        return render_post(a_post, embed_url)
    return ("div", [("class", "posts")],
            *map(render_post_embed_url, BLOG.posts))


# render-as-itemized-list: (listof xexpr) -> xexpr
# Consumes a list of items, and produces a rendering as
# an unorderered list.
def render_as_itemized_list(fragments):
    return ("ul", *map(render_as_item, fragments))


# render-as-item: xexpr -> xexpr
# Consumes an xexpr, and produces a rendering
# as a list item.
def render_as_item(a_fragment):
    return ("li", a_fragment)


if __name__ == "__main__":
    # The tutorial's "Leaving DrRacket": serve/servlet without a browser, the blog at /.
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--reload", action="store_true", help="restart when a source file changes")
    htdocs = os.path.join(os.path.dirname(os.path.abspath(__file__)), "htdocs")
    args = parser.parse_args()
    serve_servlet(start, launch_browser=False, quit=False, port=args.port, reload=args.reload,
                  servlet_path="/", extra_files_paths=[htdocs])
