"""The blog's model, saved to a file after every change.  Racket: ``model-2.rkt`` of the
"Continue" tutorial (iteration 9 uses it).

Racket ``write``s the blog's prefab structures to the file and ``read``s them back;
here :func:`write` and :func:`read` do the same with JSON (``pickle`` would run code
from the file when it is read)."""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from typing import IO, Union

__all__ = ["blog", "blog_insert_post", "initialize_blog", "post", "post_insert_comment"]


# A blog is a (blog home posts)
# where home is a string, posts is a (listof post)
@dataclass
class blog:  # mutable, as Racket's #:mutable #:prefab
    home: str
    posts: list


# and post is a (post blog title body comments)
# where title is a string, body is a string,
# and comments is a (listof string)
@dataclass
class post:  # mutable
    title: str
    body: str
    comments: list


def write(a_blog: blog, out: IO[str]) -> None:
    """Racket's ``write`` of the prefab blog: its fields as JSON."""
    json.dump(asdict(a_blog), out)


def read(in_: IO[str]) -> blog:
    """Racket's ``read`` of what :func:`write` wrote."""
    fields = json.load(in_)
    return blog(fields["home"], [post(p["title"], p["body"], list(p["comments"]))
                                 for p in fields["posts"]])


# initialize-blog! : path? -> blog
# Reads a blog from a path, if not present, returns default
def initialize_blog(home: Union[str, os.PathLike]) -> blog:
    def log_missing_exn_handler(exn):
        return blog(
            os.fspath(home),
            [post("Second Post",
                  "This is another post",
                  []),
             post("First Post",
                  "This is my first post",
                  ["First comment!"])])
    try:
        with open(home, encoding="utf-8") as in_:
            the_blog = read(in_)
    except Exception as exn:  # Racket's (with-handlers ([exn? ...]) ...)
        the_blog = log_missing_exn_handler(exn)
    the_blog.home = os.fspath(home)
    return the_blog


# save-blog! : blog -> void
# Saves the contents of a blog to its home
def save_blog(a_blog: blog) -> None:
    def write_to_blog(out):
        write(a_blog, out)
    with open(a_blog.home, "w", encoding="utf-8") as out:  # #:exists 'replace
        write_to_blog(out)


# blog-insert-post!: blog string string -> void
# Consumes a blog and a post, adds the post at the top of the blog.
def blog_insert_post(a_blog: blog, title: str, body: str) -> None:
    a_blog.posts = [post(title, body, []), *a_blog.posts]
    save_blog(a_blog)


# post-insert-comment!: blog post string -> void
# Consumes a blog, a post and a comment string.  As a side-efect,
# adds the comment to the bottom of the post's list of comments.
def post_insert_comment(a_blog: blog, a_post: post, a_comment: str) -> None:
    a_post.comments = [*a_post.comments, a_comment]
    save_blog(a_blog)
