"""Shared test set-up.

gevent is monkey-patched first: the tests run blocking clients (requests, sockets) in the
same process as gevent servers, and unpatched they would block the server's hub.
"""
from gevent import monkey

monkey.patch_all()

import gevent.queue  # noqa: E402
import pytest  # noqa: E402
import urllib3.connectionpool  # noqa: E402

# requests' connection pools keep urllib3's own reference to the standard LifoQueue, which
# gevent before 25.4.1 leaves unpatched: its Condition then takes gevent's lock without
# blocking, and that can deadlock (gevent#1957, urllib3#3289). It hung a CI run on the
# minimum versions (gevent 23.9) in the middle of requests.post. gevent 25.4.1 patches
# the queue module itself; this does the same for urllib3's pools on older gevents.
urllib3.connectionpool.ConnectionPool.QueueCls = gevent.queue.LifoQueue

import requests  # noqa: E402

#: seconds a test's request waits for a byte when it gives no timeout of its own
REQUEST_TIMEOUT = 30
_request = requests.Session.request


def _request_with_a_timeout(self, method, url, **kwargs):
    # requests waits for ever by default: a server that stops answering would hold the
    # test until pytest-timeout's stack dump; this fails it at the request, and says so
    if kwargs.get("timeout") is None:
        kwargs["timeout"] = REQUEST_TIMEOUT
    return _request(self, method, url, **kwargs)


requests.Session.request = _request_with_a_timeout  # type: ignore[method-assign]

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
