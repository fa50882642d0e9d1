"""The guide's examples that rely on the back button (examples/guide/web_cells.py and
count_dot_com.py), walked in a real headless Chromium: the browser's own history, its
clicks on the older pages' links, against the stateful servlet's continuation URLs."""
from __future__ import annotations

import pytest

from tests.test_continue_browser import shows
from tests.test_guide_examples import GuideProgram


@pytest.fixture
def program():
    running = []

    def start(name):
        running.append(GuideProgram(name))
        return running[-1]

    yield start
    for p in running:
        p.close()


def counters(driver) -> list:
    return [int(e.text) for e in driver.find_elements("css selector", "h3.count")]


def shows_counters(driver, expected: list) -> None:
    shows(driver, "Double Counters", lambda d: counters(d) == expected)


def plus(driver, which: str) -> None:
    driver.find_element("css selector", f"div.{which} a").click()


def test_web_cells_back_button(browser, program):
    p = program("web_cells")
    browser.get(p.url)
    shows_counters(browser, [0, 0])
    plus(browser, "first")
    shows_counters(browser, [1, 0])
    plus(browser, "first")
    shows_counters(browser, [2, 0])

    # Back to the page that showed 1: its "+" gives 2 again, not 3
    browser.back()
    shows_counters(browser, [1, 0])
    plus(browser, "first")
    shows_counters(browser, [2, 0])
    plus(browser, "second")
    shows_counters(browser, [2, 1])

    # Back to the very first page (history: [0,0], [1,0], [2,0], [2,1]): each
    # counter starts from 0 there
    for _ in range(3):
        browser.back()
    shows_counters(browser, [0, 0])
    plus(browser, "second")
    shows_counters(browser, [0, 1])
    assert p.stop() == 0


def count(driver) -> int:
    return int(driver.find_element("tag name", "h1").text)


def click(driver, label: str) -> None:
    driver.find_element("link text", label).click()


def test_count_dot_com_back_button(browser, program):
    p = program("count_dot_com")

    # Handlers that call back: an older page counts on from its own number.
    browser.get(p.url + "callbacks")
    shows(browser, "Count!", lambda d: count(d) == 0)
    click(browser, "+")
    shows(browser, "Count!", lambda d: count(d) == 1)
    click(browser, "+")
    shows(browser, "Count!", lambda d: count(d) == 2)
    browser.back()
    shows(browser, "Count!", lambda d: count(d) == 1)
    click(browser, "+")
    shows(browser, "Count!", lambda d: count(d) == 2)
    click(browser, "-")
    shows(browser, "Count!", lambda d: count(d) == 1)

    # Handlers that return values: the rest of the function ran once per page, so an
    # older page's link gets the expiration page (the documented difference).
    browser.get(p.url + "values")
    shows(browser, "Count!", lambda d: count(d) == 0)
    click(browser, "+")
    shows(browser, "Count!", lambda d: count(d) == 1)
    click(browser, "+")
    shows(browser, "Count!", lambda d: count(d) == 2)
    browser.back()
    shows(browser, "Count!", lambda d: count(d) == 1)
    click(browser, "+")
    shows(browser, "Page Has Expired.")
    assert p.stop() == 0
