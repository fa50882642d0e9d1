"""Racket's "Continue" tutorial ported (examples/continue/): each iteration run as a
subprocess, exactly as its docstring starts it, in a temporary current directory (the
persistent models write there), and walked over HTTP as a browser would: the forms are
submitted to their action (a continuation URL) with the names of their inputs."""
from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
from urllib.parse import urljoin, urlsplit, urlunsplit

import gevent
import pytest
import requests

from tests.support import ROOT

_BANNER = re.compile(r"Your Web application is running at (http://\S+?)\.?$")
TIMEOUT = 5  # seconds for each HTTP request


class Program:
    """``python examples/continue/NAME.py --port 0`` in ``cwd``; ``url`` is the blog."""

    def __init__(self, name: str, cwd, timeout: float = 20) -> None:
        script = os.path.join(ROOT, "examples", "continue", name + ".py")
        self.proc = subprocess.Popen(
            [sys.executable, script, "--port", "0"], cwd=str(cwd),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, env=dict(os.environ, PYTHONUNBUFFERED="1"))
        self.url = ""
        with gevent.Timeout(timeout, AssertionError(f"{name} did not start")):
            while not self.url:
                line = self.proc.stdout.readline()
                if not line:
                    raise AssertionError(f"{name} exited: {self.proc.stderr.read()}")
                match = _BANNER.search(line.strip())
                if match:
                    # the banner names the blog's URL, "/" (servlet_path) included
                    self.url = match.group(1).replace("localhost", "127.0.0.1")

    def stop(self, timeout: float = 10) -> int:
        """SIGTERM (the programs do not read standard input: ``quit=False``, as the
        tutorial's ``serve/servlet`` call): a graceful stop, exit status 0."""
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            return self.proc.wait(timeout)
        finally:
            self.close()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()


@pytest.fixture
def program(tmp_path):
    running = []

    def start(name, cwd=tmp_path):
        running.append(Program(name, cwd))
        return running[-1]

    yield start
    for p in running:
        p.close()


class Page:
    """A page as the browser has it: its URL and its HTML."""

    def __init__(self, response: requests.Response) -> None:
        assert response.status_code == 200, (response.status_code, response.text[:300])
        assert response.headers["Content-Type"].startswith("text/html")
        self.response, self.url, self.text = response, response.url, response.text

    @property
    def title(self) -> str:
        return re.search(r"<title>(.*?)</title>", self.text).group(1)

    def posts(self) -> list:
        """The titles in the blog's list, top to bottom (a link from iteration 5 on)."""
        return [html.unescape(t) for t in re.findall(
            r'<div class="post">(?:<a href="[^"]*">)?(.*?)(?:</a>)?<p>', self.text)]

    def comment_counts(self) -> dict:
        return {html.unescape(t): int(n) for t, n in re.findall(
            r'<div class="post"><a href="[^"]*">(.*?)</a><p>.*?</p><div>(\d+) comment\(s\)',
            self.text)}

    def comments(self) -> list:
        return [html.unescape(c) for c in re.findall(r"<li>(.*?)</li>", self.text)]

    def link(self, text: str) -> str:
        hrefs = re.findall(r'<a href="([^"]*)">' + re.escape(html.escape(text, quote=False))
                           + "</a>", self.text)
        assert len(hrefs) == 1, (text, self.text)
        return urljoin(self.url, html.unescape(hrefs[0]))

    def form(self) -> tuple:
        """The one form's target (its action, or this page without its query, as a
        browser submits a form without one) and the names of its text inputs."""
        (form,) = re.findall(r"<form(?: action=\"([^\"]*)\")?>(.*?)</form>", self.text)
        action, inputs = form
        names = re.findall(r'<input name="([^"]*)"', inputs)
        target = urljoin(self.url, html.unescape(action)) if action else self.url
        return urlunsplit(urlsplit(target)._replace(query="", fragment="")), names


class Browser:
    """requests, following links and submitting GET forms (the tutorial's forms have no
    ``method``), each request bounded."""

    def __init__(self) -> None:
        self.session = requests.Session()

    def get(self, url: str) -> Page:
        return Page(self.session.get(url, timeout=TIMEOUT))

    def follow(self, page: Page, text: str) -> Page:
        return self.get(page.link(text))

    def submit(self, page: Page, *values: str) -> Page:
        target, names = page.form()
        assert len(names) == len(values), (names, values)
        return Page(self.session.get(target, params=list(zip(names, values)),
                                     timeout=TIMEOUT))


INITIAL = ["Second Post", "First Post"]
INITIAL_SQL = ["First Post", "Second Post"]  # model-3: SELECT id FROM posts, in id order


