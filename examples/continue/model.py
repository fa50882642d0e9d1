"""The blog's model, in memory.  Racket: ``model.rkt`` of the "Continue" tutorial
(iteration 8 uses it)."""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BLOG", "blog", "blog_insert_post", "post", "post_insert_comment"]


# A blog is a (blog posts)
# where posts is a (listof post)
@dataclass
class blog:  # mutable, as Racket's #:mutable
    posts: list


# and post is a (post title body comments)
# where title is a string, body is a string,
# and comments is a (listof string)
@dataclass
class post:  # mutable
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
def blog_insert_post(a_blog: blog, a_post: post) -> None:
    a_blog.posts = [a_post, *a_blog.posts]


# post-insert-comment!: post string -> void
# Consumes a post and a comment string.  As a side-efect,
# adds the comment to the bottom of the post's list of comments.
def post_insert_comment(a_post: post, a_comment: str) -> None:
    a_post.comments = [*a_post.comments, a_comment]
