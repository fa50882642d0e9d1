"""The Continue tutorial's last iteration (examples/continue/iteration_11.py) walked in a
real headless Chromium: the browser's own form submission, redirects, reload and back
button against the stateful servlet's continuation URLs."""
from __future__ import annotations

import pytest

from tests.support import PAGE_WAIT, browser_wait
from tests.test_continue import INITIAL_SQL, Program

WAIT = PAGE_WAIT  # seconds for any page to show what it should


@pytest.fixture
def blog(tmp_path):
    program = Program("iteration_11", tmp_path)
    yield program
    program.close()


def shows(driver, title: str, predicate=lambda d: True):
    """Wait until the page titled ``title`` is shown and ``predicate`` holds on it."""
    browser_wait(driver, lambda d: d.title == title and predicate(d), f"the page {title!r}",
                 within=WAIT)


def posts(driver) -> list:
    return [e.find_element("tag name", "a").text
            for e in driver.find_elements("css selector", "div.posts > div.post")]


def comment_count(driver, title: str) -> int:
    for e in driver.find_elements("css selector", "div.posts > div.post"):
        if e.find_element("tag name", "a").text == title:
            return int(e.find_elements("tag name", "div")[-1].text.split()[0])
    raise AssertionError(f"no post {title!r}")


def comments(driver) -> list:
    return [e.text for e in driver.find_elements("css selector", "ul > li")]


def fill_and_submit(driver, *values: str) -> None:
    form = driver.find_element("tag name", "form")
    fields = form.find_elements("css selector", "input:not([type=submit])")
    assert len(fields) == len(values)
    for field, value in zip(fields, values):
        field.send_keys(value)
    form.find_element("css selector", "input[type=submit]").click()


def test_iteration_11_in_a_browser(browser, blog):
    # List the posts.
    browser.get(blog.url)
    shows(browser, "My Blog", lambda d: posts(d) == INITIAL_SQL)
    assert comment_count(browser, "First Post") == 1

    # Add a post through the form; the answer is a redirect, so a reload does not post
    # again.
    fill_and_submit(browser, "Browser Post", "typed in Chromium")
    with_new = [*INITIAL_SQL, "Browser Post"]
    shows(browser, "My Blog", lambda d: posts(d) == with_new)
    assert ";k=" in browser.current_url and "input_0" not in browser.current_url
    browser.refresh()
    shows(browser, "My Blog", lambda d: d.find_elements("css selector", "div.posts"))
    assert posts(browser) == with_new

    # Open a post, add a comment, confirm it.
    browser.find_element("link text", "First Post").click()
    shows(browser, "Post Details", lambda d: comments(d) == ["First comment!"])
    first_detail_url = browser.current_url
    fill_and_submit(browser, "Nice post, from Chromium")
    shows(browser, "Add a Comment")
    assert "Nice post, from Chromium" in browser.find_element("tag name", "body").text
    browser.find_element("link text", "Yes, add the comment.").click()
    shows(browser, "Post Details",
          lambda d: comments(d) == ["First comment!", "Nice post, from Chromium"])
    browser.refresh()  # the comment was added behind a redirect too: not added twice
    shows(browser, "Post Details", lambda d: d.find_elements("tag name", "ul"))
    assert comments(browser) == ["First comment!", "Nice post, from Chromium"]

    # Back with the browser, twice: the confirmation page, then the first detail page;
    # its "Back to the blog" link is an older page's link, and it still works.
    browser.back()
    shows(browser, "Add a Comment")
    browser.back()
    shows(browser, "Post Details", lambda d: d.current_url == first_detail_url)
    browser.find_element("link text", "Back to the blog").click()
    shows(browser, "My Blog", lambda d: posts(d) == with_new)
    assert comment_count(browser, "First Post") == 2
    assert comment_count(browser, "Browser Post") == 0

    # Return to the blog: a new visit at / shows the same blog (it is in the database).
    browser.get(blog.url)
    shows(browser, "My Blog", lambda d: posts(d) == with_new)
    assert comment_count(browser, "First Post") == 2
    assert blog.stop() == 0