def test_iteration_1_lists_the_static_blog_and_serves_htdocs(program):
    blog = program("iteration_1")
    page = Browser().get(blog.url)
    assert page.title == "My Blog" and page.posts() == INITIAL
    assert "<p>This is my first post</p>" in page.text
    css = requests.get(blog.url + "test-static.css", timeout=TIMEOUT)
    assert css.status_code == 200 and "span.hot { color: red; }" in css.text
    assert requests.get(blog.url + "nothing-here", timeout=TIMEOUT).status_code == 404
    assert blog.stop() == 0


def test_test_static_links_its_style_sheet(program):
    page = program("test_static")
    text = requests.get(page.url, timeout=TIMEOUT).text
    assert '<link rel="stylesheet" href="/test-static.css" type="text/css" />' in text
    assert '<span class="hot">hot</span>' in text
    css = requests.get(page.url + "test-static.css", timeout=TIMEOUT)
    assert css.headers["Content-Type"].startswith("text/css")
    assert page.stop() == 0


def test_iteration_2_shows_the_posted_post_for_that_request_only(program):
    blog, browser = program("iteration_2"), Browser()
    page = browser.get(blog.url)
    target, names = page.form()
    assert target == blog.url and names == ["title", "body"]
    posted = browser.submit(page, "Third Post", "A <b>bold</b> body")
    assert posted.posts() == ["Third Post", *INITIAL]
    assert "A &lt;b&gt;bold&lt;/b&gt; body" in posted.text  # x-expressions escape text
    assert browser.get(blog.url).posts() == INITIAL  # nothing was stored
    # Half a post is no post (can-parse-post?).
    assert browser.get(blog.url + "?title=alone").posts() == INITIAL
    assert blog.stop() == 0


def test_iteration_3_keeps_the_posts_in_the_pages_closures(program):
    blog, browser = program("iteration_3"), Browser()
    first = browser.get(blog.url)
    assert ";k=" in first.form()[0]  # the action is a continuation URL
    second = browser.submit(first, "Third Post", "three")
    assert second.posts() == ["Third Post", *INITIAL]
    third = browser.submit(second, "Fourth Post", "four")
    assert third.posts() == ["Fourth Post", "Third Post", *INITIAL]
    # The first page's form again (the back button): its closure still has two posts.
    assert browser.submit(first, "Other Post", "other").posts() == ["Other Post", *INITIAL]
    # Another visitor, or a new visit, starts from the static blog.
    assert Browser().get(blog.url).posts() == INITIAL
    assert blog.stop() == 0


def test_iteration_4_shares_the_blog_and_a_reload_posts_again(program):
    blog, browser = program("iteration_4"), Browser()
    posted = browser.submit(browser.get(blog.url), "Third Post", "three")
    assert posted.posts() == ["Third Post", *INITIAL]
    assert Browser().get(blog.url).posts() == ["Third Post", *INITIAL]  # shared
    # The tutorial's "double submit error", still here: a reload posts again.
    assert browser.get(posted.url).posts() == ["Third Post", "Third Post", *INITIAL]
    assert blog.stop() == 0


def test_iteration_5_opens_a_post_and_comments_on_it(program):
    blog, browser = program("iteration_5"), Browser()
    page = browser.get(blog.url)
    assert page.comment_counts() == {"Second Post": 0, "First Post": 1}
    detail = browser.follow(page, "First Post")
    assert detail.title == "Post Details" and "<h2>First Post</h2>" in detail.text
    assert detail.comments() == ["First comment!"]
    assert detail.form()[1] == ["comment"]
    detail = browser.submit(detail, "Second comment")
    assert detail.comments() == ["First comment!", "Second comment"]
    assert browser.get(blog.url).comment_counts() == {"Second Post": 0, "First Post": 2}
    posted = browser.submit(page, "Third Post", "three")
    assert posted.comment_counts() == {"Third Post": 0, "Second Post": 0, "First Post": 2}
    assert browser.follow(posted, "Third Post").comments() == []
    assert blog.stop() == 0


