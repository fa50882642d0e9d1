"""The blog's model in an SQLite database.  Racket: ``model-3.rkt`` of the "Continue"
tutorial (iterations 10 and 11 use it), with Python's ``sqlite3`` where Racket uses its
``db`` library.

Racket's accessors ``post-title``, ``post-body``, ``post-comments`` and ``blog-posts``
query the database; they are the functions of the same names here, and also the
attributes ``a_post.title``, ``a_post.body``, ``a_post.comments`` and ``a_blog.posts``,
so that the iterations read the same with ``model_2`` and ``model_3`` (as Racket's
iterations 9 and 10 differ only in their ``require``)."""
from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from typing import Any, Union

__all__ = ["blog", "blog_posts", "blog_insert_post", "initialize_blog", "post",
           "post_body", "post_comments", "post_insert_comment", "post_title"]


# Racket's db library, the four procedures the model uses.
def query_exec(db: sqlite3.Connection, sql: str, *args: Any) -> None:
    db.execute(sql, args)


def query_list(db: sqlite3.Connection, sql: str, *args: Any) -> list:
    return [row[0] for row in db.execute(sql, args)]


def query_value(db: sqlite3.Connection, sql: str, *args: Any) -> Any:
    (value,) = db.execute(sql, args).fetchone()
    return value


def table_exists(db: sqlite3.Connection, name: str) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                      (name,)).fetchone() is not None


# A blog is a (blog db)
# where db is an sqlite connection
@dataclass(frozen=True)
class blog:
    db: sqlite3.Connection


# A post is a (post blog id)
# where blog is a blog and id is an integer?
@dataclass(frozen=True)
class post:
    blog: blog
    id: int


# initialize-blog! : path? -> blog?
# Sets up a blog database (if it doesn't exist)
def initialize_blog(home: Union[str, os.PathLike]) -> blog:
    # Racket's db connection commits each statement (autocommit): isolation_level=None.
    db = sqlite3.connect(home, isolation_level=None)  # #:mode 'create
    the_blog = blog(db)
    if not table_exists(db, "posts"):
        query_exec(db,
                   "CREATE TABLE posts "
                   "(id INTEGER PRIMARY KEY, title TEXT, body TEXT)")
        blog_insert_post(
            the_blog, "First Post", "This is my first post")
        blog_insert_post(
            the_blog, "Second Post", "This is another post")
    if not table_exists(db, "comments"):
        query_exec(db,
                   "CREATE TABLE comments (pid INTEGER, content TEXT)")
        post_insert_comment(
            the_blog, blog_posts(the_blog)[0],
            "First comment!")
    return the_blog


# blog-posts : blog -> (listof post?)
# Queries for the post ids
def blog_posts(a_blog: blog) -> list:
    def id_to_post(an_id):
        return post(a_blog, an_id)
    return list(map(id_to_post,
                    query_list(
                        a_blog.db,
                        "SELECT id FROM posts")))


# post-title : post -> string?
# Queries for the title
def post_title(a_post: post) -> str:
    return query_value(
        a_post.blog.db,
        "SELECT title FROM posts WHERE id = ?",
        a_post.id)


# post-body : post -> string?
# Queries for the body
def post_body(p: post) -> str:
    return query_value(
        p.blog.db,
        "SELECT body FROM posts WHERE id = ?",
        p.id)


# post-comments : post -> (listof string?)
# Queries for the comments
def post_comments(p: post) -> list:
    return query_list(
        p.blog.db,
        "SELECT content FROM comments WHERE pid = ?",
        p.id)


# blog-insert-post!: blog? string? string? -> void
# Consumes a blog and a post, adds the post at the top of the blog.
def blog_insert_post(a_blog: blog, title: str, body: str) -> None:
    query_exec(
        a_blog.db,
        "INSERT INTO posts (title, body) VALUES (?, ?)",
        title, body)


# post-insert-comment!: blog? post string -> void
# Consumes a blog, a post and a comment string.  As a side-efect,
# adds the comment to the bottom of the post's list of comments.
def post_insert_comment(a_blog: blog, p: post, a_comment: str) -> None:
    query_exec(
        a_blog.db,
        "INSERT INTO comments (pid, content) VALUES (?, ?)",
        p.id, a_comment)


# The accessors as attributes too (see the module's docstring).
blog.posts = property(blog_posts)
post.title = property(post_title)
post.body = property(post_body)
post.comments = property(post_comments)
