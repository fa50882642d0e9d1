"""The examples in a real headless Chromium (Debian's chromium and chromium-driver)."""
import pytest

from tests.support import Example, browser_wait, chromium_or_skip, quit_chromium


@pytest.fixture(scope="module")
def browser():
    driver = chromium_or_skip()
    yield driver
    quit_chromium(driver)


def textarea_shows(driver, text, index=0, timeout=15):
    def has_text(d):
        areas = d.find_elements("tag name", "textarea")
        return len(areas) > index and text in areas[index].get_attribute("value")

    browser_wait(driver, has_text, f"{text!r} in textarea {index}", within=timeout)
    return driver.find_elements("tag name", "textarea")[index].get_attribute("value")


@pytest.mark.parametrize("script, expected", [
    ("http_sse.py", "Hello world"),
    ("http_websocket_legacy.py", "Hello world!"),
    ("http_websocket_modern.py", "Hello world!"),
])
def test_the_seed_pages_fill_their_textarea(browser, script, expected):
    ex = Example(script)
    try:
        browser.get(ex.url)
        value = textarea_shows(browser, expected)
        assert value.splitlines()[0] == expected
        assert ex.terminate_with_enter() == 0
    finally:
        ex.close()


def test_the_demo_shows_live_events_and_chat(browser):
    ex = Example("demo.py")
    try:
        browser.get(ex.url)
        textarea_shows(browser, "tick: 20", index=0)  # an SSE tick, timestamped
        textarea_shows(browser, "Hello world!", index=1)  # its own WebSocket greeting
        textarea_shows(browser, "chat: Hello world!", index=0)  # the chat on the SSE stream
        box = browser.find_element("id", "message")
        box.send_keys("typed in the browser")
        browser.find_element("tag name", "button").click()
        textarea_shows(browser, "typed in the browser", index=1)
        textarea_shows(browser, "chat: typed in the browser", index=0)
        assert ex.terminate_with_enter() == 0
    finally:
        ex.close()
