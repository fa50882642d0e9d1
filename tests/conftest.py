"""Shared test set-up.

gevent is monkey-patched first: the tests run blocking clients (requests, sockets) in the
same process as gevent servers, and unpatched they would block the server's hub.
"""
from gevent import monkey

monkey.patch_all()

import pytest  # noqa: E402

from dispatch.server import serve  # noqa: E402


@pytest.fixture
def served():
    """Serve dispatchers on 127.0.0.1 with ephemeral ports; stop them after the test.

    ``base = served(dispatcher)`` returns ``"http://127.0.0.1:PORT"``; the Stopper is at
    ``served.stoppers[-1]``.
    """
    stoppers = []

    def start(dispatcher, **options) -> str:
        stop = serve(dispatcher, port=0, listen_ip="127.0.0.1", **options)
        stoppers.append(stop)
        return f"http://127.0.0.1:{stop.port}"

    start.stoppers = stoppers
    yield start
    for stop in stoppers:
        stop(timeout=1)


@pytest.fixture(scope="module")
def browser():
    """A headless Chromium for a test module (skips where there is none); pages get
    PAGE_WAIT seconds to load."""
    from tests.support import PAGE_WAIT, chromium_or_skip, quit_chromium

    driver = chromium_or_skip()
    driver.set_page_load_timeout(PAGE_WAIT)
    yield driver
    quit_chromium(driver)