def walk_with_confirmation(browser: Browser, url: str, initial: list,
                           redirect: bool) -> Page:
    """Add a post, open it, comment, confirm, go back to the blog (the page returned).
    With ``redirect`` (iteration 7 on), the post and the comment answer with a 303 and a
    reload does not repeat them; without, a reload repeats them."""
    on_top = initial == INITIAL  # model and model-2 put new posts on top; SQL at the end
    page = browser.get(url)
    assert page.posts() == initial
    posted = browser.submit(page, "Third Post", "three")
    expected = ["Third Post", *initial] if on_top else [*initial, "Third Post"]
    assert posted.posts() == expected
    assert [r.status_code for r in posted.response.history] == ([303] if redirect else [])
    if redirect:
        assert browser.get(posted.url).posts() == expected  # a reload: no second post
    detail = browser.follow(posted, "First Post")
    assert detail.comments() == ["First comment!"]
    confirm = browser.submit(detail, "A comment <3")
    assert confirm.title == "Add a Comment"
    assert "The comment: <div><p>A comment &lt;3</p></div>will be added to <div>First " \
           "Post</div>" in confirm.text
    # "No, I changed my mind!" goes back to the post, unchanged.
    cancelled = browser.follow(confirm, "No, I changed my mind!")
    assert cancelled.title == "Post Details" and cancelled.comments() == ["First comment!"]
    added = browser.follow(confirm, "Yes, add the comment.")
    assert added.comments() == ["First comment!", "A comment <3"]
    assert [r.status_code for r in added.response.history] == ([303] if redirect else [])
    if redirect:
        assert browser.get(added.url).comments() == ["First comment!", "A comment <3"]
    # An older page's link (the first detail page's "Back to the blog") still works.
    back = browser.follow(detail, "Back to the blog")
    assert back.title == "My Blog" and back.posts() == expected
    assert back.comment_counts()["First Post"] == 2
    return back


def test_iteration_6_confirms_a_comment_and_goes_back(program):
    blog, browser = program("iteration_6"), Browser()
    walk_with_confirmation(browser, blog.url, INITIAL, redirect=False)
    # Still the double submit error: reloading "Yes" adds the comment again.
    detail = browser.follow(browser.get(blog.url), "Second Post")
    confirm = browser.submit(detail, "twice")
    yes = confirm.link("Yes, add the comment.")
    browser.get(yes)
    assert browser.get(yes).comments() == ["twice", "twice"]
    assert blog.stop() == 0


@pytest.mark.parametrize("name", ["iteration_7", "iteration_8"])
def test_iterations_7_and_8_redirect_after_posting(program, name):
    blog, browser = program(name), Browser()
    walk_with_confirmation(browser, blog.url, INITIAL, redirect=True)
    # The blog is shared (model.py's BLOG): a new visitor sees the new post and comment.
    page = Browser().get(blog.url)
    assert page.posts() == ["Third Post", *INITIAL]
    assert page.comment_counts() == {"Third Post": 0, "Second Post": 0, "First Post": 2}
    assert blog.stop() == 0


@pytest.mark.parametrize("name, data_file, initial", [
    ("iteration_9", "the-blog-data.db", INITIAL),
    ("iteration_10", "the-blog-data.sqlite", INITIAL_SQL),
    ("iteration_11", "the-blog-data.sqlite", INITIAL_SQL),
])
def test_iterations_9_to_11_persist_in_the_current_directory(program, tmp_path, name,
                                                             data_file, initial):
    blog = program(name)
    assert not os.listdir(tmp_path)  # nothing written before the first visit
    back = walk_with_confirmation(Browser(), blog.url, initial, redirect=True)
    assert os.listdir(tmp_path) == [data_file]
    assert blog.stop() == 0
    again = program(name)  # a restart, in the same directory
    page = Browser().get(again.url)
    assert page.posts() == back.posts() and page.comment_counts()["First Post"] == 2
    # A page from before the restart: its continuations died with the process.
    old_link = back.link("First Post").replace(blog.url, again.url)
    expired = Browser().session.get(old_link, timeout=TIMEOUT)
    assert expired.status_code == 410  # Gone (Racket: 200): browsers show it all the same
    assert "Sorry, this page has expired. Please go back." in expired.text
    assert again.stop() == 0


def test_iteration_9_starts_afresh_from_a_damaged_file(program, tmp_path):
    (tmp_path / "the-blog-data.db").write_text("#s(blog not json")
    blog = program("iteration_9")
    page = Browser().get(blog.url)  # model-2's exn handler: the default blog
    assert page.posts() == INITIAL and page.comment_counts()["First Post"] == 1
    Browser().submit(page, "Fresh Post", "fresh")
    assert json.loads((tmp_path / "the-blog-data.db").read_text())["posts"][0] == {
        "title": "Fresh Post", "body": "fresh", "comments": []}
    assert blog.stop() == 0


def test_iteration_11_uses_the_formlets_names(program):
    blog, browser = program("iteration_11"), Browser()
    page = browser.get(blog.url)
    assert page.form()[1] == ["input_0", "input_1"]  # Racket's formlet input names
    assert browser.follow(page, "First Post").form()[1] == ["input_0"]
    # A missing field is the formlet's 400, not a 500.
    target, _ = page.form()
    response = requests.get(target, params={"input_0": "only a title"}, timeout=TIMEOUT)
    assert response.status_code == 400
    assert blog.stop() == 0
